"""A dose draws from a named container in the same transaction as the dosing record: refused
with the field named for an expired registration or container, the wrong drug or route, the
concentrated vial for IV without a dilution, more than the container holds; the waste of the
draw witnessed by the verifier. The dose given is the dose recorded: an infusion ended early
records the amount given everywhere; a partial esketamine dose is recorded as such."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.controlled import selectors as ledger
from ketacare.controlled.models import Kind, LedgerEntry, Registration
from ketacare.patients.models import Patient
from ketacare.supervised import reconcile, rems_form
from ketacare.supervised import selectors as sessions
from ketacare.supervised.models import Session
from ketacare.supervised.services import administration
from tests.controlled.builders import container
from tests.supervised.builders import act, cleared, shift

pytestmark = pytest.mark.django_db
ESKETAMINE = "esketamine-nasal"


def refused(field: str, call: object) -> str:
    with pytest.raises(ValidationError) as caught:
        call()  # type: ignore[operator]
    errors = caught.value.message_dict
    assert field in errors, errors
    return errors[field][0]


def fresh(session: Session) -> Session:
    return Session.objects.get(pk=session.pk)


def values(session: Session) -> dict[str, str]:
    form = rems_form.form_of(fresh(session))
    return {f.key: f.value for s in form.sections for f in s.fields}


def give(session: Session, nurse: User, prescriber: User, **kw: object) -> Session:
    entry = administration.DoseEntry(
        started_at=kw.pop("started_at", timezone.now()),  # type: ignore[arg-type]
        verified_by=prescriber,
        **kw,  # type: ignore[arg-type]
    )
    return administration.record_administration(act(nurse), session, entry)


def test_a_dose_and_the_waste_of_its_draw_go_on_the_ledger_together(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    vial = container(prescriber, "k10")
    mg = session.dose_mg
    give(session, nurse, prescriber, container=vial, drawn=mg / 10 + Decimal("0.5"))
    row = fresh(session).administrations.get()
    entries = list(LedgerEntry.objects.filter(planned_session=session.planned).order_by("id"))
    assert [(e.kind, e.mg) for e in entries] == [(Kind.ADMINISTER, -mg), (Kind.WASTE, Decimal(-5))]
    assert entries[1].witness == prescriber  # the verifier witnesses the waste
    assert (row.lot_number, row.container, row.drawn, row.wasted) == (
        "LOT-K42",
        vial,
        mg / 10 + Decimal("0.5"),
        Decimal("0.5"),
    )
    assert ledger.balance(vial) == Decimal(20) - mg / 10 - Decimal("0.5")
    assert reconcile.problems() == []


def test_a_dose_is_refused_naming_the_container_when_it_cannot_be_drawn(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    expired = container(prescriber, "k10", expires_on=timezone.localdate() - timedelta(days=1))
    assert "expired" in refused(
        "container", lambda: give(session, nurse, prescriber, container=expired)
    )
    spravato = container(prescriber, "spravato")
    assert "not racemic ketamine for the IV route" in refused(
        "container", lambda: give(session, nurse, prescriber, container=spravato)
    )
    strong = container(prescriber, "k100")
    assert "must be diluted" in refused(
        "diluted_to_ml", lambda: give(session, nurse, prescriber, container=strong)
    )
    small = container(prescriber, "k10")
    assert "more than the container holds" in refused(
        "drawn", lambda: give(session, nurse, prescriber, container=small, drawn=Decimal(25))
    )
    assert not LedgerEntry.objects.filter(planned_session=session.planned).exists()
    assert fresh(session).administrations.count() == 0
    give(session, nurse, prescriber, container=strong, diluted_to_ml=Decimal(100))
    assert fresh(session).administrations.get().diluted_to_ml == Decimal(100)


def test_an_expired_registration_refuses_dosing(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    vial = container(prescriber)
    Registration.objects.update(expires_on=timezone.localdate() - timedelta(days=1))
    vial.registration.refresh_from_db()
    message = refused("container", lambda: give(session, nurse, prescriber, container=vial))
    assert "expired" in message
    assert "dosing is refused" in message


def test_an_infusion_far_shorter_than_planned_cannot_end_silently(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    give(session, nurse, prescriber, container=container(prescriber))
    session = shift(session, 10)
    message = refused(
        "given_amount", lambda: administration.end_dosing(act(nurse), session, timezone.now())
    )
    assert "ran 10 of its planned 40 minutes" in message
    assert fresh(session).state == "dosing"


def test_an_infusion_ended_early_records_the_amount_given_everywhere(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    vial = container(prescriber)
    give(session, nurse, prescriber, container=vial, diluted_to_ml=Decimal(100))
    planned = fresh(session).administrations.get().dose_mg
    session = shift(session, 15)
    short = administration.Shortfall(
        amount=Decimal(40), unit="mL", reason="Patient distressed; stopped", witness=None
    )
    assert "witness" in refused(
        "witness", lambda: administration.end_dosing(act(nurse), session, timezone.now(), short)
    )
    short = administration.Shortfall(Decimal(40), "mL", "Patient distressed; stopped", prescriber)
    administration.end_dosing(act(nurse), session, timezone.now(), short)
    session = fresh(session)
    given = (planned * Decimal("0.4")).quantize(Decimal("0.1"))  # 40 of the 100 mL bag
    row = session.administrations.get()
    assert row.dose_mg == given  # the dosing record
    assert session.given_mg == given
    assert f"Ended early: {given.normalize():f} of" in session.dosing_end_note
    assert sessions.summary(session).dose_mg == f"{given}"  # the summary
    chart = sessions.predicted_chart(session)  # PK: the amount given over the 15 minutes
    assert chart is not None
    assert f"after {float(given):g} mg IV over 15 min" in chart.alt
    returned = LedgerEntry.objects.filter(planned_session=session.planned)
    assert sorted((e.kind, e.mg) for e in returned) == sorted(
        [
            (Kind.ADMINISTER, -planned),
            (Kind.CORRECTION, planned - given),
            (Kind.WASTE, given - planned),
        ]
    )
    assert ledger.balance(vial) == Decimal(20) - planned / 10  # the bag's rest was wasted
    assert row.wasted == (planned - given) / 10  # drawn = given + wasted, on the row too
    assert reconcile.problems() == []


def test_a_partial_esketamine_dose_is_recorded_as_such(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = shift(cleared(patient, prescriber, nurse, ESKETAMINE), 20)
    pack = container(prescriber, "spravato", lot="SP-77")
    start = timezone.now() - timedelta(minutes=15)
    give(
        session,
        nurse,
        prescriber,
        container=pack,
        started_at=start,
        ended_at=start,
        device_number=1,
    )
    assert "say why" in refused(
        "given_reason", lambda: administration.end_dosing(act(nurse), session, timezone.now())
    )
    short = administration.Shortfall(None, "mg", "Nausea after the first device", None)
    administration.end_dosing(act(nurse), session, timezone.now(), short)
    session = fresh(session)
    assert session.given_mg == Decimal(28)
    assert session.dosing_end_note.startswith("Partial dose: 28 of 56 mg (1 of 2 devices).")
    got = values(session)
    assert (got["dose"], got["lot_numbers"]) == ("Other: 28 mg", "SP-77")  # the REMS form
    assert ledger.balance(pack) == Decimal(2)
    assert reconcile.problems() == []


def test_a_device_stopped_after_one_spray_wastes_the_rest_before_the_verifier(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = shift(cleared(patient, prescriber, nurse, ESKETAMINE), 20)
    pack = container(prescriber, "spravato")
    start = timezone.now() - timedelta(minutes=15)
    give(
        session,
        nurse,
        prescriber,
        container=pack,
        started_at=start,
        ended_at=start,
        device_number=1,
        sprays=1,
    )
    row = fresh(session).administrations.get()
    assert (row.dose_mg, row.drawn, row.wasted) == (Decimal(14), Decimal(1), Decimal("0.5"))
    waste = LedgerEntry.objects.get(planned_session=session.planned, kind=Kind.WASTE)
    assert (waste.quantity, waste.mg, waste.witness) == (Decimal("-0.5"), Decimal(-14), prescriber)
    assert "stopped after one spray" in refused(
        "device_number",
        lambda: give(
            session,
            nurse,
            prescriber,
            container=pack,
            started_at=start + timedelta(minutes=5),
            ended_at=start + timedelta(minutes=6),
            device_number=2,
        ),
    )
    short = administration.Shortfall(None, "mg", "Device stopped after one spray", None)
    administration.end_dosing(act(nurse), session, timezone.now(), short)
    assert fresh(session).given_mg == Decimal(14)
    assert reconcile.problems() == []
