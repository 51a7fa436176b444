"""Writes and audited reads of the esketamine REMS monitoring form: the two answers the record
cannot give, signing (refused while a required field is missing; the values are frozen), and
opening the form or the list of forms due, each audited."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical.session import state_label
from ketacare.supervised.models import (
    RemsForm,
    Session,
)
from ketacare.supervised.rems_form import FORM_VERSION, Due, Form, build, due_forms, form_of
from ketacare.supervised.rems_values import (
    ENDED,
)

# Writes --------------------------------------------------------------------------------------


def _clinician(actor: Actor) -> User:
    return require(
        actor, Perm.SESSION_RUN, "signed_by", "Only a nurse or prescriber may complete the form."
    )


def _open(session: Session) -> tuple[Session, RemsForm]:
    """Lock the session and its form (made on first use); refuse what cannot be completed."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    if not session.is_esketamine:
        raise ValidationError({"session": "Only an esketamine session has a REMS form."})
    if session.state not in ENDED:
        now = state_label(session.state)
        raise ValidationError(
            {"session": f"Complete the form once the session has ended (now {now})."}
        )
    row, _ = RemsForm.objects.select_for_update().get_or_create(session=session)
    if row.signed_at is not None:
        raise ValidationError(
            {"signed_at": f"Already signed by {row.signed_by} on {row.signed_at:%Y-%m-%d %H:%M}."}
        )
    return session, row


@transaction.atomic
def update_rems_inputs(
    actor: Actor,
    session: Session,
    *,
    patient_enrolled: bool | None,
    ready_to_leave_minutes: int | None,
) -> RemsForm:
    """Record the answers the record cannot give: REMS enrolment and the evaluation question,
    in minutes from the start of administration (at most the session's total duration)."""
    _clinician(actor)
    session, row = _open(session)
    total = int(build(session, row).value("total_minutes") or 0)
    if ready_to_leave_minutes is not None and not 0 < ready_to_leave_minutes <= total:
        raise ValidationError(
            {"ready_to_leave_minutes": f"Give minutes from the start of dosing, 1 to {total}."}
        )
    old = {
        "patient_enrolled": row.patient_enrolled,
        "ready_to_leave_minutes": row.ready_to_leave_minutes,
    }
    row.patient_enrolled, row.ready_to_leave_minutes = patient_enrolled, ready_to_leave_minutes
    row.save()
    new = {"patient_enrolled": patient_enrolled, "ready_to_leave_minutes": ready_to_leave_minutes}
    record(actor, Action.UPDATE, row, patient=session.patient, old=old, new=new)
    return row


@transaction.atomic
def sign_rems_form(actor: Actor, session: Session) -> RemsForm:
    """Sign when every required field is present, else refuse naming the missing ones; the
    values are frozen into ``data``."""
    user = _clinician(actor)
    session, row = _open(session)
    form = build(session, row)
    if form.missing:
        raise ValidationError({"data": [f"Missing: {name}." for name in form.missing]})
    row.data = {
        "version": FORM_VERSION,
        "treatment_date": form.value("treatment_date"),
        "sections": [asdict(s) for s in form.sections],
    }
    row.signed_by, row.signed_at = user, timezone.now()
    row.save()
    record(
        actor, Action.UPDATE, row, patient=session.patient, new={"signed": True, "data": row.data}
    )
    return row


# Reads that reveal patients, audited ---------------------------------------------------------


@transaction.atomic
def open_form(actor: Actor, session: Session, fmt: str = "html") -> Form:
    """The form of an esketamine session (``ValueError`` for another), its reading audited."""
    if not session.is_esketamine:
        raise ValueError("only an esketamine session has a REMS form")
    form = form_of(session)
    record(actor, Action.VIEW, session, patient=session.patient, new={"rems_form": fmt})
    return form


@transaction.atomic
def open_due_list(actor: Actor, today: date) -> list[Due]:
    due = due_forms(today)
    record(
        actor,
        Action.VIEW,
        entity_type="rems_due",
        new={"patients": [d.session.patient.mrn for d in due]},
    )
    return due
