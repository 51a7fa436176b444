"""Example cases shared by the eligibility tests (not by the independent reference)."""

from __future__ import annotations

from typing import Any

# A 40-year-old man with GAD, two adequate prior treatments, normal vitals and an escort.
A_CLEAN_CASE: dict[str, Any] = {
    "age": 40,
    "sex": "male",
    "weight_kg": 70,
    "height_cm": 175,
    "bp_systolic": 120,
    "bp_diastolic": 80,
    "diagnoses": ["F41.1"],
    "prior_treatments": [
        {"name": "sertraline", "kind": "medication", "adequate": True},
        {"name": "CBT", "kind": "psychotherapy", "adequate": True},
    ],
    "cssrs_risk": "none",
    "has_escort": True,
}
