"""What each dashboard figure means, as the page shows it: the value (or "fewer than 11" where
a de-identified view must withhold it), the definition in words, the numerator and denominator
with their counts, and every parameter it rests on with its source in plain words.

Built from the figures and the rules they were computed by; no query."""

from __future__ import annotations

from dataclasses import dataclass, field

from ketacare.clinical import cohort, episodes, instruments
from ketacare.clinical.outcomes import Cited
from ketacare.clinical.survival import Curve
from ketacare.lib import charts
from ketacare.outcomes.charts import Kind, km_alt, km_svg
from ketacare.outcomes.figures import CurveFigure, Figure, FigureName, Figures
from ketacare.outcomes.summaries import Rules


@dataclass(frozen=True)
class Parameter:
    label: str
    value: str
    source: cohort.PlainSource


@dataclass(frozen=True)
class Count:
    label: str
    n: int
    figure: FigureName | None = None  # the patient list behind it, where there is one
    sessions: int | None = None  # for a retention step's list


@dataclass(frozen=True)
class Metric:
    anchor: str
    title: str
    value: str
    withheld: bool
    definition: str
    counts: list[Count] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)

    @property
    def drill(self) -> Count | None:
        """The first count with a patient list behind it (the tile's link)."""
        return next((c for c in self.counts if c.figure), None)


@dataclass(frozen=True)
class Chart:
    metric: Metric
    img_src: str | None  # None: withheld, or nobody to follow
    alt: str
    median: str


@dataclass(frozen=True)
class Step:
    label: str
    value: str
    percent: float | None  # for the bar; None when withheld
    count: Count


@dataclass(frozen=True)
class Page:
    rates: list[Metric]
    charts: list[Chart]
    retention: Metric
    steps: list[Step]
    sessions: list[Metric]
    suppression: Metric
    withholding: bool  # groups under the threshold are withheld in this view

    @property
    def metrics(self) -> list[Metric]:
        """Every metric, in the order of the definitions section."""
        return [*self.rates, *(c.metric for c in self.charts), self.retention, *self.sessions]


def page(found: Figures, rules: Rules, identified: bool) -> Page:
    smallest = cohort.parameters().smallest_group.value
    words = _Words(found, rules, withhold=0 if identified else smallest)
    return Page(
        rates=words.rates(),
        charts=words.charts(),
        retention=words.retention(),
        steps=words.steps(),
        sessions=words.sessions(),
        suppression=words.suppression(),
        withholding=not identified,
    )


def _plain(cited: Cited[int] | Cited[float], label: str, value: str) -> Parameter:
    return Parameter(label, value, cohort.plain_source(cited.source, cohort.sources()))


class _Words:
    def __init__(self, found: Figures, rules: Rules, withhold: int) -> None:
        self.found, self.rules, self.smallest = found, rules, withhold
        self.instrument = instruments.get(found.filters.instrument)
        self.parameters = rules.table[self.instrument.id]
        self.abbr = self.instrument.abbreviation

    def withheld(self, group: int) -> bool:
        return bool(self.smallest) and cohort.withheld(group, self.smallest)

    @property
    def fewer(self) -> str:
        return f"fewer than {cohort.parameters().smallest_group.value}"

    def rate_value(self, figure: Figure) -> str:
        if self.withheld(figure.group):
            return self.fewer
        rate = figure.rate
        if rate.percent is None:
            return "no patients"
        return f"{rate.percent:.0f}% ({rate.numerator} of {rate.denominator})"

    def counts(self, group: int, *counts: Count) -> list[Count]:
        """The counts, or none where the group is withheld (the value says why)."""
        return [] if self.withheld(group) else list(counts)

    # --- the outcome rates --------------------------------------------------------------------

    def baseline(self) -> list[Parameter]:
        window = episodes.definitions().baseline_window_days
        return [
            _plain(
                self.parameters.response_percent,
                "response",
                f"a fall of at least {self.parameters.response_percent.value}% from baseline",
            ),
            _plain(window, "baseline window", f"at most {window.value} days before the first dose"),
        ]

    def followed(self) -> Count:
        return Count(
            f"treated patients with a {self.abbr} baseline and a result after the first dose",
            self.found.outcomes.followed,
            FigureName.FOLLOWED,
        )

    def rates(self) -> list[Metric]:
        o, abbr = self.found.outcomes, self.abbr
        found = [
            Metric(
                "response",
                "Response",
                self.rate_value(o.responded),
                self.withheld(o.responded.group),
                f"Of the treated patients with a {abbr} baseline and at least one {abbr} result "
                f"after their first dose, the share with a result after the first dose at least "
                f"{self.parameters.response_percent.value}% below baseline. The baseline is the "
                "last result at or before the first dose and not too long before it.",
                self.counts(
                    o.responded.group,
                    Count("responded", o.responded.rate.numerator, FigureName.RESPONDED),
                    self.followed(),
                ),
                self.baseline(),
            )
        ]
        remission = self.parameters.remission_at_most
        if o.remitted is not None and remission is not None:
            found.append(
                Metric(
                    "remission",
                    "Remission",
                    self.rate_value(o.remitted),
                    self.withheld(o.remitted.group),
                    f"Of the same patients, the share with a {abbr} result after the first dose "
                    f"of {remission.value} or less.",
                    self.counts(
                        o.remitted.group,
                        Count("remitted", o.remitted.rate.numerator, FigureName.REMITTED),
                        self.followed(),
                    ),
                    [_plain(remission, "remission", f"a total of at most {remission.value}")],
                )
            )
        else:
            found.append(self.unavailable("remission", "Remission", "no cited remission cut-off"))
        found.append(self.reliable())
        return found

    def reliable(self) -> Metric:
        o, p = self.found.outcomes, self.parameters
        points = p.reliable_change_points
        if o.reliably_improved is None or points is None or p.sd is None or p.reliability is None:
            return self.unavailable(
                "reliable-improvement",
                "Reliable improvement",
                "no cited standard deviation and reliability, so no reliable change index",
            )
        return Metric(
            "reliable-improvement",
            "Reliable improvement",
            self.rate_value(o.reliably_improved),
            self.withheld(o.reliably_improved.group),
            f"Of the same patients, the share whose latest {self.abbr} result after the first "
            f"dose is at least {points:.1f} points below baseline: a Jacobson-Truax reliable "
            f"change index of -{p.z.value:g} or less (the change divided by SD x sqrt 2 x "
            "sqrt(1 - reliability)).",
            self.counts(
                o.reliably_improved.group,
                Count(
                    "reliably improved",
                    o.reliably_improved.rate.numerator,
                    FigureName.RELIABLY_IMPROVED,
                ),
                self.followed(),
            ),
            [
                _plain(p.sd, "standard deviation", f"{p.sd.value:g} points"),
                _plain(p.reliability, "test-retest reliability", f"{p.reliability.value:g}"),
                _plain(p.z, "z for reliable change", f"{p.z.value:g} (p < .05, two-tailed)"),
            ],
        )

    def unavailable(self, anchor: str, title: str, why: str) -> Metric:
        return Metric(
            anchor, title, "not available", False, f"Not available for {self.abbr}: {why}."
        )

    # --- the curves ---------------------------------------------------------------------------

    def charts(self) -> list[Chart]:
        o = self.found.outcomes
        found = [
            self.chart(
                Kind.TIME_TO_RESPONSE,
                o.time_to_response,
                "Time to response",
                f"Kaplan-Meier estimate of the share of treated patients with a {self.abbr} "
                "baseline who had responded (as defined above) by each day since their first "
                "dose, in completed days (the first 24 hours are day 0). A patient who has not "
                f"responded counts until their last {self.abbr} result (day 0 when none came "
                "after the first dose). The band is the 95% confidence interval (Greenwood); the "
                "median is the first day by which half had responded.",
                [
                    Count("responses", o.time_to_response.curve.events, FigureName.RESPONDED),
                    Count("patients followed", o.time_to_response.curve.subjects, FigureName.TIMED),
                ],
                self.baseline(),
            )
        ]
        rule = episodes.definitions().relapse[self.rules.relapse]
        if o.durability is None:
            metric = self.unavailable(
                "durability",
                "Durability of response",
                f"the clinic's relapse rule ({rule.label}) has no cut-off for it",
            )
            found.append(Chart(metric, None, "", ""))
            return found
        found.append(
            self.chart(
                Kind.DURABILITY,
                o.durability,
                "Durability of response",
                f"Kaplan-Meier estimate of the share of responders still responding by each "
                f"completed day since their response. Relapse: {rule.label}; it counts from the "
                f"first of the two. A responder without a relapse counts until their last "
                f"{self.abbr} result. The band is the 95% confidence interval (Greenwood); the "
                "median is the first day by which half had relapsed.",
                [
                    Count("relapses", o.durability.curve.events, FigureName.RELAPSED),
                    Count(
                        "responders followed", o.durability.curve.subjects, FigureName.RESPONDERS
                    ),
                ],
                [
                    Parameter(
                        "relapse rule",
                        rule.label,
                        cohort.plain_source(rule.source, cohort.sources()),
                    )
                ],
            )
        )
        return found

    def chart(
        self,
        kind: Kind,
        figure: CurveFigure,
        title: str,
        definition: str,
        counts: list[Count],
        parameters: list[Parameter],
    ) -> Chart:
        curve, withheld = figure.curve, self.withheld(figure.group)
        value = self.fewer if withheld else _median(curve)
        metric = Metric(
            kind.value,
            title,
            value,
            withheld,
            definition,
            self.counts(figure.group, *counts),
            parameters,
        )
        if withheld or not curve.points:
            return Chart(metric, None, "", value)
        return Chart(metric, charts.img_src(km_svg(curve, kind)), km_alt(curve, kind), value)

    # --- retention and sessions ---------------------------------------------------------------

    def retention(self) -> Metric:
        r = self.found.retention
        steps = cohort.parameters().retention_sessions
        return Metric(
            "retention",
            "Retention through the induction",
            self.fewer if self.withheld(r.treated) else f"{r.treated} treated",
            self.withheld(r.treated),
            "Of the treated patients (at least one session with a dose), the share whose "
            "induction had at least 1, 2, 3 ... dosed sessions, the last step counting "
            f"{steps.value} or more. The induction is the treatment plan, with every revision of "
            "it, under which the patient's first dose was given; a session counts when dosing "
            "started in it, whether it ended in discharge or was stopped early. The instrument "
            "filter does not apply.",
            self.counts(r.treated, Count("treated patients", r.treated, FigureName.TREATED)),
            [_plain(steps, "sessions counted", f"{steps.value}, the last step open-ended")],
        )

    def steps(self) -> list[Step]:
        r = self.found.retention
        if self.withheld(r.treated):
            return []
        return [
            Step(
                s.label,
                self.rate_value(Figure(s.rate, r.treated)),
                s.rate.percent,
                Count(f"at least {s.sessions}", s.rate.numerator, FigureName.RETAINED, s.sessions),
            )
            for s in r.steps
        ]

    def sessions(self) -> list[Metric]:
        s = self.found.sessions
        window = cohort.parameters().window_hours
        withheld = self.withheld(s.patients)
        sessions = Count("sessions with a dose", s.sessions, FigureName.SESSIONS)

        def per_100(count: int, rate: float | None) -> str:
            if withheld:
                return self.fewer
            return "no sessions" if rate is None else f"{rate:.1f} ({count} in {s.sessions})"

        return [
            Metric(
                "measurement",
                "Measured before the session",
                self.rate_value(s.measured),
                withheld,
                f"Of the sessions in which a dose was given, the share with a complete "
                f"{self.abbr} result completed in the {window.value} hours before dosing "
                "started, whatever its context (pre-session, follow-up, baseline).",
                self.counts(
                    s.patients,
                    Count("sessions measured", s.measured.rate.numerator),
                    sessions,
                    Count(
                        "sessions not measured",
                        s.sessions - s.measured.rate.numerator,
                        FigureName.UNMEASURED,
                    ),
                ),
                [_plain(window, "window", f"{window.value} hours before dosing started")],
            ),
            Metric(
                "adverse-events",
                "Adverse events per 100 sessions",
                per_100(s.adverse_events, s.adverse_events_per_100),
                withheld,
                "Adverse events recorded in the sessions in which a dose was given, per 100 of "
                "those sessions (a session with two events counts two). The instrument filter "
                "does not apply.",
                self.counts(
                    s.patients,
                    Count("adverse events", s.adverse_events, FigureName.ADVERSE_EVENTS),
                    sessions,
                ),
            ),
            Metric(
                "alarms",
                "Monitoring alarms per 100 sessions",
                per_100(s.alarms, s.alarms_per_100),
                withheld,
                "Vital-sign alarms raised in the sessions in which a dose was given, per 100 of "
                "those sessions. The instrument filter does not apply.",
                self.counts(s.patients, Count("alarms", s.alarms, FigureName.ALARMS), sessions),
            ),
        ]

    def suppression(self) -> Metric:
        smallest = cohort.parameters().smallest_group
        return Metric(
            "suppression",
            "Small groups",
            self.fewer,
            False,
            "Without access to identities (the administrator's view), a figure about at least "
            f'one and fewer than {smallest.value} patients shows as "{self.fewer}", with no '
            "counts and no curve, so no one can be picked out of a small group. Prescribers, "
            "who may open the patient lists, see every figure.",
            [],
            [_plain(smallest, "smallest group shown", f"{smallest.value} patients")],
        )


def _median(curve: Curve) -> str:
    if not curve.subjects:
        return "no patients"
    if curve.median is None:
        return "median not reached"
    return f"median {curve.median:g} days"
