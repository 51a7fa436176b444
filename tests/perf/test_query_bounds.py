"""Every page and API read issues a number of queries that does not grow with a patient's
history or with the number of chairs taken.

Each test reads its page for a small case and a large one and asserts the same count, within
the page's bound: a patient with two weeks of measures and one session beside one with two
years of weekly measures (GAD-7, PHQ-9, a monthly PCL-5) and 30 dosed sessions with their
vitals, doses, ratings and adverse events; one chair under way, then 20. Each page is read once
before it is counted, as a clinician sees it after the first visit: its charts drawn and
cached (the cache lookup is one of the queries counted), the live monitor's audit events for
the last 15 minutes already written.

The two patients are built once for the module, inside a transaction rolled back at its end
(each test runs in a savepoint of it), so the module costs one build, not one per page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import Action, AuditEvent
from tests.conftest import login, make_user
from tests.perf import builders

# The bound of each page: the queries it issues, whatever the history or the chairs. Every
# signed-in request reads its session, its user and the second factor the login passed; a whole
# page (not an htmx fragment or the API) also reads the clinician's credential banner.
CHART = 16
MEASURES_SECTION = 16
SESSIONS_SECTION = 15
SESSION_PAGE = 28
SESSION_POLL = 9
MONITOR = 18
MONITOR_POLL = 17
MONITOR_FIRST = 22  # the first read also audits each chair's patient, in one write
DASHBOARD = 25
OUTCOMES_DASHBOARD = 23
OUTCOMES_REPORT = 28
SEARCH = 10
CALENDAR = 11
DESK = 13
API_PATIENT = 13
API_SEARCH = 9
API_SESSIONS = 9
FHIR_EVERYTHING = 23
CHAIRS = [f"Chair {n}" for n in range(1, 21)]

Counter = Callable[[int], AbstractContextManager[Any]]


@dataclass(frozen=True)
class Clinic:
    prescriber: User
    nurse: User
    short: builders.History  # two weeks, one session
    long: builders.History  # two years, 30 sessions


@pytest.fixture(scope="module")
def clinic(django_db_setup: None, django_db_blocker: Any) -> Iterator[Clinic]:
    with django_db_blocker.unblock(), transaction.atomic():
        prescriber = make_user(Role.PRESCRIBER, "dr.scale")
        nurse = make_user(Role.NURSE, "nurse.scale")
        yield Clinic(
            prescriber,
            nurse,
            short=builders.long_patient(prescriber, nurse, weeks=2, sessions=1),
            long=builders.long_patient(prescriber, nurse, weeks=104, sessions=30),
        )
        transaction.set_rollback(True)


@pytest.fixture
def client(clinic: Clinic, db: None, settings: Any) -> Client:
    settings.KETACARE_CHAIRS = CHAIRS
    return login(Client(), clinic.prescriber)


def queries(client: Client, url: str, bound: int, counted: Counter) -> int:
    """The queries of a second read of ``url`` (the first drew and cached its charts), at most
    ``bound``."""
    assert client.get(url).status_code == 200
    with counted(bound) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


def per_patient(client: Client, clinic: Clinic, url: str, bound: int, counted: Counter) -> None:
    """``url`` (with ``{patient}`` and ``{session}``, the latest session) read for the short
    history and the long one: the same queries, at most ``bound``."""
    short, long = (
        queries(client, at(url, history), bound, counted) for history in (clinic.short, clinic.long)
    )
    assert long == short


def at(url: str, history: builders.History) -> str:
    return url.format(patient=history.patient.pk, session=history.sessions[-1].planned_id)


def per_chairs(client: Client, clinic: Clinic, url: str, bound: int, counted: Counter) -> None:
    builders.chairs(CHAIRS[:1], clinic.prescriber, clinic.nurse)
    one = queries(client, url, bound, counted)
    builders.chairs(CHAIRS[1:], clinic.prescriber, clinic.nurse)
    assert queries(client, url, bound, counted) == one


# The chart and its sections ---------------------------------------------------------------


def test_the_chart_reads_as_many_queries_for_two_years_as_for_two_weeks(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    url = "/patients/{patient}/"
    per_patient(client, clinic, url, CHART, django_assert_max_num_queries)


def test_the_measures_section_reads_a_constant_number_of_queries(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    url = "/patients/{patient}/measures/"
    per_patient(client, clinic, url, MEASURES_SECTION, django_assert_max_num_queries)


def test_the_sessions_section_reads_30_sessions_in_as_many_queries_as_one(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    url = "/patients/{patient}/sessions/"
    per_patient(client, clinic, url, SESSIONS_SECTION, django_assert_max_num_queries)
    page = client.get(at(url, clinic.long)).content.decode()
    assert page.count("<tr>") - 1 == 30  # a row per session under the header


def test_a_session_page_reads_a_constant_number_of_queries_however_long_the_history(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    url = "/sessions/{session}/"
    per_patient(client, clinic, url, SESSION_PAGE, django_assert_max_num_queries)


def test_the_page_and_the_poll_of_a_session_under_way_read_a_constant_number_of_queries(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    first, *_, last = builders.chairs(CHAIRS, clinic.prescriber, clinic.nurse)
    pages, polls = [], []
    for session in (first, last):
        page, poll = f"/sessions/{session.pk}/", f"/sessions/{session.pk}/live/"
        pages.append(queries(client, page, SESSION_PAGE, django_assert_max_num_queries))
        polls.append(queries(client, poll, SESSION_POLL, django_assert_max_num_queries))
    assert pages[0] == pages[1]
    assert polls[0] == polls[1]


def test_a_patient_s_outcome_report_reads_a_constant_number_of_queries(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    url = "/outcomes/patients/{patient}/report/"
    per_patient(client, clinic, url, OUTCOMES_REPORT, django_assert_max_num_queries)


# The live monitor, the desk and the calendar ------------------------------------------------


def test_the_live_monitor_reads_20_chairs_in_as_many_queries_as_one(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    per_chairs(client, clinic, reverse("sessions:monitor"), MONITOR, django_assert_max_num_queries)
    assert client.get(reverse("sessions:board")).content.decode().count('class="chair') == 20


def first_read(url: str, viewer: User, bound: int, counted: Counter) -> int:
    """The queries of ``viewer``'s first read of ``url``, which audits every patient shown."""
    client = login(Client(), viewer)
    with counted(bound) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_monitor_s_first_read_audits_20_chairs_in_as_many_queries_as_one(
    clinic: Clinic, db: None, django_assert_max_num_queries: Counter
) -> None:
    url = reverse("sessions:monitor")
    builders.chairs(CHAIRS[:1], clinic.prescriber, clinic.nurse)
    one = first_read(
        url, make_user(Role.NURSE, "nurse.one"), MONITOR_FIRST, django_assert_max_num_queries
    )
    builders.chairs(CHAIRS[1:], clinic.prescriber, clinic.nurse)
    viewer = make_user(Role.NURSE, "nurse.twenty")
    assert first_read(url, viewer, MONITOR_FIRST, django_assert_max_num_queries) == one
    seen = AuditEvent.objects.filter(actor=viewer, action=Action.VIEW, entity_type="session")
    assert seen.count() == 20  # one event per chair's patient, written at once


def test_the_monitor_s_polled_board_reads_a_constant_number_of_queries(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    url = reverse("sessions:board")
    per_chairs(client, clinic, url, MONITOR_POLL, django_assert_max_num_queries)


def test_the_front_desk_s_day_reads_a_constant_number_of_queries(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    per_chairs(client, clinic, reverse("sessions:desk"), DESK, django_assert_max_num_queries)


def test_the_calendar_s_day_and_week_read_a_constant_number_of_queries(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    per_chairs(client, clinic, reverse("plans:calendar"), CALENDAR, django_assert_max_num_queries)
    week = reverse("plans:calendar") + "?view=week"
    assert queries(client, week, CALENDAR, django_assert_max_num_queries) <= CALENDAR


# The clinic's pages --------------------------------------------------------------------------


def test_the_care_team_dashboard_reads_20_alerts_in_as_many_queries_as_one(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    sessions = builders.chairs(CHAIRS, clinic.prescriber, clinic.nurse)
    builders.open_alerts([sessions[0].patient], clinic.prescriber)
    one = queries(client, reverse("dashboard"), DASHBOARD, django_assert_max_num_queries)
    builders.open_alerts([s.patient for s in sessions[1:]], clinic.prescriber)
    assert queries(client, reverse("dashboard"), DASHBOARD, django_assert_max_num_queries) == one


def test_the_outcomes_dashboard_reads_a_constant_number_of_queries(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    url = reverse("outcomes:dashboard")
    per_chairs(client, clinic, url, OUTCOMES_DASHBOARD, django_assert_max_num_queries)


def test_patient_search_reads_a_constant_number_of_queries_however_many_it_finds(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    url = reverse("patients:list") + "?q=Rosa"  # every patient the builders register
    per_chairs(client, clinic, url, SEARCH, django_assert_max_num_queries)


# The API's reads of a patient's history ------------------------------------------------------


def test_the_api_reads_a_patient_in_a_constant_number_of_queries(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    url = "/api/v1/patients/{patient}"
    per_patient(client, clinic, url, API_PATIENT, django_assert_max_num_queries)


def test_the_api_s_fhir_everything_reads_two_years_in_a_constant_number_of_queries(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    url = "/api/v1/fhir/Patient/pt-{patient}/$everything"
    per_patient(client, clinic, url, FHIR_EVERYTHING, django_assert_max_num_queries)


def test_the_api_s_search_and_sessions_under_way_read_a_constant_number_of_queries(
    client: Client, clinic: Clinic, django_assert_max_num_queries: Counter
) -> None:
    per_chairs(client, clinic, "/api/v1/sessions", API_SESSIONS, django_assert_max_num_queries)
    search = "/api/v1/patients?q=Rosa"
    assert queries(client, search, API_SEARCH, django_assert_max_num_queries) <= API_SEARCH
