"""The session API for bedside devices: the sessions under way (no patient identifiers), posting
vital signs (a repeated reading is stored once) and discharge. Each operation authorises and
calls one service in :mod:`.services`, which audits it; a refused discharge answers 409 with the
unmet criteria."""

# No `from __future__ import annotations`: ninja reads the payload types at definition time.
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from ketacare.accounts.actor import Actor
from ketacare.accounts.api_auth import allow
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Channel
from ketacare.clinical import monitoring
from ketacare.supervised.models import Session, VitalSource
from ketacare.supervised.services import lifecycle, observations, primitives, reads

router = Router(tags=["sessions"])


class VitalsIn(Schema):
    taken_at: datetime | None = None
    systolic: int
    diastolic: int
    heart_rate: int
    spo2: int
    respiratory_rate: int | None = None


class AlarmOut(Schema):
    kind: str
    message: str


class VitalsOut(Schema):
    id: int
    alarms: list[AlarmOut]
    duplicate: bool


class Unmet(Schema):
    code: str
    message: str


class DischargeRefusedOut(Schema):
    unmet: list[str]
    details: list[Unmet]


class SessionOut(Schema):
    id: int
    state: str


class ActiveSessionOut(Schema):
    id: int
    chair: str
    state: str
    route: str
    checked_in_at: datetime | None
    dosing_started_at: datetime | None

    @staticmethod
    def resolve_id(obj: Session) -> int:
        return int(obj.pk)  # the planned session's id, as in /sessions/{id}/


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


@router.get("/sessions", response=list[ActiveSessionOut], auth=allow(Perm.SESSION_RUN))
def active_sessions(request: HttpRequest, chair: str = "") -> list[Session]:
    """The sessions under way (checked in to ready for discharge), optionally at one `chair`,
    so a bedside monitor can find the session to post vital signs to. No patient identifiers."""
    return reads.find_active(_actor(request), chair.strip())


@router.post(
    "/sessions/{session_id}/vitals",
    response={200: VitalsOut, 201: VitalsOut},
    auth=allow(Perm.SESSION_RUN),
)
def post_vitals(request: HttpRequest, session_id: int, payload: VitalsIn) -> Status[dict[str, Any]]:
    """Store a set of vital signs from a monitor or device and return the alarms it raised.

    Implausible values get 422 naming the field. Posting the same reading again (same values and
    `taken_at`, or no `taken_at` and the same values within a minute) stores nothing and answers
    200 with the stored reading's id; a new reading answers 201."""
    session = get_object_or_404(Session, pk=session_id)
    vitals = monitoring.Vitals(
        payload.systolic,
        payload.diastolic,
        payload.heart_rate,
        payload.spo2,
        payload.respiratory_rate,
    )
    stored = observations.record_vitals(
        _actor(request), session, vitals, taken_at=payload.taken_at, source=VitalSource.DEVICE
    )
    body: dict[str, Any] = {
        "id": stored.vital.pk,
        "alarms": [{"kind": a.kind, "message": a.message} for a in stored.alarms],
        "duplicate": not stored.created,
    }
    return Status(201 if stored.created else 200, body)


@router.post(
    "/sessions/{session_id}/discharge",
    response={200: SessionOut, 409: DischargeRefusedOut},
    auth=allow(Perm.SESSION_RUN),
)
def post_discharge(request: HttpRequest, session_id: int) -> Status[dict[str, Any]]:
    """Discharge the patient when every criterion holds; otherwise 409 with the unmet ones:
    minimum_observation, missing_vitals, vitals_out_of_range, open_alarm, sedation,
    dissociation, escort_absent."""
    session = get_object_or_404(Session, pk=session_id)
    try:
        session = lifecycle.discharge(_actor(request), session)
    except primitives.DischargeRefused as exc:
        details = [{"code": u.code, "message": u.message} for u in exc.unmet]
        return Status(409, {"unmet": [u.code for u in exc.unmet], "details": details})
    return Status(200, {"id": session.pk, "state": session.state})
