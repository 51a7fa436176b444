"""The letter to the referring clinician: the progress report in a few plain sentences.

Every number in a sentence is one the report carries (session summaries, the chart's outcome
with its cited criteria); a criterion that cannot be judged is said to be so, and a measure with
no complete follow-up result is reported without a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.clinical import outcomes
from ketacare.outcomes.reports import MeasureLine, ProgressReport


@dataclass(frozen=True)
class Letter:
    report: ProgressReport
    signed_by: User | None

    @property
    def addressed(self) -> bool:
        return self.report.patient.has_referrer

    @property
    def paragraphs(self) -> list[str]:
        return [
            _opening(self.report),
            _treatment(self.report),
            _measures(self.report),
            _tolerability(self.report),
            _closing(self.report),
        ]


def _name(report: ProgressReport) -> str:
    return report.patient.given_name


def _opening(report: ProgressReport) -> str:
    patient = report.patient
    clinic = report.clinic.name or "our clinic"
    text = (
        f"Thank you for referring {patient.given_name} {patient.family_name} to {clinic} for "
        f"supervised ketamine treatment. This letter summarises the treatment to "
        f"{_day(report.generated_at)}."
    )
    active = [d for d in report.diagnoses if d.status == "active"]
    if not active:
        return f"{text} No active diagnosis is recorded on the chart."
    listed = "; ".join(f"{d.description} ({d.code})" for d in active)
    return f"{text} {_name(report)} is treated for {listed}."


def _treatment(report: ProgressReport) -> str:
    text = _sessions(report)
    line = report.plan
    if line is None:
        return f"{text} No treatment plan is recorded."
    status = "" if line.plan.status == "signed" else ", a draft not yet signed"
    nxt = f", the next on {line.next_on:%Y-%m-%d}" if line.next_on else ""
    return (
        f"{text} The current plan ({line.plan.protocol_name}{status}) lays out "
        f"{_count(line.planned, 'session')}: {line.done} done, {line.scheduled} still "
        f"scheduled{nxt}."
    )


def _sessions(report: ProgressReport) -> str:
    dosed, name = report.dosed, _name(report)
    if not dosed:
        return f"{name} has not yet had a supervised treatment session."
    routes = ", ".join(sorted({s.route for s in dosed}))
    doses = sorted({s.dose_mg for s in dosed if s.dose_mg is not None})
    first, last = dosed[0].on, dosed[-1].on
    when = f"on {first:%Y-%m-%d}" if first == last else f"from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    given = f"{doses[0]} mg" if len(doses) == 1 else f"from {doses[0]} to {doses[-1]} mg"
    return (
        f"{name} has had {_count(len(dosed), 'supervised session')} ({routes}) {when}; "
        f"dose given {given}."
    )


def _measures(report: ProgressReport) -> str:
    lines = report.judged_measures
    if not lines:
        return "No outcome measures are recorded yet."
    return " ".join(_measure(m) for m in lines)


def _measure(m: MeasureLine) -> str:
    label = m.instrument.abbreviation
    baseline, latest, o = m.baseline, m.latest, m.outcome
    if baseline is None:
        return f"{label}: no complete result recorded."
    start = f"{baseline.score.total} at baseline ({_day(baseline.response.completed_at)})"
    if latest is None or o is None:
        return f"{label}: {start}; no later complete result yet, so change cannot be judged."
    change = f"{o.change:+d} points" + (
        f", {abs(o.percent_change):.0f}% {'lower' if o.change < 0 else 'higher'}"
        if o.percent_change is not None and o.change
        else ""
    )
    judged = "; ".join(_criteria(o))
    return (
        f"{label}: {start}, {latest.score.total} on {_day(latest.response.completed_at)} "
        f"({change}): {judged}."
    )


def _criteria(o: outcomes.Outcome) -> list[str]:
    p = o.parameters
    criterion = f"at least {p.response_percent.value}% reduction"
    said = [
        {
            True: f"a response ({criterion})",
            False: f"not a response ({criterion})",
            None: "response cannot be judged from a baseline of 0",
        }[o.response]
    ]
    if p.remission_at_most is not None:
        limit = f"total {p.remission_at_most.value} or less"
        said.append(f"{'in' if o.remission else 'not in'} remission ({limit})")
    if o.reliable_improvement:
        said.append("a reliable improvement")
    elif o.reliable_deterioration:
        said.append("a reliable deterioration")
    elif o.rci is not None:
        said.append("not a reliable change")
    return said


def _tolerability(report: ProgressReport) -> str:
    events = report.adverse_events
    if not events:
        return "No adverse events have been recorded."
    listed = "; ".join(
        f"{e.label} ({e.severity}{', serious' if e.serious else ''}) "
        f"on {_day(e.onset_at)}, {e.get_outcome_display()}"
        for e in events
    )
    return f"{_count(len(events), 'adverse event').capitalize()} recorded: {listed}."


def _closing(report: ProgressReport) -> str:
    phone = f" on {report.clinic.phone}" if report.clinic.phone else ""
    return (
        "The full progress report, with each measure's trend, is available on request. "
        f"Please contact us{phone} with any questions."
    )


def _day(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
