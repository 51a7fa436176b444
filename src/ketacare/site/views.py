"""The site's own pages: home, the health check, and the pages that compose several domains
(the care-team dashboard and the audit trail viewer)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from ketacare.accounts.access import StaffRequest, public, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit import selectors as audit
from ketacare.controlled import selectors as controlled
from ketacare.measures.forms import CloseAlertForm
from ketacare.site import health, services
from ketacare.site.forms import EventFilterForm
from ketacare.supervised import waiting


@public
def home(request: HttpRequest) -> HttpResponse:
    return redirect("patients:list" if request.user.is_authenticated else "accounts:login")


@public
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    found = health.check()
    if found.ok:
        return JsonResponse({"status": "ok", "database": "ok"})
    return JsonResponse({"status": "unavailable", "database": found.database}, status=503)


@requires(Perm.DASHBOARD_VIEW)
def dashboard(request: StaffRequest) -> HttpResponse:
    board = services.open_dashboard(Actor.from_request(request), request.user, timezone.localdate())
    return render(
        request,
        "site/dashboard.html",
        {
            "alerts": board.alerts,
            "overdue": board.overdue,
            "due": board.rems_due,
            "waitlist": waiting.waitlist(board.waiting),
            "close_form": CloseAlertForm(),
            "controlled_warnings": controlled.warnings(timezone.localdate())
            if request.user.can(Perm.CONTROLLED_REPORT)
            else [],
        },
    )


@requires(Perm.AUDIT_VIEW)
def audit_trail(request: StaffRequest) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    f = audit.EventFilter()
    if form.is_valid():
        d = form.cleaned_data
        f = audit.EventFilter(
            patient_id=d["patient"].pk if d["patient"] else None,
            actor_id=d["actor"].pk if d["actor"] else None,
            action=d["action"] or None,
            since=d["since"],
            until=d["until"],
        )
    if form.errors:
        page = Paginator(audit.events(f).none(), 1).get_page(1)
    else:
        page = services.open_audit_trail(Actor.from_request(request), f, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    clinical = request.user.can(Perm.CLINICAL_VIEW)
    rows = [(e, *shown_values(e.entity_type, e.old_values, e.new_values, clinical)) for e in page]
    return render(
        request,
        "site/audit_trail.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


# What a role without clinical access may read in an event's values (minimum necessary): the
# registration and account data it works with. Everything else shows which fields changed only.
REGISTRATION_ENTITIES = frozenset(
    {"user", "apitoken", "patient", "clinicsettings", "arrival", "backup", "dataagreement"}
)
HIDDEN = "(clinical value, not shown to your role)"


def shown_values(
    entity_type: str, old: dict[str, object], new: dict[str, object], clinical: bool
) -> tuple[dict[str, object], dict[str, object]]:
    """The event's old and new values as this reader may see them."""
    if clinical or entity_type in REGISTRATION_ENTITIES:
        return old, new
    return dict.fromkeys(old, HIDDEN), dict.fromkeys(new, HIDDEN)
