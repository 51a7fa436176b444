"""Every write of eligibility screening, each one transaction with its audit events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import diff, record
from ketacare.clinical import eligibility
from ketacare.lib import versions
from ketacare.patients.models import Patient
from ketacare.screening import selectors
from ketacare.screening.models import Decision, Intake, Screening, case_digest

MIN_JUSTIFICATION = 30  # characters: an override must say why, not just "ok"


@transaction.atomic
def save_intake(
    actor: Actor,
    patient: Patient,
    answers: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> Intake:
    """Merge one step's answers into the intake (saved as you go) and audit what changed. A
    person's step names the intake version it was based on (``expected_version``, 0 before
    the first step); when the saved one is another, nothing is saved and
    :class:`~ketacare.lib.versions.StaleVersion` carries the intake as saved now. ``None``:
    no check (the demo, builders)."""
    # A second first step waits here for the first's row, then finds it made: stale.
    intake, created = Intake.objects.select_for_update().get_or_create(patient=patient)
    versions.check(expected_version, intake, 0 if created else intake.version)
    before = dict(intake.data)
    intake.data = selectors.merged(before, answers)
    old, new = diff(before, intake.data)
    removed = sorted(set(before) - set(intake.data))
    if new or removed:
        if not created:
            intake.version += 1
        intake.save()
        record(
            actor,
            Action.UPDATE,
            intake,
            patient=patient,
            old={**old, **{k: before[k] for k in removed}},
            new=new,
        )
    return intake


@transaction.atomic
def run_screening(actor: Actor, patient: Patient) -> Screening:
    """Evaluate the current rule set on the current case and store both, frozen."""
    case = selectors.case_for(patient)
    try:
        result = eligibility.screen(eligibility.parse_case(case))
    except eligibility.InvalidCase as exc:
        raise ValidationError({exc.field: exc.problem}) from exc
    screening = Screening.objects.create(
        patient=patient,
        case=case,
        case_digest=case_digest(case),
        ruleset_version=result.ruleset_version,
        decision=result.decision,
        findings=[{**f.as_dict(), "rationale": f.rationale} for f in result.findings],
        screened_at=timezone.now(),
        screened_by=actor.user,
    )
    record(
        actor,
        Action.CREATE,
        screening,
        patient=patient,
        new={
            "decision": result.decision,
            "ruleset_version": result.ruleset_version,
            "triggers": [f"{f.level}:{f.trigger}" for f in result.findings],
            "case": case,
        },
    )
    return screening


@transaction.atomic
def sign_screening(actor: Actor, screening: Screening, justification: str = "") -> Screening:
    """The prescriber's sign-off. An exclusion can be signed only as an override with a written
    justification; a stale screening (the case or rules changed) must be run again first."""
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    require(actor, Perm.SCREENING_SIGN, "justification", "Only a prescriber can sign a screening.")
    if screening.signed_at is not None:
        raise ValidationError({"justification": "This screening is already signed."})
    status = selectors.status(screening.patient)
    if status.screening != screening or status.stale:
        raise ValidationError(
            {
                "justification": "The intake or the rules changed since this "
                "screening ran; run it again before signing."
            }
        )
    justification = justification.strip()
    if screening.decision == Decision.INELIGIBLE and len(justification) < MIN_JUSTIFICATION:
        raise ValidationError(
            {
                "justification": (
                    f"An exclusion can only be overridden with a written justification "
                    f"(at least {MIN_JUSTIFICATION} characters)."
                )
            }
        )
    screening.signed_at, screening.signed_by = timezone.now(), actor.user
    screening.override_justification = (
        justification if screening.decision == Decision.INELIGIBLE else ""
    )
    screening.save(update_fields=["signed_at", "signed_by", "override_justification"])
    record(
        actor,
        Action.UPDATE,
        screening,
        patient=screening.patient,
        old={"signed_at": None},
        new={
            "signed_at": screening.signed_at,
            "override_justification": screening.override_justification,
            "decision": screening.decision,
        },
    )
    return screening


# Reads that reveal patients, audited ---------------------------------------------------------


@transaction.atomic
def open_result(actor: Actor, screening: Screening) -> bool:
    """Whether ``screening`` is stale (a later one ran, or the case or the rules changed since);
    the reading of its findings audited."""
    status = selectors.status(screening.patient)
    record(actor, Action.VIEW, screening, patient=screening.patient, new={"page": "result"})
    return status.screening != screening or status.stale
