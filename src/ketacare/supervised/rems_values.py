"""The values of the REMS monitoring form, field by field, each with where it came from in the
session record (:mod:`.rems` lays them out as the paper form and signs them)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.clinic import selectors as clinic_settings
from ketacare.clinic.selectors import Clinic
from ketacare.clinical import eligibility, instruments, monitoring
from ketacare.clinical.session import State
from ketacare.supervised import selectors
from ketacare.supervised.models import (
    AdverseEvent,
    AdverseEventCode,
    AeOutcome,
    RemsForm,
    Session,
    VitalSign,
)

YES, NO = "Yes", "No"
BP_AFTER_MINUTES = 40  # the form's "40 min post-administration" (label: BP about 40 min post-dose)
ENDED = (State.DISCHARGED, State.ABORTED)
RESOLVED = (AeOutcome.RESOLVED, AeOutcome.RESOLVED_WITH_SEQUELAE)
RESPIRATORY_ALARMS = ("hypoxemia", "bradypnea")
ANSWER_HERE = "answer on this form"
NOT_ENDED = "the session has not ended"

# The form's concomitant-medication questions -> drug_classes.toml; opioids are extra
# information (the REMS video overview names them; Spravato PI 7.1: CNS depressants).
MEDICATION_CLASSES = {
    "benzodiazepines": "benzodiazepine",
    "sedative_hypnotics": "sedative_hypnotic",
    "psychostimulants": "stimulant",
    "maois": "maoi",
    "opioids": "opioid",
}

Value = tuple[str, str]  # (the value, "" when the record has none; where it came from)


def _yn(flag: bool) -> str:
    return YES if flag else NO


def values_of(session: Session, start: datetime | None, row: RemsForm | None) -> dict[str, Value]:
    """Every field's (value, source), keyed as in :data:`ketacare.supervised.rems.LAYOUT`."""
    clinic = clinic_settings.current()
    return {
        **_patient(session, start, row),
        **_medications(session),
        **_provider(session, clinic),
        **_setting(clinic),
        **_treatment(session, start, row),
        **_vitals(session, start),
        **_outcomes(session, start),
    }


def first_device_at(session: Session) -> datetime | None:
    first = session.administrations.order_by("started_at", "id").first()
    return first.started_at if first else session.dosing_started_at


def _patient(session: Session, start: datetime | None, row: RemsForm | None) -> dict[str, Value]:
    p = session.patient
    earlier = Session.objects.filter(
        patient=p, route="esketamine", dosing_started_at__lt=start or timezone.now()
    ).exclude(pk=session.pk)
    enrolled = row.patient_enrolled if row else None
    return {
        "first_name": (p.given_name, "chart: given name"),
        "middle_initial": ("", "the chart has no middle name"),
        "last_name": (p.family_name, "chart: family name"),
        "birthdate": (p.date_of_birth.isoformat(), "chart: date of birth"),
        "sex": (p.get_sex_display().capitalize(), "chart: sex assigned at birth"),
        "first_treatment": (
            _yn(not earlier.exists()),
            f"{earlier.count()} earlier dosed esketamine session(s) in the record",
        ),
        "patient_enrolled": ("" if enrolled is None else _yn(enrolled), "answered on this form"),
    }


def _medications(session: Session) -> dict[str, Value]:
    names = sorted({m.name.strip().casefold() for m in session.patient.medications.all()})
    classes = eligibility.drug_classes()
    values = {}
    for key, drug_class in MEDICATION_CLASSES.items():
        found = [n for n in names if n in classes[drug_class]]
        values[key] = (
            _yn(bool(found)),
            f"chart medications: {', '.join(found)}"
            if found
            else f"none of the {len(names)} chart medication(s) is a "
            f"{eligibility.drug_class_labels()[drug_class]}",
        )
    return values


def monitoring_clinician(session: Session) -> User | None:
    """Who monitored: the clinician who ended the session (discharged or aborted it), whose
    assessment closed the monitoring; without one, who entered the most vital signs."""
    end = session.transitions.filter(to_state__in=ENDED, by__isnull=False).last()
    if end is not None:
        ended_by: User = end.by
        return ended_by
    entered = Counter(
        session.vitals.filter(entered_by__isnull=False).values_list("entered_by", flat=True)
    )
    top = entered.most_common(1)
    return User.objects.get(pk=top[0][0]) if top else None


def _provider(session: Session, clinic: Clinic) -> dict[str, Value]:
    who = monitoring_clinician(session)
    how = "the clinician who ended the session" if session.ended_at else "most vital signs entered"
    return {
        "hcp_name": (who.display_name if who else "", how),
        "hcp_phone": (clinic.phone, f"the healthcare setting's phone ({clinic.source('phone')})"),
        "hcp_email": (who.email if who else "", f"staff account {who.username}" if who else how),
    }


def _setting(clinic: Clinic) -> dict[str, Value]:
    return {
        f"setting_{k}": (getattr(clinic, k), clinic.source(k))
        for k in ("name", "address", "city", "state", "zip")
    }


def _dose_text(total: Decimal) -> str:
    if total in (56, 84):  # the form's two tick boxes
        return f"{total:.0f} mg"
    return f"Other: {total.normalize():f} mg" if total else ""


def _treatment(session: Session, start: datetime | None, row: RemsForm | None) -> dict[str, Value]:
    doses = list(session.administrations.all())
    total = sum((d.dose_mg for d in doses), start=Decimal(0))
    end = session.ended_at
    minutes = round((end - start).total_seconds() / 60) if start and end else None
    ready = row.ready_to_leave_minutes if row else None
    return {
        "treatment_date": (
            timezone.localdate(start).isoformat() if start else "",
            "start of the first device",
        ),
        "dose": (_dose_text(total), f"{len(doses)} device(s) recorded"),
        "lot_numbers": (", ".join(dict.fromkeys(d.lot_number for d in doses)), "device records"),
        "total_minutes": (
            "" if minutes is None else str(minutes),
            "from the start of the first device to the end of the session",
        ),
        "ready_to_leave_minutes": ("" if ready is None else str(ready), "answered on this form"),
    }


# Vital signs ---------------------------------------------------------------------------------


def _minutes(key: str) -> timedelta:
    return timedelta(minutes=int(monitoring.data()["timing"][key]["value"]))


def bp_after_dose(session: Session, start: datetime | None) -> VitalSign | None:
    """The reading nearest :data:`BP_AFTER_MINUTES` after the first device within the timing
    window of ``monitoring.toml`` [timing] (early, late); the earlier one on a tie."""
    if start is None:
        return None
    target = start + timedelta(minutes=BP_AFTER_MINUTES)
    rows = session.vitals.filter(
        taken_at__gte=target - _minutes("early"), taken_at__lte=target + _minutes("late")
    )
    return min(rows, key=lambda v: (abs(v.taken_at - target), v.taken_at), default=None)


def completion_vitals(session: Session) -> VitalSign | None:
    """The last reading in the before-discharge window (``monitoring.toml`` [timing]) before
    the session ended: the form's "prior to session completion"."""
    end = session.ended_at
    return selectors.before_discharge_vitals(session, end) if end else None


def _alarms(v: VitalSign) -> list[monitoring.Alarm]:
    return monitoring.alarms_for(selectors.as_vitals(v), selectors.alarm_rules())


def _reading(v: VitalSign | None, start: datetime | None) -> Value:
    if v is None:
        return "", "no reading"
    at = f"taken {timezone.localtime(v.taken_at):%H:%M}"
    if start is not None:
        minutes = round((v.taken_at - start).total_seconds() / 60)
        at += f" ({minutes:+d} min from the first device)"
    return f"{v.bp} mmHg", at


def _predose_acceptable(session: Session, v: VitalSign | None) -> Value:
    """No alarm, and the BP not above the confirm threshold or dosing confirmed above it."""
    if v is None:
        return "", "no reading before the first device"
    alarms = _alarms(v)
    if alarms:
        return NO, "alarm: " + "; ".join(a.message for a in alarms)
    gate = monitoring.predose_bp(v.systolic, v.diastolic)
    limits = monitoring.data()["predose_bp"]
    confirm = f"{limits['confirm_above']['systolic']}/{limits['confirm_above']['diastolic']}"
    if gate == monitoring.BpGate.PROCEED:
        return YES, f"no alarm; BP {v.bp} not above {confirm}"
    above = f"BP {v.bp} above {confirm}"
    if gate == monitoring.BpGate.CONFIRM and session.bp_confirmed_by_id:
        who = session.bp_confirmed_by
        return YES, f"no alarm; {above}, dosing confirmed by {who}: {session.bp_confirm_note}"
    if gate == monitoring.BpGate.CONFIRM:
        return NO, f"{above}, not confirmed by a prescriber"
    block = f"{limits['block_above']['systolic']}/{limits['block_above']['diastolic']}"
    return NO, f"BP {v.bp} above the no-dose limit {block}"


def _completion_acceptable(v: VitalSign | None, start: datetime | None) -> Value:
    """The last reading before the session ended raises no alarm."""
    if v is None:
        return "", "no reading in the before-discharge window (monitoring.toml [timing])"
    alarms = _alarms(v)
    return _yn(not alarms), "; ".join(a.message for a in alarms) or _reading(v, start)[
        1
    ] + ", no alarm"


def _vitals(session: Session, start: datetime | None) -> dict[str, Value]:
    before = selectors.predose_vitals(session) if start else None
    at40, last = bp_after_dose(session, start), completion_vitals(session)
    early, late = _minutes("early").seconds // 60, _minutes("late").seconds // 60
    bp40, when40 = _reading(at40, start)
    window = f"{BP_AFTER_MINUTES - early}-{BP_AFTER_MINUTES + late} min after the first device"
    return {
        "vitals_ok_before": _predose_acceptable(session, before),
        "vitals_ok_end": _completion_acceptable(last, start),
        "bp_before": _reading(before, start),
        "bp_40": (bp40, f"{when40}; window {window} (monitoring.toml [timing])"),
        "bp_end": _reading(last, start),
    }


# Adverse outcomes ----------------------------------------------------------------------------


def _rated(
    session: Session, start: datetime | None, instrument_id: str, flag: str
) -> tuple[list[bool], str]:
    """Whether each complete rating from the first device on carries the instrument's ``flag``
    (moaas.toml: sedation; cadss.toml: dissociation), oldest first, and a summary naming the
    flag's rule as the instrument file states it. A rating marked entered in error counts as
    none; no rating at all is "not recorded" (the form cannot answer No from nothing)."""
    instrument = instruments.get(instrument_id)
    if start is None:
        return [], "not dosed"
    rule = next(f for f in instrument.flags if f.flag == flag)
    rows = session.responses.filter(
        instrument=instrument_id, completed_at__gte=start, entered_in_error_at__isnull=True
    )
    scores = [r.score() for r in rows.order_by("completed_at", "id")]
    flags = [flag in s.flags for s in scores if s.total is not None]
    if not flags:
        return [], f"not recorded: no complete {instrument.abbreviation} rating after dosing"
    rated = f"{instrument.abbreviation} {rule.on} {rule.op} {rule.value}"
    return flags, f"{sum(flags)} of {len(flags)} rating(s) with {rated}"


def _outcome(
    key: str,
    events: list[AdverseEvent],
    signs: str,
    seen: bool,
    persists: bool,
    observed: bool = True,
) -> dict[str, Value]:
    """Yes when an adverse event is coded so or a sign was ``seen``; resolved when every such
    event resolved and the sign did not persist to the end of the session. No only when the
    sign was ``observed`` (rated or measured); else not recorded ("")."""
    occurred = bool(events) or seen
    why = "; ".join([*(f"adverse event {e.label} ({e.outcome})" for e in events), signs])
    resolved = all(e.outcome in RESOLVED for e in events) and not persists
    answer = _yn(occurred) if occurred or observed else ""
    return {
        key: (answer, why),
        f"{key}_resolved": (
            _yn(resolved) if occurred else "",
            "adverse-event outcomes and the last rating or reading",
        ),
    }


def _outcomes(session: Session, start: datetime | None) -> dict[str, Value]:
    events = list(session.adverse_events.all())
    coded = {code: [e for e in events if e.code == code] for code in AdverseEventCode}
    sedation, sedation_why = _rated(session, start, "moaas", "sedation")
    dissociation, dissociation_why = _rated(session, start, "cadss", "dissociation")
    breathing = session.alarms.filter(kind__in=RESPIRATORY_ALARMS).count()
    last = completion_vitals(session)
    still = last is not None and any(a.kind in RESPIRATORY_ALARMS for a in _alarms(last))
    serious = [e for e in events if e.serious]
    return {
        **_outcome(
            "sedation",
            coded[AdverseEventCode.SEDATION],
            sedation_why,
            any(sedation),
            bool(sedation) and sedation[-1],
            observed=bool(sedation),
        ),
        **_outcome(
            "dissociation",
            coded[AdverseEventCode.DISSOCIATION],
            dissociation_why,
            any(dissociation),
            bool(dissociation) and dissociation[-1],
            observed=bool(dissociation),
        ),
        **_outcome(
            "respiratory_depression",
            coded[AdverseEventCode.RESPIRATORY_DEPRESSION],
            f"{breathing} hypoxaemia or bradypnoea alarm(s)"
            + ("; still at the end" if still else ""),
            breathing > 0,
            still,
            observed=session.vitals.filter(pre_dose=False).exists(),
        ),
        "sae": (_yn(bool(serious)), f"{len(serious)} adverse event(s) marked serious"),
        "sae_description": ("; ".join(map(_describe, serious)), "the serious adverse events"),
        "sae_resolved": (
            _yn(all(e.outcome in RESOLVED for e in serious)) if serious else "",
            "the serious adverse events' outcomes",
        ),
    }


def _describe(e: AdverseEvent) -> str:
    notes = f": {e.notes}" if e.notes else ""
    return f"{e.label} ({e.severity}; {e.get_action_display()}; {e.get_outcome_display()}){notes}"
