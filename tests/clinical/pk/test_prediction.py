"""The front door: checked requests, defaults said out loud, and JSON-ready results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ketacare.clinical import pk


def refused(field: str, model_id: str = "domino", regimen: pk.Regimen | None = None, **kw: object):
    regimen = regimen or pk.Regimen("iv", dose_mg=35)
    with pytest.raises(pk.InvalidRegimen) as exc:
        pk.predict(pk.window(model_id, regimen, **kw), regimen)  # type: ignore[arg-type]
    assert exc.value.field == field
    return str(exc.value)


def test_a_typical_prediction_has_every_field_and_its_assumptions() -> None:
    regimen = pk.Regimen("sc", dose_mg_per_kg=0.5)
    out = pk.predict(pk.window("domino", regimen, weight_kg=80, hours=2, step_min=30), regimen)
    d = out.as_dict()
    assert d["model"] == "domino"
    assert d["analyte"] == "ketamine"
    assert d["units"] == "ng/mL"
    assert d["times_min"] == [0.0, 30.0, 60.0, 90.0, 120.0]
    assert len(d["conc"]) == 5
    assert d["conc"][0] == 0.0
    assert d["cmax"] == max(d["conc"])
    assert d["tmax_min"] == 30.0
    assert d["auc_ng_h_per_ml"] > 0
    assert any("No human SC data" in a for a in d["assumptions"])


def test_a_missing_weight_uses_the_reference_and_says_so() -> None:
    regimen = pk.Regimen("iv", dose_mg=35)
    w = pk.window("domino", regimen)
    assert w.weight_kg == 70
    assert any("70-kg reference" in a for a in w.assumptions)


def test_an_iv_dose_without_an_infusion_time_is_said_to_be_a_bolus() -> None:
    bolus = pk.window("domino", pk.Regimen("iv", dose_mg=35), weight_kg=70)
    infusion = pk.window("domino", pk.Regimen("iv", dose_mg=35, infusion_min=40), weight_kg=70)
    assert any("IV given as a bolus" in a for a in bolus.assumptions)
    assert not any("bolus" in a for a in infusion.assumptions)


@pytest.mark.parametrize(
    ("field", "kwargs", "regimen"),
    [
        ("weight_kg", {}, pk.Regimen("iv", dose_mg_per_kg=0.5)),
        ("weight_kg", {"weight_kg": 20}, None),
        ("weight_kg", {"weight_kg": math.nan}, None),
        ("hours", {"hours": 0}, None),
        ("hours", {"hours": 1000}, None),
        ("step_min", {"step_min": -1}, None),
        ("step_min", {"hours": 336, "step_min": 0.1}, None),
        ("analyte", {"analyte": "norketamine"}, None),
        ("route", {}, pk.Regimen("esketamine", dose_mg=28)),
        ("dose_mg", {}, pk.Regimen("iv")),
        ("dose_mg", {"weight_kg": 70}, pk.Regimen("iv", dose_mg=1, dose_mg_per_kg=1)),
        ("dose_mg", {}, pk.Regimen("iv", dose_mg=0)),
        ("dose_mg_per_kg", {"weight_kg": 70}, pk.Regimen("iv", dose_mg_per_kg=-1)),
        ("infusion_min", {}, pk.Regimen("im", dose_mg=35, infusion_min=10)),
        ("infusion_min", {}, pk.Regimen("iv", dose_mg=35, infusion_min=-1)),
        ("device_interval_min", {}, pk.Regimen("iv", dose_mg=35, device_interval_min=5)),
    ],
)
def test_a_bad_request_names_its_field(field: str, kwargs: dict[str, object], regimen) -> None:
    refused(field, regimen=regimen, **kwargs)


@pytest.mark.parametrize(
    ("field", "regimen"),
    [
        ("dose_mg", pk.Regimen("esketamine", dose_mg=30)),
        ("dose_mg_per_kg", pk.Regimen("esketamine", dose_mg_per_kg=1)),
        ("device_interval_min", pk.Regimen("esketamine", dose_mg=56, device_interval_min=-5)),
    ],
)
def test_the_nasal_spray_takes_whole_devices(field: str, regimen: pk.Regimen) -> None:
    assert (
        "device" in refused(field, "perez-ruixo-2021", regimen, weight_kg=70) or field != "dose_mg"
    )


def test_devices_default_to_the_label_interval_of_five_minutes() -> None:
    at_once = pk.Regimen("esketamine", dose_mg=84, device_interval_min=0)
    label = pk.Regimen("esketamine", dose_mg=84)
    w = pk.window("perez-ruixo-2021", label)
    a, b = pk.predict(w, at_once), pk.predict(w, label)
    assert b.tmax_min > a.tmax_min  # the last device is 10 min later
    assert b.auc_ng_h_per_ml == pytest.approx(a.auc_ng_h_per_ml, rel=0.01)


def test_a_population_prediction_has_bands_and_percentiles() -> None:
    regimen = pk.Regimen("oral", dose_mg=150)
    w = pk.window("domino", regimen, weight_kg=70, hours=4, step_min=60)
    out = pk.predict_population(w, regimen, subjects=200, seed=3, weight_sd_kg=10)
    d = out.as_dict(3)
    assert d["subjects"] == 200
    assert d["seed"] == 3
    assert d["percentiles"] == [5.0, 50.0, 95.0]
    assert set(d["bands"]) == {"p5", "p50", "p95"}
    assert len(d["bands"]["p50"]) == 5
    assert d["cmax"]["p5"] <= d["cmax"]["p50"] <= d["cmax"]["p95"]
    assert any("user-given CV of 30%" in a for a in d["assumptions"])
    assert any("SD 10 kg" in a for a in d["assumptions"])
    assert out.as_dict(3) == pk.predict_population(
        w, regimen, subjects=200, seed=3, weight_sd_kg=10
    ).as_dict(3)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("subjects", {"subjects": 0}),
        ("weight_sd_kg", {"weight_sd_kg": -1}),
        ("cv", {"cv": 4}),
    ],
)
def test_bad_population_settings_name_their_field(field: str, kwargs: dict[str, float]) -> None:
    regimen = pk.Regimen("iv", dose_mg=35)
    w = pk.window("domino", regimen)
    options = {"subjects": 10, "seed": 1, **kwargs}
    with pytest.raises(pk.InvalidRegimen) as exc:
        pk.predict_population(w, regimen, **options)  # type: ignore[arg-type]
    assert exc.value.field == field


def test_building_a_system_checks_the_analyte() -> None:
    model = pk.get("domino")
    w = np.array([70.0])
    with pytest.raises(pk.InvalidRegimen) as exc:
        pk.build(
            model, "noresketamine", pk.Regimen("iv", dose_mg=1), pk.individual(model, w, {}), w
        )
    assert exc.value.field == "analyte"


def test_each_route_has_a_model_and_the_band_is_cited() -> None:
    assert pk.model_for_route("esketamine").id == "perez-ruixo-2021"
    assert pk.model_for_route("im").id == "domino"
    with pytest.raises(pk.InvalidRegimen):
        pk.model_for_route("rectal")
    band = pk.dissociative_band()
    assert (band.low, band.high) == (100, 250)
    assert "Krystal 1994" in band.source


def test_the_typical_patient_matches_a_one_subject_population() -> None:
    regimen = pk.Regimen("iv", dose_mg=35, infusion_min=40)
    w = pk.window("fanta-2015", regimen, weight_kg=90)
    typical = pk.predict(w, regimen)
    assert np.all(typical.conc >= 0)
    assert typical.model.sampling == "venous"
