"""What a plan's calendar may not do (issue 18): book a chair another signed plan holds at that
time, run alongside another active plan of the same patient without a reason, or start in the
past beyond the back-entry grace. Reads only; :mod:`.services` refuses with what these find.
The rules are :mod:`ketacare.clinical.booking`'s; how long a session holds its chair is
:func:`ketacare.plans.selectors.session_minutes`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from django.conf import settings
from django.db.models import Max, Min

from ketacare.clinical import booking
from ketacare.plans.models import PlannedSession, PlanStatus, SessionStatus, TreatmentPlan
from ketacare.plans.selectors import session_minutes


def back_entry_days() -> int:
    """How many days back a plan may start: settings.KETACARE_PLAN_BACK_ENTRY_DAYS, ketacare's
    configurable default."""
    return int(settings.KETACARE_PLAN_BACK_ENTRY_DAYS)


def start_refusal(start_on: date, today: date) -> str | None:
    return booking.start_refusal(start_on, today, back_entry_days())


def _booking(session: PlannedSession, minutes: int) -> booking.Booking:
    return booking.Booking(
        session.chair, session.scheduled_on, session.start_time, minutes, str(session.number)
    )


def chair_clashes(sessions: Sequence[PlannedSession], ignore_plans: Collection[int]) -> list[str]:
    """Each of ``sessions`` (planned, saved) that books a chair a signed plan other than
    ``ignore_plans`` holds at that time, said in words."""
    wanted = [s for s in sessions if s.status == SessionStatus.PLANNED]
    if not wanted:
        return []
    taken = list(
        PlannedSession.objects.filter(
            status=SessionStatus.PLANNED,
            plan__status=PlanStatus.SIGNED,
            chair__in={s.chair for s in wanted},
            scheduled_on__in={s.scheduled_on for s in wanted},
        )
        .exclude(plan_id__in=[*ignore_plans, *{s.plan_id for s in wanted}])
        .select_related("plan")
    )
    minutes = {s.plan_id: session_minutes(s.plan, s.dose_mg) for s in [*wanted, *taken]}
    found = booking.clashes(
        [_booking(s, minutes[s.plan_id]) for s in wanted],
        [_booking(s, minutes[s.plan_id]) for s in taken],
    )
    return [
        f"Session {mine.label} on {mine.day:%a} {mine.day.isoformat()} at {mine.start:%H:%M}: "
        f"{mine.chair} is booked from {theirs.start:%H:%M} to {theirs.ends:%H:%M} by another "
        "session; choose another chair or time."
        for mine, theirs in found
    ]


def course(plan: TreatmentPlan) -> tuple[date, date] | None:
    """The first and last day of the plan's sessions still planned; None when there are none."""
    days = plan.sessions.filter(status=SessionStatus.PLANNED).aggregate(
        first=Min("scheduled_on"), last=Max("scheduled_on")
    )
    if days["first"] is None:
        return None
    return days["first"], days["last"]


def overlapping_plans(plan: TreatmentPlan) -> list[TreatmentPlan]:
    """The patient's other signed plans whose course shares a day with ``plan``'s; the version
    ``plan`` replaces does not count (signing it ends that one)."""
    mine = course(plan)
    if mine is None:
        return []
    others = (
        TreatmentPlan.objects.filter(patient_id=plan.patient_id, status=PlanStatus.SIGNED)
        .exclude(pk=plan.pk)
        .exclude(pk=plan.previous_id or 0)
    )
    found = []
    for other in others:
        theirs = course(other)
        if theirs is not None and booking.courses_overlap(mine, theirs):
            found.append(other)
    return found


def overlap_message(plans: Sequence[TreatmentPlan]) -> str:
    names = "; ".join(
        f"{p.protocol_name} v{p.version}, planned to {(course(p) or (p.start_on, p.start_on))[1]}"
        for p in plans
    )
    return (
        f"This plan overlaps another active plan of the patient ({names}). Say why both run "
        "at once (the reason is kept with the plan), or change the start."
    )
