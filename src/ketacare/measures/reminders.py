"""Sending the reminders of due self-report requests: the work of ``ketacare worker``.

Each round finds requests that are due, not reminded, not completed and not expired, claims
them one by one, and for each claim issues a fresh one-time code and link, sends them by email
(if the patient has an address) and by SMS (if the patient has a phone), then stores the
code's digests, ``reminded_at`` and an audit event in one transaction.

Delivery guarantee
    A claim is one conditional UPDATE that matches only a row that is unclaimed, or whose
    claim is older than :data:`STALE`. The database applies competing UPDATEs of a row one
    after the other and re-checks the condition for the second (PostgreSQL re-evaluates the
    WHERE clause on the updated row; SQLite has a single writer), so exactly one worker wins
    and two live workers never send the same reminder.

    A worker that dies after sending but before committing leaves its claim behind; after
    STALE another worker (or the same one restarted) takes it over and sends again with a new
    code, and the first message's link stops working. Delivery is therefore at least once,
    never at most once. That is the safer side for a clinical reminder: a duplicate costs the
    patient one extra message, while a lost one means a follow-up measure, which may carry
    the only suicide-risk question the care team sees between sessions, silently never
    happens. A round that fails leaves its rows due, so a restarted worker resumes where the
    last one stopped.

    The claim stays exclusive only while one delivery takes less than STALE: email is sent
    with a :data:`SEND_TIMEOUT` well below it, and an :class:`SmsSender` must return or raise
    well within it. Workers on different hosts compare claim times from their own clocks, so
    keep the clocks synchronised (NTP).

Messages are sent before the transaction that records them, not inside it: on SQLite a
transaction holds the database's only write lock, and a slow mail server must not stall every
other write in the clinic.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TextIO, cast

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from ketacare.accounts.actor import Actor
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.measures.models import AssessmentRequest, digest
from ketacare.measures.services import new_secret

STALE = timedelta(minutes=10)  # a claim this old belongs to a worker that died
SEND_TIMEOUT = 60  # seconds for one email, far below STALE
DEFAULT_SMS_SENDER = "ketacare.measures.reminders.ConsoleSmsSender"

logger = logging.getLogger(__name__)


class SmsSender(Protocol):
    """Sends one text message, or raises. ``reference`` names the request (``request 12``)
    for the gateway's delivery reports and logs; it is never part of the text."""

    def send(self, to: str, text: str, *, reference: str = "") -> None: ...


class ConsoleSmsSender:
    """For development: one line per SMS on a text stream (standard output by default). Like
    Django's console email backend it shows the code and link, so it is not for production."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, to: str, text: str, *, reference: str = "") -> None:
        stream = self.stream or sys.stdout
        stream.write(f"[{reference}] SMS to {to}: {text}\n")
        stream.flush()


def sms_sender() -> SmsSender:
    """The sender named by ``KETACARE_SMS_SENDER`` (a dotted path to a class)."""
    path = getattr(settings, "KETACARE_SMS_SENDER", DEFAULT_SMS_SENDER)
    return cast("SmsSender", import_string(path)())


@dataclass(frozen=True)
class Reminder:
    subject: str
    body: str
    sms: str


def compose(request: AssessmentRequest, code: str, token: str) -> Reminder:
    """The message: the patient's first name and nothing else about them or their care (no
    surname, record number or instrument names), since a phone or inbox may be shared."""
    patient = request.patient
    first_name = (patient.preferred_name or patient.given_name).strip()
    site = settings.KETACARE_PUBLIC_URL
    link = site + reverse("self_report:link", args=[token])
    entry = site + reverse("self_report:code")
    shown_code = f"{code[:4]}-{code[4:]}"
    until = f"{timezone.localtime(request.expires_at):%Y-%m-%d %H:%M %Z}"
    body = (
        f"Hello {first_name},\n\n"
        "Your clinic has asked you to answer a few short questions. Open this link to start:\n\n"
        f"{link}\n\n"
        f"Or go to {entry} and enter the code {shown_code}.\n\n"
        f"The link and the code work once, until {until}.\n"
    )
    sms = (
        f"Hello {first_name}, your clinic asks you to answer a few short questions: {link} "
        f"(or enter code {shown_code} at {entry}). Works once, until {until}."
    )
    return Reminder("Questions from your clinic", body, sms)


def process_due(worker_id: str, now: datetime | None = None, limit: int = 100) -> int:
    """Claim and send up to ``limit`` due reminders; how many were sent."""
    now = now or timezone.now()
    sender, sent = sms_sender(), 0
    for request_id in due_request_ids(now, limit):
        if claim(request_id, worker_id, now) and _deliver(request_id, worker_id, now, sender):
            sent += 1
    return sent


def due_request_ids(now: datetime, limit: int) -> list[int]:
    """Oldest first. A patient with neither email nor phone is left to the overdue list."""
    due = AssessmentRequest.objects.filter(_due(now), _claimable(now)).exclude(
        patient__email="", patient__phone=""
    )
    return list(due.order_by("due_at", "pk").values_list("pk", flat=True)[:limit])


def claim(request_id: int, worker_id: str, now: datetime) -> bool:
    """Take the request for ``worker_id``; of any workers racing for it, exactly one wins."""
    won = AssessmentRequest.objects.filter(_due(now), _claimable(now), pk=request_id).update(
        claimed_by=worker_id, claimed_at=now
    )
    return won == 1


def _due(now: datetime) -> Q:
    return Q(
        due_at__lte=now, reminded_at__isnull=True, completed_at__isnull=True, expires_at__gt=now
    )


def _claimable(now: datetime) -> Q:
    return Q(claimed_by="") | Q(claimed_at__lt=now - STALE)


def _deliver(request_id: int, worker_id: str, now: datetime, sender: SmsSender) -> bool:
    try:
        request = AssessmentRequest.objects.select_related("patient").get(pk=request_id)
        code, token = new_secret()
        channels = _send(request, compose(request, code, token), sender)
        with transaction.atomic():
            locked = AssessmentRequest.objects.select_for_update().get(pk=request_id)
            old = {"reminded_at": locked.reminded_at}
            locked.code_digest, locked.token_digest = digest(code), digest(token)
            locked.reminded_at = now
            locked.save(update_fields=["code_digest", "token_digest", "reminded_at"])
            record(
                Actor.system(f"reminder worker {worker_id}"),
                Action.UPDATE,
                locked,
                patient=request.patient,
                old=old,
                new={"reminded_at": now, "sent_by": channels},
            )
    except Exception:
        # The claim stays, so another attempt is made once it is stale: a natural back-off.
        logger.exception("request %s: reminder not sent; retried after %s", request_id, STALE)
        return False
    return True


def _send(request: AssessmentRequest, reminder: Reminder, sender: SmsSender) -> list[str]:
    patient, channels = request.patient, []
    if patient.email:
        connection = get_connection(timeout=SEND_TIMEOUT)
        send_mail(reminder.subject, reminder.body, None, [patient.email], connection=connection)
        channels.append("email")
    if patient.phone:
        sender.send(patient.phone, reminder.sms, reference=f"request {request.pk}")
        channels.append("sms")
    return channels
