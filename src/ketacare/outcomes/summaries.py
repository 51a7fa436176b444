"""The clinic dashboard's summaries: each treated patient's course, their episode on every
instrument with outcome parameters, and their dosed sessions, computed from the record by the
core's rules (:mod:`ketacare.clinical.episodes`, :mod:`ketacare.clinical.outcomes`,
:mod:`ketacare.clinical.cohort`) and stored so the dashboard aggregates them in SQL instead of
re-deriving every episode from every response on each request.

Freshness: :func:`mark_stale` runs in the transaction of every change to a patient's responses,
sessions, administrations, adverse events, alarms and plans (:mod:`.receivers`), and
:func:`refresh_stale` recomputes the marked patients, in batches, before the dashboard reads.
A change of the outcome rules (a clinic's overrides, the relapse rule, the cohort parameters)
shows as summaries whose ``rules`` differ from :func:`rules_version`; :func:`mark_changed_rules`
marks them. :func:`rebuild` marks every patient and refreshes them all (``ketacare
outcomes_refresh``), whatever it finds. Each patient's rows carry the fingerprint of their
inputs, so a refresh leaves a patient whose inputs did not change untouched (most marks come
from steps of a session that change none of them: check-in, the gate, discharge).

Doses are the supervised sessions in which dosing started (``dosing_started_at``). Two
responses on one instrument at the same moment count once (the later entered), as the episode
rules need one measurement per moment.

These rows are derived and can always be derived again: writing them changes no one's record,
so it is not audited (the changes they follow were, by their own services).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from ketacare.clinical import cohort, episodes, outcomes
from ketacare.measures.models import Response
from ketacare.outcomes.models import CourseSummary, EpisodeSummary, SessionSummary, StaleSummary
from ketacare.plans.models import TreatmentPlan
from ketacare.supervised.models import AdverseEvent, Alarm, Session

BATCH = 500  # patients per transaction
REFRESH_LIMIT = 1_000  # patients a page view brings up to date before it reads (2 batches)


@dataclass(frozen=True)
class Rules:
    """What every summary is judged by, and its short hash (stored as ``rules``)."""

    table: Mapping[str, outcomes.OutcomeParameters]
    relapse: episodes.RelapseRule
    window_hours: int
    version: str

    def judges_relapse(self, instrument: str) -> bool:
        """Whether the relapse rule has what it needs for the instrument (the moderate-band
        rule needs a moderate band)."""
        definition = episodes.definitions().relapse[self.relapse]
        return self.relapse is not episodes.RelapseRule.MODERATE_BAND or bool(
            definition.cut_off(instrument)
        )


def rules() -> Rules:
    """The clinic's outcome parameters, relapse rule and cohort parameters as configured now."""
    table = outcomes.configured(settings.KETACARE_OUTCOME_OVERRIDES)
    relapse = episodes.RelapseRule(settings.KETACARE_RELAPSE_RULE)
    window = cohort.parameters().window_hours.value
    text = repr((sorted(table.items()), relapse, window, episodes.definitions()))
    return Rules(table, relapse, window, hashlib.sha256(text.encode()).hexdigest()[:16])


def rules_version() -> str:
    return rules().version


# --- marking ---------------------------------------------------------------------------------


def mark_stale(patient_ids: Iterable[int]) -> None:
    """Mark patients for the next refresh (a patient already marked stays marked once)."""
    now = timezone.now()
    rows = [StaleSummary(patient_id=pid, marked_at=now) for pid in set(patient_ids)]
    if rows:
        StaleSummary.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)


def mark_changed_rules() -> int:
    """Mark every patient whose summaries were judged by other rules than today's; how many."""
    ids = list(
        CourseSummary.objects.exclude(rules=rules_version()).values_list("patient_id", flat=True)
    )
    mark_stale(ids)
    return len(ids)


def pending() -> int:
    """Patients marked and not yet refreshed."""
    return StaleSummary.objects.count()


# --- refreshing ------------------------------------------------------------------------------


def refresh_stale(limit: int = REFRESH_LIMIT, *, force: bool = False) -> int:
    """Recompute up to ``limit`` marked patients, a batch per transaction; how many. A patient
    whose inputs did not change is left as they are, unless ``force``.

    A batch's marks are locked while it is computed (other refreshers skip them on PostgreSQL;
    SQLite runs one writer at a time), so a change made meanwhile marks its patient again after
    the batch commits and is picked up next time."""
    done, current = 0, rules()
    while done < limit:
        with transaction.atomic():
            claimed = list(
                StaleSummary.objects.select_for_update(skip_locked=_skip_locked())
                .order_by("patient_id")
                .values_list("patient_id", flat=True)[: min(BATCH, limit - done)]
            )
            if not claimed:
                break
            _refresh(claimed, current, force)
            StaleSummary.objects.filter(patient_id__in=claimed).delete()
        done += len(claimed)
    return done


def rebuild() -> int:
    """Mark every patient with a dose or a summary and recompute them all; how many."""
    treated = Session.objects.filter(dosing_started_at__isnull=False).values_list(
        "patient_id", flat=True
    )
    summarised = CourseSummary.objects.values_list("patient_id", flat=True)
    mark_stale(set(treated.distinct()) | set(summarised))
    total = 0
    while refreshed := refresh_stale(limit=BATCH * 20, force=True):
        total += refreshed
    return total


def _skip_locked() -> bool:
    return bool(connection.features.has_select_for_update_skip_locked)


@dataclass
class _Inputs:
    """One patient's record, as the summaries need it."""

    sessions: list[tuple[int, int, str, datetime]] = field(default_factory=list)  # pk, plan...
    measurements: dict[str, dict[datetime, int]] = field(default_factory=dict)
    events: dict[int, list[int]] = field(default_factory=dict)  # session: [AEs, alarms]

    def fingerprint(self, roots: Mapping[int, int], current: Rules) -> str:
        data = [
            [(pk, roots[plan], route, at.isoformat()) for pk, plan, route, at in self.sessions],
            {
                i: sorted((at.isoformat(), t) for at, t in m.items())
                for i, m in self.measurements.items()
            },
            sorted(self.events.items()),
            current.version,
        ]
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _refresh(patient_ids: Sequence[int], current: Rules, force: bool) -> None:
    """Recompute these patients' rows; one whose fingerprint is unchanged is left alone unless
    ``force``."""
    inputs, roots = _load(patient_ids, current)
    known = dict(
        CourseSummary.objects.filter(patient_id__in=patient_ids).values_list(
            "patient_id", "fingerprint"
        )
    )
    changed, rows = [], _Rows()
    for pid in patient_ids:
        mine = inputs.get(pid, _Inputs())
        if not mine.sessions and pid not in known:
            continue
        fingerprint = mine.fingerprint(roots, current)
        if known.get(pid) == fingerprint and not force:
            continue
        changed.append(pid)
        if mine.sessions:
            rows.add(pid, mine, roots, current, fingerprint)
    if not changed:
        return
    for model in (SessionSummary, EpisodeSummary, CourseSummary):
        model.objects.filter(patient_id__in=changed).delete()
    CourseSummary.objects.bulk_create(rows.courses, batch_size=BATCH)
    EpisodeSummary.objects.bulk_create(rows.episodes, batch_size=BATCH)
    SessionSummary.objects.bulk_create(rows.sessions, batch_size=BATCH)


def _load(patient_ids: Sequence[int], current: Rules) -> tuple[dict[int, _Inputs], dict[int, int]]:
    """Every input of these patients in five queries, whatever their number; and each plan's
    first version (the root of its chain of revisions)."""
    found: dict[int, _Inputs] = defaultdict(_Inputs)
    dosed = (
        Session.objects.filter(patient_id__in=patient_ids, dosing_started_at__isnull=False)
        .order_by("dosing_started_at", "pk")
        .values_list("pk", "patient_id", "plan_id", "route", "dosing_started_at")
    )
    for pk, pid, plan, route, at in dosed:
        assert at is not None  # filtered above
        found[pid].sessions.append((pk, plan, route, at))
    responses = (
        Response.objects.not_in_error()
        .filter(patient_id__in=patient_ids, instrument__in=list(current.table), total__isnull=False)
        .order_by("completed_at", "pk")
        .values_list("patient_id", "instrument", "completed_at", "total")
    )
    for pid, instrument, at, total in responses:
        assert total is not None  # filtered above
        found[pid].measurements.setdefault(instrument, {})[at] = total  # the later entered wins
    for index, rows in enumerate(
        (
            AdverseEvent.objects.filter(session__patient_id__in=patient_ids),
            Alarm.objects.filter(session__patient_id__in=patient_ids),
        )
    ):
        counted = rows.values_list("session_id", "session__patient_id").annotate(n=Count("pk"))
        for session_id, pid, n in counted.order_by():
            found[pid].events.setdefault(session_id, [0, 0])[index] = n
    plans = dict(
        TreatmentPlan.objects.filter(patient_id__in=patient_ids).values_list("pk", "previous_id")
    )
    return found, {pk: _root(pk, plans) for pk in plans}


def _root(plan: int, previous: Mapping[int, int | None]) -> int:
    while (earlier := previous.get(plan)) is not None:
        plan = earlier
    return plan


class _Rows:
    """The rows of the patients being refreshed, built in memory and written together."""

    def __init__(self) -> None:
        self.courses: list[CourseSummary] = []
        self.episodes: list[EpisodeSummary] = []
        self.sessions: list[SessionSummary] = []
        self.now = timezone.now()

    def add(
        self,
        pid: int,
        mine: _Inputs,
        roots: Mapping[int, int],
        current: Rules,
        fingerprint: str,
    ) -> None:
        _, first_plan, route, first_dose = mine.sessions[0]
        month = timezone.localdate(first_dose).replace(day=1)
        induction = [s for s in mine.sessions if roots[s[1]] == roots[first_plan]]
        self.courses.append(
            CourseSummary(
                patient_id=pid,
                first_dose_at=first_dose,
                start_month=month,
                route=route,
                induction_sessions=len(induction),
                fingerprint=fingerprint,
                rules=current.version,
                refreshed_at=self.now,
            )
        )
        doses = [at for _, _, _, at in mine.sessions]
        for instrument, by_time in sorted(mine.measurements.items()):
            self.episodes.append(_episode(pid, current, instrument, doses, by_time, route, month))
        self._sessions(pid, mine, current.window_hours, month)

    def _sessions(self, pid: int, mine: _Inputs, window: int, month: date) -> None:
        times = {i: sorted(m) for i, m in mine.measurements.items()}
        for pk, _, route, at in mine.sessions:
            measured = [
                i for i, t in sorted(times.items()) if cohort.measured_before(at, t, window)
            ]
            events, alarms = mine.events.get(pk, [0, 0])
            self.sessions.append(
                SessionSummary(
                    session_id=pk,
                    patient_id=pid,
                    route=route,
                    start_month=month,
                    dosed_at=at,
                    measured="".join(f"|{i}" for i in measured) + "|" if measured else "",
                    adverse_events=events,
                    alarms=alarms,
                )
            )


def _episode(
    pid: int,
    current: Rules,
    instrument: str,
    doses: list[datetime],
    by_time: Mapping[datetime, int],
    route: str,
    month: date,
) -> EpisodeSummary:
    """One instrument's episode; under a relapse rule with no cut-off for the instrument,
    response and remission are still judged and durability is left out."""
    parameters = current.table[instrument]
    measurements = [episodes.Measurement(at, total) for at, total in by_time.items()]
    try:
        found = episodes.episode(parameters, doses, measurements, current.relapse)
        judged = True
    except episodes.RelapseRuleNotApplicable:
        found = episodes.episode(parameters, doses, measurements, episodes.DEFAULT_RELAPSE_RULE)
        judged = False
    first = doses[0]
    after = [(at, t) for at, t in sorted(by_time.items()) if at > first]
    followed = found.baseline is not None and bool(after)
    latest = after[-1][1] if after else None
    improved = None
    if found.baseline is not None and latest is not None and parameters.reliable_change_points:
        improved = outcomes.outcome(parameters, found.baseline, latest).reliable_improvement
    durable = found.durability_days if judged else None
    return EpisodeSummary(
        patient_id=pid,
        instrument=instrument,
        route=route,
        start_month=month,
        baseline=found.baseline,
        baseline_at=found.baseline_at,
        latest=latest,
        last_at=found.last_at,
        followed=followed,
        response_at=found.response_at,
        remission_at=found.remission_at,
        remitted=None if parameters.remission_at_most is None else found.remission_at is not None,
        reliably_improved=improved,
        days_to_response=found.days_to_response,
        response_day=_day(found.days_to_response),
        followed_day=cohort.whole_days(max(0.0, episodes.days_between(first, found.last_at)))
        if found.baseline is not None and found.last_at is not None
        else None,
        relapse_judged=judged,
        relapse_at=found.relapse_at if judged else None,
        relapsed=found.relapsed if judged else None,
        durability_days=durable,
        durability_day=_day(durable),
    )


def _day(days: float | None) -> int | None:
    return None if days is None else cohort.whole_days(days)
