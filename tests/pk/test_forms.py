"""The protocol comparison accepts the weights the population simulation accepts."""

from __future__ import annotations

from ketacare.clinical.pk.population import WEIGHT_RANGE_KG
from ketacare.pk.forms import CompareForm


def test_the_weight_allows_exactly_the_simulations_weight_range() -> None:
    field = CompareForm().fields["weight_kg"]
    limits = (field.min_value, field.max_value)  # type: ignore[attr-defined]
    assert limits == WEIGHT_RANGE_KG


def test_a_weight_above_the_simulations_range_is_refused() -> None:
    _, heaviest = WEIGHT_RANGE_KG
    assert "weight_kg" not in CompareForm({"weight_kg": heaviest}).errors
    assert "weight_kg" in CompareForm({"weight_kg": heaviest + 1}).errors
