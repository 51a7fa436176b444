"""Signed checkpoints of the audit chain heads, kept outside the database.

The triggers keep the application's own database role from moving a chain head back, but someone
who can drop them (a superuser, a restored copy edited offline) could delete the newest events
and move the heads back to match: every chain would still verify. A checkpoint closes that gap.
``ketacare audit checkpoint`` (and the worker, every ``KETACARE_AUDIT_CHECKPOINT_MINUTES``)
appends one line to a file outside the database: the time and every chain's head, with an
HMAC-SHA256 under a key that is not in the database either. ``ketacare audit verify`` then
checks each line's signature and that the event each checkpoint saw is still there with the
same hash: a tail deleted after a checkpoint is found even when the heads were moved back.

The key is ``KETACARE_AUDIT_KEY`` or, unset, a random key written once to the ``var`` folder
(mode 0600); the file is ``KETACARE_AUDIT_CHECKPOINT_FILE`` (default in the ``var`` folder).
A clinic keeps both where a database administrator cannot write: another host, a log shipper,
write-once storage."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ketacare.audit.chain import canonical
from ketacare.audit.models import AuditEvent, ChainHead

logger = logging.getLogger(__name__)
Heads = Mapping[int, tuple[int, str]]  # chain -> (seq, hash) of its newest event


@dataclass(frozen=True)
class Checkpoint:
    taken_at: datetime
    heads: Heads


@dataclass(frozen=True)
class Reading:
    """What a checkpoint file holds: the checkpoints whose signature holds, and the problems."""

    checkpoints: tuple[Checkpoint, ...]
    problems: tuple[str, ...]

    @property
    def newest(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


def path() -> Path:
    return Path(settings.KETACARE_AUDIT_CHECKPOINT_FILE)


def key() -> bytes:
    """The signing key: the configured one, else one made once beside the database's files."""
    configured = settings.KETACARE_AUDIT_KEY
    if configured:
        return str(configured).encode()
    file = Path(settings.KETACARE_VAR_DIR) / "audit_checkpoint_key"
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return file.read_text().strip().encode()


def _body(taken_at: datetime, heads: Heads) -> dict[str, Any]:
    return {
        "taken_at": taken_at.isoformat(),
        "heads": {str(chain): [seq, hash_] for chain, (seq, hash_) in sorted(heads.items())},
    }


def sign(secret: bytes, taken_at: datetime, heads: Heads) -> str:
    return hmac.new(secret, canonical(_body(taken_at, heads)).encode(), hashlib.sha256).hexdigest()


def current_heads() -> dict[int, tuple[int, str]]:
    with transaction.atomic():  # one read of every head
        return {h.chain: (h.seq, h.hash) for h in ChainHead.objects.order_by("chain")}


def take() -> Checkpoint:
    """Append a signed checkpoint of the heads as they are now (the file is made mode 0600)."""
    point = Checkpoint(taken_at=timezone.now(), heads=current_heads())
    line = _body(point.taken_at, point.heads) | {"mac": sign(key(), point.taken_at, point.heads)}
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as out:
        out.write(canonical(line) + "\n")
        out.flush()
        os.fsync(out.fileno())
    return point


def take_if_due(minutes: int) -> Checkpoint | None:
    """A checkpoint unless the newest one in the file is younger than ``minutes``."""
    newest = read_newest().newest
    if newest is not None and timezone.now() - newest.taken_at < timedelta(minutes=minutes):
        return None
    return take()


def read() -> Reading:
    """Every line of the checkpoint file: signed ones kept in order, others named as problems."""
    target = path()
    if not target.exists():
        return Reading((), ())
    return parse(target.read_text().splitlines(), key())


def read_newest() -> Reading:
    """The file's last line only (the health check's and the worker's cheap read)."""
    target = path()
    if not target.exists():
        return Reading((), ())
    with target.open("rb") as file:
        size = file.seek(0, os.SEEK_END)
        file.seek(max(0, size - 8192))
        tail = file.read().decode(errors="replace").splitlines()
    return parse(tail[-1:], key())


def parse(lines: Iterable[str], secret: bytes) -> Reading:
    points: list[Checkpoint] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        point = _parse_line(line)
        if point is None:
            problems.append(f"checkpoint line {number} is not a checkpoint (damaged file?)")
            continue
        given = str(json.loads(line).get("mac", ""))
        if not hmac.compare_digest(given, sign(secret, point.taken_at, point.heads)):
            problems.append(
                f"checkpoint line {number} ({point.taken_at:%Y-%m-%d %H:%M}) is not signed "
                "with this clinic's key: altered, or written under another key"
            )
            continue
        points.append(point)
    return Reading(tuple(points), tuple(problems))


def _parse_line(line: str) -> Checkpoint | None:
    try:
        data = json.loads(line)
        heads = {int(c): (int(v[0]), str(v[1])) for c, v in data["heads"].items()}
        return Checkpoint(datetime.fromisoformat(data["taken_at"]), heads)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def compare(reading: Reading) -> list[str]:
    """What the database lost since the checkpoints saw it: for every chain, the event at the
    newest checkpoint's head must still be there with the hash it had (the chain's own hashes
    vouch for everything before it), and no head may be behind a checkpoint."""
    problems = list(reading.problems)
    newest: dict[int, tuple[int, str, datetime]] = {}
    for point in reading.checkpoints:
        for chain, (seq, hash_) in point.heads.items():
            seen = newest.get(chain)
            if seen is not None and seq < seen[0]:
                problems.append(
                    f"chain {chain}: the checkpoint of {point.taken_at:%Y-%m-%d %H:%M} saw "
                    f"#{seq}, behind #{seen[0]} seen earlier: its head had been moved back"
                )
            if seen is None or seq >= seen[0]:
                newest[chain] = (seq, hash_, point.taken_at)
    for chain, (seq, hash_, at) in sorted(newest.items()):
        if seq == 0:
            continue
        found = AuditEvent.objects.filter(chain=chain, seq=seq).values_list("hash", flat=True)
        stored = found.first()
        if stored is None:
            problems.append(
                f"chain {chain}: event #{seq}, seen by the checkpoint of {at:%Y-%m-%d %H:%M}, "
                "is gone: the newest events were deleted"
            )
        elif stored != hash_:
            problems.append(
                f"chain {chain}: event #{seq} differs from what the checkpoint of "
                f"{at:%Y-%m-%d %H:%M} saw: the chain was rewritten"
            )
    return problems


def behind() -> list[str]:
    """For the health check: chain heads behind the newest checkpoint (cheap: no event read).
    A checkpoint file that cannot be read is logged, not a health failure: the database is."""
    try:
        reading = read_newest()
    except OSError as exc:
        logger.error("audit checkpoints cannot be read: %s", exc)
        return []
    if reading.problems:
        return list(reading.problems)
    newest = reading.newest
    if newest is None:
        return []
    heads = current_heads()
    return [
        f"the head of chain {chain} is behind the newest checkpoint"
        for chain, (seq, _) in newest.heads.items()
        if heads.get(chain, (0, ""))[0] < seq
    ]
