"""Titration reviews: the rules' suggestion after a session, and the prescriber's decision.

The session's tolerability is entered here until supervised sessions record it themselves; the
primary instrument's change comes from the measures."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical import dosing, titration
from ketacare.measures import selectors as measures
from ketacare.plans import services
from ketacare.plans.models import PlanStatus, SessionStatus, TitrationReview, TreatmentPlan


def _primary_change(plan: TreatmentPlan) -> tuple[int, int]:
    series = next(
        (s for s in measures.series(plan.patient) if s.instrument.id == plan.primary_instrument),
        None,
    )
    if series is None or series.baseline is None or series.latest is None:
        raise ValidationError(
            {
                "session_number": (
                    f"Record a complete baseline and a current {plan.primary_instrument} first."
                )
            }
        )
    # Series.baseline and .latest are drawn from complete responses, which always have a total.
    return int(series.baseline.score.total or 0), int(series.latest.score.total or 0)


def _ladder(plan: TreatmentPlan, dose: Decimal) -> tuple[list[Decimal], int, Decimal]:
    protocol = services.protocol_for(plan.protocol_id)
    steps = [s.value for s in protocol.dose_steps]
    caps = services.clinic_caps()
    cap = (
        max(caps.esketamine_doses_mg)
        if plan.route == "esketamine"
        else caps.max_mg_per_kg[dosing.Route(plan.route)]
    )
    index = max((i for i, s in enumerate(steps) if s <= dose), default=0)
    return steps, index, cap


@transaction.atomic
def review(
    actor: Actor,
    plan: TreatmentPlan,
    session_number: int,
    *,
    adverse_events: Sequence[str],
    cadss_total: int | None,
    peak_systolic: int | None,
    peak_diastolic: int | None,
) -> TitrationReview:
    """The suggestion after ``session_number``, from this and the earlier reviews."""
    if plan.status != PlanStatus.SIGNED:
        raise ValidationError({"session_number": "Only a signed plan is titrated."})
    session = plan.sessions.filter(number=session_number, status=SessionStatus.PLANNED).first()
    if session is None:
        raise ValidationError({"session_number": f"Session {session_number} is not planned."})
    baseline, current = _primary_change(plan)
    try:
        outcome = titration.SessionOutcome(
            session_number,
            baseline,
            current,
            tuple(adverse_events),
            cadss_total,
            peak_systolic,
            peak_diastolic,
        )
    except ValueError as exc:
        raise ValidationError({"session_number": str(exc)}) from exc
    history = [
        titration.SessionOutcome(**r.outcome)
        for r in plan.reviews.order_by("session_number")
        if r.session_number < session_number
    ]
    steps, index, cap = _ladder(plan, session.dose)
    suggestion = titration.suggest([*history, outcome], index, steps, cap)
    row = TitrationReview.objects.create(
        plan=plan,
        session_number=session_number,
        outcome={
            "session_number": session_number,
            "primary_baseline": baseline,
            "primary_current": current,
            "adverse_events": list(adverse_events),
            "cadss_total": cadss_total,
            "peak_systolic": peak_systolic,
            "peak_diastolic": peak_diastolic,
        },
        suggestion={
            "action": str(suggestion.action),
            "reasons": list(suggestion.reasons),
            "proposed_dose": str(suggestion.proposed_dose)
            if suggestion.proposed_dose is not None
            else None,
            "current_dose": str(session.dose),
            "unit": session.unit,
        },
    )
    record(
        actor,
        Action.CREATE,
        row,
        patient=plan.patient,
        new={"session_number": session_number, "suggestion": row.suggestion},
    )
    return row


@transaction.atomic
def decide(
    actor: Actor, review_row: TitrationReview, accept: bool, note: str = ""
) -> TitrationReview:
    """The prescriber accepts or rejects. Accepting a dose change makes a new draft version of
    the plan, with the later sessions at the new dose, to be signed like any change."""
    row = TitrationReview.objects.select_for_update().get(pk=review_row.pk)
    require(actor, Perm.PLAN_SIGN, "note", "Only a prescriber decides on titration.")
    if row.decision:
        raise ValidationError({"note": f"Already {row.decision}."})
    if not accept and len(note.strip()) < 10:
        raise ValidationError(
            {"note": "Say why the suggestion is rejected (at least 10 characters)."}
        )
    row.decision, row.note = ("accepted" if accept else "rejected"), note.strip()
    row.decided_by, row.decided_at = actor.user, timezone.now()
    proposed = row.suggestion["proposed_dose"]
    if accept and row.suggestion["action"] in ("increase", "decrease") and proposed is not None:
        row.resulting_plan = _new_version_at(actor, row, Decimal(proposed))
    row.save()
    record(
        actor,
        Action.UPDATE,
        row,
        patient=row.plan.patient,
        old={"decision": ""},
        new={
            "decision": row.decision,
            "note": row.note,
            "resulting_plan": row.resulting_plan.pk if row.resulting_plan else None,
        },
    )
    return row


def _new_version_at(actor: Actor, row: TitrationReview, dose: Decimal) -> TreatmentPlan:
    plan = row.plan
    request = services.PlanRequest(
        plan.protocol_id,
        plan.start_on,
        plan.start_time,
        plan.chair,
        plan.basis,
        plan.primary_instrument,
        plan.weekdays,
    )
    reason = (
        f"Titration after session {row.session_number}: {row.suggestion['action']} to "
        f"{dose} {row.suggestion['unit']} ({'; '.join(row.suggestion['reasons'])})"
    )
    new = services.revise_plan(actor, plan, request, reason, held_through=row.session_number)
    dose_mg = services.dose_mg(new, dose)  # through the dose arithmetic and its caps
    for session in new.sessions.filter(number__gt=row.session_number).order_by("number"):
        old = {"dose": session.dose, "dose_mg": session.dose_mg}
        if old == {"dose": dose, "dose_mg": dose_mg}:
            continue
        session.dose, session.dose_mg = dose, dose_mg
        session.save(update_fields=["dose", "dose_mg"])
        record(
            actor,
            Action.UPDATE,
            session,
            patient=new.patient,
            old=old,
            new={"dose": dose, "dose_mg": dose_mg, "titration_review": row.pk},
        )
    return new
