"""The measures forms take their ranges from the follow-up schedule rules and the models."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django import forms

from ketacare.clinical import instruments
from ketacare.clinical.schedules import EVERY_DAYS, FOR_WEEKS, HOURS_AFTER_DOSE
from ketacare.measures.forms import (
    CloseAlertForm,
    IssueRequestForm,
    ScheduleForm,
    StaffResponseForm,
)
from ketacare.measures.models import SafetyAlert


def limits(field: forms.Field) -> tuple[object, object]:
    return field.min_value, field.max_value  # type: ignore[attr-defined]


def hours_fields() -> list[forms.Field]:
    gad7 = instruments.get("gad7")
    return [
        StaffResponseForm(instrument=gad7, texts=None).fields["hours_after_dose"],
        IssueRequestForm(available=[gad7]).fields["hours_after_dose"],
    ]


def test_hours_since_dosing_run_from_the_dose_to_the_follow_up_schedules_ceiling() -> None:
    for field in hours_fields():
        assert limits(field) == (Decimal(0), Decimal(str(HOURS_AFTER_DOSE[1])))


def test_hours_past_the_ceiling_are_refused() -> None:
    gad7 = instruments.get("gad7")
    ceiling = HOURS_AFTER_DOSE[1]
    assert (
        "hours_after_dose"
        not in IssueRequestForm({"hours_after_dose": ceiling}, available=[gad7]).errors
    )
    assert (
        "hours_after_dose"
        in IssueRequestForm({"hours_after_dose": ceiling + 1}, available=[gad7]).errors
    )


@pytest.mark.parametrize(
    ("field", "bounds"), [("every_days", EVERY_DAYS), ("for_weeks", FOR_WEEKS)]
)
def test_a_schedule_allows_the_intervals_the_schedule_rules_allow(
    field: str, bounds: tuple[int, int]
) -> None:
    form_field = ScheduleForm(available=[]).fields[field]
    assert limits(form_field) == bounds
    assert f"({bounds[0]}-{bounds[1]})" in str(form_field.help_text)


def test_closing_an_alert_needs_the_models_minimum_note() -> None:
    minimum = SafetyAlert.CLOSE_NOTE_MIN_LENGTH
    assert not CloseAlertForm({"note": "x" * (minimum - 1)}).is_valid()
    assert CloseAlertForm({"note": "x" * minimum}).is_valid()
