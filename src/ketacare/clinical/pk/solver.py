"""Exact solution of linear compartment systems on a uniform time grid, for many subjects at once.

Between dose events the inputs are constant (boluses at event times, zero-order infusions
on or off; first-order absorption is a depot compartment in ``A``), so the solution is exact:

    x(t) = e^{A tau} (x_s - x*) + x*,   x* = -A^{-1} b,   tau = t - s

**Modal path** (every well-conditioned subject): ``A = V diag(lambda) V^-1`` (compartmental
matrices have real, negative eigenvalues), so the concentration in a segment is
``q + sum_i p_i e^{lambda_i tau}``; on the grid ``e^{lambda_i tau}`` advances by one
multiplication per step, and the AUC over the segment is exact:
``q L + sum_i p_i (e^{lambda_i L} - 1) / lambda_i``.

**Matrix-exponential path** (subjects whose eigenvectors are ill-conditioned, as when two rate
constants coincide, and any with complex or non-negative eigenvalues): Van Loan's augmented
matrix ``[[A, b, 0], [0, 0, 0], [w, 0, 0]]`` carries the constant input and the AUC integral, and
``scipy.linalg.expm`` propagates it from event to grid point to grid point.

Concentrations are right-continuous: a bolus at a grid time is in that time's value.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from ketacare.clinical.pk.system import Array, Dose, System

# Beyond this eigenvector conditioning the modal coefficients lose more than about 1e-10 of
# their relative accuracy; such subjects (near-coincident rate constants) take the expm path.
CONDITION_LIMIT = 1e6
# Grid times evaluated per block: large enough to amortise numpy's per-call overhead on the
# block-wide steps, small enough (64 x chunk x 8 bytes) to stay in cache-friendly memory.
BLOCK = 64


@dataclass(frozen=True)
class Segment:
    """Constant inputs over ``[start, end)``: ``bolus`` (n, S) mg at ``start``, ``rate`` (n, S)
    mg/min; the grid indices ``first`` to ``stop - 1`` fall inside."""

    start: float
    end: float
    bolus: Array
    rate: Array
    first: int
    stop: int


@dataclass(frozen=True)
class Solution:
    """``conc`` (times, subjects) in ng/mL and exact ``auc`` (subjects,) in ng*min/mL."""

    conc: Array
    auc: Array


def grid(step_min: float, count: int) -> Array:
    if not step_min > 0 or count < 1:
        raise ValueError("a time grid needs a positive step and at least one time")
    times: Array = np.arange(count, dtype=np.float64) * np.float64(step_min)
    return times


def segments(system: System, times: Array) -> list[Segment]:
    """The piecewise-constant input segments covering ``[0, times[-1]]``; doses from the last
    time on are outside the window and ignored."""
    horizon = float(times[-1])
    edges = {0.0, horizon}
    for d in system.doses:
        edges.update(t for t in (d.time, d.time + d.duration) if t < horizon)
    bounds = sorted(edges) if horizon > 0 else [0.0, 0.0]
    starts = np.searchsorted(times, bounds, side="left")
    starts[-1] = len(times)
    n, size = system.output.shape
    out = []
    for j, (start, end) in enumerate(itertools.pairwise(bounds)):
        bolus, rate = np.zeros((n, size)), np.zeros((n, size))
        for d in system.doses:
            _add(d, start, bolus, rate)
        out.append(Segment(start, end, bolus, rate, int(starts[j]), int(starts[j + 1])))
    return out


def _add(d: Dose, start: float, bolus: Array, rate: Array) -> None:
    if d.duration == 0 and d.time == start:
        bolus[:, d.compartment] += d.amount
    elif d.duration > 0 and d.time <= start < d.time + d.duration:
        rate[:, d.compartment] += d.amount / d.duration


def solve(system: System, times: Array) -> Solution:
    """Concentrations at ``times`` (a uniform grid from 0) and the AUC to the last time."""
    stream = Stream(system, times)
    conc = np.empty((len(times), system.output.shape[0]))
    for first, block in stream:
        # The exact solution is never negative; below 0 is rounding (about 1e-13 of Cmax).
        np.maximum(block, 0.0, out=conc[first : first + len(block)])
    return Solution(conc, stream.auc)


class Stream:
    """Iterate ``(k, block)``: the concentrations at ``times[k : k + len(block)]`` (rows) for
    every subject (columns), without storing the whole matrix. The block's memory is reused for
    the next one; ``auc`` is complete once the iteration ends.

    ``window`` limits the iteration to the grid indices ``[start, stop)``; each segment's state
    is advanced in closed form to where the window enters it, so windows can be solved apart
    (in other processes) from the same stream."""

    def __init__(self, system: System, times: Array, block: int = BLOCK) -> None:
        self.system, self.times, self.block = system, times, block
        self.segments = segments(system, times)
        self.lam, self.vec, self.inv, self.fallback = modes(system.a)
        self.auc = np.zeros(system.output.shape[0])
        self.window = (0, len(times))

    def limited(self, start: int, stop: int) -> Stream:
        """This stream restricted to the grid indices ``[start, stop)``."""
        if not 0 <= start <= stop <= len(self.times):
            raise ValueError(f"window {start}-{stop} is outside the {len(self.times)} times")
        part = copy.copy(self)
        part.auc = np.zeros_like(self.auc)
        part.window = (start, stop)
        return part

    def __iter__(self) -> Iterator[tuple[int, Array]]:
        picked = np.flatnonzero(self.fallback)
        exact = _expm_path(self.system, self.segments, self.times, picked) if picked.size else None
        low, high = self.window
        step = float(self.times[1] - self.times[0]) if len(self.times) > 1 else 0.0
        ratio = np.exp(self.lam.T * step)
        weights = np.einsum("ns,nsi->ni", self.system.output, self.vec)
        y, buffer = np.zeros_like(self.lam), np.empty((self.block, self.lam.shape[0]))
        for seg in self.segments:
            y = y + np.einsum("nij,nj->ni", self.inv, seg.bolus)
            steady = -np.einsum("nij,nj->ni", self.inv, seg.rate) / self.lam
            p, q = weights * (y - steady), (weights * steady).sum(axis=1)
            length = seg.end - seg.start
            self.auc += q * length + (p * np.expm1(self.lam * length) / self.lam).sum(axis=1)
            # terms[i] = p_i e^{lambda_i tau}, advanced by one multiplication per grid step.
            begin, end = max(seg.first, low), min(seg.stop, high)
            offset = self.times[min(begin, len(self.times) - 1)] - seg.start
            terms = np.ascontiguousarray(p.T) * np.exp(self.lam.T * offset)
            for first in range(begin, end, self.block):
                rows = buffer[: min(self.block, end - first)]
                for row in rows:
                    # The hot loop: two passes over (S, n) per grid time, no allocation.
                    np.sum(terms, axis=0, out=row)
                    terms *= ratio
                rows += q
                if exact is not None:
                    rows[:, picked] = exact.conc[first : first + len(rows)]
                yield first, rows
            y = np.exp(self.lam * length) * (y - steady) + steady
        if exact is not None:
            self.auc[picked] = exact.auc


def modes(a: Array) -> tuple[Array, Array, Array, Array]:
    """Eigenvalues (n, S), eigenvectors, their inverses, and which subjects need the expm path
    (their modal data are replaced by harmless stand-ins)."""
    lam, vec = np.linalg.eig(a)
    bad = np.any(np.abs(lam.imag) > 0, axis=1) | np.any(lam.real >= 0, axis=1)
    lam, vec = lam.real, vec.real
    # Columns come normalised, so a determinant near 0 means nearly parallel eigenvectors.
    bad |= np.abs(np.linalg.det(vec)) < 1 / CONDITION_LIMIT
    eye = np.eye(a.shape[-1])
    vec[bad], lam[bad] = eye, -1.0
    inv = np.linalg.inv(vec)
    cond = np.abs(vec).sum(axis=1).max(axis=1) * np.abs(inv).sum(axis=1).max(axis=1)
    late = cond > CONDITION_LIMIT
    vec[late], inv[late], lam[late] = eye, eye, -1.0
    return lam, vec, inv, bad | late


def _expm_path(
    system: System, segs: Sequence[Segment], times: Array, picked: NDArray[np.intp]
) -> Solution:
    """The exact solution by augmented matrix exponentials, for the ``picked`` subjects."""
    m, size = picked.size, system.a.shape[1]
    aug = np.zeros((m, size + 2, size + 2))
    aug[:, :size, :size] = system.a[picked]
    aug[:, size + 1, :size] = system.output[picked]
    state = np.zeros((m, size + 2))
    state[:, size] = 1.0
    conc = np.empty((len(times), m))
    for seg in segs:
        aug[:, :size, size] = seg.rate[picked]
        state[:, :size] += seg.bolus[picked]
        propagators: dict[float, Array] = {}
        at = seg.start
        for k in range(seg.first, seg.stop):
            state = _propagate(aug, state, float(times[k]) - at, propagators)
            conc[k] = np.einsum("ns,ns->n", system.output[picked], state[:, :size])
            at = float(times[k])
        state = _propagate(aug, state, seg.end - at, propagators)
    return Solution(conc, state[:, size + 1])


def _propagate(aug: Array, state: Array, tau: float, cache: dict[float, Array]) -> Array:
    if tau not in cache:
        cache[tau] = scipy.linalg.expm(aug * tau)
    moved: Array = np.einsum("nij,nj->ni", cache[tau], state)
    return moved
