"""Virtual populations: log-normal (or logit-normal) parameter variability, weights, and the exact
solution for every subject, chunked and threaded.

Variability is the model's published omegas and covariances. A model without any takes a
user-given coefficient of variation (default 30%) on its volumes and on the clearances or rate
constants of its disposition flows (absorption depots excepted), and says so as an assumption.
Weights are fixed or normal (mean, SD) truncated to ``WEIGHT_RANGE_KG``.

Subjects are drawn all at once from one seeded generator, so a seed gives the same population
whatever the chunking. Two ways to solve them:

- :func:`solve_subjects`: in chunks of ``chunk`` subjects on ``threads`` threads (numpy releases
  the GIL in its loops), keeping per subject only Cmax, Tmax and the exact AUC, or with ``keep``
  the whole concentration matrix (``8 * times * subjects`` bytes).
- :func:`solve_banded` (what predictions use): every subject at once, a block of grid times at a
  time, with the 5th/50th/95th percentile across subjects taken from each block by an exact
  selection (a partition) before the block is overwritten, so the matrix is never held. The
  selection runs on the concentrations rounded to single precision (the bit patterns of
  non-negative floats sort as their values do, and integers partition fastest), which moves a
  band by at most 6e-8 of its value. Windows of the time grid are independent, so ``processes``
  worker processes (forked: they inherit the solved modes) share them, with the same result
  whatever their number.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ketacare.clinical.pk.catalogue import Model
from ketacare.clinical.pk.solver import BLOCK, Stream
from ketacare.clinical.pk.system import Array, Regimen, build, individual

DEFAULT_CV = 0.30
WEIGHT_RANGE_KG = (30.0, 250.0)
PERCENTILES = (5.0, 50.0, 95.0)
BAND_BYTES = 16 * 2**20  # one block of concentrations across all subjects, at most
WINDOW = 256  # grid times per independently solved window of the banded solution


@dataclass(frozen=True)
class Variability:
    """Which parameters vary, their log- (or logit-) scale covariance, and where it came from."""

    names: tuple[str, ...]
    covariance: Array
    assumption: str | None


@dataclass(frozen=True)
class Population:
    """Per subject: ``cmax`` (ng/mL on the grid), ``tmax_min``, exact ``auc`` (ng*h/mL);
    ``conc`` (times, subjects) when kept."""

    times: Array
    weight_kg: Array
    cmax: Array
    tmax_min: Array
    auc: Array
    conc: Array | None
    assumptions: tuple[str, ...]
    band_values: Array | None = None  # PERCENTILES across subjects, when solved banded

    def bands(self, percentiles: Sequence[float] = PERCENTILES) -> Array:
        """Percentiles across subjects at each time, shape (len(percentiles), times)."""
        if self.band_values is not None and tuple(percentiles) == PERCENTILES:
            return self.band_values
        if self.conc is None:
            raise ValueError("bands need the concentrations: simulate with keep=True")
        bands: Array = np.percentile(self.conc, percentiles, axis=1)
        return bands


def variability(model: Model, cv: float = DEFAULT_CV) -> Variability:
    """The published variability, or ``cv`` on volumes and disposition flows if none is."""
    if model.has_variability:
        names = tuple(n for n, p in model.parameters.items() if p.varies)
        cov = np.diag([_variance(model, n) for n in names])
        for c in model.correlations:
            i, j = names.index(c.first), names.index(c.second)
            cov[i, j] = cov[j, i] = c.covariance
        return Variability(names, cov, None)
    if not 0 <= cv <= 3:
        raise ValueError(f"cv must be between 0 and 3 (got {cv})")
    names = _disposition_parameters(model)
    cov = np.eye(len(names)) * math.log1p(cv * cv)
    assumption = (
        f"{model.name} publishes no inter-individual variability: a user-given CV of "
        f"{cv:.0%} is applied to {', '.join(names)}"
    )
    return Variability(names, cov, assumption)


def _variance(model: Model, name: str) -> float:
    p = model.parameters[name]
    return p.omega2 if p.omega2 is not None else float(p.logit_sd or 0) ** 2


def _disposition_parameters(model: Model) -> tuple[str, ...]:
    """Volumes, and the parameters of flows leaving compartments that something flows into
    (absorption depots only receive doses)."""
    fed = {f.target for f in model.flows}
    names = [c.volume for c in model.compartments if c.volume is not None]
    names += [f.rate or f.clearance or "" for f in model.flows if f.source in fed]
    return tuple(dict.fromkeys(names))


def sample_etas(var: Variability, subjects: int, rng: np.random.Generator) -> dict[str, Array]:
    draws = rng.standard_normal((subjects, len(var.names)))
    # Cholesky of a covariance with zero variances (cv 0) needs a jitter-free fallback.
    scale = (
        np.linalg.cholesky(var.covariance)
        if np.all(np.diag(var.covariance) > 0)
        else np.sqrt(var.covariance)
    )
    etas = draws @ scale.T
    return {name: etas[:, i] for i, name in enumerate(var.names)}


def sample_weights(mean_kg: float, sd_kg: float, subjects: int, rng: np.random.Generator) -> Array:
    low, high = WEIGHT_RANGE_KG
    if not low <= mean_kg <= high:
        raise ValueError(f"weight_kg must be {low:g}-{high:g} kg (got {mean_kg:g})")
    if sd_kg < 0:
        raise ValueError(f"weight_sd_kg must be 0 or more (got {sd_kg:g})")
    weights = rng.normal(mean_kg, sd_kg, subjects) if sd_kg > 0 else np.full(subjects, mean_kg)
    # Redraw out-of-range weights rather than clip them onto the bounds.
    while np.any(bad := (weights < low) | (weights > high)):
        weights[bad] = rng.normal(mean_kg, sd_kg, int(bad.sum()))
    return weights


def simulate_population(
    model: Model,
    analyte: str,
    regimen: Regimen,
    times: Array,
    *,
    subjects: int,
    seed: int,
    weight_kg: float,
    weight_sd_kg: float = 0.0,
    cv: float = DEFAULT_CV,
    keep: bool = False,
    chunk: int = 16384,
    threads: int = 1,
    processes: int = 1,
) -> Population:
    """``subjects`` virtual subjects given ``regimen``, reproducible for ``seed``, with their
    percentile bands (:func:`solve_banded`), or with ``keep`` the whole concentration matrix
    (:func:`solve_subjects` on ``chunk`` and ``threads``)."""
    if subjects < 1:
        raise ValueError(f"subjects must be 1 or more (got {subjects})")
    rng = np.random.default_rng(seed)
    var = variability(model, cv)
    etas = sample_etas(var, subjects, rng)
    weights = sample_weights(weight_kg, weight_sd_kg, subjects, rng)
    if keep:
        return solve_subjects(
            model, analyte, regimen, times, weights, etas, True, chunk, threads, var
        )
    return solve_banded(model, analyte, regimen, times, weights, etas, processes, var)


def solve_subjects(
    model: Model,
    analyte: str,
    regimen: Regimen,
    times: Array,
    weights: Array,
    etas: Mapping[str, Array],
    keep: bool,
    chunk: int,
    threads: int,
    var: Variability | None = None,
) -> Population:
    """Solve the given subjects (weights and parameter deviations) in chunks on threads."""
    n = weights.shape[0]
    cmax, tmax, auc = np.empty(n), np.empty(n), np.empty(n)
    conc = np.empty((len(times), n)) if keep else None

    def run(lo: int) -> None:
        part = slice(lo, min(lo + chunk, n))
        params = individual(model, weights[part], {k: v[part] for k, v in etas.items()})
        system = build(model, analyte, regimen, params, weights[part])
        cmax[part], tmax[part], auc[part] = _reduce(Stream(system, times), times, conc, part)

    starts = range(0, n, chunk)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(run, starts))
    notes = () if var is None or var.assumption is None else (var.assumption,)
    return Population(times, weights, cmax, tmax, auc / 60.0, conc, notes)


def _reduce(
    stream: Stream, times: Array, conc: Array | None, part: slice
) -> tuple[Array, Array, Array]:
    n = stream.system.output.shape[0]
    cmax, tmax = np.full(n, -np.inf), np.zeros(n)
    for first, block in stream:
        _peaks(block, times[first:], cmax, tmax)
        if conc is not None:
            # The exact solution is never negative; below 0 is rounding (about 1e-13 of Cmax).
            np.maximum(block, 0.0, out=conc[first : first + len(block), part])
    return cmax, tmax, stream.auc


def _peaks(block: Array, times: Array, cmax: Array, tmax: Array) -> None:
    """Raise ``cmax`` (and its ``tmax``) where ``block`` (rows at ``times``) holds a new
    maximum; the earliest time wins a tie."""
    peak = block.max(axis=0)
    higher = np.flatnonzero(peak > cmax)
    if higher.size:
        # argmax down a column is slow, so only where this block holds a new maximum
        # (after the peak, no column does).
        cmax[higher] = peak[higher]
        tmax[higher] = times[block[:, higher].argmax(axis=0)]


def solve_banded(
    model: Model,
    analyte: str,
    regimen: Regimen,
    times: Array,
    weights: Array,
    etas: Mapping[str, Array],
    processes: int = 1,
    var: Variability | None = None,
) -> Population:
    """Every subject at once, with the :data:`PERCENTILES` bands taken block by block (see the
    module's notes); Cmax, Tmax and the exact AUC per subject as :func:`solve_subjects` gives."""
    n = weights.shape[0]
    params = individual(model, weights, etas)
    system = build(model, analyte, regimen, params, weights)
    stream = Stream(system, times, block=max(1, min(BLOCK, BAND_BYTES // (8 * n))))
    windows = [(k, min(k + WINDOW, len(times))) for k in range(0, len(times), WINDOW)]
    groups = [g for g in np.array_split(np.arange(len(windows)), max(1, processes)) if g.size]
    tasks = [[windows[i] for i in g] for g in groups]
    if len(tasks) > 1:
        # fork: the workers inherit the stream (its modes and inputs) instead of a pickled copy.
        with ProcessPoolExecutor(
            len(tasks),
            mp_context=multiprocessing.get_context("fork"),
            initializer=_adopt,
            initargs=(stream,),
        ) as pool:
            parts = list(pool.map(_solve_windows, tasks))
    else:
        parts = [_solve_windows(tasks[0], stream)]
    cmax, tmax = np.full(n, -np.inf), np.zeros(n)
    for _, part_cmax, part_tmax, _ in parts:  # in time order: the earliest maximum wins a tie
        higher = part_cmax > cmax
        cmax[higher], tmax[higher] = part_cmax[higher], part_tmax[higher]
    bands = np.concatenate([part[0] for part in parts], axis=1)
    notes = () if var is None or var.assumption is None else (var.assumption,)
    return Population(times, weights, cmax, tmax, parts[0][3] / 60.0, None, notes, bands)


_ADOPTED: list[Stream] = []  # the stream a worker process inherited at its start


def _adopt(stream: Stream) -> None:
    _ADOPTED[:] = [stream]


def _solve_windows(
    windows: Sequence[tuple[int, int]], stream: Stream | None = None
) -> tuple[Array, Array, Array, Array]:
    """Bands, Cmax and Tmax over consecutive ``windows`` of the grid, and the AUC."""
    whole = stream if stream is not None else _ADOPTED[0]
    n, times = whole.system.output.shape[0], whole.times
    start = windows[0][0]
    bands = np.empty((len(PERCENTILES), windows[-1][1] - start))
    cmax, tmax = np.full(n, -np.inf), np.zeros(n)
    select = _Selection(n, PERCENTILES)
    auc = whole.auc
    for low, high in windows:
        part = whole.limited(low, high)
        for first, block in part:
            # The exact solution is never negative; below 0 is rounding (about 1e-13 of Cmax).
            np.maximum(block, 0.0, out=block)
            _peaks(block, times[first:], cmax, tmax)
            bands[:, first - start : first - start + len(block)] = select(block)
        auc = part.auc
    return bands, cmax, tmax, auc


class _Selection:
    """Percentiles across the columns of a block, by numpy's default (linear) definition:
    rank ``q / 100 * (n - 1)``, interpolated between the two order statistics around it."""

    def __init__(self, n: int, percentiles: Sequence[float]) -> None:
        ranks = np.array(percentiles) / 100 * (n - 1)
        below = np.floor(ranks).astype(np.intp)
        above = np.minimum(below + 1, n - 1)
        self.kth = np.unique(np.concatenate([below, above]))
        self.below = np.searchsorted(self.kth, below)
        self.above = np.searchsorted(self.kth, above)
        self.fraction = ranks - below

    def __call__(self, block: Array) -> Array:
        # Non-negative single-precision floats sort as their bit patterns do, as integers.
        keys = block.astype(np.float32).view(np.int32)
        keys.partition(self.kth, axis=1)
        chosen = keys[:, self.kth].view(np.float32).astype(np.float64)
        low, high = chosen[:, self.below], chosen[:, self.above]
        values: Array = (low + (high - low) * self.fraction).T + 0.0  # + 0.0: never -0.0
        return values
