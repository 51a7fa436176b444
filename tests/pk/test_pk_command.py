"""ketacare pk: simulate, population and models, with exit status 2 naming a bad argument."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tests.clinical.pk import reference as ref

FIELDS = {
    "model", "analyte", "sampling", "units", "times_min", "conc", "cmax", "tmax_min",
    "auc_ng_h_per_ml", "assumptions",
}  # fmt: skip


def pk(*args: str) -> Any:
    out = StringIO()
    call_command("pk", *args, stdout=out)
    return json.loads(out.getvalue())


def refusal(*args: str) -> str:
    with pytest.raises(CommandError) as exc:
        pk(*args)
    assert exc.value.returncode == 2
    return str(exc.value)


def test_simulate_prints_the_prediction_as_json() -> None:
    out = pk(
        "simulate", "--model", "domino", "--route", "iv", "--dose-mg-per-kg", "0.5",
        "--weight-kg", "70", "--infusion-min", "40", "--hours", "4", "--step-min", "1",
    )  # fmt: skip
    assert set(out) == FIELDS
    assert out["units"] == "ng/mL"
    assert out["analyte"] == "ketamine"
    assert len(out["times_min"]) == len(out["conc"]) == 241
    assert out["cmax"] == pytest.approx(240.3, abs=0.1)
    assert out["tmax_min"] == 40


def test_simulate_agrees_with_the_independent_ode_reference() -> None:
    out = pk(
        "simulate", "--model", "perez-ruixo-2021", "--route", "esketamine", "--dose-mg", "84",
        "--analyte", "noresketamine",
    )  # fmt: skip
    rhs, _vc, vcn = ref.perez_ruixo()
    times = np.array(out["times_min"])
    states = ref.integrate(rhs, 8, ref.esketamine_events(3, 5.0), times)
    expected = states[:, 6] / vcn * 1000
    np.testing.assert_allclose(out["conc"], expected, rtol=1e-5, atol=1e-5)


def test_devices_default_to_five_minutes_apart_and_sc_is_flagged_as_an_assumption() -> None:
    five = pk("simulate", "--model", "perez-ruixo-2021", "--route", "esketamine", "--dose-mg", "56")
    given = pk(
        "simulate", "--model", "perez-ruixo-2021", "--route", "esketamine", "--dose-mg", "56",
        "--device-interval-min", "5",
    )  # fmt: skip
    assert five == given
    sc = pk("simulate", "--model", "herd-2007", "--route", "sc", "--dose-mg", "50")
    assert any("No human SC data" in a for a in sc["assumptions"])


def test_population_prints_bands_and_is_reproducible_for_a_seed() -> None:
    args = (
        "population", "--model", "fanta-2015", "--route", "iv", "--dose-mg", "20",
        "--infusion-min", "20", "--subjects", "300", "--seed", "11", "--hours", "2",
        "--step-min", "10", "--weight-kg", "75", "--weight-sd-kg", "12", "--workers", "2",
    )  # fmt: skip
    first, again = pk(*args), pk(*args)
    assert first == again
    assert set(first["bands"]) == {"p5", "p50", "p95"}
    assert len(first["bands"]["p95"]) == 13
    assert first["cmax"]["p5"] < first["cmax"]["p50"] < first["cmax"]["p95"]
    assert set(first["auc_ng_h_per_ml"]) == {"p5", "p50", "p95"}
    other = pk(*[a if a != "11" else "12" for a in args])
    assert other["cmax"] != first["cmax"]


def test_models_lists_the_catalogue_with_sources() -> None:
    models = {m["id"]: m for m in pk("models")}
    assert {"domino", "clements-250", "herd-2007", "fanta-2015", "simons-2022",
            "perez-ruixo-2021"} <= set(models)  # fmt: skip
    assert models["simons-2022"]["sampling"] == "arterial"
    assert all(p["source"] for m in models.values() for p in m["parameters"].values())


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("--route", "iv", "--dose-mg", "5"), "--model"),
        (("--model", "kamp", "--route", "iv", "--dose-mg", "5"), "--model"),
        (("--model", "domino", "--dose-mg", "5"), "--route"),
        (("--model", "domino", "--route", "nasal", "--dose-mg", "5"), "--route"),
        (("--model", "domino", "--route", "iv", "--dose-mg", "abc"), "--dose-mg"),
        (("--model", "domino", "--route", "iv", "--dose-mg", "inf"), "--dose-mg"),
        (("--model", "domino", "--route", "iv", "--dose-mg-per-kg", "0.5"), "--weight-kg"),
        (
            ("--model", "domino", "--route", "im", "--dose-mg", "5", "--infusion-min", "5"),
            "--infusion-min",
        ),
        (("--model", "domino", "--route", "iv", "--dose-mg", "5", "--step-min", "0"), "--step-min"),
        (("--model", "domino", "--route", "iv", "--dose-mg", "5", "--hours", "-1"), "--hours"),
        (("--model", "perez-ruixo-2021", "--route", "esketamine", "--dose-mg", "30"), "--dose-mg"),
    ],
)
def test_a_bad_argument_exits_2_naming_it(args: tuple[str, ...], flag: str) -> None:
    assert refusal("simulate", *args).startswith(f"{flag}: ")


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("--subjects", "1.5"), "--subjects"),
        (("--subjects", "0"), "--subjects"),
        (("--seed", "x"), "--seed"),
        (("--cv", "9"), "--cv"),
    ],
)
def test_a_bad_population_argument_exits_2_naming_it(args: tuple[str, ...], flag: str) -> None:
    base = ("population", "--model", "domino", "--route", "iv", "--dose-mg", "5")
    assert refusal(*base, *args).startswith(f"{flag}: ")


def test_the_ketacare_binary_exits_2_on_a_bad_argument(tmp_path: Path) -> None:
    ketacare = Path(sys.executable).with_name("ketacare")
    env = {**os.environ, "KETACARE_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [ketacare, "pk", "simulate", "--model", "domino", "--route", "iv", "--dose-mg", "-3"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--dose-mg: must be a positive number" in done.stderr
    missing = subprocess.run([ketacare, "pk"], capture_output=True, text=True, env=env, check=False)
    assert missing.returncode == 2
