"""Shown by: a therapist writes a preparation note; after the dose the integration proposed for
the next days is on the therapist's list with its window, and the therapist books it and signs
the integration note. Then a patient acknowledges an education handout through the one-time
link, without logging in, and the pre-dose gate of their first session stops asking for it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

# A patient with the "therapist" account as their therapist, not yet dosed.
PATIENT = """
import secrets
from datetime import date
from decimal import Decimal
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.patients import services as patients
from tests.conftest import registration
system = Actor.system("e2e setup")
patient = patients.register_patient(system, registration(
    mrn="E2E-" + secrets.token_hex(3).upper(), given_name="Nadia", family_name="{family}",
    therapist=User.objects.get(username="therapist")))
patients.add_entry(system, patient, "measurements", {{"measured_on": date(2026, 1, 5),
    "weight_kg": Decimal("70"), "height_cm": Decimal("168")}})
print(patient.pk)
"""

# An IV session dosed through the real services; the integration it proposed is moved one day
# back, as if the dose had been yesterday, so that its window (days 1 to 3) is open today.
DOSE = """
from datetime import timedelta
from django.utils import timezone
from ketacare.accounts.models import User
from ketacare.patients.models import Patient
from ketacare.therapy.models import TherapySession
from tests.supervised.builders import dosed
patient = Patient.objects.get(pk={patient_id})
session = dosed(patient, User.objects.get(username="prescriber"),
                User.objects.get(username="nurse"))
today = timezone.localdate()
proposal = TherapySession.objects.get(supervised=session, kind="integration")
assert proposal.status == "proposed" and proposal.therapist.username == "therapist"
TherapySession.objects.filter(pk=proposal.pk).update(
    dosed_on=today - timedelta(days=1), due_from=today, due_by=today + timedelta(days=2))
print(session.pk, today.isoformat())
"""

# A new patient checked in for their first IV session with every pre-dose check done except
# the education handout (tests.supervised.builders.pass_gate without the handout).
AT_THE_GATE = """
import secrets
from datetime import date
from decimal import Decimal
from django.utils import timezone
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.measures import services as measures
from ketacare.patients import services as patients
from ketacare.supervised.services import gate, observations
from tests.conftest import registration
from tests.supervised.builders import NORMAL, act, checked_in
system = Actor.system("e2e setup")
patient = patients.register_patient(system, registration(
    mrn="E2E-" + secrets.token_hex(3).upper(), given_name="Iris", family_name="{family}"))
patients.add_entry(system, patient, "measurements", {{"measured_on": date(2026, 1, 5),
    "weight_kg": Decimal("70"), "height_cm": Decimal("168")}})
nurse = User.objects.get(username="nurse")
session = checked_in(patient, User.objects.get(username="prescriber"), nurse)
actor = act(nurse)
gate.record_consent(actor, session, timezone.localdate(), "KC-consent v3")
gate.update_gate(actor, session, {{"fasting_confirmed": True, "medications_reviewed": True,
                                   "pregnancy_test": "negative"}})
if session.planned.unit == "mg/kg":
    gate.record_weight(actor, session, session.plan.weight_kg)
observations.record_vitals(actor, session, NORMAL)
for instrument, answers in ((session.plan.primary_instrument, [2] * 7),
                            ("cssrs-screen", [0] * 7)):
    measures.record_response(actor, patient, instrument, answers, context="pre_session",
                             completed_at=timezone.now())
print(patient.pk, session.pk, session.route)
"""


def fill_note(page: Page, values: dict[str, str]) -> None:
    """Fill the note's fields by their labels, save the draft, then sign and lock it."""
    for label, value in values.items():
        field = page.get_by_label(label, exact=True)
        if label == "Consent to touch":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Draft saved.")
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.locator(".messages")).to_contain_text("Note signed and locked.")
    expect(page.locator("#note")).to_contain_text("signed by")


def test_a_therapist_prepares_then_holds_the_integration_proposed_after_the_dose(
    log_in: Callable[[str], Page], server_shell: Callable[[str], str], screenshots: Path
) -> None:
    family = "Haddad" + secrets.token_hex(2)
    patient_id = int(server_shell(PATIENT.format(family=family)).splitlines()[-1])
    page = log_in("therapist")

    # Preparation: booked on the patient's therapy page, the note filled and signed.
    page.goto(f"/therapy/patients/{patient_id}/")
    expect(page.locator("#therapy-sessions")).to_contain_text("No therapy session recorded.")
    page.get_by_label("Kind").select_option("preparation")
    page.get_by_label("Date and time").fill(f"{date.today().isoformat()}T08:00")
    page.get_by_role("button", name="Book").click()
    expect(page.locator(".messages")).to_contain_text("Preparation session booked.")
    row = page.locator("#therapy-sessions tbody tr", has_text="Preparation")
    expect(row).to_contain_text("scheduled")
    row.get_by_role("link", name="Note").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Preparation session")
    fill_note(
        page,
        {
            "Intention": "To meet the grief with less fear",
            "Expectations": "Unsure; has read about dissociation",
            "Consent to touch": "yes",
            "Limits of touch (optional)": "Hand on the shoulder only",
            "Support plan": "Sister drives her home and stays the evening",
            "Music preference": "Instrumental, no vocals",
            "Eyeshade preference": "Eyeshades, may lift them",
            "Safety plan": "Crisis line and sister's number; no SI at present",
        },
    )
    expect(page.locator("#note")).to_contain_text("Hand on the shoulder only")

    # The dose (through the services) proposes an integration for the next days.
    session_pk, today_text = (
        server_shell(DOSE.format(patient_id=patient_id)).splitlines()[-1].split()
    )
    today = date.fromisoformat(today_text)
    window = f"{today.isoformat()} to {date.fromordinal(today.toordinal() + 2).isoformat()}"

    page.goto("/therapy/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Therapy")
    due = page.locator("#integrations tbody tr", has_text=family)
    expect(due).to_have_count(1)
    expect(due).to_contain_text(window)
    expect(due).to_contain_text("due")
    expect(due).to_contain_text("proposed")
    expect(due.locator("td").nth(2)).to_have_text("1")  # days since dosing
    page.screenshot(path=str(screenshots / "therapy-worklist.png"), full_page=True)

    # The therapist books the proposed integration and signs its note.
    due.get_by_role("link", name=f"Nadia {family}").click()
    proposed = page.locator("#therapy-sessions tbody tr", has_text="Integration")
    expect(proposed).to_contain_text(f"due {window}")
    expect(proposed).to_contain_text("proposed")
    page.get_by_label("Kind").select_option("integration")
    tomorrow = date.fromordinal(today.toordinal() + 1).isoformat()
    page.get_by_label("Date and time").fill(f"{tomorrow}T10:00")
    page.get_by_label("Dosing session").select_option(session_pk)
    page.get_by_role("button", name="Book").click()
    expect(page.locator(".messages")).to_contain_text("Integration session booked.")
    integration = page.locator("#therapy-sessions tbody tr", has_text="Integration")
    expect(integration).to_have_count(1)  # the proposal was booked, not a second one added
    expect(integration).to_contain_text("scheduled")
    integration.get_by_role("link", name="Note").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Integration session")
    expect(page.locator("main")).to_contain_text("Days since dosing: 1")
    fill_note(
        page,
        {
            "Themes": "Grief, permission to rest",
            "Practices agreed": "Journaling daily; a walk at dusk",
            "Risk screen": "C-SSRS screen negative today",
            "Plan": "Next dose Thursday; integration after",
        },
    )
    page.goto(f"/therapy/patients/{patient_id}/")
    held = page.locator("#therapy-sessions tbody tr", has_text="Integration")
    expect(held).to_contain_text("held")


def test_a_patient_acknowledges_the_handout_by_link_and_the_gate_stops_asking(
    log_in: Callable[[str], Page],
    server_shell: Callable[[str], str],
    screenshots: Path,
    browser: Browser,
    server: str,
) -> None:
    family = "Lindqvist" + secrets.token_hex(2)
    patient_id, pk, route = server_shell(AT_THE_GATE.format(family=family)).splitlines()[-1].split()
    assert route == "iv"  # the builders' default plan, iv-racemic
    page = log_in("nurse")

    page.goto(f"/sessions/{pk}/")
    expect(page.locator("#session-state")).to_have_text("checked in")
    gate = page.locator("#gate")
    expect(gate.locator("[data-code=education]")).to_contain_text(
        "Education handout not acknowledged"
    )

    page.goto(f"/patients/{patient_id}/")
    page.get_by_role("link", name="Handouts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Handouts for Iris {family}")
    page.get_by_label("Route").select_option("iv")
    page.get_by_label("Language").select_option("en")
    page.get_by_role("button", name="Send a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Handout link for Iris {family}")
    callout = page.get_by_role("status").filter(has_text="It will not be shown again")
    link = callout.get_by_role("link").get_attribute("href")
    assert link is not None
    assert "/education/h/" in link

    # Sent, not yet read: the gate still asks.
    page.goto(f"/education/patients/{patient_id}/")
    expect(page.locator("main")).to_contain_text("not yet (link expires")
    page.goto(f"/sessions/{pk}/")
    expect(page.locator("#gate [data-code=education]")).to_be_visible()

    context = browser.new_context(base_url=server)  # the patient's phone: no login
    try:
        patient = context.new_page()
        patient.goto(link)
        expect(
            patient.get_by_text("Hello Iris. Please read this before your treatment.")
        ).to_be_visible()
        expect(patient.get_by_role("heading", level=1)).to_be_visible()
        patient.screenshot(path=str(screenshots / "handout-link.png"), full_page=True)
        patient.get_by_role("button", name="I have read and understood this").click()
        expect(patient.get_by_role("status")).to_have_text(
            "Thank you. The clinic can see that you have read this."
        )
        patient.goto(link)  # the link works once
        expect(patient.get_by_role("status")).to_have_text(
            "You have already read this handout. Thank you."
        )
    finally:
        context.close()

    page.goto(f"/sessions/{pk}/")
    expect(page.locator("#session-state")).to_have_text("checked in")
    expect(page.locator("#gate [data-code=education]")).to_have_count(0)
    page.goto(f"/education/patients/{patient_id}/")
    expect(page.locator("main")).not_to_contain_text("not yet (link expires")
