"""The front desk's day: who is expected today, who has arrived (with the escort noted), and the
day by chair with times and durations. Nothing clinical: no drug, dose, route or score, so the
front desk sees only what it needs to run the day (HIPAA "minimum necessary"). Reads only; the
page's audit event and the arrival itself are written by :mod:`.services.arrivals`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from django.utils import timezone

from ketacare.clinical.session import State
from ketacare.patients.models import Patient
from ketacare.plans import selectors as plans
from ketacare.plans.models import PlannedSession
from ketacare.supervised.models import ACTIVE_STATES, Arrival

ENDED_WORDS = {
    State.DISCHARGED: "discharged",
    State.ABORTED: "session ended early",
    State.CANCELLED: "session cancelled",
}
ENDED = tuple(ENDED_WORDS)


@dataclass(frozen=True)
class Expected:
    """One booking today, as the desk sees it."""

    planned: PlannedSession
    minutes: int
    ends: time
    arrival: Arrival | None
    state: str  # the session's state once a nurse has checked the patient in, else ""
    overlaps: bool

    @property
    def patient(self) -> Patient:
        return self.planned.plan.patient

    @property
    def where(self) -> str:
        """Where the patient is, in the desk's words."""
        if self.state in ENDED:
            return ENDED_WORDS[State(self.state)]
        if self.state in ACTIVE_STATES:
            return "with the nurse"
        if self.arrival is not None:
            return f"arrived {timezone.localtime(self.arrival.arrived_at):%H:%M}, waiting"
        return "expected"

    @property
    def signed(self) -> bool:
        return self.planned.plan.status == "signed"


@dataclass(frozen=True)
class Day:
    day: date
    expected: list[Expected]
    grid: plans.CalendarDay

    @property
    def arrived(self) -> int:
        return sum(1 for e in self.expected if e.arrival is not None)

    @property
    def patients(self) -> list[Patient]:
        return [e.patient for e in self.expected]


def day(on: date) -> Day:
    """Today's (or ``on``'s) bookings in time order, with arrivals and the time grid."""
    grid = plans.calendar(on, 1)[0]
    slots = [s for chair in grid.slots.values() for s in chair]
    slots.sort(key=lambda s: (s.session.start_time, s.session.chair))
    ids = [s.session.pk for s in slots]
    arrivals = {a.pk: a for a in Arrival.objects.filter(pk__in=ids)}
    states = dict(
        PlannedSession.objects.filter(pk__in=ids, supervised__isnull=False).values_list(
            "pk", "supervised__state"
        )
    )
    expected = [
        Expected(
            planned=s.session,
            minutes=s.minutes,
            ends=s.ends,
            arrival=arrivals.get(s.session.pk),
            state=states.get(s.session.pk, ""),
            overlaps=bool(s.overlaps),
        )
        for s in slots
    ]
    return Day(on, expected, grid)
