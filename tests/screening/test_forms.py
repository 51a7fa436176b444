"""The intake's vitals step takes its plausible ranges from the monitoring data."""

from __future__ import annotations

import pytest

from ketacare.clinical import monitoring
from ketacare.screening.forms import VitalsForm

# The form's field and the monitoring data's name for it.
VITALS = [
    ("bp_systolic", "systolic"),
    ("bp_diastolic", "diastolic"),
    ("heart_rate", "heart_rate"),
    ("spo2", "spo2"),
]


def vitals(**values: int) -> VitalsForm:
    return VitalsForm({"weight_kg": 70, "height_cm": 170, "bp_diastolic": 20, **values})


@pytest.mark.parametrize(("field", "vital"), VITALS)
def test_each_vital_allows_exactly_the_monitoring_datas_plausible_range(
    field: str, vital: str
) -> None:
    form_field = VitalsForm().fields[field]
    limits = (form_field.min_value, form_field.max_value)  # type: ignore[attr-defined]
    assert limits == monitoring.plausible_range(vital)


def test_a_systolic_below_the_plausible_minimum_is_refused_and_the_minimum_accepted() -> None:
    low, _ = monitoring.plausible_range("systolic")
    assert "bp_systolic" in vitals(bp_systolic=low - 1).errors
    assert vitals(bp_systolic=low).is_valid(), vitals(bp_systolic=low).errors
