"""Forum pages for everyone who may read them: customers (in the portal's look), staff and,
for public categories, visitors who are not logged in. Thin: the selectors decide what is
seen, the services what is allowed; a refusal is shown as a form error or a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from customers.errors import ApplicationError
from customers.web import add_application_error

from .. import selectors, services
from ..forms.forums import EditForm, ReasonForm, ReplyForm, SearchForm, TopicForm
from ..models import PostStatus, Topic

TOPICS_PER_PAGE = 30


def community_context(request: HttpRequest, **extra) -> dict:
    """What every community page shows around its content: the search box, the inbox
    count and, for moderators, the way to the queue."""
    actor = request.user
    return {
        "nav": "community",
        "search_form": SearchForm(request.GET if "q" in request.GET else None),
        "notification_count": selectors.unread_notification_count(user=actor),
        "is_any_moderator": selectors.is_moderator(actor),
        "can_write": actor.is_authenticated
        and (
            getattr(actor, "is_staff_member", False)
            or selectors.community_member(actor) is not None
        ),
        **extra,
    }


def _page(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("page", "1")), 10_000))
    except ValueError:
        return 1


def forum_index(request: HttpRequest) -> HttpResponse:
    actor = request.user
    context = community_context(
        request,
        categories=selectors.category_index(actor=actor),
        latest=selectors.topic_list(actor=actor, limit=15),
    )
    return render(request, "community/index.html", context)


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    actor = request.user
    category = selectors.category_get(actor=actor, slug=slug)
    page = _page(request)
    topics = selectors.topic_list(
        actor=actor,
        category=category,
        limit=TOPICS_PER_PAGE + 1,
        offset=(page - 1) * TOPICS_PER_PAGE,
    )
    context = community_context(
        request,
        category=category,
        topics=topics[:TOPICS_PER_PAGE],
        page=page,
        has_next=len(topics) > TOPICS_PER_PAGE,
        is_moderator=selectors.is_moderator(actor, category),
    )
    return render(request, "community/category.html", context)


@login_required
def topic_new(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get(actor=request.user, slug=slug)
    form = TopicForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                topic = services.topic_create(
                    actor=request.user, category=category, **form.cleaned_data
                )
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                if topic.status == PostStatus.HELD:
                    messages.info(
                        request,
                        "Thanks! Your first posts wait for a moderator's approval; we will let you know.",
                    )
                return redirect("community:topic", pk=topic.pk)
        status = 400
    context = community_context(request, category=category, form=form)
    return render(request, "community/topic_form.html", context, status=status)


def _topic_page(
    request: HttpRequest, topic: Topic, reply_form: ReplyForm, status: int = 200
) -> HttpResponse:
    actor = request.user
    pages = selectors.topic_page_count(actor=actor, topic=topic)
    page = min(_page(request), pages)
    posts = selectors.topic_posts(actor=actor, topic=topic, page=page)
    is_moderator = selectors.is_moderator(actor, topic.category)
    if posts:
        services.topic_mark_read(actor=actor, topic=topic, up_to=posts[-1].number)
    may_accept = (
        actor.is_authenticated
        and topic.kind == "question"
        and (topic.author_id == actor.pk or getattr(actor, "is_staff_member", False))
    )
    context = community_context(
        request,
        topic=topic,
        category=topic.category,
        posts=posts,
        page=page,
        pages=pages,
        page_numbers=range(1, pages + 1) if pages > 1 else [],
        reply_form=reply_form,
        is_moderator=is_moderator,
        may_accept=may_accept,
        may_reply=(not topic.is_locked or is_moderator) and topic.status == PostStatus.VISIBLE,
        subscribed=selectors.is_subscribed(actor=actor, topic=topic),
        move_targets=list(selectors.categories_moderated_by(actor).exclude(pk=topic.category_id))
        if is_moderator
        else [],
    )
    return render(request, "community/topic.html", context, status=status)


def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get(actor=request.user, pk=pk)
    initial = {}
    quote_pk = request.GET.get("quote", "")
    if quote_pk.isdigit() and len(quote_pk) < 18:
        quoted = (
            selectors.posts_visible_to(request.user)
            .filter(pk=int(quote_pk), topic=topic)
            .select_related("author")
            .first()
        )
        if quoted is not None:
            lines = "\n".join(f"> {line}" for line in quoted.source.splitlines())
            initial = {"quoted_post": quoted.pk, "body": f"{quoted.author} wrote:\n{lines}\n\n"}
    return _topic_page(request, topic, ReplyForm(initial=initial))


@login_required
@require_POST
def topic_reply(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get(actor=request.user, pk=pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        quoted = None
        if form.cleaned_data.get("quoted_post"):
            quoted = (
                selectors.posts_visible_to(request.user)
                .filter(pk=form.cleaned_data["quoted_post"])
                .first()
            )
        try:
            if form.cleaned_data.get("quoted_post") and quoted is None:
                raise ApplicationError("You can only quote a post of this topic.")
            post = services.post_create(
                actor=request.user, topic=topic, body=form.cleaned_data["body"], quoted_post=quoted
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            if post.status == PostStatus.HELD:
                messages.info(request, "Thanks! Your reply waits for a moderator's approval.")
            return redirect(selectors.post_path(topic.pk, post.number))
    return _topic_page(request, topic, form, status=400)


@login_required
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    post = selectors.post_get(actor=request.user, pk=pk)
    if not selectors.post_editable_by(request.user, post):
        raise PermissionDenied("You can only edit your own posts (and not in a locked topic).")
    is_opening = post.number == 1
    initial = {"body": post.source, "title": post.topic.title if is_opening else ""}
    form = EditForm(request.POST or None, initial=initial)
    if not is_opening:
        del form.fields["title"]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.post_edit(
                    actor=request.user,
                    post=post,
                    body=form.cleaned_data["body"],
                    title=form.cleaned_data.get("title") if is_opening else None,
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                return redirect(selectors.post_path(post.topic_id, post.number))
        status = 400
    context = community_context(
        request, post=post, topic=post.topic, category=post.topic.category, form=form
    )
    return render(request, "community/post_edit.html", context, status=status)


def post_history(request: HttpRequest, pk: int) -> HttpResponse:
    post = selectors.post_get(actor=request.user, pk=pk)
    context = community_context(
        request,
        post=post,
        topic=post.topic,
        category=post.topic.category,
        revisions=selectors.post_revisions(actor=request.user, post=post),
    )
    return render(request, "community/post_history.html", context)


# The buttons on a post: each is one service call; a refusal comes back as a message.
def _like(request, post, reason):
    return services.post_like(actor=request.user, post=post), "Liked."


def _unlike(request, post, reason):
    return services.post_unlike(actor=request.user, post=post), "Like taken back."


def _accept(request, post, reason):
    return services.answer_accept(actor=request.user, post=post), "Marked as the accepted answer."


def _unaccept(request, post, reason):
    return services.answer_unaccept(
        actor=request.user, topic=post.topic
    ), "The answer is no longer accepted."


def _report(request, post, reason):
    return services.post_report(
        actor=request.user, post=post, reason=reason
    ), "Thanks: the moderators will look at it."


def _hide(request, post, reason):
    return services.post_hide(actor=request.user, post=post, reason=reason), "Post hidden."


def _restore(request, post, reason):
    return services.post_restore(actor=request.user, post=post, reason=reason), "Post restored."


def _approve(request, post, reason):
    return services.post_approve(actor=request.user, post=post), "Post approved."


def _reject(request, post, reason):
    return services.post_reject(actor=request.user, post=post, reason=reason), "Post rejected."


def _dismiss(request, post, reason):
    return services.reports_dismiss(
        actor=request.user, post=post, reason=reason
    ), "Reports dismissed."


POST_ACTIONS = {
    "like": _like,
    "unlike": _unlike,
    "accept": _accept,
    "unaccept": _unaccept,
    "report": _report,
    "hide": _hide,
    "restore": _restore,
    "approve": _approve,
    "reject": _reject,
    "dismiss": _dismiss,
}


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    # Only our own paths: never send someone to another site.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


@login_required
@require_POST
def post_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    post = selectors.post_get(actor=request.user, pk=pk)
    back = _back(request, selectors.post_path(post.topic_id, post.number))
    use_case = POST_ACTIONS.get(action)
    if use_case is None:
        messages.error(request, "Unknown action.")
        return redirect(back)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long (at most 500 characters).")
        return redirect(back)
    try:
        _, done = use_case(request, post, form.cleaned_data["reason"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(back)


@login_required
@require_POST
def topic_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get(actor=request.user, pk=pk)
    action = request.POST.get("action", "")
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        if action == "move":
            raw = request.POST.get("category", "")
            category = (
                selectors.categories_visible_to(request.user).filter(pk=int(raw)).first()
                if raw.isdigit() and len(raw) < 18
                else None
            )
            if category is None:
                raise ApplicationError("Please choose the category to move the topic to.")
            services.topic_move(actor=request.user, topic=topic, category=category, reason=reason)
            messages.success(request, f"Moved to {category.name}.")
        else:
            services.topic_moderate(actor=request.user, topic=topic, action=action, reason=reason)
            messages.success(request, "Done.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("community:topic", pk=topic.pk)


@login_required
@require_POST
def topic_subscription(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get(actor=request.user, pk=pk)
    if request.POST.get("follow") == "1":
        services.topic_subscribe(actor=request.user, topic=topic)
        messages.success(request, "You follow this topic: we will tell you of new replies.")
    else:
        services.topic_unsubscribe(actor=request.user, topic=topic)
        messages.success(request, "You no longer follow this topic.")
    return redirect("community:topic", pk=topic.pk)


def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    status = 200 if form.is_valid() else 400
    results = selectors.post_search(actor=request.user, query=query) if query else []
    context = community_context(request, query=query, results=results, form=form)
    return render(request, "community/search.html", context, status=status)


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.notifications_mark_read(actor=request.user)
        return redirect("community:notifications")
    context = community_context(
        request,
        notifications=selectors.notifications_of(user=request.user),  # type: ignore[arg-type]  # login_required
    )
    return render(request, "community/notifications.html", context)
