"""``ketacare worker``: the long-running process that does the clinic's background work, a round
every ``--interval`` seconds (or one with ``--once``): it sends the reminders of due self-report
requests (:mod:`ketacare.measures.reminders`) and builds the queued FHIR bulk exports
(:mod:`ketacare.fhir.services.jobs`), and it appends a signed checkpoint of the audit chain
heads when the newest is older than ``KETACARE_AUDIT_CHECKPOINT_MINUTES``
(:mod:`ketacare.audit.checkpoint`). It lives in the roof because it composes both; it owns the
loop, the worker's name, stopping on a signal and the start-up warning when delivery is only
printed; claiming, sending, building and auditing are those modules'."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from ketacare.audit import checkpoint
from ketacare.fhir.services import jobs
from ketacare.measures import reminders

logger = logging.getLogger("ketacare.worker")
INTERVAL = (1, 3600)
NAP = 0.2  # seconds: how quickly a sleeping worker notices SIGTERM


def interval(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not INTERVAL[0] <= value <= INTERVAL[1]:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not a whole number of seconds from {INTERVAL[0]} to {INTERVAL[1]}"
        )
    return value


def worker_id(raw: str) -> str:
    if not 1 <= len(raw) <= 64:
        raise argparse.ArgumentTypeError("a worker id is 1 to 64 characters")
    return raw


def default_id() -> str:
    pid = str(os.getpid())
    return f"{socket.gethostname()[: 63 - len(pid)]}-{pid}"


def delivery_warnings() -> list[str]:
    """Say when reminders would only be printed: right in a demo, wrong in a clinic."""
    warnings = []
    if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        warnings.append("email reminders are printed, not sent: set KETACARE_EMAIL_URL=smtp://...")
    if settings.KETACARE_SMS_SENDER.endswith("ConsoleSmsSender"):
        warnings.append("SMS reminders are printed, not sent: configure KETACARE_SMS_SENDER")
    return warnings


class Command(BaseCommand):
    help = (
        "Send the reminders of due self-report requests (email, and SMS through "
        "KETACARE_SMS_SENDER) and build the queued FHIR bulk exports. Run one or more; each "
        "claims a reminder or an export before working on it, so none is done twice. Stops "
        "after the current round on SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one round and exit")
        parser.add_argument(
            "--interval",
            type=interval,
            default=30,
            help=f"seconds between rounds ({INTERVAL[0]}-{INTERVAL[1]}, default 30)",
        )
        parser.add_argument(
            "--id",
            type=worker_id,
            default=None,
            help="this worker's name in claims and the audit trail (default: hostname-pid)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["id"] or default_id()
        for warning in delivery_warnings():
            logger.warning("worker %s: %s", name, warning)
        if options["once"]:
            self._round(name)
            return
        self.stopping = False
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}
        logger.info("worker %s: started, a round every %s s", name, options["interval"])
        try:
            while not self.stopping:
                # A long-lived process outside any request: drop a connection that broke (the
                # database restarted) or outlived CONN_MAX_AGE, as each request would.
                close_old_connections()
                try:
                    self._round(name)
                except Exception:  # the database may be back next round
                    logger.exception("worker %s: round failed", name)
                self._sleep(options["interval"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        logger.info("worker %s: stopped", name)

    def _round(self, name: str) -> None:
        sent = reminders.process_due(name)
        logger.info("worker %s: %d reminder%s sent", name, sent, "" if sent == 1 else "s")
        built = jobs.run_due(name)
        if built:
            logger.info("worker %s: %d FHIR export%s built", name, built, "" if built == 1 else "s")
        if checkpoint.take_if_due(settings.KETACARE_AUDIT_CHECKPOINT_MINUTES):
            logger.info("worker %s: audit checkpoint written to %s", name, checkpoint.path())

    def _sleep(self, seconds: int) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(NAP)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
