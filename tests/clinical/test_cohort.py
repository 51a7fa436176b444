"""Cohort figures: rates, withholding small groups, the retention funnel, measured before a dose,
completed days, cited sources in plain words, and the data file's checks."""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest

from ketacare.clinical import cohort

DOSE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_the_shipped_parameters_are_cited() -> None:
    p = cohort.parameters()
    assert (p.window_hours.value, p.smallest_group.value, p.retention_sessions.value) == (72, 11, 6)
    assert [g.id for g in p.diagnosis_groups] == ["gad", "social", "ptsd", "ocd", "panic"]
    assert "ICD10CM" in p.diagnosis_source


@pytest.mark.parametrize(
    ("group", "code", "matches"),
    [
        ("gad", "F41.1", True),
        ("gad", "F41.0", False),
        ("social", "f40.11", True),
        ("ptsd", "F43.12", True),
        ("ocd", "F42.2", True),
        ("panic", "F41.0", True),
        ("panic", "F40.01", False),
    ],
)
def test_a_diagnosis_group_takes_the_codes_under_its_prefixes(
    group: str, code: str, matches: bool
) -> None:
    found = {g.id: g for g in cohort.parameters().diagnosis_groups}[group]
    assert found.matches(code) is matches


def test_a_rate_has_no_percent_without_a_denominator() -> None:
    assert cohort.Rate(2, 3).percent == pytest.approx(66.667, abs=0.001)
    assert cohort.Rate(0, 0).percent is None


@pytest.mark.parametrize(("group", "withheld"), [(0, False), (1, True), (10, True), (11, False)])
def test_a_group_of_one_to_ten_is_withheld_and_an_empty_one_is_not(
    group: int, withheld: bool
) -> None:
    assert cohort.withheld(group, 11) is withheld


def test_events_per_hundred_sessions() -> None:
    assert cohort.per_hundred(3, 9) == pytest.approx(33.333, abs=0.001)
    assert cohort.per_hundred(0, 0) is None


def test_the_funnel_counts_each_step_of_the_treated_and_ends_open() -> None:
    steps = cohort.funnel([4, 3, 1], treated=4)
    assert [(s.label, s.rate.numerator, s.rate.denominator) for s in steps] == [
        ("1", 4, 4),
        ("2", 3, 4),
        ("3 or more", 1, 4),
    ]


@pytest.mark.parametrize("reached", [[5], [3, 4], [-1]])
def test_a_funnel_cannot_grow_or_exceed_the_treated(reached: list[int]) -> None:
    with pytest.raises(ValueError, match="cannot follow"):
        cohort.funnel(reached, treated=4)


def test_a_measure_counts_in_the_hours_up_to_the_dose_both_ends_included() -> None:
    def measured(*hours_before: float) -> bool:
        times = sorted(DOSE - timedelta(hours=h) for h in hours_before)
        return cohort.measured_before(DOSE, times, 72)

    assert measured(72)
    assert measured(0)
    assert not measured(72.01)
    assert not measured(-1)  # after the dose
    assert measured(100, 30, -5)
    assert not measured()


def test_completed_days_start_at_day_zero() -> None:
    assert [cohort.whole_days(d) for d in (0, 0.99, 1, 15.9)] == [0, 0, 1, 15]
    for bad in (-0.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="not a duration"):
            cohort.whole_days(bad)


# --- sources in plain words -------------------------------------------------------------------


CITED = {
    "S1": "Bischoff et al. 2020: test-retest r = .87",
    "Issue3": "ketacare issue 3 (Trends): the house default",
}


def test_a_source_loses_its_tags_and_names_the_works_they_cite() -> None:
    plain = cohort.plain_source("Bischoff 2020: r = .87 [S1] [S1] [Unknown]", CITED)
    assert plain == cohort.PlainSource(
        "Bischoff 2020: r = .87", ("Bischoff et al. 2020: test-retest r = .87",)
    )


def test_a_house_default_is_named_as_ketacares_configurable_default() -> None:
    plain = cohort.plain_source("House default [Issue3]; no specific definition", CITED)
    assert plain.text == "ketacare's configurable default; no specific definition"
    assert plain.works == ()


def test_a_tag_citing_ketacare_itself_makes_it_a_default_and_gk_is_said_in_words() -> None:
    plain = cohort.plain_source("(GK) response >=50% [Issue3]", CITED)
    assert (
        plain.text
        == "ketacare's configurable default: (general knowledge, unverified) response >=50%"
    )


def test_an_issue_tag_from_an_older_record_still_reads_as_ketacares_default() -> None:
    plain = cohort.plain_source("[Issue6]; every 10-15 min [S1]", {"S1": "Riva-Posse 2018"})
    assert plain == cohort.PlainSource(
        "ketacare's configurable default: every 10-15 min", ("Riva-Posse 2018",)
    )


def test_an_older_records_pointer_into_the_research_notes_is_left_out() -> None:
    old = "pause, escalate [S1]; trials counted SBP >180 as transient hypertension (notes 2.4, [S])"
    plain = cohort.plain_source(old, CITED)
    assert plain.text == "pause, escalate; trials counted SBP >180 as transient hypertension"


def test_a_source_that_is_only_tags_leaves_no_stray_punctuation() -> None:
    assert cohort.plain_source("[S1]; [S1]", CITED).text == ""
    own = cohort.plain_source("[KetacareDefault]", {"KetacareDefault": "ketacare's choice"})
    assert own == cohort.PlainSource("ketacare's configurable default", ())


def test_the_shipped_sources_include_both_files() -> None:
    assert {"KetacareDefault", "CMS", "ORKA2"} <= set(cohort.sources())


# --- the data file's checks --------------------------------------------------------------------


def shipped() -> dict[str, Any]:
    text = resources.files("ketacare.clinical").joinpath("data/cohort.toml").read_text()
    return tomllib.loads(text)


def broken(change: Any) -> str:
    data = copy.deepcopy(shipped())
    change(data)
    with pytest.raises(cohort.InvalidCohortParameters) as caught:
        cohort.parse(data)
    return str(caught.value)


def test_the_parser_reads_the_shipped_file() -> None:
    assert cohort.parse(shipped()) == cohort.parameters()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("measurement"), "measurement: the table is missing"),
        (lambda d: d["measurement"].update(window_hours=72), "exactly a value and a source"),
        (lambda d: d["suppression"]["smallest_group"].update(value=1), "a whole number 2-1000"),
        (lambda d: d["retention"]["sessions"].update(value=True), "a whole number 1-50"),
        (lambda d: d["retention"]["sessions"].update(source=" "), "sessions source"),
        (lambda d: d.pop("diagnosis_groups"), "diagnosis_groups: the table is missing"),
        (lambda d: d["diagnosis_groups"].pop("source"), "diagnosis_groups source"),
        (lambda d: d["diagnosis_groups"]["gad"].pop("label"), "exactly a label and prefixes"),
        (lambda d: d["diagnosis_groups"]["gad"].update(prefixes=[]), "a list of ICD-10"),
        (lambda d: d["diagnosis_groups"]["gad"].update(prefixes=[1]), "gad prefixes"),
        (
            lambda d: d.update(diagnosis_groups={"source": "x"}),
            "expected at least one group",
        ),
    ],
)
def test_a_broken_file_names_the_field(change: Any, message: str) -> None:
    assert message in broken(change)
