"""When a scored response is a safety risk: the one rule behind the safety alerts and the
session gate's suicide-risk check.

A response is a safety risk when its instrument's data raise a suicide-risk flag on it
(:class:`~ketacare.measures.models.AlertFlag`: PHQ-9 item 9 endorsed is ``suicidal_ideation``; a
moderate or high C-SSRS screen triage is ``suicide_risk``). The cut-offs are the instruments'
cited data; this module only names which of their flags call for a clinician.
"""

from __future__ import annotations

from ketacare.clinical import instruments
from ketacare.measures.models import AlertFlag


def safety_flags(score: instruments.Score) -> list[AlertFlag]:
    """The flags on ``score`` that call for a safety alert, in :class:`AlertFlag`'s order."""
    return [flag for flag in AlertFlag if flag in score.flags]


def is_safety_risk(score: instruments.Score) -> bool:
    return bool(safety_flags(score))
