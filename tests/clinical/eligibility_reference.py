"""An independent implementation of the eligibility rules, written straight from issue 4
(items 2 and 3) without reading ketacare's rule file, drug table or evaluator. Used only to
cross-check ``ketacare screen --batch``. It takes cases that are already valid."""

from __future__ import annotations

from collections import Counter
from typing import Any

EXCLUDED_CONDITIONS = [
    "aneurysmal_vascular_disease",
    "arteriovenous_malformation",
    "intracerebral_hemorrhage_history",
    "recent_cardiovascular_event",
    "schizophrenia",
    "psychosis_active",
    "bipolar_current_mania",
    "ketamine_hypersensitivity",
    "hyperthyroidism_uncontrolled",
    "elevated_intracranial_pressure",
]
CAUTION_CONDITIONS = [
    "psychosis_history",
    "bipolar",
    "seizure_disorder",
    "glaucoma",
    "severe_hepatic_impairment",
    "interstitial_cystitis",
    "obstructive_sleep_apnea",
    "cardiovascular_disease",
]
# A minimal generic-name list: a few common drugs per class, enough for the random cases.
DRUGS = {
    "benzodiazepine": ["alprazolam", "clonazepam", "lorazepam", "diazepam", "midazolam"],
    "lamotrigine": ["lamotrigine"],
    "maoi": ["phenelzine", "tranylcypromine", "selegiline", "moclobemide"],
    "stimulant": ["methylphenidate", "lisdexamfetamine", "modafinil", "amphetamine"],
    "opioid": ["morphine", "oxycodone", "tramadol", "buprenorphine", "methadone"],
}
OTHER_DRUGS = ["sertraline", "escitalopram", "bupropion", "atomoxetine", "zolpidem", "quetiapine"]
DIAGNOSIS_PREFIXES = ["F40.1", "F41.0", "F41.1", "F42", "F43.1", "F32", "F33"]


def _code(text: str) -> str:
    code = text.strip().upper().replace(" ", "")
    return code if "." in code or len(code) <= 3 else code[:3] + "." + code[3:]


def reference_screen(case: dict[str, Any]) -> tuple[str, Counter[tuple[str, str]]]:
    """(decision, multiset of (trigger, level)) for a valid case."""
    found: list[tuple[str, str]] = []

    def add(trigger: str, level: str, when: bool) -> None:
        if when:
            found.append((trigger, level))

    age, sys_bp, dia_bp = case["age"], case["bp_systolic"], case["bp_diastolic"]
    conditions = case.get("conditions") or []
    use = case.get("substance_use") or {}
    add("age", "exclude", age < 18)
    add("pregnancy", "exclude", case.get("pregnant") is True)
    add("blood_pressure", "exclude", sys_bp > 180 or dia_bp > 100)
    for word in EXCLUDED_CONDITIONS:
        add(word, "exclude", word in conditions)
    add("substance_use", "exclude", use.get("active_sud") is True)
    add("ketamine_misuse", "exclude", use.get("ketamine_misuse") is True)

    add("age", "caution", age >= 65)
    add(
        "pregnancy",
        "caution",
        case.get("sex") == "female" and case.get("pregnant") is None and 12 <= age <= 55,
    )
    add("breastfeeding", "caution", case.get("breastfeeding") is True)
    add("blood_pressure", "caution", sys_bp > 140 or dia_bp > 90)
    for word in CAUTION_CONDITIONS:
        add(word, "caution", word in conditions)
    add(
        "substance_use",
        "caution",
        use.get("history_sud") is True and use.get("active_sud") is not True,
    )
    names = {m["name"].strip().lower() for m in case.get("medications") or []}
    for drug_class, drugs in DRUGS.items():
        add(drug_class, "caution", bool(names & set(drugs)))
    bmi = case["weight_kg"] / (case["height_cm"] / 100) ** 2
    add("bmi", "caution", bmi >= 35)
    add("escort", "caution", case.get("has_escort") is not True)
    adequate = sum(1 for t in case.get("prior_treatments") or [] if t["adequate"] is True)
    add("treatment_resistance", "caution", adequate < 2)
    add("suicide_risk", "caution", case.get("cssrs_risk") in ("moderate", "high"))
    codes = [_code(c) for c in case.get("diagnoses") or []]
    add(
        "diagnosis",
        "caution",
        not any(c.startswith(p) for c in codes for p in DIAGNOSIS_PREFIXES),
    )

    levels = {level for _, level in found}
    decision = (
        "ineligible"
        if "exclude" in levels
        else "eligible_with_cautions"
        if "caution" in levels
        else "eligible"
    )
    return decision, Counter(found)
