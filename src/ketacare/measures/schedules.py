"""Follow-up schedules: the writes that attach, feed and stop them. Each is one transaction with
its audit events.

A schedule creates :class:`AssessmentRequest` rows with no code yet; ``ketacare worker``
(:mod:`ketacare.measures.reminders`) issues the code and sends the link when a row falls due.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical.schedules import (
    EVERY_DAYS,
    FOR_WEEKS,
    HOURS_AFTER_DOSE,
    InvalidSchedule,
    after_dose_due_times,
    interval_due_times,
)
from ketacare.measures.models import AssessmentRequest, Context, Schedule
from ketacare.measures.services import self_report_instruments
from ketacare.patients.models import Patient

SEND_AT = time(9, 0)  # interval reminders go out at 09:00 site time, not in the night
HOURS_RULE = (
    f"Use hours from {HOURS_AFTER_DOSE[0]:g} to {HOURS_AFTER_DOSE[1]:g} "
    "with at most one decimal place, e.g. 4, 24 or 1.5."
)


@transaction.atomic
def create_schedule(
    actor: Actor,
    patient: Patient,
    instrument_ids: Sequence[str],
    *,
    every_days: int | None = None,
    for_weeks: int | None = None,
    hours_after_session: Sequence[float] = (),
    starts_on: date,
) -> Schedule:
    """A schedule for ``patient``; its interval requests are created now, its after-session
    requests by :func:`record_dose` at each dose."""
    ids = self_report_instruments(instrument_ids)
    hours = _check_hours(hours_after_session)
    if every_days is None and for_weeks is None and not hours:
        raise ValidationError(
            {
                "every_days": (
                    "Give an interval (every_days and for_weeks) or hours_after_session, or both."
                )
            }
        )
    if (every_days is None) != (for_weeks is None):
        raise ValidationError(
            {
                "every_days" if every_days is None else "for_weeks": (
                    f"An interval needs both every_days ({EVERY_DAYS[0]}-{EVERY_DAYS[1]}) "
                    f"and for_weeks ({FOR_WEEKS[0]}-{FOR_WEEKS[1]})."
                )
            }
        )
    if starts_on < timezone.localdate():
        today = timezone.localdate().isoformat()
        raise ValidationError({"starts_on": f"Cannot be in the past (today is {today})."})
    due_times = _interval(starts_on, every_days, for_weeks)
    schedule = Schedule.objects.create(
        patient=patient,
        instruments=ids,
        every_days=every_days,
        for_weeks=for_weeks,
        hours_after_session=hours,
        starts_on=starts_on,
        created_by=actor.user,
    )
    record(
        actor,
        Action.CREATE,
        schedule,
        patient=patient,
        new={
            "instruments": ids,
            "every_days": every_days,
            "for_weeks": for_weeks,
            "hours_after_session": hours,
            "starts_on": starts_on,
            "requests": len(due_times),
        },
    )
    for due_at in due_times:
        _create_request(actor, schedule, due_at, Context.FOLLOW_UP, None)
    return schedule


@transaction.atomic
def record_dose(actor: Actor, patient: Patient, dosed_at: datetime) -> list[AssessmentRequest]:
    """The after-session requests of every active schedule of ``patient`` that has started.

    A request whose link would already have expired (a dose recorded days late) is not created,
    nor one that exists already (the same dose recorded twice).
    """
    if timezone.is_naive(dosed_at):
        raise ValidationError({"dosed_at": "Give the time of dosing with its time zone."})
    if dosed_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"dosed_at": "Cannot be in the future."})
    schedules = Schedule.objects.select_for_update().filter(
        patient=patient, active=True, starts_on__lte=timezone.localdate(dosed_at)
    )
    now, created = timezone.now(), []
    for schedule in schedules.order_by("pk"):
        hours = schedule.hours_after_session
        for h, due_at in zip(hours, after_dose_due_times(dosed_at, hours), strict=True):
            already = schedule.requests.filter(due_at=due_at, context=Context.POST_SESSION)
            if due_at + _valid_for() > now and not already.exists():  # recording twice is harmless
                hours_after_dose = Decimal(str(h))
                created.append(
                    _create_request(actor, schedule, due_at, Context.POST_SESSION, hours_after_dose)
                )
    return created


@transaction.atomic
def deactivate_schedule(actor: Actor, schedule: Schedule) -> Schedule:
    """Stop a schedule: no new after-session requests, and its requests not yet sent (or
    completed) are withdrawn by expiring them now. Requests already sent stay usable."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    if not schedule.active:
        raise ValidationError({"active": "This schedule is already stopped."})
    now = timezone.now()
    unsent = schedule.requests.select_for_update().filter(
        reminded_at__isnull=True, completed_at__isnull=True, expires_at__gt=now
    )
    withdrawn = list(unsent.order_by("pk"))
    schedule.active = False
    schedule.save(update_fields=["active"])
    record(
        actor,
        Action.UPDATE,
        schedule,
        patient=schedule.patient,
        old={"active": True},
        new={"active": False, "requests_withdrawn": len(withdrawn)},
    )
    AssessmentRequest.objects.filter(pk__in=[r.pk for r in withdrawn]).update(expires_at=now)
    for request in withdrawn:
        record(
            actor,
            Action.UPDATE,
            request,
            patient=schedule.patient,
            old={"expires_at": request.expires_at},
            new={"expires_at": now},
        )
    return schedule


def _check_hours(hours_after_session: Sequence[float]) -> list[float | int]:
    """Distinct hours, ascending; whole hours stored as integers ([4, 24], not [4.0, 24.0])."""
    try:
        hours = sorted({Decimal(str(h)) for h in hours_after_session})
    except ArithmeticError:  # decimal.InvalidOperation for text such as "four"
        raise ValidationError({"hours_after_session": HOURS_RULE}) from None
    try:  # the same range check record_dose will apply, on a nominal dose
        after_dose_due_times(timezone.now(), [float(h) for h in hours])
    except InvalidSchedule as exc:
        raise ValidationError({"hours_after_session": f"{exc} {HOURS_RULE}"}) from exc
    # Stored against a response as hours since dosing, which keeps one decimal place.
    if any(h != h.quantize(Decimal("0.1")) for h in hours):
        raise ValidationError({"hours_after_session": HOURS_RULE})
    return [int(h) if h == h.to_integral_value() else float(h) for h in hours]


def _interval(starts_on: date, every_days: int | None, for_weeks: int | None) -> list[datetime]:
    if every_days is None or for_weeks is None:
        return []
    try:
        return interval_due_times(
            starts_on, every_days, for_weeks, SEND_AT, timezone.get_default_timezone()
        )
    except InvalidSchedule as exc:
        raise ValidationError({exc.parameter: str(exc)}) from exc
    except OverflowError as exc:  # the calendar ends at 9999-12-31
        raise ValidationError(
            {"starts_on": "Too far in the future: the last questionnaire would fall after 9999."}
        ) from exc


def _valid_for() -> timedelta:
    return timedelta(hours=settings.KETACARE_SELF_REPORT_HOURS)


def _create_request(
    actor: Actor,
    schedule: Schedule,
    due_at: datetime,
    context: Context,
    hours_after_dose: Decimal | None,
) -> AssessmentRequest:
    request = AssessmentRequest.objects.create(
        patient=schedule.patient,
        instruments=schedule.instruments,
        context=context,
        hours_after_dose=hours_after_dose,
        due_at=due_at,
        expires_at=due_at + _valid_for(),
        schedule=schedule,
        created_by=actor.user,
    )
    record(
        actor,
        Action.CREATE,
        request,
        patient=schedule.patient,
        new={
            "instruments": schedule.instruments,
            "context": context,
            "schedule": schedule.pk,
            "hours_after_dose": hours_after_dose,
            "due_at": due_at,
            "expires_at": request.expires_at,
        },
    )
    return request
