"""Who may read, write and grant access to process notes, and what the audit trail keeps."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Action, AuditEvent, Channel
from ketacare.patients.models import Patient
from ketacare.process_notes import services
from ketacare.process_notes.models import ProcessNote
from tests.conftest import build_patient
from tests.process_notes.builders import REASON

pytestmark = pytest.mark.django_db

SECRET = "She spoke of the lake house, SECRET-WORDS-4471."


def as_(user: User) -> Actor:
    return Actor(user, Channel.WEB, "203.0.113.9")


def grant(admin: User, author: User, grantee: User, patient: Patient, reason: str = REASON) -> int:
    data = {"author": author, "grantee": grantee, "patient": patient, "reason": reason}
    return services.grant_access(as_(admin), data).pk


def test_only_the_author_reads_their_notes(
    therapist: User, colleague: User, patient: Patient
) -> None:
    note = services.write_note(as_(therapist), patient, SECRET)
    assert services.read_notes(as_(therapist), patient) == [note]
    assert services.read_notes(as_(colleague), patient) == []


@pytest.mark.parametrize("role", ["admin", "prescriber", "nurse", "clerk"])
def test_no_other_role_reads_or_writes_notes(
    role: str, request: pytest.FixtureRequest, therapist: User, patient: Patient
) -> None:
    services.write_note(as_(therapist), patient, SECRET)
    user = request.getfixturevalue(role)
    with pytest.raises(ValidationError):
        services.read_notes(as_(user), patient)
    with pytest.raises(ValidationError):
        services.write_note(as_(user), patient, "not theirs to keep")


def test_a_granted_therapist_reads_the_authors_notes_on_that_patient_only(
    admin: User, therapist: User, colleague: User, patient: Patient
) -> None:
    other = build_patient(mrn="OTHER-1")
    note = services.write_note(as_(therapist), patient, SECRET)
    services.write_note(as_(therapist), other, "about someone else")
    grant(admin, therapist, colleague, patient)
    assert services.read_notes(as_(colleague), patient) == [note]
    assert services.read_notes(as_(colleague), other) == []


def test_a_revoked_grant_stops_access(
    admin: User, therapist: User, colleague: User, patient: Patient
) -> None:
    services.write_note(as_(therapist), patient, SECRET)
    grant_id = grant(admin, therapist, colleague, patient)
    services.revoke_grant(as_(admin), grant_id)
    assert services.read_notes(as_(colleague), patient) == []
    with pytest.raises(ValidationError):
        services.revoke_grant(as_(admin), grant_id)


def test_a_grantee_who_is_deactivated_reads_nothing(
    admin: User, therapist: User, colleague: User, patient: Patient
) -> None:
    services.write_note(as_(therapist), patient, SECRET)
    grant(admin, therapist, colleague, patient)
    colleague.is_active = False
    colleague.save()
    with pytest.raises(ValidationError):
        services.read_notes(as_(colleague), patient)


def test_only_an_administrator_grants_and_only_to_an_active_therapist_with_a_reason(
    admin: User, therapist: User, colleague: User, prescriber: User, patient: Patient
) -> None:
    for who in (therapist, prescriber):
        with pytest.raises(ValidationError):
            grant(who, therapist, colleague, patient)
    with pytest.raises(ValidationError, match="active therapist"):
        grant(admin, therapist, prescriber, patient)
    with pytest.raises(ValidationError, match="reason"):
        grant(admin, therapist, colleague, patient, reason="too short")
    with pytest.raises(ValidationError):
        grant(admin, therapist, therapist, patient)
    colleague.is_active = False
    colleague.save()
    with pytest.raises(ValidationError, match="active therapist"):
        grant(admin, therapist, colleague, patient)


def test_only_the_author_edits_a_note(
    admin: User, therapist: User, colleague: User, patient: Patient
) -> None:
    note = services.write_note(as_(therapist), patient, SECRET)
    grant(admin, therapist, colleague, patient)
    with pytest.raises(services.NotYours):
        services.edit_note(as_(colleague), note.pk, "overwritten")
    services.edit_note(as_(therapist), note.pk, "Rewritten, REWRITTEN-WORDS-9902.")
    note.refresh_from_db()
    assert note.text == "Rewritten, REWRITTEN-WORDS-9902."
    assert note.edited_at is not None


def test_every_write_and_read_is_audited_without_the_notes_words(
    admin: User, therapist: User, colleague: User, patient: Patient
) -> None:
    note = services.write_note(as_(therapist), patient, SECRET)
    services.edit_note(as_(therapist), note.pk, "Rewritten, REWRITTEN-WORDS-9902.")
    grant_id = grant(admin, therapist, colleague, patient)
    services.read_notes(as_(colleague), patient)
    services.revoke_grant(as_(admin), grant_id)
    events = AuditEvent.objects.filter(patient_id=patient.pk).order_by("seq")
    kinds = [(e.action, e.entity_type) for e in events if "process" in e.entity_type]
    assert kinds == [
        (Action.CREATE, "processnote"),
        (Action.UPDATE, "processnote"),
        (Action.CREATE, "processnotegrant"),
        (Action.VIEW, "processnote"),
        (Action.UPDATE, "processnotegrant"),
    ]
    created, edited = events.filter(entity_type="processnote")[:2]
    assert created.new_values == {"length": len(SECRET), "therapy_session": None}
    assert edited.old_values == {"length": len(SECRET)}
    view = events.get(action=Action.VIEW, entity_type="processnote")
    assert view.actor_id == colleague.pk
    assert view.new_values["notes"] == [note.pk]
    everything = json.dumps([[e.old_values, e.new_values] for e in AuditEvent.objects.all()])
    assert "SECRET-WORDS" not in everything
    assert "REWRITTEN-WORDS" not in everything
    assert ProcessNote.objects.get().text.startswith("Rewritten")


def test_a_note_names_only_a_therapy_session_of_its_own_patient(
    therapist: User, patient: Patient
) -> None:
    from ketacare.therapy.models import TherapySession

    other = build_patient(mrn="OTHER-2")
    elsewhere = TherapySession.objects.create(patient=other, kind="preparation")
    with pytest.raises(ValidationError):
        services.write_note(as_(therapist), patient, SECRET, elsewhere)
