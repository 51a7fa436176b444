"""Virtual-population throughput of the exact PK solver against per-subject scipy LSODA.

Run: ``.venv/bin/python bench/pk_population.py [--subjects N] [--threads T] [--reference R]``.
Workload: Domino 3-compartment racemic ketamine, 0.5 mg/kg IV over 40 min, 30% CV on V1 and the
rate constants, weight ~ N(75, 15) kg; 24 h at 1 min (1,441 times per subject), float64. The
engine keeps Cmax, Tmax and the exact AUC per subject (memory bounded by the chunk size); the
reference integrates R of the same subjects one at a time with ``solve_ivp`` (LSODA, rtol 1e-8)
and the two are compared. Then ``ketacare pk population --subjects N`` end to end, bands included,
against its targets (under 3 s, under 400 MiB, at least 100x LSODA per subject). Exits 1 if the
solvers disagree by more than 1e-6 of Cmax or the command is not 100x LSODA."""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

from ketacare.clinical import pk
from ketacare.clinical.pk.population import sample_etas, sample_weights, solve_subjects, variability
from ketacare.clinical.pk.solver import grid

REGIMEN = pk.Regimen("iv", dose_mg_per_kg=0.5, infusion_min=40)
TIMES = grid(1.0, 1441)


def subjects(n: int, seed: int = 2026) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    etas = sample_etas(variability(pk.get("domino")), n, rng)
    return sample_weights(75, 15, n, rng), etas


def engine(weights: np.ndarray, etas: dict[str, np.ndarray], threads: int, keep: bool = False):
    model = pk.get("domino")
    return solve_subjects(model, "ketamine", REGIMEN, TIMES, weights, etas, keep, 16384, threads)


def lsoda(weights: np.ndarray, etas: dict[str, np.ndarray]) -> np.ndarray:
    """Cmax of each subject by LSODA, one subject at a time, on the same system matrices."""
    model = pk.get("domino")
    params = pk.individual(model, weights, etas)
    system = pk.build(model, "ketamine", REGIMEN, params, weights)
    cmax = np.empty(len(weights))
    for i in range(len(weights)):
        a, rate = system.a[i], system.doses[0].amount[i] / 40.0
        on = solve_ivp(
            lambda _t, x, a=a, r=rate: a @ x + np.array([r, 0, 0]),
            (0, 40), np.zeros(3), method="LSODA", rtol=1e-8, atol=1e-10, t_eval=TIMES[:41],
        )  # fmt: skip
        off = solve_ivp(
            lambda _t, x, a=a: a @ x,
            (40, 1440), on.y[:, -1], method="LSODA", rtol=1e-8, atol=1e-10, t_eval=TIMES[40:],
        )  # fmt: skip
        cmax[i] = max(on.y[0].max(), off.y[0].max()) * system.output[i, 0]
    return cmax


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--reference", type=int, default=200)
    args = parser.parse_args()
    weights, etas = subjects(args.subjects)
    engine(weights[:1000], {k: v[:1000] for k, v in etas.items()}, args.threads)  # warm up
    start = time.perf_counter()
    result = engine(weights, etas, args.threads)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    engine(weights, etas, args.threads)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    few = slice(0, args.reference)
    start = time.perf_counter()
    reference = lsoda(weights[few], {k: v[few] for k, v in etas.items()})
    ref_seconds = time.perf_counter() - start
    error = float(np.max(np.abs(reference - result.cmax[few]) / reference))
    rate, ref_rate = args.subjects / seconds, args.reference / ref_seconds
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, numpy {np.__version__}")  # fmt: skip
    print(f"{args.subjects:,} subjects x {len(TIMES):,} times, float64, {args.threads} threads")
    print(f"exact solver: {seconds:.2f} s = {rate:,.0f} subjects/s "
          f"({rate * len(TIMES) / 1e6:,.0f} M concentrations/s)")  # fmt: skip
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak traced memory (streamed Cmax/Tmax/AUC): {peak / 2**20:,.0f} MiB; "
          f"process max RSS {rss / 1024:,.0f} MiB")  # fmt: skip
    print(f"scipy solve_ivp LSODA rtol 1e-8, one subject at a time: {args.reference} subjects "
          f"in {ref_seconds:.2f} s = {ref_rate:,.0f} subjects/s")  # fmt: skip
    print(f"ratio: {rate / ref_rate:,.0f}x; max relative Cmax difference {error:.1e}")
    print(f"Cmax median {np.median(result.cmax):.0f} ng/mL, 5-95% "
          f"{np.percentile(result.cmax, 5):.0f}-{np.percentile(result.cmax, 95):.0f}")  # fmt: skip
    cli_seconds, cli_peak = command_line(args.subjects)
    cli_rate = args.subjects / cli_seconds
    print(f"ketacare pk population --subjects {args.subjects:,} end to end (start-up, sampling, "
          f"solve, 5/50/95% bands at all {len(TIMES):,} times, JSON): {cli_seconds:.2f} s "
          f"(target < 3 s idle), peak memory of its processes together "
          f"{cli_peak / 2**20:,.0f} MiB (target < 400 MiB); {cli_rate / ref_rate:,.0f}x "
          f"LSODA (target >= 100x)")  # fmt: skip
    return 0 if error < 1e-6 and cli_rate / ref_rate >= 100 else 1


def command_line(n: int) -> tuple[float, int]:
    """Wall time of the command, and the largest sum of its processes' proportional resident
    memory (PSS: pages the forked workers share with it are counted once; sampled every 10 ms
    from /proc)."""
    ketacare = Path(sys.executable).with_name("ketacare")
    command = [str(ketacare), "pk", "population", "--model", "domino", "--route", "iv",
               "--dose-mg-per-kg", "0.5", "--infusion-min", "40", "--weight-kg", "75",
               "--weight-sd-kg", "15", "--subjects", str(n)]  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
    return seconds, peak


def tree_rss(pid: int) -> int:
    """Proportional resident bytes of ``pid`` and its children (one level: the workers)."""
    total = 0
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        pids = [pid, *map(int, children.read_text().split())]
    except OSError:
        return 0
    for p in pids:
        try:
            status = Path(f"/proc/{p}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
    return total


if __name__ == "__main__":
    sys.exit(main())
