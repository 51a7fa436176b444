from __future__ import annotations

import pytest

from ketacare.clinical import InvalidCode, icd10


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("F41.1", "F41.1"),
        ("f411", "F41.1"),
        (" F40.10 ", "F40.10"),
        ("f43 12", "F43.12"),
        ("I10", "I10"),
        ("F32.A", "F32.A"),
        ("Z79.899", "Z79.899"),
    ],
)
def test_it_normalises_and_accepts_well_formed_codes(text: str, code: str) -> None:
    assert icd10.validate(text) == code


@pytest.mark.parametrize("text", ["", "F4", "41.1", "FF1.1", "F41.12345", "F41-1", "anxiety"])
def test_it_refuses_malformed_codes_and_says_what_a_code_looks_like(text: str) -> None:
    with pytest.raises(InvalidCode, match="expected a letter, two characters"):
        icd10.validate(text)


@pytest.mark.parametrize(
    ("category", "child"), [("F43.1", "F43.12"), ("F42", "F42.2"), ("F41", "F41.1")]
)
def test_it_refuses_a_category_and_names_its_billable_codes(category: str, child: str) -> None:
    with pytest.raises(InvalidCode, match=f"{category} is a category.*{child}"):
        icd10.validate(category)


def test_the_catalogue_offers_every_condition_the_clinic_treats_by_name() -> None:
    cat = icd10.catalogue()
    assert cat.title("F41.1") == "Generalized anxiety disorder"
    assert cat.title("F40.10") == "Social phobia, unspecified"
    assert cat.title("F43.10") == "Post-traumatic stress disorder, unspecified"
    assert cat.title("F41.0") == "Panic disorder [episodic paroxysmal anxiety]"
    assert {c for c in cat.codes if c.startswith("F42.")} >= {"F42.2", "F42.3", "F42.9"}
    assert {c for c in cat.codes if c.startswith("F32.")} >= {"F32.0", "F32.9", "F32.A"}
    assert {c for c in cat.codes if c.startswith("F33.")} >= {"F33.0", "F33.1", "F33.9"}
    assert cat.title("X99.9") is None
    assert "CMS" in cat.source
    assert cat.version.startswith("ICD-10-CM")


def test_every_catalogue_code_is_itself_valid() -> None:
    for code in icd10.catalogue().codes:
        assert icd10.validate(code) == code
