"""Properties every linear compartment model has: superposition, dose proportionality,
non-negativity, and AUC to infinity equal to F x dose / CL."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketacare.clinical import pk
from ketacare.clinical.pk.solver import grid, solve
from ketacare.clinical.pk.system import Dose, System

ROUTES = [
    ("domino", "iv"),
    ("domino", "im"),
    ("herd-2007", "oral"),
    ("clements-250", "sublingual"),
    ("fanta-2015", "oral"),
    ("simons-2022", "sublingual"),
    ("perez-ruixo-2021", "oral"),
]


def typical(model_id: str, route: str, weight: float = 70.0) -> System:
    model = pk.get(model_id)
    w = np.array([weight])
    params = pk.individual(model, w, {})
    return pk.build(model, next(iter(model.analytes)), pk.Regimen(route, dose_mg=1.0), params, w)


@settings(max_examples=30, deadline=None)
@given(
    case=st.sampled_from(ROUTES),
    first=st.floats(0.1, 200),
    second=st.floats(0.1, 200),
    at=st.integers(0, 600),
    duration=st.sampled_from([0.0, 7.5, 40.0]),
)
def test_two_doses_give_the_sum_of_each_alone(
    case: tuple[str, str], first: float, second: float, at: int, duration: float
) -> None:
    base = typical(*case)
    target = base.doses[0].compartment

    def with_doses(*doses: Dose) -> np.ndarray:
        conc: np.ndarray = solve(System(base.a, base.output, doses), grid(2.0, 481)).conc[:, 0]
        return conc

    a = Dose(0.0, target, np.array([first]), duration)
    b = Dose(float(at), target, np.array([second]), 0.0)
    together, alone_a, alone_b = with_doses(a, b), with_doses(a), with_doses(b)
    scale = together.max()
    np.testing.assert_allclose(together, alone_a + alone_b, rtol=1e-9, atol=1e-12 * scale)
    assert together.min() >= 0


@settings(max_examples=25, deadline=None)
@given(case=st.sampled_from(ROUTES), dose=st.floats(0.5, 500), factor=st.floats(0.1, 10))
def test_concentrations_are_proportional_to_the_dose(
    case: tuple[str, str], dose: float, factor: float
) -> None:
    model_id, route = case
    once = pk.Regimen(route, dose_mg=dose)
    scaled = pk.Regimen(route, dose_mg=dose * factor)
    w = pk.window(model_id, once, step_min=5)
    a, b = pk.predict(w, once), pk.predict(w, scaled)
    np.testing.assert_allclose(b.conc, a.conc * factor, rtol=1e-9, atol=1e-12 * b.cmax)
    assert b.auc_ng_h_per_ml == pytest.approx(a.auc_ng_h_per_ml * factor, rel=1e-9)


def test_auc_to_infinity_is_bioavailable_dose_over_clearance() -> None:
    # Herd at 70 kg: CL 90 L/h; IM F 0.93. 100 mg -> 0.93 x 100 / 90 mg*h/L = 1033.3 ng*h/mL.
    regimen = pk.Regimen("im", dose_mg=100)
    result = pk.predict(pk.window("herd-2007", regimen, hours=72, step_min=10), regimen)
    assert result.auc_ng_h_per_ml == pytest.approx(0.93 * 100 / 90 * 1000, rel=1e-6)


def test_auc_matches_the_trapezoid_on_a_fine_grid() -> None:
    regimen = pk.Regimen("esketamine", dose_mg=56)
    result = pk.predict(pk.window("perez-ruixo-2021", regimen, step_min=0.25), regimen)
    trapezoid = float(np.trapezoid(result.conc, result.times_min)) / 60
    assert result.auc_ng_h_per_ml == pytest.approx(trapezoid, rel=1e-5)
