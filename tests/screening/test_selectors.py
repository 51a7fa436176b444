"""The screening case in words: one line per thing the rules look at, "not recorded" where the
case has nothing (never "no"), and each finding named by what it is about."""

from __future__ import annotations

from ketacare.screening.selectors import CaseLine, case_summary, trigger_label


def lines(case: dict[str, object]) -> dict[str, CaseLine]:
    return {line.label: line for line in case_summary(case)}


def test_a_full_case_reads_as_sentences_a_clinician_uses() -> None:
    summary = lines(
        {
            "age": 44,
            "sex": "female",
            "weight_kg": 68.5,
            "height_cm": 165.0,
            "bp_systolic": 128,
            "bp_diastolic": 82,
            "heart_rate": 72,
            "diagnoses": ["F41.1"],
            "conditions": ["glaucoma"],
            "medications": [
                {"name": "sertraline", "daily_dose_mg": 100.0},
                {"name": "lorazepam", "daily_dose_mg": None},
            ],
            "prior_treatments": [{"name": "ERP", "kind": "psychotherapy", "adequate": False}],
            "substance_use": {"active_sud": False, "history_sud": True, "ketamine_misuse": False},
            "cssrs_risk": "low",
            "pregnant": False,
            "has_escort": True,
        }
    )
    assert summary["Age"].text == "44 years"
    assert summary["Weight"].text == "68.5 kg"
    assert summary["Resting blood pressure"].text == "128/82 mmHg"
    assert summary["Diagnoses"].text == "F41.1 Generalized anxiety disorder"
    assert summary["Medical and psychiatric history"].text == (
        "Glaucoma or raised intraocular pressure"
    )
    assert summary["Medications"].text == "sertraline (100 mg a day); lorazepam"
    assert summary["Prior treatments"].text == "ERP (psychotherapy, not an adequate trial)"
    assert summary["Substance use"].text == (
        "active disorder: no; disorder in the past: yes; ketamine misuse ever: no"
    )
    assert (summary["Pregnant"].text, summary["Escort home after dosing"].text) == ("no", "yes")
    assert not any("_" in line.text or "{" in line.text for line in summary.values())


def test_what_the_case_lacks_is_not_recorded_never_no() -> None:
    summary = lines({"age": 30, "sex": "male", "diagnoses": [], "medications": []})
    for label in ("SpO2", "Heart rate", "Pregnant", "Escort home after dosing", "Substance use"):
        assert summary[label].text == "not recorded"
        assert summary[label].missing
    assert summary["Resting blood pressure"].text == "not recorded"
    assert summary["C-SSRS screen risk"].text == "not assessed"
    assert summary["Prior treatments"].text == "not recorded"
    assert summary["Diagnoses"].text == "none active"


def test_a_finding_is_named_by_what_it_is_about() -> None:
    assert trigger_label("blood_pressure") == "blood pressure"
    assert trigger_label("obstructive_sleep_apnea") == "obstructive sleep apnoea"
    assert trigger_label("sedative_hypnotic") == "non-benzodiazepine sedative hypnotic"
    assert trigger_label("something_new") == "something new"
