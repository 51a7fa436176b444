"""The clinic outcome dashboard and the patients behind one of its figures. Parse the filters,
authorise, call one audited read in :mod:`.dashboard`, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinical import cohort, instruments
from ketacare.outcomes import dashboard as service
from ketacare.outcomes import definitions, figures, summaries
from ketacare.outcomes.dashboard_forms import FilterForm
from ketacare.outcomes.figures import ANCHORS, LABELS, FigureName


def _filters(request: StaffRequest) -> tuple[FilterForm, figures.Filters | None]:
    """The form, and the filters it gives (``None`` when they cannot be read)."""
    form = FilterForm(request.GET or None, rules=summaries.rules(), months=list(figures.months()))
    if not form.is_bound:
        return form, figures.Filters()
    return form, form.filters() if form.is_valid() else None


@requires(Perm.OUTCOMES_VIEW)
@require_GET
def dashboard(request: StaffRequest) -> HttpResponse:
    form, f = _filters(request)
    if f is None:
        return render(request, "outcomes/dashboard.html", {"form": form}, status=400)
    board = service.open_dashboard(Actor.from_request(request), f)
    context = {
        "form": form,
        "board": board,
        "page": definitions.page(board.figures, board.rules, board.identified),
        "instrument": instruments.get(f.instrument),
        "filters_text": form.describe(f),
        "query_string": urlencode(f.query()),
        "smallest": cohort.parameters().smallest_group.value,
    }
    return render(request, "outcomes/dashboard.html", context)


@requires(Perm.OUTCOMES_IDENTIFIED)
@require_GET
def figure_patients(request: StaffRequest, figure: str) -> HttpResponse:
    try:
        name = FigureName(figure)
        sessions = int(request.GET.get("sessions", "1"))
    except ValueError:
        raise Http404("No such figure.") from None
    form, f = _filters(request)
    bad_sessions = not 1 <= sessions <= cohort.parameters().retention_sessions.value
    if f is None or bad_sessions:
        context = {"form": form, "bad_sessions": bad_sessions}
        return render(request, "outcomes/figure_patients.html", context, status=400)
    found = service.open_patients(Actor.from_request(request), f, name, sessions)
    context = {
        "found": found,
        "title": LABELS[name].format(sessions=sessions),
        "anchor": ANCHORS[name],
        "filters_text": form.describe(f),
        "query_string": urlencode(f.query()),
    }
    return render(request, "outcomes/figure_patients.html", context)
