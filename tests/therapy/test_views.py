from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import Action, AuditEvent
from ketacare.patients.models import Patient
from ketacare.therapy import services
from ketacare.therapy.models import TherapySession
from tests.supervised.builders import dosed
from tests.therapy.builders import COMPLETE, act, booked

pytestmark = pytest.mark.django_db
PLANTED = "A secret about her father nobody else may read"


def opened_on(client: Client, ts: TherapySession) -> int:
    """The note's version the draft form carries as the page opens it (0: no note yet)."""
    form = client.get(reverse("therapy:note", args=[ts.pk])).context["form"]
    return int(form.initial["version"])


def noted(therapist: User, patient: Patient) -> TherapySession:
    ts = booked(therapist, patient)
    services.save_draft(act(therapist), ts, {**COMPLETE["preparation"], "intention": PLANTED})
    services.sign(act(therapist), ts)
    return ts


@pytest.mark.parametrize("role", [Role.NURSE, Role.FRONT_DESK])
def test_nurse_and_front_desk_see_that_a_session_exists_but_not_its_content(
    role: Role, as_role: object, staff: dict[Role, User], patient: Patient
) -> None:
    ts = noted(staff[Role.THERAPIST], patient)
    client = as_role(role)  # type: ignore[operator]
    page = client.get(reverse("therapy:patient", args=[patient.pk]))
    assert page.status_code == 200
    assert b"Preparation" in page.content
    assert b"Therapist Tester" in page.content
    assert PLANTED.encode() not in page.content
    assert reverse("therapy:note", args=[ts.pk]).encode() not in page.content
    assert client.get(reverse("therapy:note", args=[ts.pk])).status_code == 403


def test_the_prescriber_reads_the_note_and_the_read_is_audited(
    as_role: object, staff: dict[Role, User], patient: Patient
) -> None:
    ts = noted(staff[Role.THERAPIST], patient)
    page = as_role(Role.PRESCRIBER).get(reverse("therapy:note", args=[ts.pk]))  # type: ignore[operator]
    assert PLANTED.encode() in page.content
    assert b"Sign and lock" not in page.content
    view = AuditEvent.objects.filter(action=Action.VIEW, patient=patient).first()
    assert view is not None
    assert view.actor == staff[Role.PRESCRIBER]


def test_a_therapist_drafts_signs_and_adds_an_addendum_through_the_pages(
    as_role: object, staff: dict[Role, User], patient: Patient
) -> None:
    ts = booked(staff[Role.THERAPIST], patient)
    client = as_role(Role.THERAPIST)  # type: ignore[operator]
    url = reverse("therapy:note", args=[ts.pk])
    draft = {**COMPLETE["preparation"], "safety_plan": "", "version": opened_on(client, ts)}
    assert client.post(reverse("therapy:save", args=[ts.pk]), draft).status_code == 302
    page = client.post(reverse("therapy:sign", args=[ts.pk]), follow=True)
    assert b"Safety plan: Safety plan is required to sign" in page.content
    last = {**COMPLETE["preparation"], "version": opened_on(client, ts)}
    client.post(reverse("therapy:save", args=[ts.pk]), last)
    client.post(reverse("therapy:sign", args=[ts.pk]))
    client.post(reverse("therapy:addendum", args=[ts.pk]), {"text": "Also: prefers a blanket."})
    page = client.get(url)
    assert b"Also: prefers a blanket." in page.content
    assert b"Save draft" not in page.content
    # the draft form of a tab opened before signing, on the version that was signed
    again = {**COMPLETE["preparation"], "version": last["version"] + 1}
    refused = client.post(reverse("therapy:save", args=[ts.pk]), again)
    assert refused.status_code == 400
    assert b"signed and locked" in refused.content


def test_booking_from_the_patient_page(
    as_role: object, staff: dict[Role, User], patient: Patient
) -> None:
    client = as_role(Role.THERAPIST)  # type: ignore[operator]
    url = reverse("therapy:schedule", args=[patient.pk])
    when = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(url, {"kind": "dosing_support", "scheduled_at": when})
    assert bad.status_code == 400
    assert b"dosing support belongs" in bad.content
    assert client.post(url, {"kind": "preparation", "scheduled_at": when}).status_code == 302
    assert TherapySession.objects.get(patient=patient).kind == "preparation"


def test_the_worklist_shows_upcoming_and_due_and_overdue_integrations(
    as_role: object, staff: dict[Role, User], patient: Patient
) -> None:
    therapist = staff[Role.THERAPIST]
    booked(therapist, patient)
    session = dosed(patient, staff[Role.PRESCRIBER], staff[Role.NURSE])
    proposal = TherapySession.objects.get(supervised=session)
    today = timezone.localdate()
    TherapySession.objects.filter(pk=proposal.pk).update(
        therapist=therapist,
        dosed_on=today - timedelta(days=2),
        due_from=today - timedelta(days=1),
        due_by=today + timedelta(days=1),
    )
    page = as_role(Role.THERAPIST).get(reverse("therapy:list"))  # type: ignore[operator]
    integrations = page.context["work"].integrations
    assert [(d.standing, d.days_since_dosing) for d in integrations] == [("due", 2)]
    assert len(page.context["work"].upcoming) == 1
    TherapySession.objects.filter(pk=proposal.pk).update(
        dosed_on=today - timedelta(days=5),
        due_from=today - timedelta(days=4),
        due_by=today - timedelta(days=2),
    )
    page = as_role(Role.PRESCRIBER).get(reverse("therapy:list"))  # type: ignore[operator]
    (d,) = page.context["work"].integrations
    assert (d.standing, d.days_since_dosing) == ("overdue", 5)
    assert b"overdue" in page.content
    event = AuditEvent.objects.filter(entity_type="therapy_worklist").first()
    assert event is not None
    assert patient.mrn in event.new_values["patients"]


def test_an_integration_not_yet_open_or_held_is_not_listed(
    as_role: object, staff: dict[Role, User], patient: Patient
) -> None:
    dosed(patient, staff[Role.PRESCRIBER], staff[Role.NURSE])  # due from tomorrow
    page = as_role(Role.PRESCRIBER).get(reverse("therapy:list"))  # type: ignore[operator]
    assert page.context["work"].integrations == []


@pytest.mark.parametrize("role", [Role.NURSE, Role.FRONT_DESK, Role.ADMIN])
def test_only_therapists_write(
    role: Role, as_role: object, staff: dict[Role, User], patient: Patient
) -> None:
    ts = booked(staff[Role.THERAPIST], patient)
    client = as_role(role)  # type: ignore[operator]
    for name in ("therapy:save", "therapy:sign", "therapy:addendum"):
        assert client.post(reverse(name, args=[ts.pk])).status_code == 403
    assert client.post(reverse("therapy:schedule", args=[patient.pk])).status_code == 403


def test_the_chart_links_to_therapy_and_the_nav_for_therapists(
    as_role: object, patient: Patient
) -> None:
    link = reverse("therapy:patient", args=[patient.pk]).encode()
    chart = reverse("patients:chart", args=[patient.pk])
    assert link in as_role(Role.FRONT_DESK).get(chart).content  # type: ignore[operator]
    assert link not in as_role(Role.ADMIN).get(chart).content  # type: ignore[operator]
    nav = f'href="{reverse("therapy:list")}"'.encode()
    assert nav in as_role(Role.THERAPIST).get(chart).content  # type: ignore[operator]
    assert nav not in as_role(Role.NURSE).get(chart).content  # type: ignore[operator]
