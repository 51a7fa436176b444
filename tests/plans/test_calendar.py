"""The calendar on a time grid: each booking a block as long as it holds its chair (dosing and
the template's minimum observation), overlapping bookings of one chair side by side and
flagged, the grid shaped by the clinic's opening hours, and no clinical detail for the front
desk."""

from __future__ import annotations

from datetime import time

import pytest
from django.test import Client

from ketacare.accounts.models import User
from ketacare.clinic import services as clinic
from ketacare.patients.models import Patient
from ketacare.plans import selectors, services
from tests.clinic.test_settings import settings_request
from tests.conftest import login
from tests.plans.test_plans import MONDAY, actor, request
from tests.supervised.test_rems import another_patient

pytestmark = pytest.mark.django_db


def second_patient() -> Patient:
    return another_patient("OMAR-002", given_name="Omar", family_name="Haddad")


def test_a_booking_holds_its_chair_for_dosing_and_the_observation_after(
    patient: Patient,
) -> None:
    services.create_plan(actor(), patient, request("iv-racemic", start_time=time(9, 30)))
    services.create_plan(
        actor(), second_patient(), request("esketamine-nasal", chair="Chair 3", start_time=time(10))
    )

    day = selectors.calendar(MONDAY, 1)[0]

    (iv,) = day.slots["Chair 2"]
    (esketamine,) = day.slots["Chair 3"]
    assert (iv.minutes, iv.ends) == (100, time(11, 10))  # 40 min infusion + 60 min after its end
    assert (esketamine.minutes, esketamine.ends) == (120, time(12))  # 2 h from the first device
    assert not iv.overlaps
    assert not esketamine.overlaps


def test_the_grid_runs_from_opening_to_closing_in_five_minute_rows(
    admin: User, patient: Patient
) -> None:
    clinic.save_settings(actor(admin), settings_request(opens_at=time(8), closes_at=time(17, 30)))
    services.create_plan(actor(), patient, request(start_time=time(9, 30)))

    day = selectors.calendar(MONDAY, 1)[0]

    assert day.rows == (18 - 8) * 12  # closing rounded up to the hour
    assert day.hours[0] == ("08:00", 0)
    assert day.hours[-1] == ("17:00", 108)
    assert (day.closed_before, day.closed_after) == (0, 6)  # 17:30 to 18:00
    (slot,) = day.slots["Chair 2"]
    assert (slot.row, slot.rows) == (18, 20)  # 09:30 is 18 rows down; 100 min is 20 rows
    assert not slot.outside_hours
    assert list(day.slots) == ["Chair 1", "Chair 2", "Chair 3"]  # the chairs in effect


def test_a_booking_that_runs_past_midnight_keeps_its_whole_block(
    admin: User, patient: Patient
) -> None:
    clinic.save_settings(actor(admin), settings_request(opens_at=time(8), closes_at=time(18)))
    services.create_plan(actor(), patient, request("iv-racemic", start_time=time(22, 35)))

    day = selectors.calendar(MONDAY, 1)[0]

    (late,) = day.slots["Chair 2"]
    assert late.minutes == 100
    assert late.row + late.rows == day.rows - 9  # ends 00:15; the grid runs on to 01:00
    assert [label for label, _ in day.hours][-2:] == ["23:00", "00:00"]


def test_a_booking_outside_the_opening_hours_widens_the_grid_and_is_marked(
    admin: User, patient: Patient
) -> None:
    clinic.save_settings(actor(admin), settings_request(opens_at=time(8), closes_at=time(17)))
    services.create_plan(actor(), patient, request(start_time=time(16, 30)))

    day = selectors.calendar(MONDAY, 1)[0]

    (slot,) = day.slots["Chair 2"]
    assert slot.outside_hours
    assert day.hours[-1][0] == "18:00"  # 16:30 + 100 min ends at 18:10: the grid runs to 19:00
    assert day.rows == 11 * 12


def test_overlapping_bookings_of_one_chair_stand_side_by_side_and_are_flagged(
    patient: Patient, prescriber: User
) -> None:
    first = services.create_plan(actor(), patient, request(start_time=time(9, 30)))
    other = second_patient()
    services.create_plan(actor(), other, request(start_time=time(10, 30)))

    day = selectors.calendar(MONDAY, 1)[0]

    a, b = day.slots["Chair 2"]
    assert (a.lane, b.lane, a.lanes, b.lanes) == (0, 1, 2, 2)
    assert [s.plan.patient for s in a.overlaps] == [other]
    assert [s.plan_id for s in b.overlaps] == [first.pk]
    assert day.overlapping == 2
    page = login(Client(), prescriber).get(f"/calendar/?date={MONDAY.isoformat()}")
    body = page.content.decode()
    assert "2 bookings overlap another in the same chair" in body
    assert body.count("booking tg-r-") == 2
    assert "lane-1 of-2 overlap" in body
    assert "Overlaps Delgado 09:30" in body


def test_back_to_back_bookings_share_a_lane(patient: Patient) -> None:
    services.create_plan(actor(), patient, request(start_time=time(9, 0)))
    services.create_plan(actor(), second_patient(), request(start_time=time(10, 40)))

    a, b = selectors.calendar(MONDAY, 1)[0].slots["Chair 2"]

    assert (a.lane, b.lane, a.lanes) == (0, 0, 1)
    assert not a.overlaps
    assert not b.overlaps


def test_a_closed_day_says_so(admin: User) -> None:
    clinic.save_settings(actor(admin), settings_request(open_days=(1, 2, 3, 4)))

    (monday,) = selectors.calendar(MONDAY, 1)

    assert not monday.is_open


def test_the_front_desk_and_admin_see_times_and_durations_but_no_dose_or_route(
    patient: Patient, clerk: User, admin: User, nurse: User
) -> None:
    services.create_plan(actor(), patient, request(start_time=time(9, 30)))
    url = f"/calendar/?date={MONDAY.isoformat()}"

    clinician = login(Client(), nurse).get(url).content.decode()
    assert "mg" in clinician
    assert "iv #1" in clinician
    for desk in (login(Client(), user).get(url).content.decode() for user in (clerk, admin)):
        assert "09:30\u201311:10" in desk
        assert "100 min" in desk
        assert "Delgado, Rosa" in desk
        assert " mg" not in desk
        assert "iv #1" not in desk
        assert "/plans/" not in desk
        assert f"/patients/{patient.pk}/" in desk
