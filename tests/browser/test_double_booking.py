"""No double booking, no double dosing, no "No" from nothing (issue 18, points 1 and 3), in the
browser: a second check-in to a taken chair is refused beside the check-in form; a wrong-day
check-in is refused, then done by the nurse with a reason; a second dose on one day waits for the
prescriber's decision; and the REMS form of a session without a CADSS rating says "not recorded"
and cannot be signed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SETUP = """
import secrets
from datetime import date, time, timedelta
from decimal import Decimal
from django.utils import timezone
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.clinic import selectors as clinic
from ketacare.patients import services as patients
from ketacare.plans.models import PlannedSession
from ketacare.supervised.models import ACTIVE_STATES, Session
from tests.conftest import registration
from tests.supervised.builders import first_session, signed_plan
system = Actor.system("e2e setup")
doctor = User.objects.get(username="prescriber")
busy = set(Session.objects.filter(state__in=ACTIVE_STATES).values_list("chair", flat=True))
chair, other_chair = [c for c in clinic.chairs() if c not in busy][:2]

def patient(given, family):
    p = patients.register_patient(system, registration(
        mrn="E2E-" + secrets.token_hex(3).upper(), given_name=given, family_name=family))
    patients.add_entry(system, p, "measurements", {"measured_on": date(2026, 1, 5),
        "weight_kg": Decimal("70"), "height_cm": Decimal("170")})
    return p

def planned(p, at, day, chair=chair):
    s = first_session(signed_plan(p, doctor, chair=chair, start_time=at))
    PlannedSession.objects.filter(pk=s.pk).update(scheduled_on=day)
    return s.pk

today = timezone.localdate()
first = planned(patient("Amara", "{family}"), time(5, 0), today)
second = planned(patient("Bruno", "{family}"), time(19, 0), today)
later = planned(patient("Carla", "{family}"), time(21, 0), today + timedelta(days=1), other_chair)
print(first, second, later, chair)
"""

SECOND_DOSE = """
import secrets
from datetime import date
from decimal import Decimal
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.patients import services as patients
from ketacare.supervised.services import lifecycle
from tests.conftest import registration
from tests.supervised.builders import act, dosed, next_session_today
from ketacare.supervised.services import gate
system = Actor.system("e2e setup")
doctor, nurse = (User.objects.get(username=u) for u in ("prescriber", "nurse"))
p = patients.register_patient(system, registration(
    mrn="E2E-" + secrets.token_hex(3).upper(), given_name="Dora", family_name="{family}"))
patients.add_entry(system, p, "measurements", {"measured_on": date(2026, 1, 5),
    "weight_kg": Decimal("70"), "height_cm": Decimal("170")})
first = dosed(p, doctor, nurse)
lifecycle.abort(act(nurse), first, "Cannula tissued; infusion stopped early")
second = gate.check_in(act(nurse), first.plan.sessions.get(number=2),
                       wrong_day_reason="Booked again today to finish the dose")
print(second.pk)
"""

UNRATED = """
import secrets
from datetime import date
from decimal import Decimal
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.patients import services as patients
from tests.conftest import registration
from tests.controlled.builders import container
from tests.supervised.test_rems_not_recorded import unrated
system = Actor.system("e2e setup")
doctor, nurse = (User.objects.get(username=u) for u in ("prescriber", "nurse"))
p = patients.register_patient(system, registration(
    mrn="E2E-" + secrets.token_hex(3).upper(), given_name="Emil", family_name="{family}"))
patients.add_entry(system, p, "measurements", {"measured_on": date(2026, 1, 5),
    "weight_kg": Decimal("70"), "height_cm": Decimal("170")})
container(doctor, "spravato", lot="ESK-77001")
print(unrated(p, doctor, nurse).pk)
"""


def family() -> str:
    import secrets

    return "Tester" + secrets.token_hex(2)


def check_in_card(page: Page) -> object:
    return page.locator("#check-in")


def test_a_taken_chair_and_a_wrong_day_are_refused_beside_the_check_in_form(
    log_in: Callable[[str], Page], server_shell: Callable[[str], str], screenshots: Path
) -> None:
    first, second, later, chair = (
        server_shell(SETUP.replace("{family}", family())).splitlines()[-1].split(maxsplit=3)
    )
    page = log_in("nurse")
    page.goto(f"/sessions/{first}/")
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#session-state")).to_have_text("checked in")

    page.goto(f"/sessions/{second}/")
    page.get_by_role("button", name="Check in").click()
    form = page.locator("#check-in")
    expect(form.locator(".errors")).to_contain_text(f"{chair} is taken by Amara")
    page.screenshot(path=str(screenshots / "check-in-chair-taken.png"), full_page=True)

    page.goto(f"/sessions/{later}/")
    expect(form).to_contain_text("not today")
    page.get_by_role("button", name="Check in").click()
    expect(form.locator("#id_wrong_day_reason-error")).to_contain_text("planned for")
    page.screenshot(path=str(screenshots / "check-in-wrong-day.png"), full_page=True)
    reason = "Patient came a day early; the prescriber agreed by phone"
    page.get_by_label("Reason for checking in on another day").fill(reason)
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#session-state")).to_have_text("checked in")
    expect(page.locator("#timeline")).to_contain_text(reason)


def test_a_second_dose_today_waits_for_the_prescribers_decision(
    log_in: Callable[[str], Page], server_shell: Callable[[str], str], screenshots: Path
) -> None:
    pk = server_shell(SECOND_DOSE.replace("{family}", family())).splitlines()[-1]
    page = log_in("nurse")
    page.goto(f"/sessions/{pk}/")
    item = page.locator('[data-code="second_dose"]')
    expect(item).to_contain_text("already dosed today")
    expect(page.locator("#second-dose")).to_have_count(0)  # a nurse cannot decide it
    page.context.clear_cookies()
    page = log_in("prescriber")
    page.goto(f"/sessions/{pk}/")
    page.screenshot(path=str(screenshots / "second-dose-decision.png"), full_page=True)
    decision = page.locator("#second-dose")
    decision.get_by_label("Reason for a second dose today").fill(
        "First infusion stopped at 2 minutes; the full dose is given now"
    )
    decision.get_by_role("button", name="Decided: give a second dose today").click()
    expect(page.locator('[data-code="second_dose"]')).to_have_count(0)
    expect(page.locator("#timeline")).to_contain_text("Second dose today decided by")


def test_the_rems_form_without_a_cadss_rating_says_not_recorded_and_cannot_be_signed(
    log_in: Callable[[str], Page], server_shell: Callable[[str], str], screenshots: Path
) -> None:
    pk = server_shell(UNRATED.replace("{family}", family())).splitlines()[-1]
    page = log_in("nurse")
    page.goto(f"/sessions/{pk}/rems/")
    row = page.locator("#field-dissociation")
    expect(row).to_contain_text("not recorded")
    expect(row).not_to_contain_text("No")
    expect(page.locator(".rems-sign")).to_contain_text("Dissociation")
    expect(page.get_by_role("button", name="Sign the form")).to_be_disabled()
    page.screenshot(path=str(screenshots / "rems-no-cadss.png"), full_page=True)
