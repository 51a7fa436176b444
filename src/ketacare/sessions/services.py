"""Every write of a supervised session. Each service locks the session row, so two nurses (or a
nurse and a bedside monitor) acting at once are serialised, and writes its audit events in the
same transaction. State changes go through :func:`_move`, which asks ``clinical.session``."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action, AuditEvent
from ketacare.audit.services import Actor, record
from ketacare.clinical import dosing, instruments, monitoring, protocols
from ketacare.clinical import session as rules
from ketacare.clinical.session import IllegalTransition, State
from ketacare.measures import services as measures
from ketacare.measures.models import Context, Response, Schedule
from ketacare.measures.schedules import create_schedule, record_dose
from ketacare.measures.texts import has_patient_text
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.plans import services as plans
from ketacare.plans import titration
from ketacare.plans.models import (
    PlannedSession,
    PlanStatus,
    SessionStatus,
    TitrationReview,
    TreatmentPlan,
)
from ketacare.sessions import selectors
from ketacare.sessions.models import (
    AdverseEvent,
    AeOutcome,
    Alarm,
    Consent,
    PregnancyTest,
    Session,
    Transition,
    VitalSign,
    VitalSource,
)

ESKETAMINE_DEVICE_MG = Decimal(28)


class GateNotPassed(Exception):
    def __init__(self, items: Sequence[rules.GateItem]) -> None:
        super().__init__("; ".join(i.message for i in items))
        self.items = list(items)


class DischargeRefused(Exception):
    def __init__(self, unmet: Sequence[rules.Unmet]) -> None:
        super().__init__("; ".join(u.message for u in unmet))
        self.unmet = list(unmet)


def _lock(session: Session) -> Session:
    return Session.objects.select_for_update().get(pk=session.pk)


def _require(actor: Actor, perm: Perm, field: str, what: str) -> User:
    if actor.user is None or not actor.user.can(perm):
        raise ValidationError({field: f"Only a prescriber may {what}."})
    return actor.user


def _staff(actor: Actor) -> User:
    if actor.user is None:
        raise ValidationError({"state": "Only a signed-in clinician can record this."})
    return actor.user


def _move(actor: Actor, session: Session, target: State, reason: str = "") -> None:
    try:
        rules.check_transition(State(session.state), target, reason)
    except IllegalTransition as exc:
        raise ValidationError({"state": str(exc)}) from exc
    now = timezone.now()
    Transition.objects.create(
        session=session,
        from_state=session.state,
        to_state=target,
        at=now,
        by=actor.user,
        reason=reason.strip(),
    )
    old = session.state
    session.state = target
    if target in rules.TERMINAL:
        session.ended_at, session.end_reason = now, reason.strip()
    session.save()
    record(
        actor,
        Action.UPDATE,
        session,
        patient=session.patient,
        old={"state": old},
        new={"state": target, "reason": reason.strip()},
    )


# Check-in and the gate ---------------------------------------------------------------------


@transaction.atomic
def check_in(actor: Actor, planned: PlannedSession) -> Session:
    """Open the session record for a planned session of a signed plan, copying the template's
    monitoring so a later template edit changes nothing here; the escort defaults to the
    patient's support person."""
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
    protocol = plans.protocol_for(planned.plan.protocol_id)
    schedule = monitoring.route_schedule(protocol.route)
    patient = planned.plan.patient
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
        escort_name=patient.support_person_name,
        escort_phone=patient.support_person_phone,
        checked_in_at=timezone.now(),
    )
    record(actor, Action.CREATE, session, patient=patient, new={"planned": planned.pk})
    _move(actor, session, State.CHECKED_IN)
    return session


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
def update_gate(actor: Actor, session: Session, changes: dict[str, object]) -> Session:
    """Record gate answers: escort, fasting, medication review, pregnancy test."""
    session = _lock(session)
    _check_gate_open(session, "state")
    allowed = {
        "escort_name",
        "escort_phone",
        "fasting_confirmed",
        "medications_reviewed",
        "medications_note",
        "pregnancy_test",
        "pregnancy_note",
    }
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
    old = {k: getattr(session, k) for k in changes}
    for key, value in changes.items():
        setattr(session, key, value)
    session.full_clean(exclude=["planned", "patient", "plan", "bp_confirmed_by"])
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
        recorded_by=_staff(actor),
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
    session = _lock(session)
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
        raise ValidationError(
            {field: f"The pre-dose checks are open only while checked in (now {session.state})."}
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


@transaction.atomic
def confirm_bp(actor: Actor, session: Session, note: str) -> Session:
    """A prescriber's explicit decision to dose above the confirm threshold (never the block)."""
    user = _require(actor, Perm.SESSION_CONFIRM, "bp_confirm_note", "confirm dosing at this BP")
    if len(note.strip()) < 10:
        raise ValidationError({"bp_confirm_note": "Give the reason (at least 10 characters)."})
    session = _lock(session)
    _check_gate_open(session, "bp_confirm_note")
    session.bp_confirmed_by, session.bp_confirm_note = user, note.strip()
    session.save()
    record(actor, Action.UPDATE, session, patient=session.patient, new={"bp_confirmed": note})
    return session


@transaction.atomic
def review_suicide_risk(actor: Actor, session: Session, note: str) -> Session:
    user = _require(actor, Perm.SESSION_CONFIRM, "suicide_review_note", "review the risk screen")
    if len(note.strip()) < 10:
        raise ValidationError(
            {"suicide_review_note": "Record the assessment (at least 10 characters)."}
        )
    session = _lock(session)
    _check_gate_open(session, "suicide_review_note")
    session.suicide_reviewed_by, session.suicide_review_note = user, note.strip()
    session.save()
    record(actor, Action.UPDATE, session, patient=session.patient, new={"suicide_review": note})
    return session


@transaction.atomic
def clear(actor: Actor, session: Session) -> Session:
    """Pass the pre-dose gate; refused with the missing items listed."""
    session = _lock(session)
    items = rules.gate_items(selectors.gate_facts(session))
    if items:
        raise GateNotPassed(items)
    _move(actor, session, State.CLEARED)
    return session


# Dosing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoseEntry:
    started_at: datetime
    lot_number: str
    verified_by: User
    ended_at: datetime | None = None
    concentration_mg_per_ml: Decimal | None = None
    device_number: int | None = None


@transaction.atomic
def record_administration(actor: Actor, session: Session, entry: DoseEntry) -> Session:
    """One administration, verified by a second clinician. The first moves the session to
    dosing and requests the post-session measures; for esketamine each device is a row."""
    session = _lock(session)
    if session.state not in (State.CLEARED, State.DOSING):
        raise ValidationError({"state": "Dose only after the pre-dose gate is passed."})
    _check_entry(session, entry, actor)
    dose = ESKETAMINE_DEVICE_MG if session.is_esketamine else session.dose_mg
    row = session.administrations.create(
        device_number=entry.device_number,
        drug=session.drug,
        route=session.route,
        dose_mg=dose,
        lot_number=entry.lot_number.strip(),
        concentration_mg_per_ml=entry.concentration_mg_per_ml,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        administered_by=_staff(actor),
        verified_by=entry.verified_by,
    )
    record(
        actor,
        Action.CREATE,
        row,
        patient=session.patient,
        new={
            "drug": row.drug,
            "route": row.route,
            "dose_mg": dose,
            "device": entry.device_number,
            "lot": row.lot_number,
            "started_at": entry.started_at,
            "ended_at": entry.ended_at,
            "verified_by": entry.verified_by.username,
        },
    )
    if session.state == State.CLEARED:
        session.dosing_started_at = entry.started_at
        _move(actor, session, State.DOSING)
        _request_post_session_measures(actor, session, entry.started_at)
    return session


def _check_entry(session: Session, entry: DoseEntry, actor: Actor) -> None:
    now = timezone.now() + timedelta(minutes=1)
    if not entry.lot_number.strip():
        raise ValidationError({"lot_number": "Record the lot number."})
    if entry.verified_by == actor.user or not entry.verified_by.can(Perm.SESSION_RUN):
        raise ValidationError(
            {"verified_by": "A second clinician (nurse or prescriber) must verify the dose."}
        )
    if entry.started_at > now or (entry.ended_at and entry.ended_at > now):
        raise ValidationError({"started_at": "Dosing times cannot be in the future."})
    if entry.ended_at and entry.ended_at < entry.started_at:
        raise ValidationError({"ended_at": "The end cannot come before the start."})
    # Times are entered to the minute: a dose started in the minute of check-in is allowed.
    if session.checked_in_at and entry.started_at < session.checked_in_at - timedelta(minutes=1):
        raise ValidationError({"started_at": "Dosing cannot start before check-in."})
    if session.is_esketamine:
        _check_device(session, entry)
    elif session.administrations.exists():
        raise ValidationError({"state": "The dose is already recorded; end dosing instead."})


def _check_device(session: Session, entry: DoseEntry) -> None:
    devices = int(session.dose_mg / ESKETAMINE_DEVICE_MG)
    given = session.administrations.count()
    if entry.device_number != given + 1 or given >= devices:
        raise ValidationError(
            {"device_number": f"Next is device {given + 1} of {devices}."}
            if given < devices
            else {"device_number": f"All {devices} devices are recorded."}
        )
    if entry.ended_at is None:
        raise ValidationError({"ended_at": "Record when the device's second spray was given."})
    last = session.administrations.order_by("-device_number").first()
    if last and last.ended_at and entry.started_at < last.ended_at:
        raise ValidationError({"started_at": "A device starts after the previous one ended."})


def _request_post_session_measures(actor: Actor, session: Session, dosed_at: datetime) -> None:
    """The post-session measures (+1 h, +4 h, +24 h by default) through the patient's
    after-session schedule; one is created from the plan when the patient has none and the
    plan's primary measure can be sent to patients (a licensed clinician-rated scale such as
    Y-BOCS cannot, and that must never stop the dose itself from being recorded)."""
    has_schedule = (
        Schedule.objects.filter(patient=session.patient, active=True)
        .exclude(hours_after_session=[])
        .exists()
    )
    primary = instruments.get(session.plan.primary_instrument)
    if not has_schedule and has_patient_text(primary):
        hours = monitoring.data()["post_session"]["hours"]["value"]
        create_schedule(
            actor,
            session.patient,
            [session.plan.primary_instrument],
            hours_after_session=[float(h) for h in hours],
            starts_on=timezone.localdate(dosed_at),
        )
    record_dose(actor, session.patient, dosed_at)


@transaction.atomic
def end_dosing(actor: Actor, session: Session, ended_at: datetime) -> Session:
    session = _lock(session)
    if session.state != State.DOSING:
        raise ValidationError({"state": "Only a session that is dosing can end dosing."})
    rows = list(session.administrations.all())
    if session.is_esketamine and len(rows) < int(session.dose_mg / ESKETAMINE_DEVICE_MG):
        raise ValidationError({"device_number": "Record every device before ending dosing."})
    # Dosing ends after the last administration (the last esketamine device) has ended.
    ends = [r.ended_at for r in rows if r.ended_at]
    start = max([session.dosing_started_at or ended_at, *ends])
    if ended_at < start or ended_at > timezone.now() + timedelta(minutes=1):
        raise ValidationError(
            {
                "ended_at": "The end of dosing lies between the last administration "
                f"({timezone.localtime(start):%H:%M}) and now."
            }
        )
    for row in rows:
        if row.ended_at is None:
            row.ended_at = ended_at
            row.save(update_fields=["ended_at"])
    session.dosing_ended_at = ended_at
    _move(actor, session, State.MONITORING)
    return session


# Monitoring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredVitals:
    vital: VitalSign
    alarms: list[Alarm]
    created: bool


def _fingerprint(taken_at: datetime, v: monitoring.Vitals) -> str:
    key = f"{taken_at.isoformat()}|{v.systolic}|{v.diastolic}|{v.heart_rate}|{v.spo2}|"
    return hashlib.sha256(f"{key}{v.respiratory_rate}".encode()).hexdigest()


@transaction.atomic
def record_vitals(
    actor: Actor,
    session: Session,
    vitals: monitoring.Vitals,
    *,
    taken_at: datetime | None = None,
    source: VitalSource = VitalSource.MANUAL,
) -> StoredVitals:
    """Store a reading and raise its alarms. A repeated identical post (same values and time,
    or no time and the same values within a minute) returns the stored reading unchanged."""
    try:
        monitoring.check_vitals(vitals)
    except monitoring.ImplausibleVitals as exc:
        raise ValidationError({exc.field: str(exc)}) from exc
    session = _lock(session)
    if not session.is_active:
        raise ValidationError({"state": f"A {session.state} session takes no vital signs."})
    now = timezone.now()
    when = taken_at or now
    _check_time(session, when, now)
    repeat = _repeat(session, vitals, taken_at, now)
    if repeat is not None:
        return StoredVitals(repeat, list(repeat.alarms.all()), created=False)
    vital = session.vitals.create(
        taken_at=when,
        source=source,
        pre_dose=session.state in (State.CHECKED_IN, State.CLEARED),
        entered_by=actor.user,
        fingerprint=_fingerprint(when, vitals),
        **{f: getattr(vitals, f) for f in monitoring.FIELDS},
    )
    record(
        actor,
        Action.CREATE,
        vital,
        patient=session.patient,
        new={
            "taken_at": when,
            "source": source,
            **{f: getattr(vitals, f) for f in monitoring.FIELDS},
        },
    )
    alarms = _raise_alarms(actor, session, vital, vitals)
    if alarms and session.state == State.READY_FOR_DISCHARGE:
        _move(actor, session, State.MONITORING, f"alarm: {alarms[0].message}")
    return StoredVitals(vital, alarms, created=True)


def _check_time(session: Session, when: datetime, now: datetime) -> None:
    if timezone.is_naive(when):
        raise ValidationError({"taken_at": "Give the time with its time zone (ISO 8601)."})
    if when > now + timedelta(minutes=1):
        raise ValidationError({"taken_at": "Cannot be in the future."})
    if session.checked_in_at and when < session.checked_in_at - timedelta(minutes=1):
        raise ValidationError({"taken_at": "Cannot be before check-in."})


def _repeat(
    session: Session, vitals: monitoring.Vitals, taken_at: datetime | None, now: datetime
) -> VitalSign | None:
    if taken_at is not None:
        return session.vitals.filter(fingerprint=_fingerprint(taken_at, vitals)).first()
    same = {f: getattr(vitals, f) for f in monitoring.FIELDS}
    return (
        session.vitals.filter(taken_at__gte=now - timedelta(minutes=1), **same)
        .order_by("-taken_at")
        .first()
    )


def _raise_alarms(
    actor: Actor, session: Session, vital: VitalSign, vitals: monitoring.Vitals
) -> list[Alarm]:
    raised = []
    for found in monitoring.alarms_for(vitals, selectors.alarm_rules()):
        alarm = session.alarms.create(
            vital=vital,
            kind=found.kind,
            message=found.message,
            rule=found.rule,
            source=found.source,
            raised_at=timezone.now(),
        )
        record(
            actor,
            Action.CREATE,
            alarm,
            patient=session.patient,
            new={"kind": found.kind, "message": found.message, "rule": found.rule},
        )
        raised.append(alarm)
    return raised


@transaction.atomic
def acknowledge_alarm(actor: Actor, alarm: Alarm, action_taken: str) -> Alarm:
    if len(action_taken.strip()) < 3:
        raise ValidationError({"action_taken": "Say what was done (at least 3 characters)."})
    alarm = Alarm.objects.select_for_update().select_related("session__patient").get(pk=alarm.pk)
    if alarm.acknowledged_at is not None:
        raise ValidationError({"action_taken": "This alarm is already acknowledged."})
    alarm.acknowledged_by, alarm.acknowledged_at = actor.user, timezone.now()
    alarm.action_taken = action_taken.strip()
    alarm.save()
    record(
        actor,
        Action.UPDATE,
        alarm,
        patient=alarm.session.patient,
        old={"acknowledged": False},
        new={"acknowledged": True, "action_taken": alarm.action_taken},
    )
    return alarm


RATED = ("cadss", "moaas")


@transaction.atomic
def record_rating(
    actor: Actor, session: Session, instrument_id: str, answers: Sequence[object]
) -> Response:
    """A CADSS or MOAA/S rating, stored as a response of the session (pre-session before dosing,
    post-session with the hours since dosing after)."""
    session = _lock(session)
    if instrument_id not in RATED:
        raise ValidationError({"instrument": f"Rate one of {', '.join(RATED)} here."})
    if not session.is_active:
        raise ValidationError({"state": f"A {session.state} session takes no ratings."})
    now = timezone.now()
    hours = None
    if session.dosing_started_at:
        minutes = Decimal((now - session.dosing_started_at).total_seconds()) / 3600
        hours = minutes.quantize(Decimal("0.1"))
    return measures.record_response(
        actor,
        session.patient,
        instrument_id,
        answers,
        context=Context.POST_SESSION if hours is not None else Context.PRE_SESSION,
        hours_after_dose=hours,
        completed_at=now,
        session=session,
    )


@transaction.atomic
def record_adverse_event(actor: Actor, session: Session, data: dict[str, object]) -> AdverseEvent:
    session = _lock(session)
    if session.state in (State.SCHEDULED, State.CANCELLED):
        raise ValidationError({"state": "Adverse events belong to a session under way."})
    event = AdverseEvent(session=session, recorded_by=actor.user, **data)
    if event.code == "other" and not event.other_text.strip():
        raise ValidationError({"other_text": "Describe the event."})
    event.full_clean(exclude=["session", "recorded_by"])
    if event.onset_at > timezone.now() + timedelta(minutes=1):
        raise ValidationError({"onset_at": "Cannot be in the future."})
    event.save()
    record(actor, Action.CREATE, event, patient=session.patient, new=data)
    return event


@transaction.atomic
def update_adverse_event_outcome(actor: Actor, event: AdverseEvent, outcome: str) -> AdverseEvent:
    if outcome not in {o.value for o in AeOutcome}:
        raise ValidationError({"outcome": f"Use one of {', '.join(o.value for o in AeOutcome)}."})
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    old = event.outcome
    event.outcome = outcome
    event.save(update_fields=["outcome"])
    record(
        actor,
        Action.UPDATE,
        event,
        patient=event.session.patient,
        old={"outcome": old},
        new={"outcome": outcome},
    )
    return event


# Discharge and ending ------------------------------------------------------------------------


@transaction.atomic
def escort_arrived(actor: Actor, session: Session) -> Session:
    session = _lock(session)
    if not session.is_active:
        raise ValidationError({"state": f"The session is {session.state}."})
    session.escort_present_at = timezone.now()
    session.save()
    record(actor, Action.UPDATE, session, patient=session.patient, new={"escort_present": True})
    return session


@transaction.atomic
def discharge(actor: Actor, session: Session) -> Session:
    """Discharge when every criterion holds, else :class:`DischargeRefused` with the unmet
    ones. From monitoring it passes through ready_for_discharge (both moves recorded)."""
    session = _lock(session)
    if session.state not in (State.MONITORING, State.READY_FOR_DISCHARGE):
        raise ValidationError({"state": f"A {session.state} session cannot be discharged."})
    unmet = rules.discharge_unmet(selectors.discharge_facts(session, timezone.now()))
    if unmet:
        raise DischargeRefused(unmet)
    if session.state == State.MONITORING:
        _move(actor, session, State.READY_FOR_DISCHARGE)
    _move(actor, session, State.DISCHARGED)
    return session


@transaction.atomic
def mark_ready(actor: Actor, session: Session) -> Session:
    """Clinically ready, waiting for the escort: every criterion but the escort holds."""
    session = _lock(session)
    facts = selectors.discharge_facts(session, timezone.now())
    unmet = [u for u in rules.discharge_unmet(facts) if u.code != "escort_absent"]
    if session.state == State.MONITORING and unmet:
        raise DischargeRefused(unmet)
    _move(actor, session, State.READY_FOR_DISCHARGE)
    return session


@transaction.atomic
def cancel(actor: Actor, session: Session, reason: str) -> Session:
    """Cancel before any drug is given; the planned session is cancelled with it."""
    session = _lock(session)
    _move(actor, session, State.CANCELLED, reason)
    plans.cancel_session(actor, session.planned, reason)
    return session


@transaction.atomic
def abort(actor: Actor, session: Session, reason: str) -> Session:
    session = _lock(session)
    _move(actor, session, State.ABORTED, reason)
    return session


# Reads that are audited -------------------------------------------------------------------

MONITOR_AUDIT_EVERY = timedelta(minutes=15)


@transaction.atomic
def view_session(actor: Actor, session: Session) -> None:
    record(actor, Action.VIEW, session, patient=session.patient, new={"page": "session"})


@transaction.atomic
def view_board(actor: Actor, sessions: Sequence[Session]) -> None:
    """Audit the live monitor's reads: one event per patient on the board, at most every 15 min
    per viewer and patient, so a screen polling every few seconds does not flood the trail."""
    since = timezone.now() - MONITOR_AUDIT_EVERY
    for session in sessions:
        seen = AuditEvent.objects.filter(
            actor=actor.user,
            action=Action.VIEW,
            entity_type="session",
            entity_id=str(session.pk),
            occurred_at__gte=since,
        ).exists()
        if not seen:
            record(actor, Action.VIEW, session, patient=session.patient, new={"page": "monitor"})


@transaction.atomic
def view_patient_sessions(actor: Actor, patient: Patient) -> None:
    record(actor, Action.VIEW, patient, patient=patient, new={"section": "sessions"})


@transaction.atomic
def review_titration(actor: Actor, session: Session) -> TitrationReview:
    """Feed the ended session's tolerability (adverse-event severities, the highest CADSS, the
    peak blood pressure after dosing) to the titration guidance of the plan in force."""
    _require(actor, Perm.PLAN_SIGN, "state", "ask for titration guidance")
    if session.state != State.DISCHARGED:
        raise ValidationError({"state": "Titration follows a discharged session."})
    plan = (
        TreatmentPlan.objects.filter(patient=session.patient, status=PlanStatus.SIGNED)
        .order_by("-version")
        .first()
    )
    if plan is None:
        raise ValidationError({"state": "The patient has no signed plan in force."})
    seen = selectors.summary(session)
    return titration.review(
        actor,
        plan,
        session.planned.number,
        adverse_events=seen.severities,
        cadss_total=seen.max_cadss,
        peak_systolic=seen.peak_systolic,
        peak_diastolic=seen.peak_diastolic,
    )
