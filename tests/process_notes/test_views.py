"""The process-notes pages: the author's notes and the administrator's grants."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import Action, AuditEvent
from ketacare.patients.models import Patient
from ketacare.process_notes.models import ProcessNote, ProcessNoteGrant
from tests.conftest import login
from tests.process_notes.builders import REASON, a_grant, a_note

pytestmark = pytest.mark.django_db

SECRET = "He dreamt of the orchard again, ORCHARD-WORDS-5120."


def notes_url(patient: Patient) -> str:
    return reverse("process_notes:patient_notes", args=[patient.pk])


def test_the_author_adds_reads_and_edits_a_note(therapist: User, patient: Patient) -> None:
    client = login(Client(), therapist)
    response = client.post(notes_url(patient), {"text": SECRET})
    assert response.status_code == 302
    page = client.get(notes_url(patient))
    assert SECRET in page.content.decode()
    note = ProcessNote.objects.get()
    client.post(
        reverse("process_notes:edit", args=[note.pk]),
        {"text": "Changed words.", "version": note.version},
    )
    assert "Changed words." in client.get(notes_url(patient)).content.decode()
    events = AuditEvent.objects.filter(patient_id=patient.pk, entity_type="processnote")
    assert events.filter(action=Action.VIEW, actor_id=therapist.pk).count() == 2


def test_an_empty_note_is_refused_beside_the_field(therapist: User, patient: Patient) -> None:
    response = login(Client(), therapist).post(notes_url(patient), {"text": "  "})
    assert response.status_code == 400
    assert not ProcessNote.objects.exists()


def test_another_therapist_sees_nothing_and_cannot_edit(
    therapist: User, colleague: User, patient: Patient
) -> None:
    note = a_note(patient, therapist, SECRET)
    client = login(Client(), colleague)
    assert SECRET not in client.get(notes_url(patient)).content.decode()
    edit = client.post(reverse("process_notes:edit", args=[note.pk]), {"text": "mine now"})
    assert edit.status_code == 404
    note.refresh_from_db()
    assert note.text == SECRET


def test_a_change_from_an_older_tab_shows_both_texts_to_the_author_and_saves_nothing(
    therapist: User, patient: Patient
) -> None:
    note = a_note(patient, therapist, SECRET)
    client, url = login(Client(), therapist), reverse("process_notes:edit", args=[note.pk])
    assert 'name="version" value="1"' in client.get(notes_url(patient)).content.decode()
    client.post(url, {"text": "Written in the first tab.", "version": 1})
    stale = client.post(url, {"text": "Written in the second tab.", "version": 1})
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "Written in the second tab." in page  # what was entered
    assert "Written in the first tab." in page  # what is saved now
    assert f'href="{notes_url(patient)}#note-{note.pk}"' in page
    note.refresh_from_db()
    assert (note.text, note.version) == ("Written in the first tab.", 2)
    seen = AuditEvent.objects.filter(action=Action.VIEW, entity_type="processnote").latest("id")
    assert seen.new_values["notes"] == [note.pk]
    assert "Written" not in str(seen.new_values)  # the trail never holds the words


def test_a_stale_change_to_someone_elses_note_is_refused_without_showing_it(
    therapist: User, colleague: User, patient: Patient
) -> None:
    note = a_note(patient, therapist, SECRET)
    login(Client(), therapist).post(
        reverse("process_notes:edit", args=[note.pk]), {"text": "Changed.", "version": 1}
    )
    edit = login(Client(), colleague).post(
        reverse("process_notes:edit", args=[note.pk]), {"text": "mine now", "version": 1}
    )
    assert edit.status_code == 404
    assert "Changed." not in edit.content.decode()


def test_a_granted_therapist_sees_the_notes_read_only_until_revoked(
    admin: User, therapist: User, colleague: User, patient: Patient
) -> None:
    a_note(patient, therapist, SECRET)
    grant = a_grant(patient, therapist, colleague)
    client = login(Client(), colleague)
    page = client.get(notes_url(patient)).content.decode()
    assert SECRET in page
    assert "Shown under a grant" in page
    login(Client(), admin).post(reverse("process_notes:revoke", args=[grant.pk]))
    assert SECRET not in client.get(notes_url(patient)).content.decode()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PRESCRIBER, Role.NURSE, Role.FRONT_DESK])
def test_other_roles_are_refused_the_notes_page(
    role: Role, staff: dict[Role, User], patient: Patient
) -> None:
    a_note(patient, staff[Role.THERAPIST], SECRET)
    response = login(Client(), staff[role]).get(notes_url(patient))
    assert response.status_code == 403
    assert SECRET not in response.content.decode()


def test_the_admin_grants_access_and_sees_counts_and_dates_never_content(
    admin: User, therapist: User, colleague: User, patient: Patient
) -> None:
    a_note(patient, therapist, SECRET)
    a_note(patient, therapist, SECRET + " again")
    client = login(Client(), admin)
    response = client.post(
        reverse("process_notes:grants"),
        {
            "patient": patient.mrn,
            "author": therapist.pk,
            "grantee": colleague.pk,
            "reason": REASON,
        },
    )
    assert response.status_code == 302
    grant = ProcessNoteGrant.objects.get()
    assert (grant.granted_by, grant.grantee, grant.reason) == (admin, colleague, REASON)
    page = client.get(reverse("process_notes:grants")).content.decode()
    assert "ORCHARD-WORDS" not in page
    assert "<td>2</td>" in page
    assert "caseload during her leave" in page
    assert AuditEvent.objects.filter(
        action=Action.CREATE, entity_type="processnotegrant", patient_id=patient.pk
    ).exists()


def test_a_grant_without_a_long_enough_reason_is_refused(
    admin: User, therapist: User, colleague: User, patient: Patient
) -> None:
    response = login(Client(), admin).post(
        reverse("process_notes:grants"),
        {"patient": patient.mrn, "author": therapist.pk, "grantee": colleague.pk, "reason": "x"},
    )
    assert response.status_code == 400
    assert not ProcessNoteGrant.objects.exists()


def test_the_chart_links_to_process_notes_for_therapists_only(
    staff: dict[Role, User], patient: Patient
) -> None:
    for role, user in staff.items():
        page = login(Client(), user).get(reverse("patients:chart", args=[patient.pk]))
        assert ("Private process notes" in page.content.decode()) == (role == Role.THERAPIST)
