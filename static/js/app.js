// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // htmx leaves the page as it is when the server refuses (403, 404, 500) or the
  // network fails; tell the person instead of silently doing nothing.
  function flash(text) {
    var page = document.querySelector("main.page");
    if (!page) return;
    var list = page.querySelector("ul.messages.js-flash");
    if (!list) {
      list = document.createElement("ul");
      list.className = "messages js-flash";
      page.insertBefore(list, page.firstChild);
    }
    var item = document.createElement("li");
    item.className = "msg-error";
    item.textContent = text;
    list.replaceChildren(item);
    window.scrollTo({ top: 0, behavior: "smooth" });
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var reasons = { 403: "You are not allowed to do that.", 404: "That record is not available to you any more." };
    var detail = reasons[xhr.status] || (xhr.status === 400 && xhr.responseText) || "The server could not do that (error " + xhr.status + "). Please try again.";
    flash(detail);
  });

  document.addEventListener("htmx:sendError", function () {
    flash("The server could not be reached. Check your connection and try again.");
  });

  // After the interaction form comes back, put the cursor where it is needed next:
  // on the first field with an error, or on the subject for the next entry.
  document.addEventListener("htmx:afterSettle", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    var form = document.getElementById("interaction-form");
    if (!form || !source || source.id !== "interaction-form") return;
    var target = form.querySelector(".has-error input, .has-error select, .has-error textarea") || form.querySelector("#id_subject");
    if (target) target.focus();
  });

  // The interaction form's root cause belongs to complaints only: hide it (and clear it)
  // for other kinds. Without this script the field shows with its help text, and the
  // server refuses a cause on anything but a complaint.
  function syncRootCause(form) {
    var kind = form.querySelector("#id_kind");
    var cause = form.querySelector("#id_root_cause");
    if (!kind || !cause) return;
    var wrap = cause.closest(".field");
    var complaint = kind.value === "complaint";
    if (!complaint) cause.value = "";
    if (wrap) wrap.hidden = !complaint;
  }

  function syncAllForms() {
    document.querySelectorAll("form.log-form").forEach(syncRootCause);
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "id_kind") {
      var form = event.target.closest("form.log-form");
      if (form) syncRootCause(form);
    }
  });
  document.addEventListener("DOMContentLoaded", syncAllForms);
  document.addEventListener("htmx:afterSettle", syncAllForms);
})();
