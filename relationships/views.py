"""Staff pages on relationships: follow-ups and logging interactions."""

from django.shortcuts import render

from customers.views import staff_required

from .selectors import follow_ups_due


@staff_required
def follow_up_list(request):
    follow_ups = list(follow_ups_due(actor=request.user))
    return render(
        request,
        "relationships/follow_up_list.html",
        {"nav": "follow-ups", "follow_ups": follow_ups},
    )
