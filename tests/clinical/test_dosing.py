from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketacare.clinical import dosing
from ketacare.clinical.dosing import (
    Basis,
    DoseRefused,
    InvalidCaps,
    InvalidDoseRequest,
    Route,
    caps_with,
    compute_dose,
    default_caps,
    dosing_weight,
    ideal_body_weight,
)
from tests.clinical.dosing_reference import devine_kg, reference_dose

D = Decimal


# --- the data file ------------------------------------------------------------------------------


def test_the_default_caps_are_the_issue_5_numbers() -> None:
    caps = default_caps()
    assert dict(caps.max_mg_per_kg) == {
        "iv": D("1.0"),
        "im": D("1.0"),
        "sc": D("1.0"),
        "oral": D("3.0"),
        "sublingual": D("3.0"),
    }
    assert caps.esketamine_doses_mg == (28, 56, 84)
    assert caps.weight_kg == (30, 250)
    assert caps.height_cm == (120, 230)


def test_the_formula_constants_are_devine_and_the_label() -> None:
    c = dosing.constants()
    assert (c.ibw_base_kg["male"], c.ibw_base_kg["female"]) == (D("50"), D("45.5"))
    assert (c.ibw_kg_per_inch, c.ibw_base_inches, c.cm_per_inch) == (D("2.3"), 60, D("2.54"))
    assert c.adjusted_factor == D("0.4")
    assert (c.mg_per_device, c.minutes_between_devices) == (28, 5)


def test_every_number_in_the_data_file_cites_a_known_source() -> None:
    text = resources.files("ketacare.clinical").joinpath("data/dosing.toml").read_text()
    data = tomllib.loads(text)
    keys = set(data["sources"])
    cited: list[str] = []

    def walk(table: dict[str, Any]) -> None:
        if "source" in table:
            cited.append(table["source"])
            return
        for value in table.values():
            assert isinstance(value, dict), table
            walk(value)

    for section in ("caps", "esketamine", "ideal_body_weight", "adjusted_weight"):
        walk(data[section])
    assert len(cited) == 16
    for source in cited:
        tags = [part.split("]")[0] for part in source.split("[")[1:]]
        assert tags, source
        assert set(tags) <= keys, source
    assert data["sources"]["KetacareDefault"].startswith("ketacare's configurable default caps")


# --- ideal and dosing weight --------------------------------------------------------------------


def test_devine_ideal_body_weight_for_a_165_cm_woman() -> None:
    # 165 / 2.54 = 64.9606 in; 45.5 + 2.3 x 4.9606 = 56.909 -> 56.9 kg
    assert ideal_body_weight("female", 165) == D("56.9")


def test_devine_ideal_body_weight_for_a_5_foot_man_is_the_base() -> None:
    # 152.4 cm is exactly 60 in, so IBW = 50 kg
    assert ideal_body_weight("male", "152.4") == D("50.0")


def test_devine_is_linear_below_5_feet() -> None:
    # 120 cm = 47.244 in; 45.5 + 2.3 x (47.244 - 60) = 16.16 -> 16.2 kg (not clamped)
    assert ideal_body_weight("female", 120) == D("16.2")


def test_the_actual_basis_is_the_weighed_kg_rounded_to_a_tenth() -> None:
    assert dosing_weight("actual", "70.25") == D("70.3")  # half-up
    assert dosing_weight("actual", 70.24) == D("70.2")


def test_the_adjusted_weight_adds_40_percent_of_the_excess_over_ibw() -> None:
    # male 175 cm: IBW = 50 + 2.3 x (68.8976 - 60) = 70.4646; 120 kg actual:
    # 70.4646 + 0.4 x 49.5354 = 90.2787 -> 90.3 kg
    assert dosing_weight("adjusted", 120, "male", 175) == D("90.3")


def test_the_adjusted_weight_is_the_actual_weight_at_or_below_ibw() -> None:
    # female 165 cm IBW 56.909; a 50 kg patient is dosed on 50 kg, not on a heavier weight
    assert dosing_weight("adjusted", 50, "female", 165) == D("50.0")


def test_the_ideal_basis_ignores_the_actual_weight() -> None:
    assert dosing_weight("ideal", 150, "female", 165) == D("56.9")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"basis": "ideal", "actual_kg": 70, "height_cm": 170}, "sex"),
        ({"basis": "adjusted", "actual_kg": 70, "sex": "male"}, "height_cm"),
        ({"basis": "lean", "actual_kg": 70}, "basis"),
        ({"basis": "ideal", "actual_kg": 70, "sex": "other", "height_cm": 170}, "sex"),
        ({"basis": "actual", "actual_kg": 0}, "weight_kg"),
    ],
)
def test_a_dosing_weight_without_what_it_needs_names_the_field(
    kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidDoseRequest) as exc:
        dosing_weight(**kwargs)
    assert exc.value.field == field


# --- doses --------------------------------------------------------------------------------------


def test_half_a_mg_per_kg_for_70_kg_is_35_mg() -> None:
    # 0.5 x 70 = 35.0 mg; 35.0 / 10 = 3.50 mL; 100 mL / 40 min x 60 = 150.0 mL/h
    result = compute_dose(
        "iv", mg_per_kg="0.5", weight_kg=70, vial_mg_per_ml=10, bag_ml=100, minutes=40
    )
    assert result == dosing.DoseResult(
        route=Route.IV,
        dose_mg=D("35.0"),
        dosing_weight_kg=D("70.0"),
        basis=Basis.ACTUAL,
        mg_per_kg=D("0.5"),
        drug_volume_ml=D("3.50"),
        rate_ml_per_h=D("150.0"),
    )
    assert result.as_dict() == {
        "route": "iv",
        "basis": "actual",
        "mg_per_kg": 0.5,
        "dosing_weight_kg": 70.0,
        "dose_mg": 35.0,
        "drug_volume_ml": 3.5,
        "rate_ml_per_h": 150.0,
    }


def test_the_dose_uses_the_unrounded_dosing_weight() -> None:
    # male 175 cm, 120 kg adjusted = 90.2787 kg; 3.0 x 90.2787 = 270.836 -> 270.8 mg
    # (3.0 x the printed 90.3 would be 270.9)
    result = compute_dose(
        "oral", mg_per_kg=3, weight_kg=120, basis="adjusted", sex="male", height_cm=175
    )
    assert (result.dosing_weight_kg, result.dose_mg) == (D("90.3"), D("270.8"))


def test_the_volume_is_the_printed_dose_over_the_concentration() -> None:
    # 0.75 x 66.7 = 50.025 -> 50.0 mg; 50.0 / 3 = 16.667 -> 16.67 mL
    result = compute_dose("im", mg_per_kg="0.75", weight_kg="66.7", vial_mg_per_ml=3)
    assert (result.dose_mg, result.drug_volume_ml) == (D("50.0"), D("16.67"))


def test_rounding_is_half_up() -> None:
    # 0.5 x 70.1 = 35.05 -> 35.1 (half-even would give 35.0); 100 mL / 48 min = 125.0 mL/h
    result = compute_dose("sc", mg_per_kg="0.5", weight_kg="70.1", bag_ml=100, minutes=48)
    assert result.dose_mg == D("35.1")
    # 250 mL over 7 min = 2142.857 -> 2142.9 mL/h
    assert compute_dose("iv", mg_per_kg=1, weight_kg=70, bag_ml=250, minutes=7).rate_ml_per_h == D(
        "2142.9"
    )


def test_only_the_keys_that_apply_are_reported() -> None:
    assert set(compute_dose("oral", mg_per_kg=2, weight_kg=60).as_dict()) == {
        "route",
        "basis",
        "mg_per_kg",
        "dosing_weight_kg",
        "dose_mg",
    }


@pytest.mark.parametrize(("dose_mg", "devices"), [(28, 1), ("56", 2), (D("84.0"), 3)])
def test_esketamine_counts_28_mg_devices(dose_mg: Any, devices: int) -> None:
    result = compute_dose("esketamine", dose_mg=dose_mg)
    assert result.as_dict() == {
        "route": "esketamine",
        "dose_mg": float(dose_mg),
        "devices": devices,
    }


# --- caps and ranges: refused, never clipped ----------------------------------------------------


@pytest.mark.parametrize(
    ("route", "cap"),
    [("iv", "1.0"), ("im", "1.0"), ("sc", "1.0"), ("oral", "3.0"), ("sublingual", "3.0")],
)
def test_a_dose_exactly_at_the_cap_is_given_and_just_over_is_refused(route: str, cap: str) -> None:
    assert compute_dose(route, mg_per_kg=cap, weight_kg=80).dose_mg == D(cap) * 80
    with pytest.raises(DoseRefused) as exc:
        compute_dose(route, mg_per_kg=D(cap) + D("0.001"), weight_kg=80)
    assert (exc.value.field, exc.value.limit) == ("mg_per_kg", f"max_mg_per_kg.{route}")
    assert "refused" in str(exc.value)
    assert "not clipped" in str(exc.value)


@pytest.mark.parametrize(
    ("weight", "given"), [(30, True), (250, True), ("29.9", False), ("250.1", False)]
)
def test_the_weight_range_is_inclusive(weight: Any, given: bool) -> None:
    if given:
        assert compute_dose("iv", mg_per_kg="0.5", weight_kg=weight).dosing_weight_kg == D(weight)
        return
    with pytest.raises(DoseRefused, match=r"accepted 30-250 kg") as exc:
        compute_dose("iv", mg_per_kg="0.5", weight_kg=weight)
    assert (exc.value.field, exc.value.limit) == ("weight_kg", "weight_kg")


@pytest.mark.parametrize(
    ("height", "given"), [(120, True), (230, True), ("119.9", False), ("230.1", False)]
)
def test_the_height_range_is_inclusive_even_on_the_actual_basis(height: Any, given: bool) -> None:
    request = {"mg_per_kg": "0.5", "weight_kg": 70, "sex": "male", "height_cm": height}
    if given:
        compute_dose("iv", basis="ideal", **request)
        compute_dose("iv", **request)
        return
    for basis in ("actual", "adjusted"):
        with pytest.raises(DoseRefused, match=r"accepted 120-230 cm") as exc:
            compute_dose("iv", basis=basis, **request)
        assert exc.value.field == "height_cm"


@pytest.mark.parametrize("dose_mg", [14, 42, 112, "56.5", 0.0001])
def test_an_esketamine_dose_outside_the_label_set_is_refused(dose_mg: Any) -> None:
    with pytest.raises(DoseRefused, match=r"not one of 28, 56, 84 mg") as exc:
        compute_dose("esketamine", dose_mg=dose_mg)
    assert exc.value.limit == "esketamine_doses_mg"


# --- malformed requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "kwargs", "field", "problem"),
    [
        (None, {}, "route", "missing"),
        ("nasal", {}, "route", "'nasal' is not one of"),
        (5, {}, "route", "5 is not one of"),
        ("iv", {"weight_kg": 70}, "mg_per_kg", "missing"),
        ("iv", {"mg_per_kg": 0.5}, "weight_kg", "missing"),
        ("iv", {"mg_per_kg": 0, "weight_kg": 70}, "mg_per_kg", "0 must be greater than 0"),
        ("iv", {"mg_per_kg": "-0.5", "weight_kg": 70}, "mg_per_kg", "must be greater"),
        ("iv", {"mg_per_kg": "half", "weight_kg": 70}, "mg_per_kg", "'half' is not a number"),
        ("iv", {"mg_per_kg": "NaN", "weight_kg": 70}, "mg_per_kg", "not a number"),
        ("iv", {"mg_per_kg": float("inf"), "weight_kg": 70}, "mg_per_kg", "not a number"),
        ("iv", {"mg_per_kg": True, "weight_kg": 70}, "mg_per_kg", "True is not a number"),
        ("iv", {"mg_per_kg": [1], "weight_kg": 70}, "mg_per_kg", "not a number"),
        ("iv", {"mg_per_kg": 0.5, "weight_kg": 70, "basis": "ideal"}, "sex", "required"),
        ("iv", {"mg_per_kg": 0.5, "weight_kg": 70, "vial_mg_per_ml": 0}, "vial_mg_per_ml", ""),
        ("iv", {"mg_per_kg": 0.5, "weight_kg": 70, "bag_ml": 100}, "minutes", "required"),
        ("iv", {"mg_per_kg": 0.5, "weight_kg": 70, "minutes": 40}, "bag_ml", "required"),
        ("iv", {"mg_per_kg": 0.5, "weight_kg": 70, "bag_ml": 100, "minutes": 0}, "minutes", ""),
        ("iv", {"mg_per_kg": 0.5, "weight_kg": 70, "dose_mg": 35}, "dose_mg", "give mg_per_kg"),
        ("esketamine", {}, "dose_mg", "missing"),
        ("esketamine", {"dose_mg": 56, "mg_per_kg": 1}, "mg_per_kg", "does not apply"),
        ("esketamine", {"dose_mg": 56, "weight_kg": 70}, "weight_kg", "does not apply"),
        ("esketamine", {"dose_mg": 56, "bag_ml": 100}, "bag_ml", "does not apply"),
        ("esketamine", {"dose_mg": 56, "basis": "ideal"}, "basis", "does not apply"),
    ],
)
def test_a_malformed_request_names_its_field(
    route: Any, kwargs: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(InvalidDoseRequest) as exc:
        compute_dose(route, **kwargs)
    assert exc.value.field == field
    assert str(exc.value).startswith(f"{field}: ")
    assert problem in str(exc.value)


def test_a_malformed_request_is_reported_before_a_refusal() -> None:
    with pytest.raises(InvalidDoseRequest):
        compute_dose("iv", mg_per_kg=5, weight_kg=400, bag_ml=100)


# --- a clinic's caps --------------------------------------------------------------------------


def test_a_clinic_can_lower_one_route_cap_and_keep_the_others() -> None:
    caps = caps_with({"max_mg_per_kg": {"iv": "0.75"}})
    assert (caps.max_mg_per_kg[Route.IV], caps.max_mg_per_kg[Route.SC]) == (D("0.75"), 1)
    with pytest.raises(DoseRefused, match=r"over the iv cap of 0\.75"):
        compute_dose("iv", mg_per_kg="0.8", weight_kg=70, caps=caps)
    assert compute_dose("sc", mg_per_kg=1, weight_kg=70, caps=caps).dose_mg == 70


def test_a_clinic_can_set_esketamine_doses_and_ranges() -> None:
    caps = caps_with(
        {"esketamine_doses_mg": [84, 56, 56], "weight_kg": (40, 200), "height_cm": [130, 220.5]}
    )
    assert caps.esketamine_doses_mg == (56, 84)
    with pytest.raises(DoseRefused):
        compute_dose("esketamine", dose_mg=28, caps=caps)
    with pytest.raises(DoseRefused, match="accepted 40-200 kg"):
        compute_dose("iv", mg_per_kg="0.5", weight_kg=35, caps=caps)


def test_no_overrides_are_the_defaults() -> None:
    assert caps_with({}) == default_caps()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"max_dose_mg": 100}, "max_dose_mg"),
        ({"max_mg_per_kg": 1.0}, "max_mg_per_kg"),
        ({"max_mg_per_kg": {"esketamine": 1}}, "max_mg_per_kg.esketamine"),
        ({"max_mg_per_kg": {"iv": -1}}, "max_mg_per_kg.iv"),
        ({"max_mg_per_kg": {"oral": "lots"}}, "max_mg_per_kg.oral"),
        ({"esketamine_doses_mg": []}, "esketamine_doses_mg"),
        ({"esketamine_doses_mg": "56"}, "esketamine_doses_mg"),
        ({"esketamine_doses_mg": [56, 70]}, "esketamine_doses_mg.1"),
        ({"esketamine_doses_mg": [0]}, "esketamine_doses_mg.0"),
        ({"weight_kg": [40]}, "weight_kg"),
        ({"weight_kg": 40}, "weight_kg"),
        ({"weight_kg": [200, 40]}, "weight_kg"),
        ({"height_cm": [130, "tall"]}, "height_cm.1"),
    ],
)
def test_a_malformed_override_names_its_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidCaps) as exc:
        caps_with(overrides)
    assert exc.value.field == field


def test_overrides_must_be_a_mapping() -> None:
    with pytest.raises(InvalidCaps, match="expected a mapping"):
        caps_with([("weight_kg", [40, 200])])  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------------

ROUTES = st.sampled_from(["iv", "im", "sc", "oral", "sublingual"])
WEIGHTS = st.decimals(min_value=30, max_value=250, places=1)
HEIGHTS = st.decimals(min_value=120, max_value=230, places=1)
SEXES = st.sampled_from(["female", "male"])
MG_PER_KG = st.decimals(min_value=D("0.001"), max_value=3, places=3)


@given(route=ROUTES, mg_per_kg=MG_PER_KG, weight=WEIGHTS)
def test_the_dose_is_weight_times_mg_per_kg_within_rounding(
    route: str, mg_per_kg: Decimal, weight: Decimal
) -> None:
    try:
        result = compute_dose(route, mg_per_kg=mg_per_kg, weight_kg=weight)
    except DoseRefused:
        assert mg_per_kg > default_caps().max_mg_per_kg[Route(route)]
        return
    assert abs(result.dose_mg - mg_per_kg * weight) <= D("0.05")


@given(
    route=ROUTES,
    mg_per_kg=MG_PER_KG,
    weight=WEIGHTS,
    basis=st.sampled_from(["actual", "ideal", "adjusted"]),
    sex=SEXES,
    height=HEIGHTS,
)
def test_a_given_dose_never_exceeds_the_cap(
    route: str, mg_per_kg: Decimal, weight: Decimal, basis: str, sex: str, height: Decimal
) -> None:
    cap = default_caps().max_mg_per_kg[Route(route)]
    request = {"weight_kg": weight, "basis": basis, "sex": sex, "height_cm": height}
    if mg_per_kg > cap:
        with pytest.raises(DoseRefused) as exc:
            compute_dose(route, mg_per_kg=mg_per_kg, **request)
        assert exc.value.field == "mg_per_kg"
        return
    result = compute_dose(route, mg_per_kg=mg_per_kg, **request)
    exact = reference_dose(
        {
            "route": route,
            "mg_per_kg": float(cap),
            **request,
            "weight_kg": float(weight),
            "height_cm": float(height),
        }
    )
    assert exact is not None
    assert result.dose_mg <= D(str(exact["dose_mg"])) + D("0.05") + D("1e-9")


@given(
    dose=st.decimals(min_value=D("0.1"), max_value=1000, places=1),
    vial=st.decimals(min_value=D("0.5"), max_value=100, places=1),
)
def test_volume_times_concentration_is_the_dose(dose: Decimal, vial: Decimal) -> None:
    mg_per_kg = dose / 100  # on 100 kg, with caps wide enough for any dose here
    caps = caps_with({"max_mg_per_kg": {"oral": 10}})
    result = compute_dose(
        "oral", mg_per_kg=mg_per_kg, weight_kg=100, vial_mg_per_ml=vial, caps=caps
    )
    assert result.drug_volume_ml is not None
    assert abs(result.drug_volume_ml * vial - result.dose_mg) <= D("0.005") * vial


@given(weight=WEIGHTS, sex=SEXES, height=HEIGHTS)
def test_the_adjusted_weight_lies_between_ibw_and_actual(
    weight: Decimal, sex: str, height: Decimal
) -> None:
    ibw = D(str(devine_kg(sex, float(height))))
    adjusted = dosing_weight("adjusted", weight, sex, height)
    if weight > ibw:
        assert ibw - D("0.05") <= adjusted <= weight
    else:
        assert adjusted == weight.quantize(D("0.1"))


@given(sex=SEXES, height=HEIGHTS)
def test_devine_matches_the_float_formula(sex: str, height: Decimal) -> None:
    assert abs(ideal_body_weight(sex, height) - D(str(devine_kg(sex, float(height))))) <= D("0.05")


@given(
    bag=st.decimals(min_value=1, max_value=1000, places=0),
    minutes=st.decimals(min_value=1, max_value=600, places=0),
)
def test_the_rate_is_bag_over_minutes_times_60(bag: Decimal, minutes: Decimal) -> None:
    result = compute_dose("iv", mg_per_kg="0.5", weight_kg=70, bag_ml=bag, minutes=minutes)
    assert result.rate_ml_per_h is not None
    assert abs(result.rate_ml_per_h - bag / minutes * 60) <= D("0.05")


def test_every_route_has_words_for_the_page() -> None:
    from ketacare.clinical.dosing import ROUTE_LABELS, Route

    assert set(ROUTE_LABELS) == set(Route)
    assert ROUTE_LABELS[Route.ESKETAMINE] == "esketamine nasal spray"
