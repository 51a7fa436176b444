"""No lost updates on a therapy note's draft: a draft saved from a tab opened on an older
version (the therapist's other tab, or another device) never silently undoes the newer text.
The draft form carries the note's version; a stale save shows both drafts and saves nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import Action, AuditEvent
from ketacare.lib.versions import StaleVersion
from ketacare.patients.models import Patient
from ketacare.therapy import services
from ketacare.therapy.models import TherapyNote, TherapySession
from tests.conftest import login
from tests.therapy.builders import COMPLETE, act, booked

pytestmark = pytest.mark.django_db


def draft_form(client: Client, ts: TherapySession) -> dict[str, Any]:
    """What the browser posts back from the draft form as the page opened it."""
    form = client.get(reverse("therapy:note", args=[ts.pk])).context["form"]
    return {name: form.initial.get(name, "") for name in form.fields}


def test_the_second_of_two_tabs_gets_a_conflict_page_and_the_first_draft_stays(
    staff: dict[Role, User], patient: Patient
) -> None:
    therapist = staff[Role.THERAPIST]
    ts = booked(therapist, patient)
    services.save_draft(act(therapist), ts, COMPLETE["preparation"])
    laptop, tablet = login(Client(), therapist), login(Client(), therapist)
    first, second = draft_form(laptop, ts), draft_form(tablet, ts)
    url = reverse("therapy:save", args=[ts.pk])

    assert laptop.post(url, {**first, "intention": "To rest, at last"}).status_code == 302
    stale = tablet.post(url, {**second, "music_preference": "Silence"})

    assert stale.status_code == 409
    note = TherapyNote.objects.get(session=ts)
    assert note.content["intention"] == "To rest, at last"  # the first draft is intact
    assert note.content["music_preference"] == "Instrumental, no vocals"  # nothing kept
    assert note.version == 2
    page = stale.content.decode()
    assert "Nothing you entered was saved" in page
    assert therapist.display_name in page
    assert f'href="{reverse("therapy:note", args=[ts.pk])}"' in page  # start again
    rows = {r.label: r for r in stale.context["rows"]}
    assert (rows["Intention"].entered, rows["Intention"].saved) == (
        "To meet the grief with less fear",
        "To rest, at last",
    )
    music = next(r for label, r in rows.items() if label.startswith("Music"))
    assert (music.entered, music.saved) == ("Silence", "Instrumental, no vocals")
    assert sum(r.differs for r in rows.values()) == 2
    consent = next(r for label, r in rows.items() if label.startswith("Consent to touch"))
    assert consent.saved == "Yes"  # a coded answer as its label
    updates = AuditEvent.objects.filter(action=Action.UPDATE, entity_type="therapynote")
    assert updates.count() == 1


def test_two_first_drafts_from_a_page_without_a_note_cannot_both_pass(
    staff: dict[Role, User], patient: Patient
) -> None:
    therapist = staff[Role.THERAPIST]
    ts = booked(therapist, patient)
    services.save_draft(act(therapist), ts, {"intention": "first"}, expected_version=0)
    with pytest.raises(StaleVersion) as refused:
        services.save_draft(act(therapist), ts, {"intention": "second"}, expected_version=0)
    assert refused.value.version == 1
    assert TherapyNote.objects.get(session=ts).content["intention"] == "first"


def test_a_draft_saved_on_the_current_version_moves_it_on(
    staff: dict[Role, User], patient: Patient
) -> None:
    therapist = staff[Role.THERAPIST]
    ts = booked(therapist, patient)
    services.save_draft(act(therapist), ts, {"intention": "first"}, expected_version=0)
    services.save_draft(act(therapist), ts, {"intention": "second"}, expected_version=1)
    services.save_draft(act(therapist), ts, {"intention": "second"}, expected_version=2)
    note = TherapyNote.objects.get(session=ts)
    assert (note.content["intention"], note.version) == ("second", 2)


def test_a_draft_form_without_its_version_is_refused_as_out_of_date(
    staff: dict[Role, User], patient: Patient
) -> None:
    therapist = staff[Role.THERAPIST]
    ts = booked(therapist, patient)
    client = login(Client(), therapist)
    data = draft_form(client, ts)
    del data["version"]
    response = client.post(reverse("therapy:save", args=[ts.pk]), {**data, "intention": "x"})
    assert response.status_code == 400
    assert "This form is out of date" in response.content.decode()
    assert not TherapyNote.objects.filter(session=ts).exists()
