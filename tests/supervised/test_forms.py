"""The session forms take their ranges from the data that owns them."""

from __future__ import annotations

import pytest
from django.core.validators import MaxValueValidator, MinValueValidator

from ketacare.clinical import monitoring
from ketacare.patients.models import WEIGHT_KG, BodyMeasurement
from ketacare.supervised.forms import VitalsForm, WeightForm


def limits(form_field: object) -> tuple[object, object]:
    return form_field.min_value, form_field.max_value  # type: ignore[attr-defined]


@pytest.mark.parametrize("field", monitoring.FIELDS)
def test_each_vital_allows_exactly_the_monitoring_datas_plausible_range(field: str) -> None:
    assert limits(VitalsForm().fields[field]) == monitoring.plausible_range(field)


def test_todays_weight_allows_what_the_chart_stores_as_a_body_measurement() -> None:
    validators = BodyMeasurement._meta.get_field("weight_kg").validators
    stored = (
        next(v.limit_value for v in validators if isinstance(v, MinValueValidator)),
        next(v.limit_value for v in validators if isinstance(v, MaxValueValidator)),
    )
    assert limits(WeightForm().fields["weight_kg"]) == stored


def test_a_weight_the_chart_would_refuse_is_refused_at_the_gate() -> None:
    low, high = WEIGHT_KG
    assert WeightForm({"weight_kg": low}).is_valid()
    assert WeightForm({"weight_kg": high}).is_valid()
    assert not WeightForm({"weight_kg": low - 1}).is_valid()
    assert not WeightForm({"weight_kg": high + 1}).is_valid()


@pytest.mark.parametrize(
    ("typed", "words"), [("1899-12-31T09:00", "1900"), ("2999-01-01T09:00", "future")]
)
def test_a_session_time_before_1900_or_in_the_future_is_refused_naming_the_field(
    typed: str, words: str
) -> None:
    reading = {"systolic": 120, "diastolic": 80, "heart_rate": 70, "spo2": 98}
    form = VitalsForm({**reading, "taken_at": typed})
    assert not form.is_valid()
    assert words in form.errors["taken_at"][0]
