"""The audit hash chain: pure functions, no Django.

Each event's hash is SHA-256 over the previous event's hash and a canonical JSON form of the
event, so editing an event breaks its own hash, deleting one breaks the link of the next, and
deleting the newest is caught by the chain head (the last sequence number and hash, stored apart).
Anyone able to rewrite the whole table *and* the head can forge a consistent chain; anchoring the
head outside the database (e.g. printing ``ketacare audit verify`` daily to a log) closes that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(prev_hash: str, payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical(payload)}".encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    seq: int
    prev_hash: str
    hash: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Verdict:
    events: int
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(links: Iterable[Link], head_seq: int, head_hash: str) -> Verdict:
    """Check a chain given in sequence order against its head."""
    problems: list[str] = []
    expected_seq, prev = 1, GENESIS
    count = 0
    for link in links:
        count += 1
        if link.seq != expected_seq:
            problems.append(f"event #{expected_seq}..#{link.seq - 1} missing (deleted?)")
        if link.prev_hash != prev:
            problems.append(f"event #{link.seq}: link to the previous event is broken")
        if digest(link.prev_hash, link.payload) != link.hash:
            problems.append(f"event #{link.seq}: contents do not match its hash (edited?)")
        expected_seq, prev = link.seq + 1, link.hash
    if expected_seq - 1 != head_seq or prev != head_hash:
        problems.append(
            f"chain ends at #{expected_seq - 1} but the head records #{head_seq}: "
            "newest events deleted or head altered"
        )
    return Verdict(events=count, problems=tuple(problems))
