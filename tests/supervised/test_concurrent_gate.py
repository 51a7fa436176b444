"""No lost updates on the pre-dose gate: two nurses ticking the gate of one session at once
never silently undo each other's answers. The gate form carries the version of the answers it
was opened on; a stale save shows both versions and saves nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEvent
from ketacare.lib.versions import StaleVersion
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session
from ketacare.supervised.services import gate
from tests.conftest import login, make_user
from tests.supervised.builders import act, checked_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_nurse(db: None) -> User:
    noor = make_user(Role.NURSE, "noor.nurse")
    noor.first_name = "Noor"
    noor.save(update_fields=["first_name"])
    return noor


def gate_form(client: Client, session: Session) -> dict[str, Any]:
    """What the browser posts back from the gate form as the session page opened it: the
    ticked boxes as "on", the unticked ones left out."""
    page = client.get(reverse("sessions:detail", args=[session.pk]))
    form = page.context["forms"]["gate"]
    data = {k: v for k, v in form.initial.items() if v not in (None, False)}
    return {k: "on" if v is True else v for k, v in data.items()}


def test_the_second_of_two_nurses_gets_a_conflict_page_and_the_first_answers_stay(
    patient: Patient, prescriber: User, nurse: User, second_nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    nina, noor = login(Client(), nurse), login(Client(), second_nurse)
    first, second = gate_form(nina, session), gate_form(noor, session)
    url = reverse("sessions:gate", args=[session.pk])

    assert nina.post(url, {**first, "fasting_confirmed": "on"}).status_code == 302
    stale = noor.post(url, {**second, "medications_reviewed": "on"})

    assert stale.status_code == 409
    session = Session.objects.get(pk=session.pk)
    assert session.fasting_confirmed  # the first nurse's tick is not undone
    assert not session.medications_reviewed  # and nothing of the stale save was kept
    assert session.gate_version == 2
    page = stale.content.decode()
    assert "Nothing you entered was saved" in page
    assert nurse.display_name in page  # who saved the answers that are current now
    assert f'href="/sessions/{session.pk}/#gate"' in page  # start again from the saved answers
    rows = {r.label: r for r in stale.context["rows"]}
    assert (rows["Fasting confirmed"].entered, rows["Fasting confirmed"].saved) == ("no", "yes")
    reviewed = rows["Medication changes since the last session reviewed"]
    assert (reviewed.entered, reviewed.saved) == ("yes", "no")
    assert {label for label, r in rows.items() if r.differs} == {
        "Fasting confirmed",
        "Medication changes since the last session reviewed",
    }
    updates = AuditEvent.objects.filter(action="update", entity_type="session")
    assert updates.filter(actor=second_nurse).count() == 0
    seen = AuditEvent.objects.filter(action="view", actor=second_nurse).latest("id")
    assert seen.entity_id == str(session.pk)


def test_the_conflict_shows_coded_answers_as_words(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    client = login(Client(), nurse)
    stale = gate_form(client, session)
    gate.update_gate(
        act(nurse), session, {"pregnancy_test": "not_applicable", "pregnancy_note": "x"}
    )
    response = client.post(
        reverse("sessions:gate", args=[session.pk]), {**stale, "pregnancy_test": "negative"}
    )
    assert response.status_code == 409
    rows = {r.label: r for r in response.context["rows"]}
    assert (rows["Pregnancy test"].entered, rows["Pregnancy test"].saved) == (
        "negative",
        "not applicable",
    )


def test_starting_again_from_the_saved_answers_saves(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    client = login(Client(), nurse)
    url = reverse("sessions:gate", args=[session.pk])
    stale = gate_form(client, session)
    gate.update_gate(act(nurse), session, {"fasting_confirmed": True})
    assert client.post(url, {**stale, "medications_reviewed": "on"}).status_code == 409
    fresh = gate_form(client, session)
    assert client.post(url, {**fresh, "medications_reviewed": "on"}).status_code == 302
    session = Session.objects.get(pk=session.pk)
    assert (session.fasting_confirmed, session.medications_reviewed) == (True, True)


def test_a_gate_form_without_its_version_is_refused_as_out_of_date(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    client = login(Client(), nurse)
    data = gate_form(client, session)
    del data["version"]
    response = client.post(
        reverse("sessions:gate", args=[session.pk]), {**data, "fasting_confirmed": "on"}
    )
    assert response.status_code == 400
    assert "This form is out of date" in response.content.decode()
    assert not Session.objects.get(pk=session.pk).fasting_confirmed


def test_two_gate_saves_based_on_the_same_version_cannot_both_pass(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    actor = act(nurse)
    gate.update_gate(actor, session, {"fasting_confirmed": True}, expected_version=1)
    with pytest.raises(StaleVersion) as refused:
        gate.update_gate(actor, session, {"fasting_confirmed": False}, expected_version=1)
    assert refused.value.version == 2
    assert Session.objects.get(pk=session.pk).fasting_confirmed


def test_a_gate_save_that_changes_nothing_keeps_the_version(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    gate.update_gate(act(nurse), session, {"fasting_confirmed": False}, expected_version=1)
    assert Session.objects.get(pk=session.pk).gate_version == 1
