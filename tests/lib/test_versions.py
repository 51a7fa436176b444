"""The version helpers: If-Match as RFC 9110 reads it, and the conflict page's rows in words."""

from __future__ import annotations

from datetime import date

import pytest
from django import forms

from ketacare.lib.versions import (
    ConflictRow,
    PreconditionRequired,
    StaleVersion,
    check,
    conflict_rows,
    etag,
    expected_version,
    form_rows,
)

RECORD = object()


def test_a_version_is_sent_as_a_strong_entity_tag() -> None:
    assert etag(3) == '"3"'


@pytest.mark.parametrize("header", [None, "", "  "])
def test_a_write_without_if_match_is_refused_as_unconditional(header: str | None) -> None:
    with pytest.raises(PreconditionRequired):
        expected_version(header, RECORD, 3)


@pytest.mark.parametrize("header", ['"3"', ' "1", "3" ', '"9","3"'])
def test_a_strong_tag_naming_the_current_version_matches(header: str) -> None:
    assert expected_version(header, RECORD, 3) == 3


def test_a_star_matches_any_version_and_asks_for_no_check() -> None:
    assert expected_version(" * ", RECORD, 3) is None


@pytest.mark.parametrize("header", ['"2"', 'W/"3"', "3", '"three"', '"3', "W/*"])
def test_an_older_weak_or_malformed_tag_is_stale_naming_the_current_record(header: str) -> None:
    with pytest.raises(StaleVersion) as refused:
        expected_version(header, RECORD, 3)
    assert (refused.value.current, refused.value.version) == (RECORD, 3)


def test_check_passes_the_saved_version_and_no_version_and_refuses_another() -> None:
    check(3, RECORD, 3)
    check(None, RECORD, 3)
    with pytest.raises(StaleVersion, match="now at version 4"):
        check(3, RECORD, 4)


def test_conflict_rows_show_values_in_words_and_mark_the_differences() -> None:
    rows = conflict_rows(
        {"phone": "Phone", "consent": "Consent given", "born": "Date of birth"},
        {"phone": "", "consent": True, "born": date(1985, 3, 14)},
        {"phone": "+1 555 010 2000", "consent": True, "born": date(1985, 3, 14)},
    )
    assert rows == [
        ConflictRow("Phone", "not recorded", "+1 555 010 2000"),
        ConflictRow("Consent given", "yes", "yes"),
        ConflictRow("Date of birth", "1985-03-14", "1985-03-14"),
    ]
    assert [r.differs for r in rows] == [True, False, False]


class ChoiceForm(forms.Form):
    route = forms.ChoiceField(choices=[("iv", "Intravenous"), ("im", "Intramuscular")])
    note = forms.CharField(required=False, label="Nurse's note")
    version = forms.IntegerField(widget=forms.HiddenInput)


def test_form_rows_use_the_forms_labels_show_codes_as_words_and_skip_hidden_fields() -> None:
    form = ChoiceForm({"route": "iv", "note": "", "version": 1})
    assert form.is_valid()
    rows = form_rows(form, {"route": "im", "note": "calm"})
    assert rows == [
        ConflictRow("Route", "Intravenous", "Intramuscular"),
        ConflictRow("Nurse's note", "not recorded", "calm"),
    ]


class DaysForm(forms.Form):
    days = forms.MultipleChoiceField(choices=[("mon", "Monday"), ("tue", "Tuesday")])


def test_form_rows_show_each_of_a_multiple_choice_in_words() -> None:
    form = DaysForm({"days": ["mon", "tue"]})
    assert form.is_valid()
    [row] = form_rows(form, {"days": ["tue"]})
    assert (row.label, row.differs) == ("Days", True)
    assert "Monday" in row.entered
    assert "mon," not in row.entered
    assert "Tuesday" in row.saved
