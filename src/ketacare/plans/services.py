"""Every write to treatment plans, each one transaction with its audit events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinic import selectors as clinic
from ketacare.clinical import dosing, instruments, protocols
from ketacare.lib import versions
from ketacare.patients.models import Patient
from ketacare.pk.charts import PlannedChart
from ketacare.plans import bookings, selectors
from ketacare.plans.models import (
    ClinicProtocol,
    PlannedSession,
    PlanStatus,
    SessionStatus,
    TitrationReview,
    TreatmentPlan,
)
from ketacare.screening.models import Screening
from ketacare.screening.selectors import current_signed_screening

MIN_REASON = 30  # characters, for a screening override or a change to a signed plan


CLINIC_PREFIX = "clinic-"  # a clinic template's id, so it can never shadow a shipped one


def clinic_protocol(slug: str) -> ClinicProtocol | None:
    return ClinicProtocol.objects.filter(slug=slug).order_by("-version").first()


def protocol_for(protocol_id: str) -> protocols.Protocol:
    """A shipped template, or the latest version of a clinic's own, validated either way."""
    row = clinic_protocol(protocol_id) if protocol_id.startswith(CLINIC_PREFIX) else None
    if row is not None:
        parsed = protocols.parse(row.data, origin=f"{row.slug} v{row.version}")
        return replace(parsed, version=f"{parsed.version} (clinic v{row.version})")
    return protocols.get(protocol_id)


@transaction.atomic
def save_clinic_protocol(
    actor: Actor,
    data: dict[str, Any],
    change_note: str,
    *,
    expected_version: int | None = None,
) -> ClinicProtocol:
    """Add a clinic template, or a new version of one; it must pass the same checks as the
    shipped templates (every number cited, phases consistent). A change based on another
    version than the latest (``expected_version``; 0: there was none) saves nothing and raises
    :class:`~ketacare.lib.versions.StaleVersion` carrying the latest."""
    slug = str(data.get("id", ""))
    if not slug.startswith(CLINIC_PREFIX) or not slug[len(CLINIC_PREFIX) :]:
        example = f"{CLINIC_PREFIX}iv-weekly"
        raise ValidationError(
            {"template": f'"id" must start with "{CLINIC_PREFIX}", e.g. "{example}".'}
        )
    if not change_note.strip():
        raise ValidationError({"change_note": "Say what this version changes."})
    try:
        protocols.parse(data, origin=slug)
    except (protocols.InvalidProtocol, ValueError) as exc:
        raise ValidationError({"template": str(exc)}) from exc
    latest = (
        ClinicProtocol.objects.select_for_update().filter(slug=slug).order_by("-version").first()
    )
    versions.check(expected_version, latest, latest.version if latest else 0)
    try:
        # A first version has no row to lock: of two at once, the unique (slug, version)
        # refuses the second, which is then as stale as a checked one.
        with transaction.atomic():
            row = ClinicProtocol.objects.create(
                slug=slug,
                version=(latest.version + 1) if latest else 1,
                data=data,
                change_note=change_note.strip(),
                created_by=actor.user,
            )
    except IntegrityError:
        now = clinic_protocol(slug)
        raise versions.StaleVersion(now, now.version if now else 0) from None
    record(
        actor,
        Action.CREATE,
        row,
        new={"slug": slug, "version": row.version, "change_note": row.change_note},
    )
    return row


@dataclass(frozen=True)
class PlanRequest:
    protocol_id: str
    start_on: date
    start_time: time
    chair: str
    basis: str = "actual"
    primary_instrument: str = ""
    weekdays: Sequence[int] = ()


def clinic_caps() -> dosing.Caps:
    try:
        return dosing.caps_with(settings.KETACARE_DOSE_CAPS)
    except ValueError as exc:
        raise ValidationError(
            {"basis": f"The clinic's dose caps are misconfigured: {exc}"}
        ) from exc


def _body(patient: Patient) -> tuple[Decimal, Decimal | None]:
    latest = patient.measurements.first()
    if latest is None:
        raise ValidationError({"basis": "Record the patient's weight on the chart first."})
    height = next((m.height_cm for m in patient.measurements.all() if m.height_cm), None)
    return latest.weight_kg, height


def _doses(
    protocol: protocols.Protocol, patient: Patient, basis: str
) -> tuple[list[tuple[protocols.PlannedDose, Decimal]], Decimal | None]:
    """Each session's dose in mg, by the dose arithmetic and its hard caps (refused, never
    clipped), with the dosing weight used."""
    weight, height = _body(patient)
    planned, dosing_weight = [], None
    for dose in protocols.session_doses(protocol):
        try:
            if protocol.route == "esketamine":
                result = dosing.compute_dose("esketamine", dose_mg=dose.dose, caps=clinic_caps())
            else:
                sex = patient.sex if patient.sex in ("female", "male") else None
                result = dosing.compute_dose(
                    protocol.route,
                    mg_per_kg=dose.dose,
                    weight_kg=weight,
                    basis=basis,
                    sex=sex,
                    height_cm=height,
                    caps=clinic_caps(),
                )
                dosing_weight = result.dosing_weight_kg
        except (dosing.DoseRefused, dosing.InvalidDoseRequest) as exc:
            raise ValidationError({"basis": f"Session {dose.session}: {exc}"}) from exc
        planned.append((dose, result.dose_mg))
    return planned, dosing_weight


def dose_mg(plan: TreatmentPlan, dose: Decimal) -> Decimal:
    """One session's dose in mg for ``plan`` at ``dose`` (mg/kg, or mg for esketamine)."""
    try:
        if plan.route == "esketamine":
            return dosing.compute_dose("esketamine", dose_mg=dose, caps=clinic_caps()).dose_mg
        sex = plan.patient.sex if plan.patient.sex in ("female", "male") else None
        return dosing.compute_dose(
            plan.route,
            mg_per_kg=dose,
            weight_kg=plan.weight_kg,
            basis=plan.basis,
            sex=sex,
            height_cm=plan.height_cm,
            caps=clinic_caps(),
        ).dose_mg
    except (dosing.DoseRefused, dosing.InvalidDoseRequest) as exc:
        raise ValidationError({"basis": str(exc)}) from exc


def _check(request: PlanRequest) -> protocols.Protocol:
    try:
        protocol = protocol_for(request.protocol_id)
    except (protocols.UnknownProtocol, protocols.InvalidProtocol) as exc:
        raise ValidationError({"protocol": str(exc)}) from exc
    chairs = clinic.chairs()
    if request.chair not in chairs:
        raise ValidationError({"chair": f"Unknown chair; use one of {', '.join(chairs)}."})
    instrument = request.primary_instrument or protocol.primary_outcome_default
    try:
        instruments.get(instrument)
    except instruments.UnknownInstrument as exc:
        raise ValidationError({"primary_instrument": str(exc)}) from exc
    return protocol


@transaction.atomic
def create_plan(
    actor: Actor,
    patient: Patient,
    request: PlanRequest,
    previous: TreatmentPlan | None = None,
    reason: str = "",
    held_through: int = 0,
    overlap_reason: str = "",
) -> TreatmentPlan:
    """A draft plan from a template: per-session doses and the calendar of sessions.

    A new version keeps the previous version's dates and chairs for the sessions both have (so
    moves carry over); sessions already held under it (dated before today, or numbered up to
    ``held_through``) are marked held there rather than planned twice. Refused when it starts
    before the back-entry grace, books a chair a signed plan holds at that time, or overlaps
    another active plan of the patient without ``overlap_reason``."""
    protocol = _check(request)
    if previous is not None:
        _check_not_revised(previous)
    _check_start(request.start_on, previous)
    planned, dosing_weight = _doses(protocol, patient, request.basis)
    dates = _dates(protocol, request)
    weight, height = _body(patient)
    plan = TreatmentPlan.objects.create(
        patient=patient,
        version=previous.version + 1 if previous else 1,
        previous=previous,
        change_reason=reason,
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        protocol_name=protocol.name,
        route=protocol.route,
        primary_instrument=request.primary_instrument or protocol.primary_outcome_default,
        basis=request.basis,
        weight_kg=weight,
        dosing_weight_kg=dosing_weight,
        height_cm=height,
        start_on=request.start_on,
        weekdays=list(request.weekdays),
        chair=request.chair,
        start_time=request.start_time,
        created_by=actor.user,
        overlap_reason=overlap_reason.strip(),
    )
    sessions = [
        PlannedSession(
            plan=plan,
            number=dose.session,
            phase=dose.phase,
            scheduled_on=day,
            start_time=request.start_time,
            chair=request.chair,
            dose=dose.dose,
            unit=dose.unit,
            dose_mg=mg,
        )
        for (dose, mg), day in zip(planned, dates, strict=True)
    ]
    if previous is not None:
        _carry_over(previous, sessions, held_through)
    PlannedSession.objects.bulk_create(sessions)
    _check_bookings(plan, overlap_reason)
    record(
        actor,
        Action.CREATE,
        plan,
        patient=patient,
        new={
            "protocol": f"{protocol.id} {protocol.version}",
            "version": plan.version,
            "basis": plan.basis,
            "weight_kg": weight,
            "dosing_weight_kg": dosing_weight,
            "doses_mg": [mg for _, mg in planned],
            "dates": [s.scheduled_on for s in sessions],  # as stored, moves carried over
            "held": [s.number for s in sessions if s.status == SessionStatus.CANCELLED],
            "reason": reason,
            "overlap_reason": plan.overlap_reason,
        },
    )
    return plan


MIN_OVERLAP_REASON = 10  # characters


def _check_start(start_on: date, previous: TreatmentPlan | None) -> None:
    """A plan starts no earlier than the back-entry grace allows; a new version keeping its
    predecessor's start is not a new start."""
    if previous is not None and start_on == previous.start_on:
        return
    refusal = bookings.start_refusal(start_on, timezone.localdate())
    if refusal:
        raise ValidationError({"start_on": refusal})


def _check_bookings(plan: TreatmentPlan, overlap_reason: str) -> None:
    """Refuse a chair another signed plan holds at that time, and an overlap with another active
    plan of the patient without a reason (the plan's own, or one given now)."""
    sessions = list(plan.sessions.all())
    clashes = bookings.chair_clashes(sessions, ignore_plans=[plan.previous_id or 0])
    if clashes:
        raise ValidationError({"chair": clashes[:3]})
    overlapping = bookings.overlapping_plans(plan)
    if overlapping and len(overlap_reason.strip()) < MIN_OVERLAP_REASON:
        message = bookings.overlap_message(overlapping)
        raise ValidationError(
            {"overlap_reason": f"{message} (at least {MIN_OVERLAP_REASON} characters)"}
        )


def _dates(protocol: protocols.Protocol, request: PlanRequest) -> list[date]:
    """The template's calendar from the requested start, or a ``start_on`` error when it cannot
    be laid out (it would run past the last date there is, or finds no open day)."""
    try:
        return protocols.plan_dates(
            protocol, request.start_on, weekdays=list(request.weekdays) or None
        )
    except OverflowError:
        raise ValidationError(
            {"start_on": f"The sessions would run past {date.max}; choose an earlier start."}
        ) from None
    except protocols.ScheduleConflict as exc:
        raise ValidationError({"start_on": str(exc)}) from exc


def _check_not_revised(previous: TreatmentPlan) -> None:
    """A version has at most one successor: revise the newest version, not an older one."""
    successor = TreatmentPlan.objects.filter(previous=previous).first()
    if successor is not None:
        raise ValidationError(
            {
                "reason": f"Version {previous.version} was already revised as version "
                f"{successor.version}; revise that one instead."
            }
        )


def _carry_over(previous: TreatmentPlan, sessions: list[PlannedSession], held_through: int) -> None:
    before = {s.number: s for s in previous.sessions.all()}
    today = timezone.localdate()
    for session in sessions:
        old = before.get(session.number)
        if old is None:
            continue
        session.scheduled_on, session.chair, session.start_time = (
            old.scheduled_on,
            old.chair,
            old.start_time,
        )
        if (
            session.number <= held_through
            or old.scheduled_on < today
            or old.status == SessionStatus.CANCELLED
        ):
            session.status = SessionStatus.CANCELLED
            session.cancel_reason = old.cancel_reason or f"held under version {previous.version}"


@transaction.atomic
def sign_plan(
    actor: Actor, plan: TreatmentPlan, screening_override: str = "", overlap_reason: str = ""
) -> TreatmentPlan:
    """Only a prescriber signs, and only with a current signed screening or a documented
    override saying why treatment goes ahead without one; its chairs still free, and a reason
    when it overlaps another active plan of the patient (given now or when it was made)."""
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    require(actor, Perm.PLAN_SIGN, "screening_override", "Only a prescriber can sign a plan.")
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError({"screening_override": f"This plan is {plan.status}."})
    screening = current_signed_screening(plan.patient)
    override = screening_override.strip()
    if screening is None and len(override) < MIN_REASON:
        raise ValidationError(
            {
                "screening_override": (
                    "There is no current signed screening: sign one first, or document why "
                    f"treatment goes ahead without it (at least {MIN_REASON} characters)."
                )
            }
        )
    overlap = overlap_reason.strip() or plan.overlap_reason
    _check_bookings(plan, overlap)
    plan.status, plan.signed_by, plan.signed_at = PlanStatus.SIGNED, actor.user, timezone.now()
    plan.screening, plan.screening_override = screening, "" if screening else override
    plan.overlap_reason = overlap if bookings.overlapping_plans(plan) else plan.overlap_reason
    plan.save(
        update_fields=[
            "status",
            "signed_by",
            "signed_at",
            "screening",
            "screening_override",
            "overlap_reason",
        ]
    )
    if plan.previous is not None:
        _supersede(actor, plan.previous, plan)
    record(
        actor,
        Action.UPDATE,
        plan,
        patient=plan.patient,
        old={"status": PlanStatus.DRAFT},
        new={
            "status": PlanStatus.SIGNED,
            "screening": screening.pk if screening else None,
            "screening_override": plan.screening_override,
            "overlap_reason": plan.overlap_reason,
        },
    )
    return plan


def _supersede(actor: Actor, previous: TreatmentPlan, plan: TreatmentPlan) -> None:
    """``plan`` replaces ``previous``: the old version is superseded and its sessions still to
    come are cancelled, each change audited."""
    previous = TreatmentPlan.objects.select_for_update().get(pk=previous.pk)
    if previous.status != PlanStatus.SUPERSEDED:
        old_status = previous.status
        previous.status = PlanStatus.SUPERSEDED
        previous.save(update_fields=["status"])
        record(
            actor,
            Action.UPDATE,
            previous,
            patient=previous.patient,
            old={"status": old_status},
            new={"status": previous.status, "replaced_by": plan.pk},
        )
    coming = (
        previous.sessions.select_related("plan__patient")
        .select_for_update(of=("self",))
        .filter(status=SessionStatus.PLANNED, scheduled_on__gte=timezone.localdate())
    )
    for session in coming.order_by("number"):
        cancel_session(actor, session, f"replaced by version {plan.version}")


@transaction.atomic
def revise_plan(
    actor: Actor,
    plan: TreatmentPlan,
    request: PlanRequest,
    reason: str,
    held_through: int = 0,
    overlap_reason: str = "",
) -> TreatmentPlan:
    """A change to a signed plan: a new draft version with the reason; the signed one stays in
    force until the new version is signed."""
    if plan.status != PlanStatus.SIGNED:
        raise ValidationError(
            {"reason": "Only a signed plan is revised; edit a draft by creating it again."}
        )
    if len(reason.strip()) < MIN_REASON:
        raise ValidationError(
            {"reason": f"Say why the plan changes (at least {MIN_REASON} characters)."}
        )
    return create_plan(
        actor,
        plan.patient,
        request,
        previous=plan,
        reason=reason.strip(),
        held_through=held_through,
        overlap_reason=overlap_reason,
    )


@transaction.atomic
def move_session(actor: Actor, session: PlannedSession, new_date: date, chair: str = "") -> None:
    plan = session.plan
    planned = list(plan.sessions.filter(status=SessionStatus.PLANNED).order_by("number"))
    index = next(i for i, s in enumerate(planned) if s.pk == session.pk)
    try:
        protocols.check_move(
            [s.scheduled_on for s in planned], index, new_date, protocol_for(plan.protocol_id)
        )
    except protocols.ScheduleConflict as exc:
        raise ValidationError({"scheduled_on": str(exc)}) from exc
    old: dict[str, Any] = {"scheduled_on": session.scheduled_on, "chair": session.chair}
    session.scheduled_on, session.chair = new_date, chair or session.chair
    if plan.status == PlanStatus.SIGNED:
        clashes = bookings.chair_clashes([session], ignore_plans=())
        if clashes:
            raise ValidationError({"chair": clashes})
    session.save(update_fields=["scheduled_on", "chair"])
    record(
        actor,
        Action.UPDATE,
        session,
        patient=plan.patient,
        old=old,
        new={"scheduled_on": new_date, "chair": session.chair},
    )


@transaction.atomic
def cancel_session(actor: Actor, session: PlannedSession, reason: str) -> None:
    if not reason.strip():
        raise ValidationError({"reason": "Say why the session is cancelled."})
    session.status, session.cancel_reason = SessionStatus.CANCELLED, reason.strip()
    session.save(update_fields=["status", "cancel_reason"])
    record(
        actor,
        Action.UPDATE,
        session,
        patient=session.plan.patient,
        old={"status": SessionStatus.PLANNED},
        new={"status": session.status, "reason": reason},
    )


# Reads that reveal patients, audited ---------------------------------------------------------


@dataclass(frozen=True)
class PlanPage:
    """What the plan page shows."""

    plan: TreatmentPlan
    sessions: list[PlannedSession]
    screening: Screening | None
    reviews: list[TitrationReview]
    pk_chart: PlannedChart | None


@transaction.atomic
def open_plan(actor: Actor, plan: TreatmentPlan) -> PlanPage:
    """The plan with its sessions, the screening it needs, its titration reviews and its
    predicted curve; the reading audited."""
    page = PlanPage(
        plan=plan,
        sessions=list(plan.sessions.all()),
        screening=current_signed_screening(plan.patient),
        reviews=list(plan.reviews.select_related("decided_by", "resulting_plan")),
        pk_chart=selectors.plan_chart(plan),
    )
    record(actor, Action.VIEW, plan, patient=plan.patient, new={"page": "plan"})
    return page


@transaction.atomic
def open_calendar(actor: Actor, start: date, days: int) -> list[selectors.CalendarDay]:
    """The clinic's calendar from ``start`` for ``days`` days; the event names every patient
    it shows (by record number)."""
    grid = selectors.calendar(start, days)
    shown = {s.plan.patient.mrn for d in grid for chair in d.by_chair.values() for s in chair}
    record(
        actor,
        Action.VIEW,
        entity_type="calendar",
        new={"start": start, "days": days, "patients": sorted(shown)},
    )
    return grid
