"""Virtual populations: published or user-given variability, weights, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from ketacare.clinical import pk
from ketacare.clinical.pk import population as population_module
from ketacare.clinical.pk.population import (
    PERCENTILES,
    sample_weights,
    simulate_population,
    solve_subjects,
    variability,
)
from ketacare.clinical.pk.solver import Stream, grid, solve

TIMES = grid(10.0, 145)
INFUSION = pk.Regimen("iv", dose_mg_per_kg=0.5, infusion_min=40)


def population(model_id: str = "domino", **kwargs: object) -> pk.Population:
    options: dict[str, object] = {"subjects": 300, "seed": 7, "weight_kg": 75.0, **kwargs}
    model = pk.get(model_id)
    return simulate_population(model, next(iter(model.analytes)), INFUSION, TIMES, **options)  # type: ignore[arg-type]


def test_the_same_seed_gives_the_same_population_whatever_the_chunks_and_threads() -> None:
    a = population(weight_sd_kg=12, keep=True)
    b = population(weight_sd_kg=12, keep=True, chunk=37, threads=2)
    np.testing.assert_array_equal(a.conc, b.conc)
    np.testing.assert_array_equal(a.auc, b.auc)
    assert not np.array_equal(a.cmax, population(seed=8, weight_sd_kg=12).cmax)


def test_each_subject_is_the_exact_solution_of_its_own_parameters() -> None:
    p = population("herd-2007", subjects=5, weight_sd_kg=10, keep=True)
    model = pk.get("herd-2007")
    var = variability(model)
    rng = np.random.default_rng(7)
    draws = rng.standard_normal((5, len(var.names))) @ np.linalg.cholesky(var.covariance).T
    for i in range(5):
        etas = {name: draws[i : i + 1, j] for j, name in enumerate(var.names)}
        w = p.weight_kg[i : i + 1]
        system = pk.build(model, "ketamine", INFUSION, pk.individual(model, w, etas), w)
        np.testing.assert_allclose(p.conc[:, i], solve(system, TIMES).conc[:, 0], rtol=1e-12)


def test_a_model_without_published_variability_takes_the_user_cv_and_says_so() -> None:
    var = variability(pk.get("domino"), 0.2)
    assert var.names == ("V1", "k10", "k12", "k21", "k13", "k31")
    assert variability(pk.get("herd-2007")).names == ("V1", "V2", "CL", "Q")
    assert np.allclose(np.diag(var.covariance), np.log1p(0.04))
    assert var.assumption is not None
    assert "20%" in var.assumption
    assert population().assumptions == (variability(pk.get("domino")).assumption,)
    # Absorption depots are not disposition: their rate constants keep their typical value.
    assert "ka_im" not in var.names


def test_published_variability_includes_the_otto_covariances() -> None:
    var = variability(pk.get("fanta-2015"))
    i, j = var.names.index("V1"), var.names.index("CL")
    assert var.covariance[i, j] == var.covariance[j, i] == 0.023
    assert var.covariance[i, i] == 0.084
    assert var.assumption is None
    assert population("fanta-2015").assumptions == ()


def test_the_nasal_fraction_varies_on_the_logit_scale_and_stays_a_fraction() -> None:
    model = pk.get("perez-ruixo-2021")
    var = variability(model)
    assert var.covariance[var.names.index("FRn"), var.names.index("FRn")] == pytest.approx(0.708**2)
    w = np.full(3, 70.0)
    params = pk.individual(model, w, {"FRn": np.array([-10.0, 0.0, 10.0])})
    assert 0 < params["FRn"][0] < 0.01
    assert params["FRn"][1] == pytest.approx(0.54)
    assert 0.99 < params["FRn"][2] < 1


def test_a_zero_cv_gives_identical_subjects() -> None:
    p = population(cv=0.0)
    assert np.ptp(p.cmax) == 0


def test_variability_spreads_the_cmax_around_the_typical_value() -> None:
    p = population(subjects=2000, cv=0.3)
    typical = pk.predict(pk.window("domino", INFUSION, weight_kg=75, step_min=10), INFUSION)
    low, median, high = np.percentile(p.cmax, [5, 50, 95])
    assert low < typical.cmax < high
    assert median == pytest.approx(typical.cmax, rel=0.1)
    bands = p.bands()
    assert bands.shape == (3, len(TIMES))
    assert np.all(bands[0] <= bands[1])
    assert np.all(bands[1] <= bands[2])


def test_weights_are_fixed_or_normal_within_the_accepted_range() -> None:
    rng = np.random.default_rng(1)
    assert np.all(sample_weights(80, 0, 10, rng) == 80)
    drawn = sample_weights(40, 30, 5000, rng)
    assert drawn.min() >= 30
    assert drawn.max() <= 250
    assert drawn.mean() > 40  # redrawn below 30 kg, so the mean shifts up
    with pytest.raises(ValueError, match="weight_kg"):
        sample_weights(20, 0, 1, rng)
    with pytest.raises(ValueError, match="weight_sd_kg"):
        sample_weights(70, -1, 1, rng)


def test_other_percentiles_need_the_kept_concentrations() -> None:
    p = population()
    assert p.conc is None
    assert p.cmax.shape == (300,)
    assert p.bands().shape == (3, len(TIMES))
    with pytest.raises(ValueError, match="keep=True"):
        p.bands((10.0, 90.0))
    kept = population(keep=True)
    np.testing.assert_array_equal(kept.bands((10.0,)), np.percentile(kept.conc, [10], axis=1))


def test_impossible_population_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="subjects"):
        population(subjects=0)
    with pytest.raises(ValueError, match="cv"):
        variability(pk.get("domino"), -0.1)


def test_solving_given_subjects_reports_no_assumption_of_its_own() -> None:
    model = pk.get("domino")
    p = solve_subjects(
        model, "ketamine", INFUSION, TIMES, np.array([70.0]), {}, keep=False, chunk=1, threads=1
    )
    assert p.assumptions == ()
    assert p.cmax[0] > 0


@pytest.mark.parametrize(
    ("model_id", "subjects"), [("domino", 3001), ("herd-2007", 2), ("domino", 1)]
)
def test_banded_percentiles_are_numpys_within_single_precision(
    model_id: str, subjects: int
) -> None:
    banded = population(model_id, subjects=subjects, weight_sd_kg=12)
    kept = population(model_id, subjects=subjects, weight_sd_kg=12, keep=True)
    exact = np.percentile(kept.conc, PERCENTILES, axis=1)
    assert banded.conc is None
    np.testing.assert_allclose(banded.bands(), exact, rtol=1e-7, atol=1e-9)
    # The per-subject results are the same solution, whichever way it was solved.
    np.testing.assert_allclose(banded.cmax, kept.cmax, rtol=1e-12)
    np.testing.assert_allclose(banded.auc, kept.auc, rtol=1e-12)
    np.testing.assert_array_equal(banded.tmax_min, kept.tmax_min)


def test_banded_results_are_the_same_for_any_number_of_processes() -> None:
    times = grid(1.0, 1441)  # several windows of the grid
    model = pk.get("domino")
    one = simulate_population(model, "ketamine", INFUSION, times, subjects=500, seed=3,
                              weight_kg=70.0, processes=1)  # fmt: skip
    three = simulate_population(model, "ketamine", INFUSION, times, subjects=500, seed=3,
                                weight_kg=70.0, processes=3)  # fmt: skip
    for field in ("cmax", "tmax_min", "auc"):
        np.testing.assert_array_equal(getattr(one, field), getattr(three, field))
    np.testing.assert_array_equal(one.bands(), three.bands())


def test_a_worker_solves_its_windows_from_the_stream_it_inherited() -> None:
    model = pk.get("domino")
    weights = np.array([60.0, 80.0])
    system = pk.build(model, "ketamine", INFUSION, pk.individual(model, weights, {}), weights)
    stream = Stream(system, TIMES)
    population_module._adopt(stream)
    inherited = population_module._solve_windows([(0, 50), (50, 145)])
    given = population_module._solve_windows([(0, 50), (50, 145)], stream)
    for a, b in zip(inherited, given, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(given[1], solve(system, TIMES).conc.max(axis=0), rtol=1e-12)


def test_a_limited_stream_gives_the_same_concentrations_as_the_whole() -> None:
    model = pk.get("domino")
    weights = np.array([55.0, 75.0, 95.0])
    system = pk.build(model, "ketamine", INFUSION, pk.individual(model, weights, {}), weights)
    whole = solve(system, TIMES).conc
    stream = Stream(system, TIMES, block=7)
    for low, high in [(0, 3), (3, 4), (4, 100), (100, 145), (145, 145)]:
        parts = [(k, block.copy()) for k, block in stream.limited(low, high)]
        got = np.concatenate([b for _, b in parts]) if parts else np.empty((0, 3))
        assert [k for k, _ in parts][:1] == ([low] if high > low else [])
        np.testing.assert_allclose(np.maximum(got, 0), whole[low:high], rtol=1e-11, atol=1e-12)
    with pytest.raises(ValueError, match="window 10-146 is outside the 145 times"):
        stream.limited(10, 146)
