"""Builders for process notes and grants, shared by these tests and the permission and audit
walks (rows made directly: the services' own checks are tested in test_services)."""

from __future__ import annotations

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.patients.models import Patient
from ketacare.process_notes.models import ProcessNote, ProcessNoteGrant
from tests.conftest import make_user

REASON = "Covering the author's caseload during her leave."


def a_therapist(username: str = "theo.therapist") -> User:
    return User.objects.filter(username=username).first() or make_user(Role.THERAPIST, username)


def a_note(
    patient: Patient, author: User | None = None, text: str = "A private note."
) -> ProcessNote:
    return ProcessNote.objects.create(patient=patient, author=author or a_therapist(), text=text)


def a_grant(
    patient: Patient, author: User | None = None, grantee: User | None = None
) -> ProcessNoteGrant:
    return ProcessNoteGrant.objects.create(
        patient=patient,
        author=author or a_therapist(),
        grantee=grantee or a_therapist("gina.grantee"),
        reason=REASON,
        granted_by=User.objects.filter(role=Role.ADMIN).first()
        or make_user(Role.ADMIN, "alice.admin"),
    )


def route_kwargs(name: str, patient: Patient) -> dict[str, int | str]:
    """URL arguments for a process_notes route other than the patient (the walks' hook)."""
    if name == "process_notes:edit":
        return {"note_id": a_note(patient).pk}
    if name == "process_notes:revoke":
        return {"grant_id": a_grant(patient).pk}
    return {}
