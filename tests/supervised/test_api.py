"""The supervised-session API: posting vital signs from a monitor and discharging (issue 6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.patients.models import Patient
from ketacare.supervised.models import Alarm, Session, Transition, VitalSign
from ketacare.supervised.services import lifecycle, observations
from tests.conftest import login
from tests.supervised.builders import act, checked_in, dosed, shift

pytestmark = pytest.mark.django_db

ESKETAMINE = "esketamine-nasal"
READING = {"systolic": 124, "diastolic": 80, "heart_rate": 76, "spo2": 97, "respiratory_rate": 15}


def bearer(user: User) -> Client:
    _, secret = accounts.issue_token(Actor.system("t"), user, "bedside monitor")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def vitals_url(session: Session | int) -> str:
    return f"/api/v1/sessions/{session if isinstance(session, int) else session.pk}/vitals"


def discharge_url(session: Session | int) -> str:
    return f"/api/v1/sessions/{session if isinstance(session, int) else session.pk}/discharge"


def reading(**changes: Any) -> dict[str, Any]:
    return {**READING, **changes}


def at(when: datetime) -> str:
    return when.isoformat()


def errors(response: Any) -> dict[str, str]:
    """422 errors by the field they name, with the full location checked."""
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert all(d["loc"][:2] == ["body", "payload"] and len(d["loc"]) == 3 for d in detail), detail
    return {d["loc"][2]: d["msg"] for d in detail}


@pytest.fixture
def session(patient: Patient, prescriber: User, nurse: User) -> Session:
    """An IV infusion that started ten minutes ago."""
    return shift(dosed(patient, prescriber, nurse), 10)


@pytest.fixture
def monitor(nurse: User) -> Client:
    return bearer(nurse)


# --- posting vital signs ---------------------------------------------------------------------


def test_a_new_reading_answers_201_with_its_id_and_its_alarms(
    session: Session, monitor: Client, nurse: User
) -> None:
    taken = timezone.now() - timedelta(minutes=1)
    response = post(monitor, vitals_url(session), reading(taken_at=at(taken)))
    assert response.status_code == 201, response.content
    row = VitalSign.objects.get(session=session, taken_at=taken)
    assert response.json() == {"id": row.pk, "alarms": [], "duplicate": False}
    assert (row.bp, row.heart_rate, row.spo2, row.respiratory_rate) == ("124/80", 76, 97, 15)
    assert (row.source, row.entered_by) == ("device", nurse)
    event = AuditEvent.objects.get(entity_type="vitalsign", entity_id=str(row.pk))
    assert (event.channel, event.actor) == ("api", nurse)


def test_the_time_and_the_respiratory_rate_are_optional(session: Session, monitor: Client) -> None:
    before = timezone.now()
    body = {k: v for k, v in READING.items() if k != "respiratory_rate"}
    response = post(monitor, vitals_url(session), body)
    assert response.status_code == 201, response.content
    row = VitalSign.objects.get(pk=response.json()["id"])
    assert row.respiratory_rate is None
    assert before <= row.taken_at <= timezone.now()


@pytest.mark.parametrize(
    ("changes", "alarms"),
    [
        ({"systolic": 180, "diastolic": 95}, [("hypertension", "blood pressure 180/95 mmHg")]),
        ({"systolic": 160, "diastolic": 110}, [("hypertension", "blood pressure 160/110 mmHg")]),
        ({"systolic": 89, "diastolic": 55}, [("hypotension", "systolic 89 mmHg")]),
        ({"heart_rate": 131}, [("tachycardia", "heart rate 131/min")]),
        ({"heart_rate": 44}, [("bradycardia", "heart rate 44/min")]),
        ({"spo2": 91}, [("hypoxemia", "SpO2 91%")]),
        ({"respiratory_rate": 7}, [("bradypnea", "respiratory rate 7/min")]),
    ],
)
def test_every_alarm_kind_is_raised_through_the_api(
    changes: dict[str, int],
    alarms: list[tuple[str, str]],
    session: Session,
    monitor: Client,
) -> None:
    response = post(monitor, vitals_url(session), reading(**changes))
    assert response.status_code == 201, response.content
    body = response.json()
    assert [a["kind"] for a in body["alarms"]] == [kind for kind, _ in alarms]
    for got, (_, text) in zip(body["alarms"], alarms, strict=True):
        assert got["message"].endswith(text)
        assert set(got) == {"kind", "message"}
    stored = Alarm.objects.filter(vital_id=body["id"])
    assert [(a.kind, a.message, a.is_open) for a in stored] == [
        (a["kind"], a["message"], True) for a in body["alarms"]
    ]


def test_values_just_inside_the_alarm_limits_raise_nothing(
    session: Session, monitor: Client
) -> None:
    edge = {"systolic": 179, "diastolic": 109, "heart_rate": 130, "spo2": 92, "respiratory_rate": 8}
    assert post(monitor, vitals_url(session), edge).json()["alarms"] == []
    low = {"systolic": 90, "diastolic": 60, "heart_rate": 45, "spo2": 95, "respiratory_rate": 12}
    assert post(monitor, vitals_url(session), low).json()["alarms"] == []
    assert not Alarm.objects.filter(session=session).exists()


@pytest.mark.parametrize(
    ("limits", "kinds"),
    [
        (
            {"systolic": 40, "diastolic": 20, "heart_rate": 20, "spo2": 50, "respiratory_rate": 0},
            ["hypotension", "bradycardia", "hypoxemia", "bradypnea"],
        ),
        (
            {"systolic": 300, "diastolic": 200, "heart_rate": 250, "spo2": 100},
            ["hypertension", "tachycardia"],
        ),
    ],
)
def test_values_at_the_plausible_limits_are_stored_with_every_alarm_they_raise(
    limits: dict[str, int], kinds: list[str], session: Session, monitor: Client
) -> None:
    response = post(monitor, vitals_url(session), limits)
    assert response.status_code == 201, response.content
    assert [a["kind"] for a in response.json()["alarms"]] == kinds


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("systolic", 39, "40-300"),
        ("systolic", 301, "40-300"),
        ("diastolic", 19, "20-200"),
        ("diastolic", 201, "20-200"),
        ("heart_rate", 19, "20-250"),
        ("heart_rate", 251, "20-250"),
        ("spo2", 49, "50-100"),
        ("spo2", 101, "50-100"),
        ("respiratory_rate", -1, "0-60"),
        ("respiratory_rate", 61, "0-60"),
    ],
)
def test_an_implausible_value_gets_422_naming_the_field_and_its_range(
    field: str, value: int, allowed: str, session: Session, monitor: Client
) -> None:
    count = VitalSign.objects.count()
    response = post(monitor, vitals_url(session), reading(**{field: value}))
    message = errors(response)[field]
    assert allowed in message
    assert str(value) in message
    assert len(response.json()["detail"]) == 1
    assert VitalSign.objects.count() == count
    assert not Alarm.objects.exists()


def test_a_diastolic_at_or_above_the_systolic_gets_422_on_diastolic(
    session: Session, monitor: Client
) -> None:
    response = post(monitor, vitals_url(session), reading(systolic=120, diastolic=120))
    assert errors(response) == {"diastolic": "diastolic BP 120 must be below systolic BP 120."}
    assert (
        "below systolic BP 100"
        in errors(post(monitor, vitals_url(session), reading(systolic=100, diastolic=130)))[
            "diastolic"
        ]
    )


def test_a_time_in_the_future_or_before_check_in_gets_422_on_taken_at(
    session: Session, monitor: Client
) -> None:
    assert session.checked_in_at is not None
    count = VitalSign.objects.count()
    future = reading(taken_at=at(timezone.now() + timedelta(minutes=10)))
    assert "future" in errors(post(monitor, vitals_url(session), future))["taken_at"]
    early = reading(taken_at=at(session.checked_in_at - timedelta(minutes=10)))
    assert "before check-in" in errors(post(monitor, vitals_url(session), early))["taken_at"]
    naive = reading(taken_at=timezone.localtime().replace(tzinfo=None).isoformat())
    assert "time zone" in errors(post(monitor, vitals_url(session), naive))["taken_at"]
    assert VitalSign.objects.count() == count


@pytest.mark.parametrize("field", ["systolic", "diastolic", "heart_rate", "spo2"])
def test_a_missing_required_field_gets_422_naming_it(
    field: str, session: Session, monitor: Client
) -> None:
    body = {k: v for k, v in READING.items() if k != field}
    assert field in errors(post(monitor, vitals_url(session), body))
    assert VitalSign.objects.filter(session=session, heart_rate=76).count() == 0


def test_a_value_that_is_not_a_number_gets_422_naming_it(session: Session, monitor: Client) -> None:
    assert "spo2" in errors(post(monitor, vitals_url(session), reading(spo2="ninety")))


def test_a_repeated_post_is_stored_once(session: Session, monitor: Client) -> None:
    body = reading(heart_rate=140, taken_at=at(timezone.now() - timedelta(minutes=2)))
    first = post(monitor, vitals_url(session), body)
    again = post(monitor, vitals_url(session), body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "duplicate": True}
    assert [a["kind"] for a in again.json()["alarms"]] == ["tachycardia"]
    assert VitalSign.objects.filter(session=session, heart_rate=140).count() == 1
    assert Alarm.objects.filter(session=session).count() == 1


def test_a_repeated_post_without_a_time_within_a_minute_is_stored_once(
    session: Session, monitor: Client
) -> None:
    first = post(monitor, vitals_url(session), reading(heart_rate=91))
    again = post(monitor, vitals_url(session), reading(heart_rate=91))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert VitalSign.objects.filter(session=session, heart_rate=91).count() == 1


def test_a_changed_value_or_time_is_a_new_reading(session: Session, monitor: Client) -> None:
    taken = timezone.now() - timedelta(minutes=3)
    ids = {
        post(monitor, vitals_url(session), body).json()["id"]
        for body in (
            reading(taken_at=at(taken)),
            reading(taken_at=at(taken), spo2=96),
            reading(taken_at=at(taken + timedelta(minutes=1))),
        )
    }
    assert len(ids) == 3
    assert VitalSign.objects.filter(pk__in=ids).count() == 3


def test_an_unknown_session_is_404(monitor: Client) -> None:
    assert post(monitor, vitals_url(987654), READING).status_code == 404
    assert post(monitor, discharge_url(987654)).status_code == 404


def test_a_session_that_has_ended_takes_no_vitals(
    patient: Patient, prescriber: User, nurse: User, monitor: Client
) -> None:
    session = checked_in(patient, prescriber, nurse)
    lifecycle.cancel(act(nurse), session, "Patient unwell today")
    assert "cancelled" in errors(post(monitor, vitals_url(session), READING))["state"]
    assert not VitalSign.objects.filter(session=session).exists()


def test_without_a_token_the_api_answers_401(session: Session) -> None:
    assert post(Client(), vitals_url(session), READING).status_code == 401
    assert post(Client(), discharge_url(session)).status_code == 401
    wrong = Client(HTTP_AUTHORIZATION="Bearer kc_not-a-real-token")
    assert post(wrong, vitals_url(session), READING).status_code == 401
    assert not VitalSign.objects.filter(session=session, heart_rate=76).exists()


def test_a_therapist_or_front_desk_token_is_403(
    session: Session, therapist: User, clerk: User
) -> None:
    for user in (therapist, clerk):
        client = bearer(user)
        assert post(client, vitals_url(session), READING).status_code == 403
        assert post(client, discharge_url(session)).status_code == 403
    assert not VitalSign.objects.filter(session=session, heart_rate=76).exists()
    assert Session.objects.get(pk=session.pk).state == "dosing"


def test_a_prescriber_may_post_vitals_too(session: Session, prescriber: User) -> None:
    response = post(bearer(prescriber), vitals_url(session), READING)
    assert response.status_code == 201
    assert VitalSign.objects.get(pk=response.json()["id"]).entered_by == prescriber


def test_the_browser_session_needs_the_csrf_token_for_vitals(session: Session, nurse: User) -> None:
    client = login(Client(enforce_csrf_checks=True), nurse)
    assert post(client, vitals_url(session), READING).status_code == 403
    client.get("/accounts/tokens/")  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        vitals_url(session),
        data=json.dumps(READING),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert response.status_code == 201, response.content


# --- discharge -------------------------------------------------------------------------------


def refused(client: Client, session: Session) -> list[str]:
    response = post(client, discharge_url(session))
    assert response.status_code == 409, response.content
    body = response.json()
    assert set(body) == {"unmet", "details"}
    assert [d["code"] for d in body["details"]] == body["unmet"]
    return list(body["unmet"])


def test_discharge_lists_the_unmet_criteria_until_each_is_met_then_discharges(
    patient: Patient, prescriber: User, nurse: User, monitor: Client
) -> None:
    session = dosed(patient, prescriber, nurse, ESKETAMINE)
    assert session.state == "monitoring"
    unmet = ["minimum_observation", "missing_vitals", "sedation", "dissociation", "escort_absent"]
    assert refused(monitor, session) == unmet

    alarming = post(monitor, vitals_url(session), reading(heart_rate=142)).json()
    every = [
        "minimum_observation",
        "missing_vitals",
        "vitals_out_of_range",
        "open_alarm",
        "sedation",
        "dissociation",
        "escort_absent",
    ]
    assert refused(monitor, session) == every

    fixes: list[tuple[str, Callable[[], object]]] = [
        ("vitals_out_of_range", lambda: post(monitor, vitals_url(session), reading())),
        (
            "open_alarm",
            lambda: observations.acknowledge_alarm(
                act(nurse), Alarm.objects.get(vital_id=alarming["id"]), "Reassured, HR settled"
            ),
        ),
        ("sedation", lambda: observations.record_rating(act(nurse), session, "moaas", [5])),
        (
            "dissociation",
            lambda: observations.record_rating(act(nurse), session, "cadss", [0] * 23),
        ),
        ("escort_absent", lambda: lifecycle.escort_arrived(act(nurse), session)),
        ("minimum_observation", lambda: shift(session, 125)),
    ]
    for code, fix in fixes:
        fix()
        every.remove(code)
        assert refused(monitor, session) == every, code
    assert every == ["missing_vitals"]

    row = Session.objects.get(pk=session.pk)
    assert row.state == "monitoring"
    assert row.dosing_started_at is not None
    forty = row.dosing_started_at + timedelta(minutes=40)
    assert post(monitor, vitals_url(session), reading(taken_at=at(forty))).status_code == 201
    response = post(monitor, discharge_url(session))
    assert response.status_code == 409
    (detail,) = response.json()["details"]
    assert detail["code"] == "missing_vitals"
    assert "before discharge" in detail["message"]
    assert "40 min" not in detail["message"]

    assert post(monitor, vitals_url(session), reading(spo2=99)).status_code == 201
    response = post(monitor, discharge_url(session))
    assert response.status_code == 200, response.content
    assert response.json() == {"id": session.pk, "state": "discharged"}
    row = Session.objects.get(pk=session.pk)
    assert row.state == "discharged"
    assert row.ended_at is not None
    last_two = list(Transition.objects.filter(session=session))[-2:]
    assert [(t.from_state, t.to_state, t.by) for t in last_two] == [
        ("monitoring", "ready_for_discharge", nurse),
        ("ready_for_discharge", "discharged", nurse),
    ]
    latest = AuditEvent.objects.filter(entity_type="session", entity_id=str(session.pk)).first()
    assert latest is not None
    assert (latest.new_values["state"], latest.channel, latest.actor) == (
        "discharged",
        "api",
        nurse,
    )


def test_a_refused_discharge_changes_nothing(
    patient: Patient, prescriber: User, nurse: User, monitor: Client
) -> None:
    session = dosed(patient, prescriber, nurse, ESKETAMINE)
    moves = Transition.objects.filter(session=session).count()
    events = AuditEvent.objects.count()
    refused(monitor, session)
    assert Session.objects.get(pk=session.pk).state == "monitoring"
    assert Transition.objects.filter(session=session).count() == moves
    assert AuditEvent.objects.count() == events


def test_a_second_discharge_is_refused(
    patient: Patient, prescriber: User, nurse: User, monitor: Client
) -> None:
    session = shift(dosed(patient, prescriber, nurse, ESKETAMINE), 125)
    assert session.dosing_started_at is not None
    forty = session.dosing_started_at + timedelta(minutes=40)
    post(monitor, vitals_url(session), reading(taken_at=at(forty)))
    post(monitor, vitals_url(session), reading())
    observations.record_rating(act(nurse), session, "moaas", [5])
    observations.record_rating(act(nurse), session, "cadss", [0] * 23)
    lifecycle.escort_arrived(act(nurse), session)
    assert post(monitor, discharge_url(session)).status_code == 200
    again = post(monitor, discharge_url(session))
    assert "is discharged; it cannot be discharged now" in errors(again)["state"]
    assert Transition.objects.filter(session=session, to_state="discharged").count() == 1


def test_a_session_still_dosing_cannot_be_discharged(session: Session, monitor: Client) -> None:
    assert (
        "is dosing; it cannot be discharged now"
        in errors(post(monitor, discharge_url(session)))["state"]
    )
    assert Session.objects.get(pk=session.pk).state == "dosing"


def test_a_monitor_finds_the_session_under_way_at_its_chair(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    client = bearer(nurse)
    listed = client.get("/api/v1/sessions", {"chair": session.chair}).json()
    assert listed == [
        {
            "id": session.pk,
            "chair": session.chair,
            "state": "dosing",
            "route": "iv",
            "checked_in_at": listed[0]["checked_in_at"],
            "dosing_started_at": listed[0]["dosing_started_at"],
        }
    ]
    started = datetime.fromisoformat(listed[0]["dosing_started_at"])
    assert session.dosing_started_at is not None
    assert abs(started - session.dosing_started_at) < timedelta(milliseconds=1)  # JSON: ms
    assert "patient" not in json.dumps(listed)  # a device gets no patient identifiers
    assert client.get("/api/v1/sessions", {"chair": "Chair 9"}).json() == []
    query = (
        AuditEvent.objects.filter(action="search", entity_type="session").order_by("-seq").first()
    )
    assert query is not None
    assert query.new_values == {"chair": "Chair 9", "results": [], "patients": []}
    found = AuditEvent.objects.filter(action="search", entity_type="session").order_by("seq")[0]
    assert found.new_values["patients"] == [patient.mrn]  # whom the ids reveal, for the trail
    assert (
        bearer(User.objects.create(username="t2", role="therapist"))
        .get("/api/v1/sessions")
        .status_code
        == 403
    )
