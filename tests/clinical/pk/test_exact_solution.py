"""The exact solver against independent scipy ODE references (1e-6 relative), and the case of
coinciding rate constants that breaks closed-form polyexponentials."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketacare.clinical import pk
from ketacare.clinical.pk.solver import Stream, grid, modes, solve
from ketacare.clinical.pk.system import Dose, System
from tests.clinical.pk import reference as ref

TIMES = grid(1.0, 1441)  # 24 h at 1 min


def engine(model_id: str, regimen: pk.Regimen, analyte: str | None = None, weight: float = 70):
    w = pk.window(model_id, regimen, analyte=analyte, weight_kg=weight)
    return pk.predict(w, regimen)


def assert_agrees(conc: np.ndarray, expected: np.ndarray) -> None:
    scale = float(np.max(expected))
    assert scale > 0
    np.testing.assert_allclose(conc, expected, rtol=1e-6, atol=1e-9 * scale)


def test_domino_iv_infusion_agrees_with_the_ode_reference() -> None:
    rhs, v1 = ref.domino(80)
    states = ref.integrate(rhs, 3, [ref.Event(0, 0, 40.0, 40)], TIMES)
    result = engine("domino", pk.Regimen("iv", dose_mg_per_kg=0.5, infusion_min=40), weight=80)
    assert_agrees(result.conc, states[:, 0] / v1 * 1000)


def test_domino_iv_bolus_agrees_and_includes_the_bolus_at_time_zero() -> None:
    rhs, v1 = ref.domino(70)
    states = ref.integrate(rhs, 3, [ref.Event(0, 0, 10.0)], TIMES)
    result = engine("domino", pk.Regimen("iv", dose_mg=10))
    assert result.conc[0] == pytest.approx(10 / v1 * 1000, rel=1e-12)
    assert_agrees(result.conc, states[:, 0] / v1 * 1000)


def test_herd_im_depot_agrees_with_the_ode_reference() -> None:
    rhs, v1 = ref.herd_im(55)
    states = ref.integrate(rhs, 3, [ref.Event(0, 0, 0.93 * 27.5)], TIMES)
    result = engine("herd-2007", pk.Regimen("im", dose_mg_per_kg=0.5), weight=55)
    assert_agrees(result.conc, states[:, 1] / v1 * 1000)


@pytest.mark.parametrize(("devices", "interval"), [(1, 5.0), (3, 5.0), (2, 0.0)])
def test_perez_ruixo_nasal_devices_agree_for_both_analytes(devices: int, interval: float) -> None:
    rhs, vc, vcn = ref.perez_ruixo()
    states = ref.integrate(rhs, 8, ref.esketamine_events(devices, interval), TIMES)
    regimen = pk.Regimen("esketamine", dose_mg=28 * devices, device_interval_min=interval)
    assert_agrees(engine("perez-ruixo-2021", regimen).conc, states[:, 2] / vc * 1000)
    norketamine = engine("perez-ruixo-2021", regimen, analyte="noresketamine").conc
    assert_agrees(norketamine, states[:, 6] / vcn * 1000)


def test_simons_sublingual_film_and_a_later_infusion_agree() -> None:
    rhs, v1 = ref.simons_sublingual()
    states = ref.integrate(rhs, 4, [ref.Event(0, 0, 0.263 * 50, 13.1)], TIMES)
    result = engine("simons-2022", pk.Regimen("sublingual", dose_mg=50))
    assert_agrees(result.conc, states[:, 1] / v1 * 1000)


def test_fanta_norketamine_formation_agrees() -> None:
    rhs, vn = ref.fanta_norketamine()
    states = ref.integrate(rhs, 5, [ref.Event(0, 0, 8.75, 30)], TIMES)
    result = engine("fanta-2015", pk.Regimen("iv", dose_mg=8.75, infusion_min=30), "noresketamine")
    assert_agrees(result.conc, states[:, 3] / vn * 1000)


def one_compartment_with_depot(ka: float, k: float, n: int = 1) -> System:
    a = np.array([[-ka, 0.0], [ka, -k]])
    return System(
        np.repeat(a[None], n, axis=0),
        np.repeat(np.array([[0.0, 1000.0 / 50]]), n, axis=0),
        (Dose(0.0, 0, np.full(n, 100.0), 0.0),),
    )


def test_coinciding_rate_constants_give_the_t_exp_solution_not_nan() -> None:
    # ka == k: the Bateman function's denominator (ka - k) is 0; the exact answer is
    # C(t) = D/V * k * t * exp(-k t).
    k = 0.05
    system = one_compartment_with_depot(k, k)
    assert modes(system.a)[3].all()  # the expm path takes it
    solution = solve(system, TIMES)
    expected = 100 / 50 * 1000 * k * TIMES * np.exp(-k * TIMES)
    np.testing.assert_allclose(solution.conc[:, 0], expected, rtol=1e-9, atol=1e-12)
    # AUC to infinity would be D/(V k); to 24 h it is the incomplete gamma integral.
    auc = 100 / 50 * 1000 / k * (1 - np.exp(-k * 1440) * (1 + k * 1440))
    assert solution.auc[0] == pytest.approx(auc, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    ka=st.floats(0.001, 1.0),
    k=st.floats(0.001, 1.0),
    nudge=st.sampled_from([0.0, 1e-12, 1e-9, 1e-6, 1e-3]),
)
def test_near_coinciding_rate_constants_stay_accurate(ka: float, k: float, nudge: float) -> None:
    ka = k * (1 + nudge) if nudge else ka
    system = one_compartment_with_depot(ka, k)
    conc = solve(system, TIMES).conc[:, 0]
    states = ref.integrate(
        lambda x, r: np.array([r[0] - ka * x[0], ka * x[0] - k * x[1]]),
        2,
        [ref.Event(0, 0, 100.0)],
        TIMES,
    )
    assert_agrees(conc, states[:, 1] * 1000 / 50)


def test_a_mixed_batch_solves_each_subject_by_its_own_path() -> None:
    # Subject 0 is ordinary (modal path), subject 1 has ka == k (expm path).
    a = np.array([[[-0.2, 0.0], [0.2, -0.05]], [[-0.05, 0.0], [0.05, -0.05]]])
    system = System(a, np.array([[0.0, 20.0]] * 2), (Dose(0.0, 0, np.array([100.0, 100.0]), 0.0),))
    assert list(modes(a)[3]) == [False, True]
    both = solve(system, TIMES)
    for i in range(2):
        alone = System(
            a[i : i + 1], system.output[i : i + 1], (Dose(0.0, 0, np.array([100.0]), 0.0),)
        )
        np.testing.assert_allclose(both.conc[:, i], solve(alone, TIMES).conc[:, 0], rtol=1e-12)


def test_complex_or_growing_modes_take_the_expm_path() -> None:
    rotation = np.array([[[-0.1, 1.0], [-1.0, -0.1]]])
    growth = np.array([[[0.01, 0.0], [0.0, -0.1]]])
    assert modes(rotation)[3].all()
    assert modes(growth)[3].all()
    system = System(rotation, np.array([[1.0, 0.0]]), (Dose(0.0, 0, np.array([1.0]), 0.0),))
    conc = solve(system, grid(0.5, 21)).conc[:, 0]
    t = grid(0.5, 21)
    # Not a compartmental system, so it swings below 0, which solve() reports as 0.
    expected = np.maximum(np.exp(-0.1 * t) * np.cos(t), 0.0)
    np.testing.assert_allclose(conc, expected, rtol=1e-9, atol=1e-12)


def test_a_single_time_is_the_state_just_after_time_zero_doses() -> None:
    system = one_compartment_with_depot(0.1, 0.05)
    solution = solve(system, grid(1.0, 1))
    assert solution.conc.shape == (1, 1)
    assert solution.conc[0, 0] == 0.0
    assert solution.auc[0] == 0.0


def test_a_grid_needs_a_positive_step_and_a_time() -> None:
    with pytest.raises(ValueError, match="positive step"):
        grid(0.0, 10)
    with pytest.raises(ValueError, match="at least one time"):
        grid(1.0, 0)


def test_doses_after_the_window_are_ignored() -> None:
    late = System(np.array([[[-0.1]]]), np.array([[1.0]]), (Dose(100.0, 0, np.array([5.0]), 0.0),))
    assert solve(late, grid(1.0, 50)).conc.max() == 0.0


def test_the_block_size_does_not_change_the_answer() -> None:
    model = pk.get("perez-ruixo-2021")
    w = np.full(4, 70.0)
    etas = {"ka_n": np.array([-1.0, 0.0, 0.5, 1.0])}
    regimen = pk.Regimen("esketamine", dose_mg=56)
    system = pk.build(model, "esketamine", regimen, pk.individual(model, w, etas), w)
    default = solve(system, TIMES).conc
    rows = np.empty_like(default)
    for first, block in Stream(system, TIMES, block=7):
        rows[first : first + len(block)] = block
    np.testing.assert_allclose(np.maximum(rows, 0), default, rtol=1e-13, atol=1e-13)
