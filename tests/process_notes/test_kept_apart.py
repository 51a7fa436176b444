"""A process note's words reach no page but its own: not the chart (any section, any role),
not a report or letter (page or PDF), not the research export (every mode and format), not the
API, not the audit trail, and not the author's pages about other patients.

One unique phrase is planted through the services (written, edited, read by the author and by
a granted colleague, so every audit event they make exists) and searched for everywhere."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEvent, Channel
from ketacare.clinical.deidentify import Mode
from ketacare.outcomes import services as outcomes
from ketacare.outcomes.export_formats import Format
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.process_notes import services
from tests.conftest import build_patient, login
from tests.outcomes.builders import course
from tests.outcomes.test_export import current_agreement, haystack
from tests.process_notes.builders import REASON

pytestmark = pytest.mark.django_db

PLANTED = "QUOKKA-PLANTED-83311"
FIRST = f"Spoke of her father's boat; {PLANTED} first draft."
EDITED = f"Spoke of her father's boat and the storm; {PLANTED} edited."


@pytest.fixture
def noted(staff: dict[Role, User], colleague: User, patient: Patient) -> Patient:
    """Rosa, treated and referred, with a note by Theo that Gina was granted and has read."""
    course(patient, doses=[0, 7], results=[(-3, 18), (10, 6)])
    patients.update_patient(Actor.system("t"), patient, {"referrer_name": "Dr. Ana Whitfield"})
    theo = Actor(staff[Role.THERAPIST], Channel.WEB)
    note = services.write_note(theo, patient, FIRST)
    services.edit_note(theo, note.pk, EDITED)
    services.read_notes(theo, patient)
    data = {
        "author": staff[Role.THERAPIST],
        "grantee": colleague,
        "patient": patient,
        "reason": REASON,
    }
    services.grant_access(Actor(staff[Role.ADMIN], Channel.WEB), data)
    assert [n.text for n in services.read_notes(Actor(colleague, Channel.WEB), patient)] == [EDITED]
    return patient


def body(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode("utf-8", errors="replace")


def test_the_planted_note_is_on_its_own_page(noted: Patient, therapist: User) -> None:
    page = body(
        login(Client(), therapist).get(reverse("process_notes:patient_notes", args=[noted.pk]))
    )
    assert PLANTED in page


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.THERAPIST, Role.NURSE])
def test_no_section_of_the_chart_shows_it(
    role: Role, staff: dict[Role, User], noted: Patient
) -> None:
    client = login(Client(), staff[role])
    chart = body(client.get(reverse("patients:chart", args=[noted.pk])))
    sections = re.findall(r'hx-get="([^"]+)"', chart)
    assert sections, "the chart loads its sections"
    pages = [chart, *(body(client.get(url)) for url in sections)]
    assert all(PLANTED not in page for page in pages)


def test_no_report_or_letter_shows_it_on_the_page_or_in_the_pdf(
    prescriber: User, noted: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []

    def capture(html: str, base_url: str) -> bytes:
        rendered.append(html)
        return b"%PDF-1.7 captured"

    monkeypatch.setattr("ketacare.outcomes.views.render_pdf", capture)
    client = login(Client(), prescriber)
    for name in ("report", "report_pdf", "letter", "letter_pdf"):
        assert PLANTED not in body(client.get(reverse(f"outcomes:{name}", args=[noted.pk])))
    assert len(rendered) == 2
    assert all(PLANTED not in html and "Delgado" in html for html in rendered)


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("mode", list(Mode))
def test_no_research_export_holds_it(mode: Mode, fmt: Format, admin: User, noted: Patient) -> None:
    dua = current_agreement(admin).reference if mode == Mode.LIMITED else None
    content = outcomes.export(Actor(admin, Channel.WEB), mode, fmt, dua, study="ketamine-gad")
    assert PLANTED not in haystack(content)
    assert "boat" not in haystack(content)


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.THERAPIST])
def test_the_api_never_returns_it(role: Role, staff: dict[Role, User], noted: Patient) -> None:
    _, secret = accounts.issue_token(Actor.system("t"), staff[role], "kept apart")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    answer = body(client.get(f"/api/v1/patients/{noted.pk}"))
    assert "Delgado" in answer
    assert PLANTED not in answer
    assert PLANTED not in body(client.get("/api/v1/patients?q=ROSA-001"))


def test_the_audit_trail_records_the_notes_but_never_their_words(
    admin: User, noted: Patient
) -> None:
    client = login(Client(), admin)
    for query in ("", "?patient=ROSA-001"):
        page = body(client.get(reverse("audit_trail") + query))
        assert PLANTED not in page
        assert "boat" not in page
    events = AuditEvent.objects.all()
    assert events.filter(entity_type="processnote").count() >= 4
    values = json.dumps([[e.old_values, e.new_values, e.entity_id] for e in events])
    assert PLANTED not in values
    assert "boat" not in values


def test_the_grants_page_shows_counts_and_dates_not_the_note(admin: User, noted: Patient) -> None:
    page = body(login(Client(), admin).get(reverse("process_notes:grants")))
    assert "ROSA-001" in page
    assert PLANTED not in page


def test_the_authors_pages_about_another_patient_do_not_show_it(
    therapist: User, prescriber: User, noted: Patient
) -> None:
    other = build_patient(mrn="OTHER-9", given_name="Ines", family_name="Okafor")
    for user in (therapist, prescriber):
        client = login(Client(), user)
        chart = body(client.get(reverse("patients:chart", args=[other.pk])))
        assert PLANTED not in chart
    own = body(
        login(Client(), therapist).get(reverse("process_notes:patient_notes", args=[other.pk]))
    )
    assert "Okafor" in own
    assert PLANTED not in own
