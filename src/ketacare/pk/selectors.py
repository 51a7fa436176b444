from __future__ import annotations

from typing import TYPE_CHECKING

from ketacare.clinical import pk, protocols
from ketacare.pk.charts import PlannedChart, planned_dose_chart

if TYPE_CHECKING:
    from ketacare.plans.models import TreatmentPlan

# The shipped IV template infuses over 40 minutes (iv-racemic.toml); a clinic's own template
# that is not in the library is shown with the same duration, and the chart says so.
DEFAULT_INFUSION_MIN = 40


def plan_chart(plan: TreatmentPlan) -> PlannedChart | None:
    """The predicted curve of the plan's first session that is not cancelled, on the plan's
    dosing weight; ``None`` when there is none or the model cannot take the dose."""
    session = plan.sessions.exclude(status="cancelled").order_by("number").first()
    if session is None:
        return None
    weight = plan.dosing_weight_kg or plan.weight_kg
    try:
        return planned_dose_chart(
            plan.route, float(session.dose_mg), float(weight), _infusion_minutes(plan)
        )
    except pk.InvalidRegimen:
        return None


def _infusion_minutes(plan: TreatmentPlan) -> float | None:
    if plan.route != "iv":
        return None
    try:
        duration = protocols.get(plan.protocol_id).duration_minutes
    except protocols.UnknownProtocol:
        return DEFAULT_INFUSION_MIN
    return float(duration.value) if duration is not None else DEFAULT_INFUSION_MIN
