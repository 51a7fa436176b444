"""Reads for treatment plans: a patient's plans, the clinic calendar by chair, the newest version
of each clinic template, a shipped template as data, and the predicted concentration curve of a
plan's first session. Nothing here writes or audits."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from django.db.models import QuerySet

from ketacare.clinic import selectors as clinic
from ketacare.clinical import booking, monitoring, pk, protocols
from ketacare.patients.models import Patient
from ketacare.pk.charts import PlannedChart, planned_dose_chart
from ketacare.plans.models import ClinicProtocol, PlannedSession, SessionStatus, TreatmentPlan


def plans_of(patient: Patient) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(patient=patient).select_related("signed_by")


STEP = 5  # minutes per row of the time grid (lib/timegrid.css draws rows of this size)
MAX_LANES = 4  # overlapping bookings of one chair shown side by side (timegrid.css)
DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class Slot:
    """A planned session on a day's time grid: its first row and how many rows it spans (of
    :data:`STEP` minutes, from the top of the grid), its lane beside bookings of the same chair
    it overlaps, and those bookings."""

    session: PlannedSession
    minutes: int
    ends: time
    row: int
    rows: int
    lane: int
    lanes: int
    overlaps: tuple[PlannedSession, ...]
    outside_hours: bool


@dataclass(frozen=True)
class CalendarDay:
    """One day by chair: the sessions in start order (``by_chair``) and the same sessions as
    blocks on a time grid from opening to closing (``slots``), widened to whole hours holding
    any booking outside the opening hours. Rows are :data:`STEP` minutes."""

    day: date
    by_chair: dict[str, list[PlannedSession]]
    slots: dict[str, list[Slot]] = field(default_factory=dict)
    is_open: bool = True
    rows: int = 0
    hours: tuple[tuple[str, int], ...] = ()  # each full hour's label and row
    closed_before: int = 0  # rows before opening time
    closed_after: int = 0  # rows after closing time

    @property
    def overlapping(self) -> int:
        """How many sessions share their chair with another at the same time."""
        return sum(1 for slots in self.slots.values() for s in slots if s.overlaps)


def calendar(start: date, days: int) -> list[CalendarDay]:
    """Planned sessions from ``start`` for ``days`` days, laid out by chair and on a time grid
    shaped by the clinic's opening hours."""
    sessions = list(
        PlannedSession.objects.filter(
            scheduled_on__gte=start,
            scheduled_on__lt=start + timedelta(days=days),
            status=SessionStatus.PLANNED,
            plan__status__in=["draft", "signed"],
        )
        .select_related("plan__patient")
        .order_by("start_time")
    )
    settings_now = clinic.current()
    by_day: list[dict[str, list[PlannedSession]]] = [
        {c: [] for c in settings_now.chairs} for _ in range(days)
    ]
    for s in sessions:
        by_day[(s.scheduled_on - start).days].setdefault(s.chair, []).append(s)
    minutes = _minutes_by_session(sessions)
    return [
        _day(start + timedelta(days=i), chairs, minutes, settings_now)
        for i, chairs in enumerate(by_day)
    ]


def _day(
    day: date,
    by_chair: dict[str, list[PlannedSession]],
    minutes: dict[int, int],
    settings_now: clinic.Clinic,
) -> CalendarDay:
    bookings = {
        chair: [_booking(s, minutes[s.pk]) for s in sessions]
        for chair, sessions in by_chair.items()
    }
    opens, closes = _minute(settings_now.opens_at), _minute(settings_now.closes_at)
    every = [b for chair in bookings.values() for b in chair]
    first = min([opens, *(_minute(b.start) for b in every)]) // 60 * 60
    # A booking that runs past midnight keeps its whole block (the grid goes on into the small
    # hours), up to the 24 hours of rows the stylesheet draws.
    limit = first + DAY_MINUTES
    last = max([closes, *(_minute(b.start) + b.minutes for b in every)])
    last = min(-(-last // 60) * 60, limit)
    slots = {
        chair: _slots(by_chair[chair], chair_bookings, first, (opens, closes), limit)
        for chair, chair_bookings in bookings.items()
    }
    return CalendarDay(
        day,
        by_chair,
        slots,
        is_open=settings_now.is_open(day),
        rows=(last - first) // STEP,
        hours=tuple(
            (f"{m // 60 % 24:02d}:00", (m - first) // STEP) for m in range(first, last, 60)
        ),
        closed_before=(opens - first) // STEP,
        closed_after=max(last - closes, 0) // STEP,
    )


def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


def _booking(s: PlannedSession, minutes: int) -> booking.Booking:
    return booking.Booking(s.chair, s.scheduled_on, s.start_time, minutes)


def _slots(
    sessions: list[PlannedSession],
    bookings: list[booking.Booking],
    first: int,
    hours: tuple[int, int],
    limit: int,
) -> list[Slot]:
    lanes = _lanes(bookings)
    slots = []
    for s, b, lane in zip(sessions, bookings, lanes, strict=True):
        begin = _minute(b.start)
        end = begin + b.minutes
        others = zip(sessions, bookings, strict=True)
        slots.append(
            Slot(
                session=s,
                minutes=b.minutes,
                ends=b.ends.time(),
                row=(begin - first) // STEP,
                rows=max((min(end, limit) - begin) // STEP, 1),
                lane=min(lane, MAX_LANES - 1),
                lanes=min(max(lanes, default=0) + 1, MAX_LANES),
                overlaps=tuple(o for o, ob in others if o != s and b.overlaps(ob)),
                outside_hours=begin < hours[0] or end > hours[1],
            )
        )
    return slots


def _lanes(bookings: list[booking.Booking]) -> list[int]:
    """Side-by-side lanes for one chair's bookings in start order: each takes the first lane
    free by its start, so overlapping bookings stand next to each other, not on top."""
    ends: list[int] = []  # each lane's end, in minutes from midnight
    placed = []
    for b in bookings:
        begin = _minute(b.start)
        lane = next((i for i, end in enumerate(ends) if end <= begin), len(ends))
        if lane == len(ends):
            ends.append(0)
        ends[lane] = begin + b.minutes
        placed.append(lane)
    return placed


def _minutes_by_session(sessions: list[PlannedSession]) -> dict[int, int]:
    """How long each session holds its chair, by session id (each template read once)."""
    templates = {s.plan.protocol_id: _protocol(s.plan.protocol_id) for s in sessions}
    return {s.pk: _chair_minutes(templates[s.plan.protocol_id], s.dose_mg) for s in sessions}


def session_minutes(plan: TreatmentPlan, dose_mg: Decimal) -> int:
    """How long a session of ``plan`` at ``dose_mg`` holds its chair: the template's dosing
    time (the infusion; the esketamine devices and the wait between them) and its minimum
    observation after (:func:`ketacare.clinical.booking.chair_minutes`)."""
    return _chair_minutes(_protocol(plan.protocol_id), dose_mg)


def _chair_minutes(protocol: protocols.Protocol | None, dose_mg: Decimal) -> int:
    """As :func:`session_minutes`; a template that can no longer be read (``None``) counts as
    the shipped IV one."""
    if protocol is None:
        return DEFAULT_INFUSION_MIN + DEFAULT_OBSERVATION_MIN
    dosing = protocol.duration_minutes.value if protocol.duration_minutes else 0
    if protocol.device is not None:
        devices = max(int(dose_mg // protocol.device.mg_per_device.value), 1)
        dosing = (devices - 1) * protocol.device.minutes_between_devices.value
    observe_from = monitoring.route_schedule(protocol.route).observation_from
    return booking.chair_minutes(dosing, protocol.observation_minutes.value, observe_from)


def _protocol(protocol_id: str) -> protocols.Protocol | None:
    """The shipped template, or the latest version of a clinic's own; ``None`` if neither."""
    try:
        return protocols.get(protocol_id)
    except protocols.UnknownProtocol:
        pass
    row = ClinicProtocol.objects.filter(slug=protocol_id).order_by("-version").first()
    if row is None:
        return None
    try:
        return protocols.parse(row.data, origin=f"{row.slug} v{row.version}")
    except (protocols.InvalidProtocol, ValueError):
        return None


def bookings_of_chairs(chairs: Collection[str], today: date) -> list[str]:
    """One line per planned session in ``chairs`` from ``today`` on (the clinic settings refuse
    to remove a chair that has any)."""
    rows = PlannedSession.objects.filter(
        chair__in=list(chairs),
        scheduled_on__gte=today,
        status=SessionStatus.PLANNED,
        plan__status__in=["draft", "signed"],
    ).select_related("plan__patient")
    return [
        f"{s.chair} on {s.scheduled_on:%a %Y-%m-%d} at {s.start_time:%H:%M} "
        f"({s.plan.patient.family_name}, {s.plan.patient.given_name}, session {s.number})"
        for s in rows
    ]


def latest_clinic_protocols() -> list[ClinicProtocol]:
    """The newest version of each clinic template."""
    latest: dict[str, ClinicProtocol] = {}
    for row in ClinicProtocol.objects.order_by("slug", "-version"):
        latest.setdefault(row.slug, row)
    return list(latest.values())


def shipped_template_data(protocol_id: str) -> dict[str, object]:
    """A shipped template's file as data, to start a clinic's own version from."""
    import tomllib
    from importlib import resources

    folder = resources.files("ketacare.clinical").joinpath("data/protocols")
    return tomllib.loads(folder.joinpath(f"{protocol_id}.toml").read_text())


# The shipped IV template infuses over 40 minutes (iv-racemic.toml); a clinic's own template
# that is not in the library is shown with the same duration, and the chart says so.
DEFAULT_INFUSION_MIN = 40
# A template that cannot be read any more is drawn with the shortest observation the shipped
# templates ask (60 minutes after an IV infusion, iv-racemic.toml); the calendar says so.
DEFAULT_OBSERVATION_MIN = 60


def plan_chart(plan: TreatmentPlan) -> PlannedChart | None:
    """The predicted curve of the plan's first session that is not cancelled, on the plan's
    dosing weight; ``None`` when there is none or the model cannot take the dose."""
    session = plan.sessions.exclude(status="cancelled").order_by("number").first()
    if session is None:
        return None
    weight = plan.dosing_weight_kg or plan.weight_kg
    try:
        return planned_dose_chart(
            plan.route, float(session.dose_mg), float(weight), _infusion_minutes(plan)
        )
    except pk.InvalidRegimen:
        return None


def _infusion_minutes(plan: TreatmentPlan) -> float | None:
    if plan.route != "iv":
        return None
    try:
        duration = protocols.get(plan.protocol_id).duration_minutes
    except protocols.UnknownProtocol:
        return DEFAULT_INFUSION_MIN
    return float(duration.value) if duration is not None else DEFAULT_INFUSION_MIN
