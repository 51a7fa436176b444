"""Audited reads of the outcome documents: opening a patient's progress report or the letter to
their referring clinician, as a page or a PDF, writes a VIEW naming the patient, the document
and the format, in the transaction that reads the data. The research export (:func:`export`)
writes one EXPORT event per file made, and :func:`record_agreement` records the data-use
agreements a limited data set is released under."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record, snapshot
from ketacare.clinical.deidentify import Mode
from ketacare.outcomes import export_formats
from ketacare.outcomes.export import build
from ketacare.outcomes.export_formats import Format as ExportFormat
from ketacare.outcomes.letters import Letter
from ketacare.outcomes.models import STUDY_NAME, DataUseAgreement, StudyKey
from ketacare.outcomes.reports import ProgressReport, progress_report
from ketacare.patients.models import Patient


class Document(StrEnum):
    PROGRESS_REPORT = "progress_report"
    REFERRAL_LETTER = "referral_letter"


class Format(StrEnum):
    HTML = "html"
    PDF = "pdf"


class NoReferringClinician(Exception):
    """A letter is addressed to the referring clinician, and none is recorded."""

    message = (
        "Record the referring clinician on the patient's registration before printing a letter."
    )


@transaction.atomic
def open_report(actor: Actor, patient: Patient, fmt: Format) -> ProgressReport:
    report = progress_report(patient, actor.user)
    _audit(actor, patient, Document.PROGRESS_REPORT, fmt)
    return report


@transaction.atomic
def open_letter(actor: Actor, patient: Patient, fmt: Format) -> Letter:
    """The letter; as a PDF only once a referring clinician is recorded (else
    :class:`NoReferringClinician`, and nothing is read or audited)."""
    if fmt == Format.PDF and not patient.has_referrer:
        raise NoReferringClinician(NoReferringClinician.message)
    letter = Letter(progress_report(patient, actor.user), signed_by=actor.user)
    # Whom it is addressed to: a letter is a disclosure once sent.
    _audit(actor, patient, Document.REFERRAL_LETTER, fmt, addressed_to=patient.referrer_name)
    return letter


def _audit(actor: Actor, patient: Patient, document: Document, fmt: Format, **more: str) -> None:
    new = {"document": document, "format": fmt, **more}
    record(actor, Action.VIEW, patient, patient=patient, new=new)


# The research export, and the data-use agreements a limited data set is released under.

EXPORT_PERMISSION = {
    Mode.DEIDENTIFIED: Perm.RESEARCH_EXPORT,
    Mode.LIMITED: Perm.RESEARCH_EXPORT,
    Mode.IDENTIFIED: Perm.RESEARCH_EXPORT_IDENTIFIED,
}


def export_modes(user: User) -> list[Mode]:
    """The export modes ``user`` may choose."""
    return [m for m in Mode if user.can(EXPORT_PERMISSION[m])]


@transaction.atomic
def export(
    actor: Actor,
    mode: Mode,
    fmt: ExportFormat,
    dua: str | None = None,
    *,
    study: str,
    today: date | None = None,
) -> bytes:
    """Every patient's data as a zip file in ``fmt``, filtered for ``mode``, with one EXPORT
    event (mode, format, study, agreement, row and patient counts, the file's SHA-256; never
    who the patients are) in the same transaction.

    Refused with ``PermissionDenied`` unless the actor holds the mode's permission; with a
    ``ValidationError`` on ``data_use_agreement`` for a limited data set without an agreement in
    force (or for any agreement named that is unknown or not in force), and on ``study`` for a
    study name that is not one. Patients new to the study get a random study id, kept here."""
    permission = EXPORT_PERMISSION[mode]
    if actor.user is None or not actor.user.can(permission):
        raise PermissionDenied(f"The {mode.value} export needs the {permission.value} permission.")
    today = today or timezone.localdate()
    agreement = _agreement(mode, dua, today)
    _check_study(study)
    taken = dict(StudyKey.objects.filter(study=study).values_list("patient_id", "study_id"))
    newcomers = Patient.objects.exclude(pk__in=list(taken)).values_list("pk", flat=True)
    fresh = _random_ids(list(newcomers), set(taken.values()))
    StudyKey.objects.bulk_create(
        [StudyKey(study=study, patient_id=pk, study_id=sid) for pk, sid in fresh.items()],
        ignore_conflicts=True,  # a concurrent export of the same study made them first
    )
    keys = dict(StudyKey.objects.filter(study=study).values_list("patient_id", "study_id"))
    dataset = build(mode, study, keys, today)
    content = export_formats.write(fmt, dataset, _describe(agreement))
    new = {
        "mode": mode,
        "format": fmt,
        "study": study,
        "data_use_agreement": agreement.reference if agreement else None,
        "patients": len(keys),
        "rows": dataset.counts(),
        "new_study_ids": len(fresh),
        "file": export_formats.filename(study, mode, fmt, today),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    record(actor, Action.EXPORT, agreement, entity_type="research_export", new=new)
    return content


def _agreement(mode: Mode, dua: str | None, today: date) -> DataUseAgreement | None:
    reference = (dua or "").strip()
    if not reference:
        if mode is Mode.LIMITED:
            raise _refused(
                "A limited data set is released only under a current data-use agreement: "
                "choose one, or record it first."
            )
        return None
    agreement = DataUseAgreement.objects.filter(reference=reference).first()
    if agreement is None:
        raise _refused(f"No data-use agreement is recorded as {reference!r}.")
    if not agreement.is_current(today):
        raise _refused(
            f"Data-use agreement {reference} holds from {agreement.signed_on} to "
            f"{agreement.expires_on}; today is {today}."
        )
    return agreement


def _refused(message: str) -> ValidationError:
    return ValidationError({"data_use_agreement": message})


def _check_study(study: str) -> None:
    try:
        STUDY_NAME(study)
    except ValidationError as exc:
        raise ValidationError({"study": exc.messages}) from None


def _random_ids(patients: list[int], taken: set[str]) -> dict[int, str]:
    """A fresh random study id for each patient: drawn from the operating system's random
    source, so it carries nothing of the patient (not the MRN, not the database id)."""
    fresh: dict[int, str] = {}
    for pk in patients:
        candidate = secrets.token_hex(5)
        while candidate in taken:  # 1 chance in 2**40 for each id already given
            candidate = secrets.token_hex(5)
        taken.add(candidate)
        fresh[pk] = candidate
    return fresh


def _describe(agreement: DataUseAgreement | None) -> str:
    if agreement is None:
        return ""
    return (
        f"{agreement.reference}, with {agreement.recipient}, for {agreement.purpose}; signed "
        f"{agreement.signed_on}, expires {agreement.expires_on}"
    )


@transaction.atomic
def record_agreement(actor: Actor, data: Mapping[str, Any]) -> DataUseAgreement:
    """Record a signed data-use agreement (administrators only), with its CREATE event."""
    user = require(
        actor,
        Perm.RESEARCH_AGREEMENT,
        "reference",
        "Only an administrator records data-use agreements.",
    )
    agreement = DataUseAgreement(
        recorded_by=user, **{f: data.get(f) for f in DataUseAgreement.AUDITED_FIELDS}
    )
    agreement.full_clean(exclude=["recorded_by"])
    agreement.save()
    record(actor, Action.CREATE, agreement, new=snapshot(agreement, agreement.AUDITED_FIELDS))
    return agreement
