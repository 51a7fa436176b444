"""The clinic dashboard's figures: each a few SQL aggregates over the summaries
(:mod:`.summaries`) under the chosen filters, so the cost grows with neither the number of
patients nor the number of responses beyond one pass over the summary rows.

Filters: the instrument (outcome rates, the curves and the measurement rate), the route, the
primary diagnosis group, the primary prescriber and the start month (the month of the first
dose). For a patient's figures the route is the induction's (the first dose's); for the session
figures it is each session's own. Reads only; :mod:`.dashboard` audits them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from enum import StrEnum
from statistics import median
from typing import Any, TypeVar

from django.db.models import Count, Model, Q, QuerySet, Sum

from ketacare.clinical import cohort, instruments, survival
from ketacare.clinical import episodes as episodes_rules
from ketacare.measures.models import Response
from ketacare.outcomes.models import CourseSummary, EpisodeSummary, SessionSummary
from ketacare.outcomes.summaries import Rules
from ketacare.patients.models import Diagnosis, Patient

M = TypeVar("M", bound=Model)

DEFAULT_INSTRUMENT = "gad7"


@dataclass(frozen=True)
class Filters:
    instrument: str = DEFAULT_INSTRUMENT
    route: str = ""
    diagnosis: str = ""  # a diagnosis group id (data/cohort.toml)
    prescriber: int | None = None  # the primary prescriber's user id
    start_month: date | None = None  # the first day of the month

    def audited(self) -> dict[str, Any]:
        """The filters in force, as the audit event records them."""
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}

    def query(self) -> dict[str, str]:
        """The filters as query parameters, for links that keep them."""
        found = {k: str(v) for k, v in self.audited().items()}
        if self.start_month:
            found["start_month"] = f"{self.start_month:%Y-%m}"
        return found

    def patients(self, qs: QuerySet[M], route: bool = True) -> QuerySet[M]:
        """``qs`` (a summary with ``patient``, ``route`` and ``start_month``) narrowed."""
        if route and self.route:
            qs = qs.filter(route=self.route)
        if self.start_month:
            qs = qs.filter(start_month=self.start_month)
        if self.prescriber is not None:
            qs = qs.filter(patient__primary_prescriber_id=self.prescriber)
        if self.diagnosis:
            group = next(g for g in cohort.parameters().diagnosis_groups if g.id == self.diagnosis)
            codes = Q()
            for prefix in group.prefixes:
                codes |= Q(code__startswith=prefix)
            primary = Diagnosis.objects.filter(codes, is_primary=True).values("patient_id")
            qs = qs.filter(patient_id__in=primary)
        return qs


class FigureName(StrEnum):
    """The figures a prescriber can open the patient list behind."""

    FOLLOWED = "followed"
    RESPONDED = "responded"
    REMITTED = "remitted"
    RELIABLY_IMPROVED = "reliably-improved"
    TIMED = "timed"  # in the time-to-response curve
    RESPONDERS = "responders"  # in the durability curve
    RELAPSED = "relapsed"
    TREATED = "treated"
    RETAINED = "retained"  # with ?sessions=k
    SESSIONS = "sessions"  # patients with a dosed session
    UNMEASURED = "unmeasured"
    ADVERSE_EVENTS = "adverse-events"
    ALARMS = "alarms"


# What each list holds, as its page names it.
LABELS = {
    FigureName.FOLLOWED: "treated patients with a baseline and a result after the first dose",
    FigureName.RESPONDED: "patients who responded",
    FigureName.REMITTED: "patients who remitted",
    FigureName.RELIABLY_IMPROVED: "patients who reliably improved",
    FigureName.TIMED: "patients followed for time to response",
    FigureName.RESPONDERS: "responders followed for durability",
    FigureName.RELAPSED: "responders who relapsed",
    FigureName.TREATED: "treated patients",
    FigureName.RETAINED: "patients whose induction had at least {sessions} dosed sessions",
    FigureName.SESSIONS: "patients with a dosed session",
    FigureName.UNMEASURED: "patients with a dosed session not measured before it",
    FigureName.ADVERSE_EVENTS: "patients with an adverse event in a dosed session",
    FigureName.ALARMS: "patients with an alarm in a dosed session",
}
# Where each figure is defined on the dashboard.
ANCHORS = {
    FigureName.FOLLOWED: "response",
    FigureName.RESPONDED: "response",
    FigureName.REMITTED: "remission",
    FigureName.RELIABLY_IMPROVED: "reliable-improvement",
    FigureName.TIMED: "time-to-response",
    FigureName.RESPONDERS: "durability",
    FigureName.RELAPSED: "durability",
    FigureName.TREATED: "retention",
    FigureName.RETAINED: "retention",
    FigureName.SESSIONS: "measurement",
    FigureName.UNMEASURED: "measurement",
    FigureName.ADVERSE_EVENTS: "adverse-events",
    FigureName.ALARMS: "alarms",
}


@dataclass(frozen=True)
class Figure:
    """A rate and the number of patients behind it (the group a de-identified view may have to
    withhold)."""

    rate: cohort.Rate
    group: int


@dataclass(frozen=True)
class CurveFigure:
    curve: survival.Curve
    group: int


@dataclass(frozen=True)
class Outcomes:
    followed: int
    responded: Figure
    remitted: Figure | None  # None: no cited remission cut-off for the instrument
    reliably_improved: Figure | None  # None: no cited SD and reliability
    time_to_response: CurveFigure
    durability: CurveFigure | None  # None: the relapse rule has no cut-off for the instrument
    relapsed: int


@dataclass(frozen=True)
class Retention:
    treated: int
    steps: tuple[cohort.Step, ...]


@dataclass(frozen=True)
class Sessions:
    sessions: int
    patients: int
    measured: Figure
    adverse_events: int
    alarms: int

    @property
    def adverse_events_per_100(self) -> float | None:
        return cohort.per_hundred(self.adverse_events, self.sessions)

    @property
    def alarms_per_100(self) -> float | None:
        return cohort.per_hundred(self.alarms, self.sessions)


@dataclass(frozen=True)
class BandShift:
    label: str
    low: int
    high: int
    at_baseline: int
    latest: int


@dataclass(frozen=True)
class Functioning:
    """Functioning (the WSAS) of the treated patients with a complete WSAS at baseline (the
    episode rules' window before the first dose) and after the first dose: how many patients
    were in each band then and at their latest measurement, and the median totals."""

    instrument: str
    patients: int
    baseline_median: float | None
    latest_median: float | None
    bands: tuple[BandShift, ...]


FUNCTIONING_INSTRUMENT = "wsas"


def functioning(f: Filters) -> Functioning:
    """Baseline and latest WSAS of the treated patients under ``f`` (the instrument filter does
    not apply: functioning is shown beside whichever symptom measure is chosen)."""
    instrument = instruments.get(FUNCTIONING_INSTRUMENT)
    window = timedelta(days=episodes_rules.definitions().baseline_window_days.value)
    treated = f.patients(CourseSummary.objects.all())
    courses = dict(treated.values_list("patient_id", "first_dose_at"))
    rows = (
        Response.objects.not_in_error()
        .filter(
            instrument=instrument.id, complete=True, patient_id__in=treated.values("patient_id")
        )
        .order_by("patient_id", "completed_at")
        .values_list("patient_id", "completed_at", "total")
    )
    baseline: dict[int, int] = {}
    latest: dict[int, int] = {}
    for patient_id, at, total in rows:
        if total is None:  # a complete response always has one; never guess
            continue
        first_dose = courses[patient_id]
        if first_dose - window <= at <= first_dose:
            baseline[patient_id] = total
        elif at > first_dose:
            latest[patient_id] = total
    both = [p for p in baseline if p in latest]
    then, now = [baseline[p] for p in both], [latest[p] for p in both]
    bands = tuple(
        BandShift(
            b.severity.replace("_", " "),
            b.low,
            b.high,
            sum(1 for t in then if b.low <= t <= b.high),
            sum(1 for t in now if b.low <= t <= b.high),
        )
        for b in instrument.bands
    )
    return Functioning(
        instrument.abbreviation,
        len(both),
        float(median(then)) if then else None,
        float(median(now)) if now else None,
        bands,
    )


@dataclass(frozen=True)
class Figures:
    filters: Filters
    outcomes: Outcomes
    retention: Retention
    sessions: Sessions
    functioning: Functioning


def figures(f: Filters, rules: Rules) -> Figures:
    return Figures(f, outcome_figures(f, rules), retention(f), session_figures(f), functioning(f))


def episodes(f: Filters) -> QuerySet[EpisodeSummary]:
    return f.patients(EpisodeSummary.objects.filter(instrument=f.instrument))


def outcome_figures(f: Filters, rules: Rules) -> Outcomes:
    qs = episodes(f)
    followed = Q(followed=True)
    n = qs.aggregate(  # the keys differ from the field names, as aggregate() requires
        n_followed=Count("pk", filter=followed),
        n_responded=Count("pk", filter=followed & Q(response_at__isnull=False)),
        n_remitted=Count("pk", filter=followed & Q(remitted=True)),
        n_improved=Count("pk", filter=followed & Q(reliably_improved=True)),
        n_relapsed=Count("pk", filter=Q(relapsed=True)),
    )
    parameters = rules.table[f.instrument]

    def rate(numerator: int) -> Figure:
        return Figure(cohort.Rate(numerator, n["n_followed"]), n["n_followed"])

    return Outcomes(
        followed=n["n_followed"],
        responded=rate(n["n_responded"]),
        remitted=rate(n["n_remitted"]) if parameters.remission_at_most else None,
        reliably_improved=rate(n["n_improved"]) if parameters.reliable_change_points else None,
        time_to_response=_curve(
            qs.filter(baseline__isnull=False, last_at__isnull=False),
            "response_day",
            "followed_day",
        ),
        durability=_curve(
            qs.filter(response_at__isnull=False, relapse_judged=True), "durability_day", None
        )
        if rules.judges_relapse(f.instrument)
        else None,
        relapsed=n["n_relapsed"],
    )


def _curve(qs: QuerySet[EpisodeSummary], event_day: str, censored_day: str | None) -> CurveFigure:
    """Kaplan-Meier over ``qs``: an event on ``event_day``, or censored on ``censored_day``
    (durability: the same column, an event when relapsed). Read as counts per day, so the rows
    fetched are at most two per distinct day."""
    observations: list[survival.Observation] = []
    if censored_day is None:
        grouped = qs.values_list(event_day, "relapsed").annotate(n=Count("pk")).order_by()
        for day, relapsed, n in grouped:
            observations += [survival.Observation(float(day), bool(relapsed))] * n
    else:
        grouped = qs.values_list(event_day, censored_day).annotate(n=Count("pk")).order_by()
        for event, censored, n in grouped:
            happened = event is not None
            day = event if happened else censored
            observations += [survival.Observation(float(day), happened)] * n
    return CurveFigure(survival.kaplan_meier(observations), len(observations))


def retention(f: Filters) -> Retention:
    steps = cohort.parameters().retention_sessions.value
    at_least = {
        f"s{k}": Count("pk", filter=Q(induction_sessions__gte=k)) for k in range(1, steps + 1)
    }
    n = f.patients(CourseSummary.objects.all()).aggregate(treated=Count("pk"), **at_least)
    reached = [n[f"s{k}"] for k in range(1, steps + 1)]
    return Retention(n["treated"], cohort.funnel(reached, n["treated"]))


def session_figures(f: Filters) -> Sessions:
    qs = f.patients(SessionSummary.objects.all())
    n = qs.aggregate(  # the keys differ from the field names, as aggregate() requires
        n_sessions=Count("pk"),
        n_patients=Count("patient", distinct=True),
        n_measured=Count("pk", filter=Q(measured__contains=f"|{f.instrument}|")),
        n_adverse_events=Sum("adverse_events"),
        n_alarms=Sum("alarms"),
    )
    return Sessions(
        sessions=n["n_sessions"],
        patients=n["n_patients"],
        measured=Figure(cohort.Rate(n["n_measured"], n["n_sessions"]), n["n_patients"]),
        adverse_events=n["n_adverse_events"] or 0,
        alarms=n["n_alarms"] or 0,
    )


# --- the patients behind a figure -------------------------------------------------------------


def behind(f: Filters, name: FigureName, sessions: int = 1) -> QuerySet[Patient]:
    """The patients a figure counts (for a rate, its numerator; ``followed``, ``treated`` and
    ``sessions`` are the denominators), by name."""
    return (
        Patient.objects.filter(pk__in=_ids(f, name, sessions))
        .select_related("primary_prescriber")
        .order_by("family_name", "given_name", "pk")
    )


def _ids(f: Filters, name: FigureName, sessions: int) -> QuerySet[Any]:
    course = f.patients(CourseSummary.objects.all())
    dosed = f.patients(SessionSummary.objects.all())
    followed = episodes(f).filter(followed=True)
    chosen: dict[FigureName, QuerySet[Any]] = {
        FigureName.FOLLOWED: followed,
        FigureName.RESPONDED: followed.filter(response_at__isnull=False),
        FigureName.REMITTED: followed.filter(remitted=True),
        FigureName.RELIABLY_IMPROVED: followed.filter(reliably_improved=True),
        FigureName.TIMED: episodes(f).filter(baseline__isnull=False, last_at__isnull=False),
        FigureName.RESPONDERS: episodes(f).filter(response_at__isnull=False, relapse_judged=True),
        FigureName.RELAPSED: episodes(f).filter(relapsed=True),
        FigureName.TREATED: course,
        FigureName.RETAINED: course.filter(induction_sessions__gte=sessions),
        FigureName.SESSIONS: dosed,
        FigureName.UNMEASURED: dosed.exclude(measured__contains=f"|{f.instrument}|"),
        FigureName.ADVERSE_EVENTS: dosed.filter(adverse_events__gt=0),
        FigureName.ALARMS: dosed.filter(alarms__gt=0),
    }
    return chosen[name].values("patient_id")


def months() -> Sequence[date]:
    """Every start month with a treated patient, newest first (the filter's choices)."""
    found = CourseSummary.objects.values_list("start_month", flat=True).distinct()
    return sorted(found, reverse=True)
