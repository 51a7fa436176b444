from __future__ import annotations

import json
import random
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.clinical.dosing_reference import reference_dose

FLAGS = {
    "route": "--route",
    "mg_per_kg": "--mg-per-kg",
    "weight_kg": "--weight-kg",
    "basis": "--basis",
    "sex": "--sex",
    "height_cm": "--height-cm",
    "vial_mg_per_ml": "--vial-mg-per-ml",
    "bag_ml": "--bag-ml",
    "minutes": "--minutes",
    "dose_mg": "--dose-mg",
}


def dose(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("dose", *args, stdout=out)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def refusal(*args: str) -> str:
    with pytest.raises(CommandError) as exc:
        dose(*args)
    assert exc.value.returncode == 2
    return str(exc.value)


# --- examples ----------------------------------------------------------------------------------


def test_the_standard_iv_infusion_prints_dose_volume_and_rate() -> None:
    # 0.5 mg/kg x 70 kg = 35.0 mg; 35.0 mg / 10 mg/mL = 3.50 mL; 100 mL over 40 min = 150.0 mL/h
    assert dose(
        "--route", "iv", "--mg-per-kg", "0.5", "--weight-kg", "70",
        "--vial-mg-per-ml", "10", "--bag-ml", "100", "--minutes", "40",
    ) == {
        "route": "iv",
        "basis": "actual",
        "mg_per_kg": 0.5,
        "dosing_weight_kg": 70.0,
        "dose_mg": 35.0,
        "drug_volume_ml": 3.5,
        "rate_ml_per_h": 150.0,
    }  # fmt: skip


def test_the_adjusted_basis_doses_on_ibw_plus_40_percent_of_the_excess() -> None:
    # female 165 cm: IBW = 45.5 + 2.3 x (165 / 2.54 - 60) = 56.9094 kg;
    # adjusted = 56.9094 + 0.4 x (100 - 56.9094) = 74.1457 -> 74.1 kg;
    # 0.5 x 74.1457 = 37.07 -> 37.1 mg; 37.1 / 50 = 0.742 -> 0.74 mL
    result = dose(
        "--route", "iv", "--mg-per-kg", "0.5", "--weight-kg", "100", "--basis", "adjusted",
        "--sex", "female", "--height-cm", "165", "--vial-mg-per-ml", "50",
    )  # fmt: skip
    assert result["dosing_weight_kg"] == 74.1
    assert result["dose_mg"] == 37.1
    assert result["drug_volume_ml"] == 0.74
    assert result["basis"] == "adjusted"


def test_the_ideal_basis_for_a_tall_man() -> None:
    # male 183 cm: 183 / 2.54 = 72.0472 in; IBW = 50 + 2.3 x 12.0472 = 77.7087 -> 77.7 kg;
    # SC 1.0 mg/kg x 77.7087 = 77.7 mg
    result = dose(
        "--route", "sc", "--mg-per-kg", "1.0", "--weight-kg", "120", "--basis", "ideal",
        "--sex", "male", "--height-cm", "183",
    )  # fmt: skip
    assert (result["dosing_weight_kg"], result["dose_mg"]) == (77.7, 77.7)


def test_an_oral_dose_at_the_cap_is_given() -> None:
    # 3.0 mg/kg x 82.5 kg = 247.5 mg
    assert dose("--route", "oral", "--mg-per-kg", "3.0", "--weight-kg", "82.5")["dose_mg"] == 247.5


@pytest.mark.parametrize(("dose_mg", "devices"), [("28", 1), ("56", 2), ("84", 3)])
def test_esketamine_prints_the_device_count(dose_mg: str, devices: int) -> None:
    assert dose("--route", "esketamine", "--dose-mg", dose_mg) == {
        "route": "esketamine",
        "dose_mg": float(dose_mg),
        "devices": devices,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--route", "iv", "--mg-per-kg", "1.01", "--weight-kg", "70"], "max_mg_per_kg.iv"),
        (["--route", "sublingual", "--mg-per-kg", "3.5", "--weight-kg", "70"], "cap of 3.0"),
        (["--route", "im", "--mg-per-kg", "0.5", "--weight-kg", "250.1"], "weight_kg: 250.1 kg"),
        (["--route", "esketamine", "--dose-mg", "70"], "esketamine_doses_mg"),
        (
            [
                *("--route", "iv", "--mg-per-kg", "0.5", "--weight-kg", "70", "--basis", "ideal"),
                *("--sex", "female", "--height-cm", "119"),
            ],
            "accepted 120-230 cm",
        ),
    ],
)
def test_a_request_over_a_limit_exits_2_naming_the_limit(args: list[str], message: str) -> None:
    assert message in refusal(*args)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ([], "route: missing"),
        (["--route", "nasal"], "route: 'nasal' is not one of"),
        (["--route", "iv", "--weight-kg", "70"], "mg_per_kg: missing"),
        (["--route", "iv", "--mg-per-kg", "abc", "--weight-kg", "70"], "mg_per_kg: 'abc' is not"),
        (["--route", "iv", "--mg-per-kg", "0.5", "--weight-kg", "-70"], "weight_kg: -70 must be"),
        (
            ["--route", "iv", "--mg-per-kg", "0.5", "--weight-kg", "70", "--basis", "adjusted"],
            "sex:",
        ),
        (
            ["--route", "iv", "--mg-per-kg", "0.5", "--weight-kg", "70", "--bag-ml", "100"],
            "minutes: required",
        ),
        (["--route", "esketamine", "--dose-mg", "56", "--mg-per-kg", "1"], "mg_per_kg: does not"),
        (
            ["--route", "iv", "--mg-per-kg", "0.5", "--weight-kg", "70", "--dose-mg", "35"],
            "dose_mg",
        ),
    ],
)
def test_a_malformed_request_exits_2_naming_the_field(args: list[str], field: str) -> None:
    assert field in refusal(*args)


def test_an_unknown_option_is_an_argparse_error() -> None:
    with pytest.raises(CommandError, match="unrecognized arguments"):
        dose("--route", "iv", "--mg-per-kg", "0.5", "--weight-kg", "70", "--bolus")


@override_settings(KETACARE_DOSE_CAPS={"max_mg_per_kg": {"iv": 0.75}})
def test_a_clinic_cap_in_settings_is_applied() -> None:
    assert dose("--route", "iv", "--mg-per-kg", "0.75", "--weight-kg", "60")["dose_mg"] == 45.0
    assert "over the iv cap of 0.75 mg/kg" in refusal(
        "--route", "iv", "--mg-per-kg", "0.8", "--weight-kg", "60"
    )


@override_settings(KETACARE_DOSE_CAPS={"max_mg_per_kg": {"iv": "lots"}})
def test_a_malformed_clinic_cap_exits_2_naming_the_setting() -> None:
    message = refusal("--route", "iv", "--mg-per-kg", "0.5", "--weight-kg", "60")
    assert message.startswith("settings.KETACARE_DOSE_CAPS: max_mg_per_kg.iv:")


# --- the cross-check against independent arithmetic ---------------------------------------------


def _pick(rng: random.Random, *choices: Any) -> Any:
    return rng.choice(choices)


def random_request(rng: random.Random) -> dict[str, Any]:
    """A request near the caps, ranges and rounding edges often; some refused or malformed."""
    if rng.random() < 0.12:
        request: dict[str, Any] = {
            "route": "esketamine",
            "dose_mg": _pick(rng, 28, 56, 84, 0, 14, 42, 112, rng.randint(1, 120)),
        }
        if rng.random() < 0.15:
            request["mg_per_kg"] = 0.5
        return request
    route = _pick(rng, "iv", "im", "sc", "oral", "sublingual")
    cap = 3.0 if route in ("oral", "sublingual") else 1.0
    request = {
        "route": route,
        "mg_per_kg": _pick(
            rng, cap, round(cap + 0.01, 2), 0.5, 0.75, *[round(rng.uniform(0.05, cap), 3)] * 4
        ),
        "weight_kg": _pick(rng, 30, 29.9, 250, 250.1, *[round(rng.uniform(25, 260), 1)] * 6),
    }
    basis = _pick(rng, "actual", "actual", "ideal", "adjusted", "adjusted", "adjusted")
    if basis != "actual" or rng.random() < 0.1:
        request["basis"] = basis
    if basis != "actual" and rng.random() < 0.93:
        request["sex"] = _pick(rng, "female", "male")
        request["height_cm"] = _pick(
            rng, 120, 119.9, 230, 230.1, *[round(rng.uniform(140, 205), 1)] * 6
        )
    if rng.random() < 0.5:
        request["vial_mg_per_ml"] = _pick(rng, 10, 50, 100, 1, 2.5)
    infusion = rng.random()
    if infusion < 0.45:
        request["bag_ml"] = _pick(rng, 50, 100, 250, 500)
    if infusion < 0.4 or infusion > 0.97:
        request["minutes"] = _pick(rng, 40, 60, 45, 100, 7)
    if rng.random() < 0.03:
        request[_pick(rng, "mg_per_kg", "weight_kg", "vial_mg_per_ml")] = _pick(rng, 0, -1)
    return request


def _args(request: dict[str, Any]) -> list[str]:
    return [part for key, value in request.items() for part in (FLAGS[key], str(value))]


def _close(key: str, got: float, want: float, request: dict[str, Any]) -> bool:
    # Half a rounding step, plus what the dose's own rounding moves the volume by
    # (the volume is the printed dose / C), plus float noise.
    step = {"dosing_weight_kg": 0.1, "dose_mg": 0.1, "rate_ml_per_h": 0.1, "drug_volume_ml": 0.01}
    slack = step.get(key, 0) / 2 + 1e-9
    if key == "drug_volume_ml":
        slack += 0.05 / request["vial_mg_per_ml"]
    return abs(got - want) <= slack


def test_dose_agrees_with_independent_arithmetic_on_400_seeded_requests() -> None:
    rng = random.Random(20260505)
    kinds: dict[str, int] = {"given": 0, "refused": 0, "adjusted": 0, "volume": 0, "rate": 0}
    for _ in range(400):
        request = random_request(rng)
        expected = reference_dose(request)
        if expected is None:
            with pytest.raises(CommandError) as exc:
                dose(*_args(request))
            assert exc.value.returncode == 2, request
            kinds["refused"] += 1
            continue
        got = dose(*_args(request))
        assert set(got) - {"route", "basis", "mg_per_kg"} == set(expected), request
        for key, want in expected.items():
            assert _close(key, got[key], want, request), (key, got, expected, request)
        kinds["given"] += 1
        kinds["adjusted"] += request.get("basis") == "adjusted"
        kinds["volume"] += "drug_volume_ml" in got
        kinds["rate"] += "rate_ml_per_h" in got
    assert kinds["given"] >= 150
    assert kinds["refused"] >= 100
    assert min(kinds["adjusted"], kinds["volume"], kinds["rate"]) >= 30, kinds
