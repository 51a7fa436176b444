"""Safe Harbor and the limited data set as rules over single values (45 CFR 164.514)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from ketacare.clinical import deidentify as lib
from ketacare.clinical.deidentify import InvalidRules, Kind, Mode

HHS_2000_CENSUS = {
    "036", "059", "063", "102", "203", "556", "692", "790", "821",
    "823", "830", "831", "878", "879", "884", "890", "893",
}  # fmt: skip


def data(**changes: Any) -> dict[str, Any]:
    tables: dict[str, Any] = {
        "sources": {"HHS": "guidance", "CFR": "the rule"},
        "restricted_zip3": {"prefixes": ["036"], "replacement": "000", "source": "HHS"},
        "age": {"oldest_shown": 89, "over_label": "90+", "source": "CFR"},
    }
    for path, value in changes.items():
        table, key = path.split("__")
        if value is None:
            del tables[table][key]
        else:
            tables[table][key] = value
    return tables


def test_the_shipped_list_is_the_hhs_list_of_small_zip_areas_with_its_source() -> None:
    rules = lib.rules()
    assert rules.restricted_zip3 == HHS_2000_CENSUS
    assert "hhs.gov" in rules.sources["HHS2012"]
    assert (rules.oldest_shown, rules.over_label) == (89, "90+")


@pytest.mark.parametrize(
    ("postal_code", "expected"),
    [
        ("97214", "972"),
        ("97214-1234", "972"),
        (" 021391234 ", "021"),
        ("05901", "000"),  # 059: 20,000 people or fewer
        ("89301", "000"),
        ("SW1A 1AA", None),  # not a US ZIP code: nothing smaller than a state leaves
        ("9721", None),
        ("", None),
    ],
)
def test_a_zip_code_keeps_three_digits_unless_its_area_is_small(
    postal_code: str, expected: str | None
) -> None:
    assert lib.zip3(postal_code) == expected


def test_a_limited_data_set_keeps_five_zip_digits() -> None:
    assert lib.zip5("97214-1234") == "97214"
    assert lib.zip5("n/a") is None


@pytest.mark.parametrize(("age", "text"), [(0, "0"), (89, "89"), (90, "90+"), (95, "90+")])
def test_ages_over_89_are_one_category(age: int, text: str) -> None:
    assert lib.age_text(age) == text


@pytest.mark.parametrize("kind", [Kind.IDENTIFIER, Kind.FREE_TEXT])
def test_identifiers_and_free_text_leave_only_in_the_identified_export(kind: Kind) -> None:
    assert [lib.keeps(kind, m) for m in Mode] == [False, False, True]
    assert lib.release(kind, Mode.LIMITED, "MRN-1") is None
    assert lib.release(kind, Mode.IDENTIFIED, "MRN-1") == "MRN-1"


def test_de_identified_dates_keep_only_their_year() -> None:
    assert lib.release(Kind.DATE, Mode.DEIDENTIFIED, date(2026, 3, 14)) == 2026
    assert lib.release(Kind.DATE, Mode.DEIDENTIFIED, datetime(2025, 1, 2, 9, 30)) == 2025
    assert lib.release(Kind.DATE, Mode.LIMITED, date(2026, 3, 14)) == date(2026, 3, 14)


def test_a_birth_year_is_withheld_when_it_would_show_an_age_over_89() -> None:
    born = date(1931, 6, 1)
    assert lib.release(Kind.BIRTH_DATE, Mode.DEIDENTIFIED, born, age=89) == 1931
    assert lib.release(Kind.BIRTH_DATE, Mode.DEIDENTIFIED, born, age=95) is None
    assert lib.release(Kind.BIRTH_DATE, Mode.DEIDENTIFIED, born) is None  # no age: withheld
    assert lib.release(Kind.BIRTH_DATE, Mode.LIMITED, born, age=95) == born


def test_ages_and_zip_codes_by_mode() -> None:
    assert lib.release(Kind.AGE, Mode.DEIDENTIFIED, 95) == "90+"
    assert lib.release(Kind.AGE, Mode.LIMITED, 95) == 95
    assert lib.release(Kind.ZIP, Mode.DEIDENTIFIED, "05901") == "000"
    assert lib.release(Kind.ZIP, Mode.LIMITED, "05901-0001") == "05901"
    assert lib.release(Kind.ZIP, Mode.IDENTIFIED, "97214") == "97214"


def test_values_leave_as_they_are_and_nothing_stays_nothing() -> None:
    assert lib.release(Kind.VALUE, Mode.DEIDENTIFIED, "F41.1") == "F41.1"
    assert lib.release(Kind.DATE, Mode.DEIDENTIFIED, None) is None


def test_a_value_of_the_wrong_type_is_refused_rather_than_passed_through() -> None:
    with pytest.raises(TypeError, match="a date value cannot be str"):
        lib.release(Kind.DATE, Mode.DEIDENTIFIED, "2026-03-14")


def test_rules_can_be_given_instead_of_the_shipped_ones() -> None:
    rules = lib.parse(data(age__oldest_shown=79))
    assert lib.age_text(80, rules) == "90+"
    assert lib.zip3("03601", rules) == "000"
    born = date(1940, 1, 1)
    assert lib.release(Kind.BIRTH_DATE, Mode.DEIDENTIFIED, born, age=80, given=rules) is None
    assert lib.release(Kind.AGE, Mode.DEIDENTIFIED, 80, given=rules) == "90+"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"age__over_label": None}, "missing 'over_label'"),
        ({"restricted_zip3__prefixes": ["36"]}, "3 digits as text: \\['36'\\]"),
        ({"restricted_zip3__replacement": 0}, "3 digits as text: \\[0\\]"),
        ({"age__oldest_shown": 0}, "positive whole number: 0"),
        ({"age__oldest_shown": "89"}, "positive whole number: '89'"),
        ({"age__source": "X"}, "sources not in \\[sources\\]: \\['X'\\]"),
    ],
)
def test_a_broken_data_file_is_refused_naming_the_problem(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRules, match=message):
        lib.parse(data(**changes))
