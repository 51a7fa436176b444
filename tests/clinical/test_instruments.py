"""The instrument library and its one scoring engine.

Worked examples E1-E19, E22-E24 are from ../shared/research/instruments.md section 17."""

from __future__ import annotations

import copy
import re
import tomllib
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketacare.clinical import instruments as lib
from ketacare.clinical.instruments import InvalidAnswers, InvalidInstrument, UnknownInstrument

IDS = [
    "gad7",
    "phq9",
    "pcl5",
    "oasis",
    "hama",
    "cssrs-screen",
    "cadss",
    "moaas",
    "spin",
    "minispin",
    "pdss-sr",
    "ybocs",
    "ocir",
    "wsas",
]


def score(instrument_id: str, answers: list[Any]) -> dict[str, Any]:
    return lib.score(lib.get(instrument_id), answers).as_dict()


def test_the_library_has_exactly_the_fourteen_instruments() -> None:
    assert sorted(lib.library()) == sorted(IDS)


def test_each_instrument_is_versioned_by_its_data_file() -> None:
    import hashlib

    folder = resources.files("ketacare.clinical").joinpath("data/instruments")
    text = folder.joinpath("gad7.toml").read_text()
    assert lib.get("gad7").version == hashlib.sha256(text.encode()).hexdigest()[:12]
    assert len({ins.version for ins in lib.library().values()}) == len(IDS)


@pytest.mark.parametrize(
    ("instrument_id", "answers", "total", "severity", "flags"),
    [
        ("gad7", [0, 0, 1, 1, 0, 1, 0], 3, "minimal", []),  # E1
        ("phq9", [0, 0, 1, 1, 1, 0, 0, 0, 0], 3, "minimal", []),  # E2
        ("gad7", [3, 0, 1, 2, 0, 0, 1], 7, "mild", []),  # E3
        ("phq9", [3, 0, 1, 2, 0, 0, 1, 0, 3], 10, "moderate", ["suicidal_ideation"]),  # E4
        ("gad7", [0] * 7, 0, "minimal", []),  # E5
        ("gad7", [3] * 7, 21, "severe", ["screen_positive"]),  # E5
        ("phq9", [3] * 9, 27, "severe", ["suicidal_ideation"]),  # E5
        ("pdss-sr", [2, 2, 1, 1, 0, 1, 1], 8, "slightly_ill", ["screen_positive"]),  # E12
        ("hama", [2] * 8 + [1] + [0] * 5, 17, "moderate", []),  # E22, Matza scheme
        ("moaas", [3], 3, None, ["sedation"]),  # E23
        ("cadss", [1] * 12 + [0] * 11, 12, None, ["dissociation"]),  # E24
        ("wsas", [0] * 5, 0, "subclinical", []),  # Mundt 2002: <10 subclinical
        ("wsas", [2, 2, 2, 2, 1], 9, "subclinical", []),
        ("wsas", [2] * 5, 10, "significant_impairment", []),  # Mundt 2002: 10-20
        ("wsas", [4] * 5, 20, "significant_impairment", []),
        ("wsas", [5, 4, 4, 4, 4], 21, "moderately_severe", []),  # Mundt 2002: >20
        ("wsas", [8] * 5, 40, "moderately_severe", []),
    ],
)
def test_worked_examples_total_band_and_flags(
    instrument_id: str, answers: list[int], total: int, severity: str | None, flags: list[str]
) -> None:
    result = score(instrument_id, answers)
    assert (result["complete"], result["total"], result["severity"], result["flags"]) == (
        True,
        total,
        severity,
        flags,
    )


@pytest.mark.parametrize(
    ("answers", "total", "clusters", "diagnosis"),
    [
        (
            [4, 3, 1, 0, 3, 3, 4, 1, 2, 0, 3, 1, 0, 0, 1, 2, 4, 0, 0, 3],
            35,
            {"B": 11, "C": 7, "D": 7, "E": 10},
            True,
        ),  # E6
        ([2] * 20, 40, {"B": 10, "C": 4, "D": 14, "E": 12}, True),  # E7
        ([0] * 20, 0, {"B": 0, "C": 0, "D": 0, "E": 0}, False),  # E8
        ([4] * 20, 80, {"B": 20, "C": 8, "D": 28, "E": 24}, True),  # E8
        ([2] * 5 + [1, 1] + [2] * 13, 38, {"B": 10, "C": 2, "D": 14, "E": 12}, False),  # E9
        (
            [2, 0, 0, 0, 0, 2, 0, 2, 2, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0],
            12,
            {"B": 2, "C": 2, "D": 4, "E": 4},
            True,
        ),  # E10
    ],
)
def test_pcl5_clusters_and_the_dsm5_rule(
    answers: list[int], total: int, clusters: dict[str, int], diagnosis: bool
) -> None:
    result = score("pcl5", answers)
    assert (result["total"], result["subscales"], result["provisional_diagnosis"]) == (
        total,
        clusters,
        diagnosis,
    )
    assert ("probable_ptsd" in result["flags"]) is (total >= 33)


def test_pcl5_with_no_answers_has_no_total_and_no_diagnosis() -> None:  # E11
    result = score("pcl5", [None] * 20)
    assert result == {
        "instrument": "pcl5",
        "complete": False,
        "total": None,
        "severity": None,
        "subscales": {},
        "flags": [],
        "provisional_diagnosis": None,
        "risk": None,
    }


def test_ybocs_subscales_and_band() -> None:  # E13 (item 1b is not collected)
    result = score("ybocs", [3, 3, 2, 2, 2, 2, 2, 2, 1, 1])
    assert (result["total"], result["severity"]) == (20, "moderate")
    assert result["subscales"] == {"obsessions": 12, "compulsions": 8}


def test_ocir_hoarding_flag_rests_on_its_subscale() -> None:  # E14
    answers = [0] * 18
    for item in (1, 7, 13):
        answers[item - 1] = 4
    result = score("ocir", answers)
    assert (result["total"], result["subscales"]["hoarding"], result["flags"]) == (
        12,
        12,
        ["hoarding"],
    )
    assert sum(v for k, v in result["subscales"].items() if k != "hoarding") == 0  # OCD-only 0


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        ([1, 0, None, None, None, 0, None], "low"),  # E15
        ([1, 1, 1, 0, 0, 0, None], "moderate"),  # E16
        ([0, 1, 0, 1, 0, 0, None], "high"),  # E17
        ([0, 0, None, None, None, 1, 0], "moderate"),  # E18
        ([0, 0, None, None, None, 1, 1], "high"),  # E19
        ([0, 0, None, None, None, 1, None], "high"),  # recency unknown counts as recent
        ([0, 0, None, None, None, 0, None], "none"),
        ([None] * 7, None),  # nothing answered: not assessed, never "none"
    ],
)
def test_cssrs_triage_takes_the_highest_level(answers: list[int | None], risk: str | None) -> None:
    result = score("cssrs-screen", answers)
    assert result["risk"] == risk
    assert ("suicide_risk" in result["flags"]) is (risk in ("moderate", "high"))
    assert result["total"] is None


def test_cssrs_skip_logic_decides_completeness() -> None:
    assert score("cssrs-screen", [0, 0, None, None, None, 0, None])["complete"] is True
    assert score("cssrs-screen", [0, 1, None, None, None, 0, None])["complete"] is False  # Q3-5 due
    assert (
        score("cssrs-screen", [0, 0, None, None, None, 1, None])["complete"] is False
    )  # recency due


def test_an_incomplete_response_has_no_total_band_or_total_flag_but_keeps_item_flags() -> None:
    result = score("phq9", [3, 3, 3, 3, 3, 3, 3, None, 2])
    assert (result["complete"], result["total"], result["severity"]) == (False, None, None)
    assert result["flags"] == ["suicidal_ideation"]
    gad = score("gad7", [3, 3, 3, 3, 3, 3, None])
    assert gad["flags"] == []  # screen_positive needs the complete total


def test_only_complete_subscales_are_reported_and_subscale_flags_follow() -> None:
    answers: list[int | None] = [4] * 18
    answers[0] = None  # a hoarding item
    result = score("ocir", answers)
    assert "hoarding" not in result["subscales"]
    assert result["subscales"]["washing"] == 12
    assert result["flags"] == []  # hoarding incomplete, total incomplete
    pcl = score("pcl5", [2] * 5 + [None] + [2] * 14)
    assert set(pcl["subscales"]) == {"B", "D", "E"}
    assert pcl["provisional_diagnosis"] is None


@pytest.mark.parametrize(
    ("instrument_id", "answers", "message"),
    [
        ("gad7", [0] * 6, "gad7 takes 7 answers (items 1-7), got 6"),
        (
            "gad7",
            [0, 0, 4, 0, 0, 0, 0],
            "gad7 item 3: 4 is out of range; allowed values are 0, 1, 2, 3",
        ),
        ("gad7", [0, -1, 0, 0, 0, 0, 0], "item 2: -1 is out of range"),
        ("moaas", [True], "moaas item 1: true is not an integer"),
        (
            "moaas",
            [2.0],
            "moaas item 1: 2.0 is not an integer; allowed values are 0, 1, 2, 3, 4, 5",
        ),
        ("moaas", ["2"], 'moaas item 1: "2" is not an integer'),
        ("moaas", [object()], "moaas item 1: <object object"),
        (
            "cssrs-screen",
            [2] + [None] * 6,
            "cssrs-screen item 1: 2 is out of range; allowed values are 0, 1",
        ),
    ],
)
def test_invalid_answers_name_the_item_and_the_allowed_values(
    instrument_id: str, answers: list[Any], message: str
) -> None:
    with pytest.raises(InvalidAnswers, match=message.replace("(", r"\(").replace(")", r"\)")):
        lib.score(lib.get(instrument_id), answers)


def test_an_unknown_instrument_lists_the_known_ones() -> None:
    with pytest.raises(
        UnknownInstrument, match="unknown instrument 'gad-7'; known: cadss, cssrs-screen"
    ):
        lib.get("gad-7")


def test_answers_from_text_reads_empty_positions_as_missing() -> None:
    gad7 = lib.get("gad7")
    assert lib.answers_from_text(gad7, "0,1, 2,,3,,") == [0, 1, 2, None, 3, None, None]
    with pytest.raises(
        InvalidAnswers, match="gad7 item 2: 'a' is not an integer; allowed values are 0, 1, 2, 3"
    ):
        lib.answers_from_text(gad7, "1,a")
    with pytest.raises(
        InvalidAnswers, match=re.escape("item 9: '1.5' is not an integer; allowed values are none")
    ):
        lib.answers_from_text(gad7, "0,0,0,0,0,0,0,0,1.5")


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({"instrument": "gad7", "answers": [0] * 7}, {"total": 0}),
        (
            {"instrument": "gad7"},
            {"error": 'expected an object with exactly the keys "instrument" and "answers"'},
        ),
        ([1, 2], {"error": 'expected an object with exactly the keys "instrument" and "answers"'}),
        (
            {"instrument": "gad7", "answers": "0,0"},
            {"error": '"answers" must be a list of integers or null'},
        ),
        (
            {"instrument": "x", "answers": []},
            {"error": "unknown instrument 'x'; known: " + ", ".join(sorted(IDS))},
        ),
    ],
)
def test_score_request_scores_or_explains(request_: object, expected: dict[str, Any]) -> None:
    result = lib.score_request(request_)
    assert {k: result[k] for k in expected} == expected


# --- every data file obeys the rules ----------------------------------------------------------


@pytest.mark.parametrize("instrument_id", IDS)
def test_every_cut_off_flag_and_band_cites_its_source(instrument_id: str) -> None:
    ins = lib.get(instrument_id)
    assert ins.sources, "the file lists its sources"
    assert all(f.source for f in ins.flags)
    assert not ins.bands or ins.bands_source
    assert ins.licence.notice


def test_item_text_ships_only_where_the_licence_allows() -> None:
    shipped = {i for i, ins in lib.library().items() if any(item.text for item in ins.items)}
    assert shipped == {"gad7", "phq9", "pcl5", "wsas"}
    for ins in lib.library().values():
        if not ins.licence.ship_text:
            assert all(item.text is None for item in ins.items), ins.id


def test_wsas_has_no_total_when_an_item_is_unanswered() -> None:
    # A retired patient leaving "work" blank: the engine's rule holds, no prorating.
    result = score("wsas", [None, 8, 8, 8, 8])
    assert (result["complete"], result["total"], result["severity"]) == (False, None, None)


def test_wsas_bands_cite_mundt_2002_and_ship_its_free_text() -> None:
    wsas = lib.get("wsas")
    assert [(b.low, b.high) for b in wsas.bands] == [(0, 9), (10, 20), (21, 40)]
    assert "Mundt2002" in wsas.bands_source
    assert "Br J Psychiatry 2002;180:461-464" in wsas.sources["Mundt2002"]
    assert wsas.licence.status == "free"
    assert wsas.licence.ship_text
    assert [o.value for o in wsas.items[0].options] == list(range(9))
    assert wsas.loinc == {}
    assert wsas.domain == "functioning"
    assert {i.domain for i in lib.library().values() if i.id != "wsas"} == {"symptoms"}


def test_severity_is_null_for_instruments_without_bands() -> None:
    banded = {i for i, ins in lib.library().items() if ins.bands}
    assert banded == {"gad7", "phq9", "pdss-sr", "ybocs", "hama", "wsas"}


def test_loinc_codes_of_the_shipped_scales() -> None:
    assert lib.get("gad7").loinc == {"panel": "69737-5", "total": "70274-6"}
    assert lib.get("phq9").loinc["total"] == "44261-6"
    assert lib.get("phq9").items[8].loinc == "44260-8"
    assert lib.get("gad7").items[0].options[3].loinc == "LA6571-9"


@st.composite
def responses(draw: st.DrawFn) -> tuple[lib.Instrument, list[int | None]]:
    ins = draw(st.sampled_from(list(lib.library().values())))
    answers = [draw(st.one_of(st.none(), st.sampled_from(item.values))) for item in ins.items]
    return ins, answers


@given(responses())
def test_totals_stay_in_range_and_every_total_has_exactly_one_band(
    case: tuple[lib.Instrument, list[int | None]],
) -> None:
    ins, answers = case
    result = lib.score(ins, answers)
    if result.total is not None:
        low, high = ins.total_range
        assert low <= result.total <= high
        if ins.bands:
            assert sum(1 for b in ins.bands if b.low <= result.total <= b.high) == 1
    assert list(result.flags) == sorted(set(result.flags))
    assert set(result.flags) <= lib.FLAGS
    assert result.complete or (result.total is None and result.severity is None)


@pytest.mark.parametrize("instrument_id", IDS)
def test_bands_partition_the_whole_range(instrument_id: str) -> None:
    ins = lib.get(instrument_id)
    if ins.bands:
        low, high = ins.total_range
        assert [ins.band_for(t) is not None for t in range(low, high + 1)] == [True] * (
            high - low + 1
        )


# --- a broken data file is refused at load -----------------------------------------------------


def raw(instrument_id: str) -> dict[str, Any]:
    folder = resources.files("ketacare.clinical").joinpath("data/instruments")
    return tomllib.loads(folder.joinpath(f"{instrument_id}.toml").read_text())


def broken(instrument_id: str, change: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw(instrument_id))
    change(data)
    return data


@pytest.mark.parametrize(
    ("instrument_id", "change", "problem"),
    [
        ("gad7", lambda d: d["bands"][1].update(min=6), "band mild starts at 6, expected 5"),
        (
            "gad7",
            lambda d: d["bands"][3].update(max=20),
            "bands end at 20, the total's maximum is 21",
        ),
        ("gad7", lambda d: d.pop("bands_source"), "bands have no source"),
        ("gad7", lambda d: d["items"][1].update(number=9), "items must be numbered 1..n"),
        ("gad7", lambda d: d["licence"].update(status="maybe"), "licence status 'maybe'"),
        (
            "gad7",
            lambda d: d["licence"].update(ship_text=False),
            "item text shipped for an instrument",
        ),
        (
            "gad7",
            lambda d: d["flags"][0].update(flag="anxious"),
            "flag 'anxious' is not in the vocabulary",
        ),
        ("gad7", lambda d: d["flags"][0].update(on="item:99"), "refers to 'item:99'"),
        ("gad7", lambda d: d["flags"][0].update(op="=>"), "which this instrument lacks"),
        ("gad7", lambda d: d["flags"][0].update(source=""), "flag screen_positive has no source"),
        ("gad7", lambda d: d["flags"][0].update(on="risk"), "refers to 'risk'"),
        ("ocir", lambda d: d["flags"][1].update(on="subscale:hoard"), "refers to 'subscale:hoard'"),
        (
            "ocir",
            lambda d: d["subscales"][0].update(items=[5, 11, 99]),
            "subscale washing names items",
        ),
        (
            "pcl5",
            lambda d: d["provisional_diagnosis"]["minimum"].update(F=1),
            "names unknown subscales",
        ),
        (
            "cssrs-screen",
            lambda d: d["flags"].append(
                {"flag": "screen_positive", "on": "total", "value": 1, "source": "x"}
            ),
            "refers to 'total'",
        ),
        ("gad7", lambda d: d.pop("scale"), "KeyError('scale')"),
        ("wsas", lambda d: d.update(domain="mood"), "domain 'mood' is not one of"),
    ],
)
def test_a_broken_data_file_is_refused_with_the_problem_named(
    instrument_id: str, change: Any, problem: str
) -> None:
    with pytest.raises(InvalidInstrument) as exc:
        lib.parse(broken(instrument_id, change), origin=f"{instrument_id}.toml")
    assert problem in str(exc.value)
    assert str(exc.value).startswith(f"{instrument_id}.toml: ")


def test_a_file_may_give_an_item_its_own_options() -> None:
    def custom(d: dict[str, Any]) -> None:
        d["items"][0]["options"] = [{"value": 0, "label": "No"}, {"value": 6, "label": "Max"}]
        d["bands"][3]["max"] = 24

    ins = lib.parse(broken("gad7", custom))
    assert ins.items[0].values == (0, 6)
    assert ins.total_range == (0, 24)


def test_items_with_different_options_are_checked_one_by_one() -> None:
    """The engine's one-set test applies only when every item shares its options; otherwise
    each answer is checked against its own item's."""
    import dataclasses

    from ketacare.clinical.instruments import InvalidAnswers, Option, get, score

    gad7 = get("gad7")
    yes_no = dataclasses.replace(gad7.items[1], options=(Option(0, "No"), Option(1, "Yes")))
    mixed = dataclasses.replace(gad7, items=(gad7.items[0], yes_no, *gad7.items[2:]))
    assert gad7.shared_values == frozenset({0, 1, 2, 3, None})
    assert mixed.shared_values is None
    assert score(mixed, [3, 1, 3, 3, 3, 3, 3]).total == 19
    with pytest.raises(InvalidAnswers, match="item 2: 3 is out of range; allowed values are 0, 1"):
        score(mixed, [3, 3, 3, 3, 3, 3, 3])
