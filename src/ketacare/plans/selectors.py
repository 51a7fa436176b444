"""Reads for treatment plans: a patient's plans, the clinic calendar by chair, the newest version
of each clinic template, a shipped template as data, and the predicted concentration curve of a
plan's first session. Nothing here writes or audits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import QuerySet

from ketacare.clinical import pk, protocols
from ketacare.patients.models import Patient
from ketacare.pk.charts import PlannedChart, planned_dose_chart
from ketacare.plans.models import ClinicProtocol, PlannedSession, SessionStatus, TreatmentPlan


def plans_of(patient: Patient) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(patient=patient).select_related("signed_by")


@dataclass(frozen=True)
class CalendarDay:
    day: date
    by_chair: dict[str, list[PlannedSession]]


def calendar(start: date, days: int) -> list[CalendarDay]:
    """Planned sessions from ``start`` for ``days`` days, laid out by chair."""
    sessions = (
        PlannedSession.objects.filter(
            scheduled_on__gte=start,
            scheduled_on__lt=start + timedelta(days=days),
            status=SessionStatus.PLANNED,
            plan__status__in=["draft", "signed"],
        )
        .select_related("plan__patient")
        .order_by("start_time")
    )
    grid = [
        CalendarDay(start + timedelta(days=i), {c: [] for c in settings.KETACARE_CHAIRS})
        for i in range(days)
    ]
    for s in sessions:
        grid[(s.scheduled_on - start).days].by_chair.setdefault(s.chair, []).append(s)
    return grid


def latest_clinic_protocols() -> list[ClinicProtocol]:
    """The newest version of each clinic template."""
    latest: dict[str, ClinicProtocol] = {}
    for row in ClinicProtocol.objects.order_by("slug", "-version"):
        latest.setdefault(row.slug, row)
    return list(latest.values())


def shipped_template_data(protocol_id: str) -> dict[str, object]:
    """A shipped template's file as data, to start a clinic's own version from."""
    import tomllib
    from importlib import resources

    folder = resources.files("ketacare.clinical").joinpath("data/protocols")
    return tomllib.loads(folder.joinpath(f"{protocol_id}.toml").read_text())


# The shipped IV template infuses over 40 minutes (iv-racemic.toml); a clinic's own template
# that is not in the library is shown with the same duration, and the chart says so.
DEFAULT_INFUSION_MIN = 40


def plan_chart(plan: TreatmentPlan) -> PlannedChart | None:
    """The predicted curve of the plan's first session that is not cancelled, on the plan's
    dosing weight; ``None`` when there is none or the model cannot take the dose."""
    session = plan.sessions.exclude(status="cancelled").order_by("number").first()
    if session is None:
        return None
    weight = plan.dosing_weight_kg or plan.weight_kg
    try:
        return planned_dose_chart(
            plan.route, float(session.dose_mg), float(weight), _infusion_minutes(plan)
        )
    except pk.InvalidRegimen:
        return None


def _infusion_minutes(plan: TreatmentPlan) -> float | None:
    if plan.route != "iv":
        return None
    try:
        duration = protocols.get(plan.protocol_id).duration_minutes
    except protocols.UnknownProtocol:
        return DEFAULT_INFUSION_MIN
    return float(duration.value) if duration is not None else DEFAULT_INFUSION_MIN
