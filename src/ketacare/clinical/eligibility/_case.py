"""A screening case: the decoded JSON checked and turned into typed facts, or refused.

The schema is ``docs/screening-case.md``. Age, weight, height and blood pressure are required,
the diastolic below the systolic; every number must be inside its plausibility range (a value
outside is a data-entry error, not a finding); codes, words and booleans must be among those
allowed; no unknown key is accepted. Nothing is guessed: an optional value not given stays
``None`` and an absent list is empty.

Errors: :class:`InvalidCase` (a ``ValueError``) for the first bad value; ``field`` is its dotted
path, e.g. ``medications.0.name``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NoReturn

# The same "well formed" pattern as the recording check; only the category refusal differs.
from ketacare.clinical.icd10 import _CODE as _ICD10_FORMAT
from ketacare.clinical.icd10 import InvalidCode, normalise
from ketacare.clinical.monitoring import plausible_range

# The condition words a case may carry (docs/screening-case.md); the rule file may use no others.
CONDITIONS: Mapping[str, str] = MappingProxyType(
    {
        "aneurysmal_vascular_disease": "Aneurysmal vascular disease",
        "arteriovenous_malformation": "Arteriovenous malformation",
        "intracerebral_hemorrhage_history": "History of intracerebral haemorrhage",
        "recent_cardiovascular_event": "Cardiovascular event in the last 6 weeks",
        "schizophrenia": "Schizophrenia",
        "psychosis_active": "Current psychosis",
        "bipolar_current_mania": "Bipolar disorder, current mania",
        "ketamine_hypersensitivity": "Hypersensitivity to ketamine or esketamine",
        "hyperthyroidism_uncontrolled": "Untreated or poorly controlled hyperthyroidism",
        "elevated_intracranial_pressure": "Raised intracranial pressure",
        "psychosis_history": "Past psychosis",
        "bipolar": "Bipolar disorder",
        "seizure_disorder": "Seizure disorder",
        "glaucoma": "Glaucoma or raised intraocular pressure",
        "severe_hepatic_impairment": "Severe hepatic impairment",
        "interstitial_cystitis": "Interstitial or ulcerative cystitis",
        "obstructive_sleep_apnea": "Obstructive sleep apnoea",
        "cardiovascular_disease": "Cardiovascular disease",
    }
)
SEXES = ("female", "male", "other")
CSSRS_RISKS = ("none", "low", "moderate", "high")
TREATMENT_KINDS = ("medication", "psychotherapy", "neuromodulation", "other")

# Plausibility ranges, inclusive: a value outside is a data-entry error, not a finding.
RANGES: dict[str, tuple[float, float]] = {
    "age": (0, 120),
    "weight_kg": (2, 400),
    "height_cm": (40, 250),
    # Vital signs: the plausible ranges every vitals entry uses (monitoring.toml [plausible]).
    "bp_systolic": plausible_range("systolic"),
    "bp_diastolic": plausible_range("diastolic"),
    "heart_rate": plausible_range("heart_rate"),
    "spo2": plausible_range("spo2"),
}
_REQUIRED = ("age", "weight_kg", "height_cm", "bp_systolic", "bp_diastolic")
KEYS = (
    "age",
    "sex",
    "pregnant",
    "breastfeeding",
    "weight_kg",
    "height_cm",
    "bp_systolic",
    "bp_diastolic",
    "heart_rate",
    "spo2",
    "diagnoses",
    "conditions",
    "medications",
    "prior_treatments",
    "substance_use",
    "cssrs_risk",
    "has_escort",
)


class InvalidCase(ValueError):
    """A case that cannot be screened; ``field`` is the dotted path of the offending value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Medication:
    name: str
    daily_dose_mg: float | None = None


@dataclass(frozen=True)
class PriorTreatment:
    name: str
    kind: str
    adequate: bool


@dataclass(frozen=True)
class SubstanceUse:
    active_sud: bool | None = None
    history_sud: bool | None = None
    ketamine_misuse: bool | None = None


@dataclass(frozen=True)
class Case:
    age: float
    weight_kg: float
    height_cm: float
    bp_systolic: float
    bp_diastolic: float
    sex: str | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    heart_rate: float | None = None
    spo2: float | None = None
    diagnoses: tuple[str, ...] = ()
    conditions: frozenset[str] = frozenset()
    medications: tuple[Medication, ...] = ()
    prior_treatments: tuple[PriorTreatment, ...] = ()
    substance_use: SubstanceUse = SubstanceUse()
    cssrs_risk: str | None = None
    has_escort: bool | None = None

    @property
    def bmi(self) -> float:
        """kg/m2, unrounded, so a rule's boundary is not moved by rounding."""
        return self.weight_kg / (self.height_cm / 100) ** 2

    @property
    def adequate_prior_treatments(self) -> int:
        return sum(1 for t in self.prior_treatments if t.adequate)


def well_formed_code(text: str) -> str:
    """The normalised ICD-10-CM code if it is well formed (categories such as F42 included)."""
    code = normalise(text)
    if not _ICD10_FORMAT.match(code):
        raise InvalidCode(f"{text.strip()!r} is not an ICD-10-CM code, e.g. F41.1 or F43.10")
    return code


def parse_case(data: object) -> Case:
    """The case as typed values, or :class:`InvalidCase` naming the first bad field."""
    case = _object(data, "case", KEYS)
    age, weight, height, systolic, diastolic = (_number(case.get(k), k) for k in _REQUIRED)
    if diastolic >= systolic:
        raise InvalidCase("bp_diastolic", f"{diastolic:g} must be below bp_systolic {systolic:g}")
    return Case(
        age=age,
        weight_kg=weight,
        height_cm=height,
        bp_systolic=systolic,
        bp_diastolic=diastolic,
        sex=_choice(case.get("sex"), "sex", SEXES),
        pregnant=_boolean(case.get("pregnant"), "pregnant"),
        breastfeeding=_boolean(case.get("breastfeeding"), "breastfeeding"),
        heart_rate=_optional_number(case.get("heart_rate"), "heart_rate"),
        spo2=_optional_number(case.get("spo2"), "spo2"),
        diagnoses=tuple(_diagnosis(v, f"diagnoses.{i}") for i, v in _items(case, "diagnoses")),
        conditions=frozenset(
            _condition(v, f"conditions.{i}") for i, v in _items(case, "conditions")
        ),
        medications=tuple(
            _medication(v, f"medications.{i}") for i, v in _items(case, "medications")
        ),
        prior_treatments=tuple(
            _prior_treatment(v, f"prior_treatments.{i}")
            for i, v in _items(case, "prior_treatments")
        ),
        substance_use=_substance_use(case.get("substance_use")),
        cssrs_risk=_choice(case.get("cssrs_risk"), "cssrs_risk", CSSRS_RISKS),
        has_escort=_boolean(case.get("has_escort"), "has_escort"),
    )


def _shown(value: object) -> str:
    """A rejected value as the caller wrote it (JSON spelling: true, 1.5, "2")."""
    return json.dumps(value)


def _refuse(path: str, value: object, wanted: str) -> NoReturn:
    raise InvalidCase(path, f"{_shown(value)} is not allowed; expected {wanted}")


def _object(value: object, path: str, keys: tuple[str, ...]) -> dict[str, object]:
    if not isinstance(value, dict):
        raise InvalidCase(path, f"expected a JSON object with the keys {', '.join(keys)}")
    for key in value:
        if key not in keys:
            where = key if path == "case" else f"{path}.{key}"
            raise InvalidCase(where, f"unknown key; allowed keys are {', '.join(keys)}")
    return value


def _number(value: object, path: str) -> float:
    low, high = RANGES.get(path, (0, math.inf))
    wanted = f"a number {low:g}-{high:g}" if high < math.inf else "a number >= 0"
    if value is None:
        raise InvalidCase(path, f"missing; {wanted} is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCase(path, f"{_shown(value)} is not a number; expected {wanted}")
    if not low <= value <= high:  # also refuses NaN, which Python's json accepts
        raise InvalidCase(path, f"{value:g} is out of range; expected {wanted}")
    return value


def _optional_number(value: object, path: str) -> float | None:
    return None if value is None else _number(value, path)


def _boolean(value: object, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    _refuse(path, value, "true, false or null")


def _choice(value: object, path: str, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in allowed:
        return value
    _refuse(path, value, f"one of {', '.join(allowed)} or null")


def _condition(value: object, path: str) -> str:
    if isinstance(value, str) and value in CONDITIONS:
        return value
    _refuse(path, value, f"a condition word: {', '.join(CONDITIONS)}")


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        _refuse(path, value, "a non-empty string")
    return value.strip()


def _items(case: Mapping[str, object], key: str) -> list[tuple[int, object]]:
    value = case.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        _refuse(key, value, "a list or null")
    return list(enumerate(value))


def _diagnosis(value: object, path: str) -> str:
    try:
        return well_formed_code(_text(value, path))
    except InvalidCode as exc:
        raise InvalidCase(path, str(exc)) from None


def _medication(value: object, path: str) -> Medication:
    row = _object(value, path, ("name", "daily_dose_mg"))
    return Medication(
        name=_text(row.get("name"), f"{path}.name"),
        daily_dose_mg=_optional_number(row.get("daily_dose_mg"), f"{path}.daily_dose_mg"),
    )


def _prior_treatment(value: object, path: str) -> PriorTreatment:
    row = _object(value, path, ("name", "kind", "adequate"))
    return PriorTreatment(
        name=_text(row.get("name"), f"{path}.name"),
        kind=_kind(row.get("kind"), f"{path}.kind"),
        adequate=_adequate(row.get("adequate"), f"{path}.adequate"),
    )


def _kind(value: object, path: str) -> str:
    if isinstance(value, str) and value in TREATMENT_KINDS:
        return value
    _refuse(path, value, f"one of {', '.join(TREATMENT_KINDS)}")


def _adequate(value: object, path: str) -> bool:
    if isinstance(value, bool):
        return value
    _refuse(path, value, "true or false")


def _substance_use(value: object) -> SubstanceUse:
    if value is None:
        return SubstanceUse()
    keys = ("active_sud", "history_sud", "ketamine_misuse")
    row = _object(value, "substance_use", keys)
    return SubstanceUse(*(_boolean(row.get(k), f"substance_use.{k}") for k in keys))
