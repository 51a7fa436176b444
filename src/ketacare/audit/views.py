from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketacare.accounts.access import requires
from ketacare.accounts.roles import Perm
from ketacare.audit import selectors
from ketacare.audit.forms import EventFilterForm


@requires(Perm.AUDIT_VIEW)
def event_list(request: HttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    f = selectors.EventFilter()
    if form.is_valid():
        d = form.cleaned_data
        f = selectors.EventFilter(
            patient_id=d["patient"].pk if d["patient"] else None,
            actor_id=d["actor"].pk if d["actor"] else None,
            action=d["action"] or None,
            since=d["since"],
            until=d["until"],
        )
    events = (
        selectors.events(f) if not form.errors else selectors.events(selectors.EventFilter()).none()
    )
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "audit/list.html", {"form": form, "page": page, "query": query.urlencode()}
    )
