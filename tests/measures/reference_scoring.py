"""An independent implementation of the published scoring rules, written from
../shared/research/instruments.md and the issue, without reading ketacare's data files or engine.
Used only to cross-check ``ketacare score --batch``."""

from __future__ import annotations

from typing import Any

ITEMS = {
    "gad7": (7, 3),
    "phq9": (9, 3),
    "pcl5": (20, 4),
    "oasis": (5, 4),
    "hama": (14, 4),
    "cssrs-screen": (7, 1),
    "cadss": (23, 4),
    "moaas": (1, 5),
    "spin": (17, 4),
    "minispin": (3, 4),
    "pdss-sr": (7, 4),
    "ybocs": (10, 4),
    "ocir": (18, 4),
    "wsas": (5, 8),
}

BANDS = {  # (upper bound inclusive, label), ascending
    "gad7": [(4, "minimal"), (9, "mild"), (14, "moderate"), (21, "severe")],
    "phq9": [
        (4, "minimal"),
        (9, "mild"),
        (14, "moderate"),
        (19, "moderately_severe"),
        (27, "severe"),
    ],
    "pdss-sr": [
        (1, "normal"),
        (5, "borderline"),
        (9, "slightly_ill"),
        (13, "moderately_ill"),
        (28, "markedly_ill"),
    ],
    "ybocs": [(7, "subclinical"), (15, "mild"), (23, "moderate"), (31, "severe"), (40, "extreme")],
    "hama": [(7, "none"), (14, "mild"), (23, "moderate"), (56, "severe")],
    # Mundt 2002: <10 subclinical; 10-20 significant impairment; >20 moderately severe or worse.
    "wsas": [(9, "subclinical"), (20, "significant_impairment"), (40, "moderately_severe")],
}
SUBSCALES = {
    "pcl5": {"B": range(1, 6), "C": range(6, 8), "D": range(8, 15), "E": range(15, 21)},
    "ybocs": {"obsessions": range(1, 6), "compulsions": range(6, 11)},
    "ocir": {
        "washing": (5, 11, 17),
        "obsessing": (6, 12, 18),
        "hoarding": (1, 7, 13),
        "ordering": (3, 9, 15),
        "checking": (2, 8, 14),
        "neutralizing": (4, 10, 16),
    },
}
SCREEN = {"gad7": 10, "oasis": 8, "minispin": 6, "spin": 19, "ocir": 21, "pdss-sr": 8}


def _invalid(instrument: str, answers: Any) -> str | None:
    if instrument not in ITEMS:
        return "unknown instrument"
    n, top = ITEMS[instrument]
    if not isinstance(answers, list) or len(answers) != n:
        return "wrong count"
    for a in answers:
        if a is not None and (type(a) is not int or not 0 <= a <= top):
            return "bad value"
    return None


def _cssrs(a: list[int | None]) -> tuple[bool, str | None]:
    q = dict(enumerate(a, start=1))
    complete = q[1] is not None and q[2] is not None and q[6] is not None
    complete = complete and (q[2] != 1 or all(q[i] is not None for i in (3, 4, 5)))
    complete = complete and (q[6] != 1 or q[7] is not None)
    if all(v is None for v in a):
        return complete, None
    risk = "none"
    if q[1] == 1 or q[2] == 1:
        risk = "low"
    if q[3] == 1 or (q[6] == 1 and q[7] == 0):
        risk = "moderate"
    if q[4] == 1 or q[5] == 1 or (q[6] == 1 and q[7] != 0):
        risk = "high"
    return complete, risk


def reference_score(instrument: str, answers: Any) -> dict[str, Any] | None:
    """The expected result, or None when the input must be refused."""
    if _invalid(instrument, answers):
        return None
    out: dict[str, Any] = {
        "instrument": instrument,
        "total": None,
        "severity": None,
        "subscales": {},
        "provisional_diagnosis": None,
        "risk": None,
    }
    flags: set[str] = set()
    if instrument == "cssrs-screen":
        out["complete"], out["risk"] = _cssrs(answers)
        if out["risk"] in ("moderate", "high"):
            flags.add("suicide_risk")
        out["flags"] = sorted(flags)
        return out
    complete = all(a is not None for a in answers)
    out["complete"] = complete
    item = dict(enumerate(answers, start=1))
    for name, members in SUBSCALES.get(instrument, {}).items():
        if all(item[i] is not None for i in members):
            out["subscales"][name] = sum(item[i] for i in members)
    if instrument == "phq9" and item[9] is not None and item[9] >= 1:
        flags.add("suicidal_ideation")
    if instrument == "ocir" and out["subscales"].get("hoarding", -1) >= 6:
        flags.add("hoarding")
    if complete:
        total = sum(answers)
        out["total"] = total
        out["severity"] = next(
            (label for top, label in BANDS.get(instrument, []) if total <= top), None
        )
        if instrument in SCREEN and total >= SCREEN[instrument]:
            flags.add("screen_positive")
        if instrument == "pcl5":
            if total >= 33:
                flags.add("probable_ptsd")
            endorsed = {c: sum(1 for i in r if item[i] >= 2) for c, r in SUBSCALES["pcl5"].items()}
            out["provisional_diagnosis"] = (
                endorsed["B"] >= 1
                and endorsed["C"] >= 1
                and endorsed["D"] >= 2
                and endorsed["E"] >= 2
            )
        if instrument == "cadss" and total > 4:
            flags.add("dissociation")
        if instrument == "moaas" and total <= 3:
            flags.add("sedation")
    out["flags"] = sorted(flags)
    return out
