"""The audit trail viewer (site.services.open_audit_trail): reading the trail is itself a read of
patient data, so it leaves an event naming the patients it showed."""

from __future__ import annotations

import pytest
from django.test import Client

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.patients.models import Patient
from tests.conftest import build_patient, login

pytestmark = pytest.mark.django_db


def test_reading_the_trail_names_the_patient_filtered_on_and_every_patient_shown(
    admin: User, nurse: User, patient: Patient
) -> None:
    other = build_patient(mrn="TRAIL-2")
    login(Client(), nurse).get(f"/patients/{patient.pk}/")
    client = login(Client(), admin)
    everything = client.get("/audit/")
    assert everything.status_code == 200
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert (event.action, event.entity_type, event.actor, event.patient) == (
        "view",
        "audit_trail",
        admin,
        None,
    )
    assert event.new_values["patients"] == sorted([patient.mrn, other.mrn])
    shown = event.new_values["events"]
    assert f"{shown} events" in everything.content.decode()  # its own event is not among them

    client.get(f"/audit/?patient={patient.mrn}&action=view")
    filtered = AuditEvent.objects.order_by("-seq").first()
    assert filtered is not None
    assert filtered.patient == patient
    assert filtered.new_values["filter"] == {"patient_id": patient.pk, "action": "view"}
    assert filtered.new_values["patients"] == [patient.mrn]


def test_a_date_past_the_calendar_is_an_error_on_the_field_not_a_crash(admin: User) -> None:
    client = login(Client(), admin)
    page = client.get("/audit/?until=9999-12-31")
    assert page.status_code == 200
    assert "less than or equal to 9999-12-30" in page.content.decode()
    assert client.get("/audit/?since=0001-01-01&until=9999-12-30").status_code == 200


def test_the_administrator_sees_which_clinical_fields_changed_not_their_values(
    admin: User, patient: Patient
) -> None:
    from datetime import date

    from ketacare.accounts.actor import Actor
    from ketacare.patients import services as patients

    patients.add_entry(
        Actor.system("t"), patient, "diagnoses",
        {"code": "F43.10", "is_primary": False, "diagnosed_on": date(2026, 1, 5)},
    )  # fmt: skip
    page = login(Client(), admin).get(f"/audit/?patient={patient.mrn}").content.decode()
    assert "<code>code</code>: (clinical value, not shown to your role)" in page
    assert "F43.10" not in page
    assert patient.family_name in page  # registration data stays readable to the administrator


def test_values_are_hidden_by_kind_of_record() -> None:
    from ketacare.site.views import HIDDEN, shown_values

    old, new = {"systolic": 120}, {"systolic": 190}
    assert shown_values("vitalsign", old, new, clinical=False) == (
        {"systolic": HIDDEN},
        {"systolic": HIDDEN},
    )
    assert shown_values("vitalsign", old, new, clinical=True) == (old, new)
    assert shown_values("user", {"role": "nurse"}, {"role": "admin"}, clinical=False) == (
        {"role": "nurse"},
        {"role": "admin"},
    )
