"""An independent reference: each model's equations written out by hand from the published
parameters (not read from ketacare's catalogue), integrated with scipy's LSODA at a tight
tolerance, piecewise between dose events so that no discontinuity is stepped over."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

Array = NDArray[np.float64]
Rhs = Callable[[Array, Array], Array]  # (x, input rates) -> dx/dt, per minute


@dataclass(frozen=True)
class Event:
    time: float
    compartment: int
    amount: float
    duration: float = 0.0


def integrate(rhs: Rhs, size: int, events: Sequence[Event], times: Array) -> Array:
    """States at ``times`` (times, size), right-continuous at boluses."""
    edges = sorted(
        {0.0, float(times[-1])}
        | {e.time for e in events}
        | {e.time + e.duration for e in events if e.duration > 0}
    )
    edges = [t for t in edges if t <= times[-1]]
    x = np.zeros(size)
    out = np.zeros((len(times), size))
    for start, end in zip(edges, [*edges[1:], None], strict=True):
        for e in events:
            if e.duration == 0 and e.time == start:
                x[e.compartment] += e.amount
        rate = np.zeros(size)
        for e in events:
            if e.duration > 0 and e.time <= start < e.time + e.duration:
                rate[e.compartment] += e.amount / e.duration
        inside = (times >= start) & ((times < end) if end is not None else (times <= start))
        if end is None:
            out[inside] = x
            break
        sol = solve_ivp(
            lambda _t, y, r=rate: rhs(y, r),
            (start, end),
            x,
            method="LSODA",
            t_eval=np.append(times[inside], end),
            rtol=1e-11,
            atol=1e-13,
        )
        out[inside] = sol.y[:, :-1].T
        x = sol.y[:, -1].copy()
    return out


def domino(weight_kg: float) -> tuple[Rhs, float]:
    """Domino 3-compartment micro-constants (per min) and V1 (L); opentiva's transcription."""
    k10, k12, k13, k21, k31 = 0.4381, 0.5921, 0.5900, 0.2470, 0.0146

    def rhs(x: Array, r: Array) -> Array:
        c, p1, p2 = x
        return np.array(
            [
                r[0] - (k10 + k12 + k13) * c + k21 * p1 + k31 * p2,
                k12 * c - k21 * p1,
                k13 * c - k31 * p2,
            ]
        )

    return rhs, 0.063 * weight_kg


def herd_im(weight_kg: float) -> tuple[Rhs, float]:
    """Herd 2007 (L, L/h at 70 kg, allometric) with an IM depot (ka 0.03 /min): x = depot, c, p."""
    s = weight_kg / 70
    v1, v2, cl, q = 38.7 * s, 102 * s, 90 / 60 * s**0.75, 215 / 60 * s**0.75
    ka = 0.03

    def rhs(x: Array, r: Array) -> Array:
        d, c, p = x
        return np.array(
            [
                r[0] - ka * d,
                ka * d - (cl + q) / v1 * c + q / v2 * p,
                q / v1 * c - q / v2 * p,
            ]
        )

    return rhs, v1


def perez_ruixo() -> tuple[Rhs, float, float]:
    """Perez-Ruixo 2021 in hours, rewritten per minute: x = nasal, swallowed, central, p1, p2,
    liver, noresketamine, noresketamine peripheral. Returns the rhs, Vc and Vcn."""
    h = 1 / 60
    ka_n, ka_sw = 2.93 * h, 1.45 * h
    vc, q1, vp1, q2, vp2, qh, vh = 192, 84.3 * h, 143, 37.6 * h, 417, 151 * h, 101
    kel, kmet = 1.11 * h, 2.77 * h
    vcn, cln, vpn, q3 = 70, 38 * h, 115, 26.1 * h

    def rhs(x: Array, r: Array) -> Array:
        n, sw, c, p1, p2, lv, m, mp = x
        return np.array(
            [
                r[0] - ka_n * n,
                r[1] - ka_sw * sw,
                ka_n * n - (q1 + q2 + qh) / vc * c + q1 / vp1 * p1 + q2 / vp2 * p2 + qh / vh * lv,
                q1 / vc * c - q1 / vp1 * p1,
                q2 / vc * c - q2 / vp2 * p2,
                ka_sw * sw + qh / vc * c - (qh / vh + kel + kmet) * lv,
                kmet * lv - (cln + q3) / vcn * m + q3 / vpn * mp,
                q3 / vcn * m - q3 / vpn * mp,
            ]
        )

    return rhs, vc, vcn


def esketamine_events(devices: int, interval_min: float) -> list[Event]:
    """28-mg devices: FRn 0.54 (x0.62 after the first) to the nasal depot, the rest x Fgut 0.64
    swallowed over Dsw 0.53 h."""
    events = []
    for i in range(devices):
        frn = 0.54 * (0.62 if i else 1.0)
        events.append(Event(i * interval_min, 0, 28 * frn))
        events.append(Event(i * interval_min, 1, 28 * (1 - frn) * 0.64, 0.53 * 60))
    return events


def simons_sublingual() -> tuple[Rhs, float]:
    """Simons 2022 S-ketamine at 70 kg (L, L/min) with the film depot: x = depot, c, p1, p2."""
    v1, v2, v3, cl1, cl2, cl3, ka = 11.6, 39.0, 174, 1.48, 2.43, 1.21, 0.04

    def rhs(x: Array, r: Array) -> Array:
        d, c, p1, p2 = x
        return np.array(
            [
                r[0] - ka * d,
                r[1] + ka * d - (cl1 + cl2 + cl3) / v1 * c + cl2 / v2 * p1 + cl3 / v3 * p2,
                cl2 / v1 * c - cl2 / v2 * p1,
                cl3 / v1 * c - cl3 / v3 * p2,
            ]
        )

    return rhs, v1


def fanta_norketamine() -> tuple[Rhs, float]:
    """Fanta 2015 / Otto 2021 at 70 kg in L and L/h: x = c, p1, p2, norketamine, its
    peripheral. Returns the rhs and the norketamine central volume."""
    h = 1 / 60
    v1, cl, vp1, q1, vp2, q2 = 133, 95.2 * h, 187, 23.2 * h, 98.8, 157 * h
    vn, cln, vpn, qn = 98.6, 57.7 * h, 160, 42.8 * h

    def rhs(x: Array, r: Array) -> Array:
        c, p1, p2, n, np_ = x
        return np.array(
            [
                r[0] - (cl + q1 + q2) / v1 * c + q1 / vp1 * p1 + q2 / vp2 * p2,
                q1 / v1 * c - q1 / vp1 * p1,
                q2 / v1 * c - q2 / vp2 * p2,
                cl / v1 * c - (cln + qn) / vn * n + qn / vpn * np_,
                qn / vn * n - qn / vpn * np_,
            ]
        )

    return rhs, vn
