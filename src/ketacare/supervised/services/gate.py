"""Check-in and the pre-dose gate: opening the session record, the checks before dosing, and
clearing for dosing once :func:`ketacare.clinical.session.gate_items` lists nothing missing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical import dosing, monitoring, protocols
from ketacare.clinical import session as rules
from ketacare.clinical.session import State
from ketacare.lib import versions
from ketacare.patients import services as patients
from ketacare.plans import services as plans
from ketacare.plans.models import (
    PlannedSession,
    SessionStatus,
)
from ketacare.supervised import selectors
from ketacare.supervised.models import (
    ACTIVE_STATES,
    Arrival,
    Consent,
    PregnancyTest,
    Session,
)
from ketacare.supervised.services.primitives import GateNotPassed, lock, move, staff

MIN_OVERRIDE_REASON = 10  # characters, for a wrong-day check-in or a clinician's decision


@transaction.atomic
def check_in(actor: Actor, planned: PlannedSession, wrong_day_reason: str = "") -> Session:
    """Open the session record for a planned session of a signed plan, copying the template's
    monitoring so a later template edit changes nothing here; the escort is the one the front
    desk noted at arrival, else the patient's support person. Refused while the chair or the
    patient has a session under way, and on a day other than the planned one unless a
    clinician gives the reason."""
    planned = (
        PlannedSession.objects.select_for_update()
        .select_related("plan__patient")
        .get(pk=planned.pk)
    )
    if planned.status != SessionStatus.PLANNED or planned.plan.status != "signed":
        raise ValidationError(
            {"state": "Only a planned session of the signed plan in force can be checked in."}
        )
    if Session.objects.filter(pk=planned.pk).exists():
        raise ValidationError({"state": "This session is already checked in."})
    patient = planned.plan.patient
    _check_nothing_under_way(planned)
    reason = _check_day(actor, planned, wrong_day_reason)
    protocol = plans.protocol_for(planned.plan.protocol_id)
    schedule = monitoring.route_schedule(protocol.route)
    session = Session.objects.create(
        planned=planned,
        patient=patient,
        plan=planned.plan,
        chair=planned.chair,
        route=protocol.route,
        drug="esketamine" if protocol.route == "esketamine" else "racemic ketamine",
        observation_minutes=protocol.observation_minutes.value,
        observation_from=schedule.observation_from,
        monitoring=_monitoring_snapshot(protocol, schedule),
        fasting_required=protocol.fasting_food_hours is not None
        or protocol.fasting_liquids_minutes is not None,
        planned_dose_mg=planned.dose_mg,
        dose_mg=planned.dose_mg,
        **_escort(planned),
        wrong_day_reason=reason,
        checked_in_at=timezone.now(),
    )
    new: dict[str, object] = {"planned": planned.pk}
    if reason:
        new.update(wrong_day_reason=reason, planned_for=planned.scheduled_on)
    record(actor, Action.CREATE, session, patient=patient, new=new)
    try:
        with transaction.atomic():
            move(actor, session, State.CHECKED_IN)
    except IntegrityError as exc:  # another check-in of the patient meanwhile
        raise ValidationError(
            {"state": "The patient was checked in to another session meanwhile; reload."}
        ) from exc
    return session


def _check_nothing_under_way(planned: PlannedSession) -> None:
    """Refuse while the patient, or the planned chair, has a session under way (checked in by
    now and not ended)."""
    active = Session.objects.filter(
        state__in=ACTIVE_STATES, checked_in_at__lte=timezone.now()
    ).select_related("planned", "patient")
    mine = active.filter(patient=planned.plan.patient).first()
    if mine is not None:
        raise ValidationError(
            {
                "state": f"The patient has session {mine.planned.number} under way "
                f"(in {mine.chair}, {mine.get_state_display()}): end it before checking in "
                "to another."
            }
        )
    taken = active.filter(chair=planned.chair).first()
    if taken is not None:
        since = timezone.localtime(taken.checked_in_at or timezone.now())
        raise ValidationError(
            {
                "chair": f"{planned.chair} is taken by {taken.patient.full_name} (session "
                f"{taken.planned.number}, checked in at {since:%H:%M}): discharge or end that "
                "session first, or move this one to a free chair."
            }
        )


def _check_day(actor: Actor, planned: PlannedSession, reason: str) -> str:
    """The reason for a wrong-day check-in ("" on the planned day); refused without one."""
    today = timezone.localdate()
    if planned.scheduled_on == today:
        return ""
    reason = reason.strip()
    if len(reason) < MIN_OVERRIDE_REASON:
        raise ValidationError(
            {
                "wrong_day_reason": f"This session is planned for {planned.scheduled_on:%a} "
                f"{planned.scheduled_on.isoformat()}, not today ({today.isoformat()}). To check "
                f"in anyway, a clinician gives the reason (at least {MIN_OVERRIDE_REASON} "
                "characters); or move the session on the plan."
            }
        )
    require(
        actor,
        Perm.SESSION_RUN,
        "wrong_day_reason",
        "Only a clinician (nurse or prescriber) may check in on a day other than the planned one.",
    )
    return reason


def _escort(planned: PlannedSession) -> dict[str, str]:
    arrival = Arrival.objects.filter(pk=planned.pk).first()
    if arrival is not None and arrival.escort_name:
        return {"escort_name": arrival.escort_name, "escort_phone": arrival.escort_phone}
    patient = planned.plan.patient
    return {
        "escort_name": patient.support_person_name,
        "escort_phone": patient.support_person_phone,
    }


def _monitoring_snapshot(
    protocol: protocols.Protocol, schedule: monitoring.RouteSchedule
) -> dict[str, object]:
    duration, device = protocol.duration_minutes, protocol.device
    return {
        "template": f"{protocol.id} {protocol.version}",
        "infusion_minutes": duration.value if duration else None,
        "device_interval_minutes": device.minutes_between_devices.value if device else None,
        "during_every": schedule.during_every,
        "after_start": list(schedule.after_start),
        "after_end": list(schedule.after_end),
        "sources": dict(schedule.sources),
        "observation_source": protocol.observation_minutes.source,
        "monitoring_version": monitoring.data()["version"],
    }


@transaction.atomic
def update_gate(
    actor: Actor,
    session: Session,
    changes: dict[str, object],
    *,
    expected_version: int | None = None,
) -> Session:
    """Record gate answers: escort, fasting, medication review, pregnancy test. A person's
    change names the gate version it was based on (``expected_version``); when the saved one
    is another (a second nurse saved the gate meanwhile), nothing is saved and
    :class:`~ketacare.lib.versions.StaleVersion` carries the session as saved now. ``None``
    is for writes of the system's own (the demo, builders)."""
    session = lock(session)
    _check_gate_open(session, "state")
    versions.check(expected_version, session, session.gate_version)
    allowed = set(selectors.GATE_ANSWERS)
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: f"Not a gate field; use {sorted(allowed)}."})
    test = changes.get("pregnancy_test", session.pregnancy_test)
    if test not in {p.value for p in PregnancyTest}:
        raise ValidationError(
            {"pregnancy_test": "Use negative, positive or not_applicable (with a note)."}
        )
    if (
        test == PregnancyTest.NOT_APPLICABLE
        and not str(changes.get("pregnancy_note", session.pregnancy_note)).strip()
    ):
        raise ValidationError({"pregnancy_note": "Say why no pregnancy test is needed."})
    changes = {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}
    old = {k: getattr(session, k) for k in changes}
    for key, value in changes.items():
        setattr(session, key, value)
    session.full_clean(exclude=["planned", "patient", "plan", "bp_confirmed_by"])
    if any(old[k] != v for k, v in changes.items()):
        session.gate_version += 1
    session.save()
    record(actor, Action.UPDATE, session, patient=session.patient, old=old, new=changes)
    return session


@transaction.atomic
def record_consent(actor: Actor, session: Session, signed_on: date, form_version: str) -> Consent:
    if signed_on > timezone.localdate():
        raise ValidationError({"signed_on": "Cannot be in the future."})
    if not form_version.strip():
        raise ValidationError({"form_version": "Name the consent form and its version."})
    consent = Consent.objects.create(
        patient=session.patient,
        protocol_id=session.plan.protocol_id,
        signed_on=signed_on,
        form_version=form_version.strip(),
        recorded_by=staff(actor),
    )
    record(
        actor,
        Action.CREATE,
        consent,
        patient=session.patient,
        new={"protocol": consent.protocol_id, "signed_on": signed_on, "form": form_version},
    )
    return consent


@transaction.atomic
def record_weight(actor: Actor, session: Session, weight_kg: Decimal) -> Session:
    """Today's weight, charted; the dose is recomputed from it when it differs from the plan's
    weight beyond the tolerance (``data/monitoring.toml`` [gate])."""
    session = lock(session)
    _check_gate_open(session, "weight_kg")
    patients.add_entry(
        actor,
        session.patient,
        "measurements",
        {"measured_on": timezone.localdate(), "weight_kg": weight_kg},
    )
    old = {"weight_kg": session.weight_kg, "dose_mg": session.dose_mg}
    session.weight_kg = weight_kg
    session.dose_mg, session.dose_note = _dose_for(session, weight_kg)
    session.save()
    record(
        actor,
        Action.UPDATE,
        session,
        patient=session.patient,
        old=old,
        new={"weight_kg": weight_kg, "dose_mg": session.dose_mg, "note": session.dose_note},
    )
    return session


def _check_gate_open(session: Session, field: str) -> None:
    if session.state != State.CHECKED_IN:
        now = rules.state_label(session.state)
        raise ValidationError(
            {field: f"The pre-dose checks are open only while checked in (now {now})."}
        )


def _dose_for(session: Session, weight_kg: Decimal) -> tuple[Decimal, str]:
    plan, planned = session.plan, session.planned
    if planned.unit != "mg/kg":
        return session.planned_dose_mg, ""
    change = rules.weight_change_percent(plan.weight_kg, weight_kg)
    if not rules.weight_needs_recompute(plan.weight_kg, weight_kg):
        return session.planned_dose_mg, f"Weight {change:+}% from the plan's {plan.weight_kg} kg."
    sex = session.patient.sex if session.patient.sex in ("female", "male") else None
    try:
        dose = dosing.compute_dose(
            plan.route,
            mg_per_kg=planned.dose,
            weight_kg=weight_kg,
            basis=plan.basis,
            sex=sex,
            height_cm=plan.height_cm,
            caps=plans.clinic_caps(),
        )
    except (dosing.DoseRefused, dosing.InvalidDoseRequest) as exc:
        raise ValidationError({"weight_kg": str(exc)}) from exc
    note = (
        f"Recomputed: weight {weight_kg} kg is {change:+}% from the plan's {plan.weight_kg} kg; "
        f"{planned.dose} mg/kg gives {dose.dose_mg} mg (planned {session.planned_dose_mg} mg)."
    )
    return dose.dose_mg, note


def confirm_bp(actor: Actor, session: Session, note: str) -> Session:
    """A prescriber's explicit decision to dose above the confirm threshold (never the block)."""
    return _prescriber_decision(
        actor, session, note, ("bp_confirmed_by", "bp_confirm_note"), "confirm dosing at this BP"
    )


def review_suicide_risk(actor: Actor, session: Session, note: str) -> Session:
    """A prescriber's documented review of today's positive suicide-risk screen."""
    return _prescriber_decision(
        actor,
        session,
        note,
        ("suicide_reviewed_by", "suicide_review_note"),
        "review the risk screen",
    )


def confirm_second_dose(actor: Actor, session: Session, note: str) -> Session:
    """A prescriber's explicit decision to give a second ketamine-class dose today."""
    return _prescriber_decision(
        actor,
        session,
        note,
        ("second_dose_confirmed_by", "second_dose_note"),
        "decide on a second dose today",
    )


@transaction.atomic
def _prescriber_decision(
    actor: Actor, session: Session, note: str, fields: tuple[str, str], what: str
) -> Session:
    """Record who decided and why, on the gate's ``fields`` (the user field, the note field)."""
    by, field = fields
    user = require(actor, Perm.SESSION_CONFIRM, field, f"Only a prescriber may {what}.")
    if len(note.strip()) < MIN_OVERRIDE_REASON:
        raise ValidationError(
            {field: f"Give the reason (at least {MIN_OVERRIDE_REASON} characters)."}
        )
    session = lock(session)
    _check_gate_open(session, field)
    setattr(session, by, user)
    setattr(session, field, note.strip())
    session.save()
    record(actor, Action.UPDATE, session, patient=session.patient, new={field: note.strip()})
    return session


@transaction.atomic
def clear(actor: Actor, session: Session) -> Session:
    """Pass the pre-dose gate; refused with the missing items listed."""
    session = lock(session)
    items = rules.gate_items(selectors.gate_facts(session))
    if items:
        raise GateNotPassed(items)
    move(actor, session, State.CLEARED)
    return session
