"""The titration review takes its ranges from the instrument and monitoring data."""

from __future__ import annotations

from ketacare.clinical import instruments, monitoring
from ketacare.plans.forms import TitrationForm


def limits(field: str) -> tuple[int, int]:
    form_field = TitrationForm().fields[field]
    return form_field.min_value, form_field.max_value  # type: ignore[attr-defined]


def review(**values: int) -> TitrationForm:
    return TitrationForm({"session_number": 1, **values})


def test_the_peak_cadss_allows_the_instruments_own_total_range() -> None:
    assert limits("cadss_total") == instruments.get("cadss").total_range


def test_a_peak_cadss_above_the_instruments_maximum_is_refused() -> None:
    _, top = instruments.get("cadss").total_range
    assert review(cadss_total=top).is_valid()
    assert "cadss_total" in review(cadss_total=top + 1).errors


def test_the_peak_pressures_allow_the_monitoring_datas_plausible_range() -> None:
    assert limits("peak_systolic") == monitoring.plausible_range("systolic")
    assert limits("peak_diastolic") == monitoring.plausible_range("diastolic")


def test_a_peak_systolic_below_the_plausible_minimum_is_refused_and_the_minimum_accepted() -> None:
    low, _ = monitoring.plausible_range("systolic")
    assert "peak_systolic" in review(peak_systolic=low - 1).errors
    assert review(peak_systolic=low).is_valid()
