"""The model catalogue: cited data, validated when it loads."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ketacare.clinical import pk
from ketacare.clinical.pk import catalogue

IDS = ["clements-250", "domino", "fanta-2015", "herd-2007", "perez-ruixo-2021", "simons-2022"]


def raw(model_id: str) -> dict[str, Any]:
    path = resources.files("ketacare.clinical").joinpath(f"data/pk/{model_id}.toml")
    data: dict[str, Any] = tomllib.loads(path.read_text())
    return data


def test_the_catalogue_holds_the_required_models() -> None:
    assert sorted(pk.models()) == IDS


@pytest.mark.parametrize("model_id", IDS)
def test_every_number_carries_its_source_and_unit(model_id: str) -> None:
    model = pk.get(model_id)
    assert model.source
    assert model.sampling
    assert model.population
    assert model.covariates
    for p in model.parameters.values():
        assert p.source.strip()
        assert p.unit
    assert "iv" in model.routes


def test_racemic_models_share_the_absorption_depots() -> None:
    for model_id in ("domino", "clements-250", "herd-2007"):
        assert sorted(pk.get(model_id).routes) == [
            "im", "intranasal", "iv", "oral", "sc", "sublingual",
        ]  # fmt: skip
    sc = pk.get("domino").routes["sc"]
    assert any("No human SC data" in a for a in sc.assumptions)


def test_units_are_converted_to_litres_and_minutes() -> None:
    herd, pr = pk.get("herd-2007"), pk.get("perez-ruixo-2021")
    assert herd.parameters["CL"].value == pytest.approx(90 / 60)
    assert pr.parameters["Dsw"].value == pytest.approx(0.53 * 60)
    assert pr.parameters["Vc"].omega2 == pytest.approx(0.0730, abs=1e-4)
    assert pk.get("domino").parameters["V1"].per_kg


def test_an_unknown_id_names_the_known_ones() -> None:
    with pytest.raises(pk.UnknownModel) as exc:
        pk.get("kamp")
    assert "domino" in str(exc.value)


def broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(raw("herd-2007"))
    match change:
        case "no source":
            del data["parameters"]["CL"]["source"]
        case "bad unit":
            data["parameters"]["CL"]["unit"] = "mL/h"
        case "negative":
            data["parameters"]["CL"]["value"] = -1
        case "fraction above 1":
            data["parameters"]["F_x"] = {"value": 1.2, "unit": "fraction", "source": "x"}
        case "missing field":
            del data["sampling"]
        case "unknown volume":
            data["compartments"][0]["volume"] = "V9"
        case "repeated compartment":
            data["compartments"].append({"name": "central"})
        case "unknown flow compartment":
            data["flows"][0]["to"] = "nowhere"
        case "rate and clearance":
            data["flows"][0]["rate"] = "CL"
        case "unknown flow parameter":
            data["flows"][0]["clearance"] = "CL9"
        case "clearance from a depot":
            data["flows"].append({"from": "depot_im", "clearance": "CL"})
        case "analyte without volume":
            data["analytes"]["ketamine"] = "peripheral1x"
        case "no analytes":
            data["analytes"] = {}
        case "no iv":
            del data["routes"]["iv"]
        case "unknown input compartment":
            data["routes"]["iv"]["inputs"][0]["into"] = "nowhere"
        case "unknown fraction":
            data["routes"]["iv"]["inputs"][0]["fraction"] = ["F9"]
        case "fraction not a fraction":
            data["routes"]["iv"]["inputs"][0]["fraction"] = ["1-CL"]
        case "varying duration":
            data["routes"]["iv"]["inputs"][0]["duration"] = "V1"
        case "logit on a volume":
            data["parameters"]["V1"]["logit_sd"] = 0.5
        case "bad include":
            data["include"] = ["nothing"]
        case "bad correlation":
            data["correlations"] = [{"between": ["V1", "Z"], "covariance": 0.1, "source": "x"}]
        case "bad devices":
            data["routes"]["iv"]["devices"] = {
                "mg": 28, "interval_min": 5, "source": "x",
                "later_devices": {"parameter": "FRn", "times": "FRn_later"},
            }  # fmt: skip
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no source", "parameter CL has no source"),
        ("bad unit", "unit 'mL/h'"),
        ("negative", "positive number"),
        ("fraction above 1", "a fraction above 1"),
        ("missing field", "missing field 'sampling'"),
        ("unknown volume", "volume 'V9' is not a parameter"),
        ("repeated compartment", "compartment names repeat"),
        ("unknown flow compartment", "unknown compartment 'nowhere'"),
        ("rate and clearance", "give a rate or a clearance, not both"),
        ("unknown flow parameter", "'CL9' is not a parameter"),
        ("clearance from a depot", "a clearance needs a source compartment with a volume"),
        ("analyte without volume", "analyte ketamine"),
        ("no analytes", "no analytes"),
        ("no iv", "no iv route"),
        ("unknown input compartment", "route iv: unknown compartment 'nowhere'"),
        ("unknown fraction", "'F9' is not a parameter"),
        ("fraction not a fraction", "fraction 'CL' is not a fraction"),
        ("varying duration", "duration V1 may not vary"),
        ("logit on a volume", "logit_sd is for fractions"),
        ("bad include", "include 'nothing'"),
        ("bad correlation", "Z has no omega2"),
        ("bad devices", "device parameter 'FRn' is not a parameter"),
    ],
)
def test_a_broken_model_file_is_refused_naming_the_problem(change: str, message: str) -> None:
    with pytest.raises(pk.InvalidModel) as exc:
        catalogue.parse(broken(change), origin="herd-2007.toml")
    assert str(exc.value).startswith("herd-2007.toml: ")
    assert message in str(exc.value)


def test_a_file_whose_id_differs_from_its_name_is_refused(tmp_path: Path) -> None:
    shipped = resources.files("ketacare.clinical").joinpath("data/pk/herd-2007.toml").read_text()
    (tmp_path / "herd-2007.toml").write_text(shipped.replace('id = "herd-2007"', 'id = "other"'))
    with pytest.raises(pk.InvalidModel, match="differs from the file name"):
        replace(catalogue.SHIPPED, folder=tmp_path).by_id()
