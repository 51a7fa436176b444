from __future__ import annotations

import io
import logging
import re
import signal
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import include, path
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.audit.models import AuditEvent
from ketacare.audit.selectors import verify_chain
from ketacare.measures import reminders, services
from ketacare.measures.models import AssessmentRequest
from ketacare.measures.reminders import STALE, ConsoleSmsSender, claim, process_due
from ketacare.measures.schedules import create_schedule, deactivate_schedule
from ketacare.patients.models import Patient
from ketacare.site.management.commands import worker
from tests.conftest import build_patient

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://127\.0\.0\.1:8000/self-report/t/([A-Za-z0-9_-]+)/")
CODE = re.compile(r"code ([A-Z2-9]{4})-([A-Z2-9]{4})")


class RecordingSms:
    """Keeps what would have been texted."""

    sent: ClassVar[list[tuple[str, str, str]]] = []

    def send(self, to: str, text: str, *, reference: str = "") -> None:
        self.sent.append((to, text, reference))


class BrokenSms:
    def send(self, to: str, text: str, *, reference: str = "") -> None:
        raise ConnectionError("SMS gateway unreachable")


@pytest.fixture(autouse=True)
def texts(settings: Any) -> list[tuple[str, str, str]]:
    settings.KETACARE_SMS_SENDER = "tests.measures.test_reminders.RecordingSms"
    settings.KETACARE_PUBLIC_URL = "http://127.0.0.1:8000"
    RecordingSms.sent = []
    return RecordingSms.sent


@pytest.fixture
def now() -> datetime:
    return timezone.now()


@pytest.fixture
def rita(db: None) -> Patient:
    """Margarita "Rita" Delgado, reachable by email and phone."""
    return build_patient(
        mrn="RITA-042",
        given_name="Margarita",
        preferred_name="Rita",
        email="rita@example.org",
        phone="+1 555 201 7788",
    )


def due(patient: Patient, now: datetime, **fields: Any) -> AssessmentRequest:
    values: dict[str, Any] = {
        "patient": patient,
        "instruments": ["gad7", "phq9"],
        "context": "follow_up",
        "due_at": now - timedelta(hours=1),
        "expires_at": now + timedelta(hours=71),
    }
    values.update(fields)
    return AssessmentRequest.objects.create(**values)


def secrets_in(text: str) -> tuple[str, str]:
    link, code = LINK.search(text), CODE.search(text)
    assert link is not None
    assert code is not None
    return link.group(1), code.group(1) + code.group(2)


def test_a_due_request_is_emailed_and_texted_with_a_link_and_code_that_open_it(
    rita: Patient, now: datetime, texts: list[tuple[str, str, str]]
) -> None:
    request = due(rita, now)
    assert process_due("worker-a", now) == 1

    [email] = mail.outbox
    assert email.to == ["rita@example.org"]
    [(to, sms, reference)] = texts
    assert (to, reference) == ("+1 555 201 7788", f"request {request.pk}")
    token, code = secrets_in(email.body)
    assert secrets_in(sms) == (token, code)
    assert services.open_request(token, by_code=False, ip="127.0.0.1").pk == request.pk
    assert services.open_request(code, by_code=True, ip="127.0.0.1").pk == request.pk
    request.refresh_from_db()
    assert (request.reminded_at, request.claimed_by, request.claimed_at) == (now, "worker-a", now)


def test_the_message_names_the_patient_by_first_name_only(
    rita: Patient, now: datetime, texts: list[tuple[str, str, str]]
) -> None:
    due(rita, now)
    process_due("worker-a", now)
    for text in (mail.outbox[0].subject, mail.outbox[0].body, texts[0][1]):
        assert "Margarita" not in text
        assert "Delgado" not in text
        assert "RITA-042" not in text
        assert not re.search(r"gad|phq|anxiety|depress|ketamine", text, re.IGNORECASE)
    assert mail.outbox[0].body.startswith("Hello Rita,\n")
    assert texts[0][1].startswith("Hello Rita, ")


# The patient's pages mounted elsewhere, for the test below.
urlpatterns = [path("questions/", include("ketacare.measures.self_report_urls"))]


@pytest.mark.urls(__name__)
def test_the_link_and_the_code_page_follow_the_url_configuration(
    rita: Patient, now: datetime
) -> None:
    reminder = reminders.compose(due(rita, now), "ABCD2345", "a-token")
    assert "http://127.0.0.1:8000/questions/t/a-token/" in reminder.sms
    assert "enter code ABCD-2345 at http://127.0.0.1:8000/questions/)" in reminder.sms
    assert "Or go to http://127.0.0.1:8000/questions/ and enter" in reminder.body


def test_without_a_preferred_name_the_given_name_is_used(now: datetime) -> None:
    patient = build_patient(given_name="Tomasz", email="t@example.org")
    due(patient, now)
    process_due("worker-a", now)
    assert mail.outbox[0].body.startswith("Hello Tomasz,\n")


def test_sending_is_audited_without_the_code_or_link(rita: Patient, now: datetime) -> None:
    request = due(rita, now)
    process_due("worker-a", now)
    token, code = secrets_in(mail.outbox[0].body)
    event = AuditEvent.objects.get(entity_type="assessmentrequest", entity_id=str(request.pk))
    assert (event.action, event.patient_id) == ("update", rita.pk)
    assert event.actor_label == "reminder worker worker-a"
    assert event.old_values == {"reminded_at": None}
    assert event.new_values == {"reminded_at": now.isoformat(), "sent_by": ["email", "sms"]}
    assert token not in str(event.new_values)
    assert code not in str(event.new_values)
    assert verify_chain().intact


def test_only_the_channels_the_patient_has_are_used(
    now: datetime, texts: list[tuple[str, str, str]]
) -> None:
    due(build_patient(email="only-email@example.org"), now)
    due(build_patient(phone="+1 555 000 1111"), now)
    assert process_due("worker-a", now) == 2
    assert [m.to for m in mail.outbox] == [["only-email@example.org"]]
    assert [t[0] for t in texts] == ["+1 555 000 1111"]


def test_a_patient_with_neither_email_nor_phone_is_left_for_the_overdue_list(
    patient: Patient, now: datetime
) -> None:
    request = due(patient, now)
    assert process_due("worker-a", now) == 0
    request.refresh_from_db()
    assert (request.claimed_by, request.reminded_at) == ("", None)


def test_a_request_claimed_by_another_live_worker_is_skipped(rita: Patient, now: datetime) -> None:
    request = due(rita, now, claimed_by="worker-b", claimed_at=now - STALE + timedelta(seconds=5))
    assert process_due("worker-a", now) == 0
    assert mail.outbox == []
    request.refresh_from_db()
    assert request.claimed_by == "worker-b"


def test_a_stale_claim_of_a_dead_worker_is_taken_over_after_a_restart(
    rita: Patient, now: datetime
) -> None:
    request = due(rita, now, claimed_by="crashed", claimed_at=now - STALE - timedelta(seconds=1))
    assert process_due("restarted", now) == 1
    request.refresh_from_db()
    assert (request.claimed_by, request.reminded_at) == ("restarted", now)


def test_of_two_workers_claiming_the_same_request_only_the_first_wins(
    rita: Patient, now: datetime
) -> None:
    request = due(rita, now)
    assert claim(request.pk, "worker-a", now) is True
    assert claim(request.pk, "worker-b", now) is False
    assert claim(request.pk, "worker-a", now) is False  # a claim is taken once, even by its owner
    request.refresh_from_db()
    assert request.claimed_by == "worker-a"


def test_requests_not_due_expired_completed_or_already_sent_are_skipped(
    rita: Patient, now: datetime
) -> None:
    due(rita, now, due_at=now + timedelta(minutes=1))
    due(rita, now, expires_at=now)
    due(rita, now, completed_at=now - timedelta(minutes=5))
    due(rita, now, reminded_at=now - timedelta(minutes=5))
    assert process_due("worker-a", now) == 0
    assert mail.outbox == []
    assert not AssessmentRequest.objects.filter(claimed_by="worker-a").exists()


def test_a_round_sends_at_most_limit_reminders_oldest_first(rita: Patient, now: datetime) -> None:
    oldest = due(rita, now, due_at=now - timedelta(hours=5))
    due(rita, now, due_at=now - timedelta(hours=1))
    assert process_due("worker-a", now, limit=1) == 1
    assert list(AssessmentRequest.objects.filter(reminded_at__isnull=False)) == [oldest]
    assert process_due("worker-a", now, limit=1) == 1


def test_a_failed_delivery_is_not_recorded_and_is_retried_once_the_claim_is_stale(
    rita: Patient, now: datetime, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    request = due(rita, now)
    settings.KETACARE_SMS_SENDER = "tests.measures.test_reminders.BrokenSms"
    with caplog.at_level(logging.ERROR, logger="ketacare.measures.reminders"):
        assert process_due("worker-a", now) == 0
    assert f"request {request.pk}: reminder not sent" in caplog.text
    request.refresh_from_db()
    assert (request.claimed_by, request.reminded_at, request.code_digest) == (
        "worker-a",
        None,
        None,
    )
    assert not AuditEvent.objects.filter(entity_type="assessmentrequest").exists()

    settings.KETACARE_SMS_SENDER = "tests.measures.test_reminders.RecordingSms"
    assert process_due("worker-b", now + timedelta(minutes=5)) == 0  # claim still fresh
    assert process_due("worker-b", now + STALE + timedelta(seconds=1)) == 1
    request.refresh_from_db()
    assert request.claimed_by == "worker-b"
    assert request.reminded_at is not None


def test_requests_of_a_stopped_schedule_are_never_sent(rita: Patient) -> None:
    system = Actor.system("test setup")
    schedule = create_schedule(
        system, rita, ["gad7"], every_days=7, for_weeks=2, starts_on=timezone.localdate()
    )
    deactivate_schedule(system, schedule)
    assert process_due("worker-a", timezone.now() + timedelta(days=8)) == 0
    assert mail.outbox == []


def test_scheduled_requests_are_sent_once_they_fall_due(rita: Patient) -> None:
    system = Actor.system("test setup")
    create_schedule(
        system, rita, ["gad7"], every_days=7, for_weeks=2, starts_on=timezone.localdate()
    )
    first, second = AssessmentRequest.objects.order_by("due_at")
    assert process_due("worker-a", first.due_at - timedelta(seconds=1)) == 0
    assert process_due("worker-a", first.due_at) == 1
    assert process_due("worker-a", second.due_at + timedelta(hours=1)) == 1
    assert len(mail.outbox) == 2


def test_the_console_sender_writes_one_line_per_text_with_the_request() -> None:
    stream = io.StringIO()
    ConsoleSmsSender(stream).send("+1 555 0100", "Hello Rita", reference="request 12")
    assert stream.getvalue() == "[request 12] SMS to +1 555 0100: Hello Rita\n"


def test_the_console_sender_writes_to_standard_output_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ConsoleSmsSender().send("+1 555 0100", "Hi", reference="request 3")
    assert capsys.readouterr().out == "[request 3] SMS to +1 555 0100: Hi\n"


def test_the_sender_is_the_class_named_in_settings(settings: Any) -> None:
    assert isinstance(reminders.sms_sender(), RecordingSms)
    settings.KETACARE_SMS_SENDER = "ketacare.measures.reminders.ConsoleSmsSender"
    assert isinstance(reminders.sms_sender(), ConsoleSmsSender)


def test_worker_once_runs_one_round_and_logs_the_count(
    rita: Patient, caplog: pytest.LogCaptureFixture
) -> None:
    due(rita, timezone.now())
    with caplog.at_level(logging.INFO, logger="ketacare.worker"):
        call_command("worker", "--once", "--id", "front-1")
    assert caplog.messages[0] == "worker front-1: 1 reminder sent"
    assert caplog.messages[1:] == [  # and the audit checkpoint, none being on file yet
        f"worker front-1: audit checkpoint written to {settings.KETACARE_AUDIT_CHECKPOINT_FILE}"
    ]
    assert AssessmentRequest.objects.get().claimed_by == "front-1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "0"], "'0' is not a whole number of seconds from 1 to 3600"),
        (["--interval", "3601"], "from 1 to 3600"),
        (["--interval", "ten"], "'ten' is not a whole number"),
        (["--id", "x" * 65], "a worker id is 1 to 64 characters"),
    ],
)
def test_worker_refuses_bad_options(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("worker", "--once", *args)


def test_the_default_worker_id_is_host_and_process_and_fits_a_claim() -> None:
    name = worker.default_id()
    assert re.fullmatch(r".+-\d+", name)
    assert len(name) <= 64


def test_worker_keeps_going_after_a_failed_round_and_stops_on_sigterm(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rounds: list[str] = []

    def fake_round(worker_id: str) -> int:
        rounds.append(worker_id)
        if len(rounds) == 1:
            raise RuntimeError("database unavailable")
        signal.raise_signal(signal.SIGTERM)  # the handler lets this round finish
        return 2

    reconnects: list[bool] = []
    monkeypatch.setattr(reminders, "process_due", fake_round)
    monkeypatch.setattr(worker, "NAP", 0.01)
    # Outside a test's transaction the worker drops stale connections before each round.
    monkeypatch.setattr(worker, "close_old_connections", lambda: reconnects.append(True))
    before = signal.getsignal(signal.SIGTERM)
    with caplog.at_level(logging.INFO, logger="ketacare.worker"):
        call_command("worker", "--interval", "1", "--id", "loop")
    assert rounds == ["loop", "loop"]
    assert reconnects == [True, True]
    assert caplog.messages == [
        "worker loop: started, a round every 1 s",
        "worker loop: round failed",
        "worker loop: 2 reminders sent",
        f"worker loop: audit checkpoint written to {settings.KETACARE_AUDIT_CHECKPOINT_FILE}",
        "worker loop: stopped",
    ]
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_worker_warns_when_reminders_would_only_be_printed(settings: Any) -> None:
    from ketacare.site.management.commands.worker import delivery_warnings

    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.KETACARE_SMS_SENDER = "ketacare.measures.reminders.ConsoleSmsSender"
    assert [w.split(":")[0] for w in delivery_warnings()] == [
        "email reminders are printed, not sent",
        "SMS reminders are printed, not sent",
    ]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.KETACARE_SMS_SENDER = "clinic.sms.GatewaySender"
    assert delivery_warnings() == []
