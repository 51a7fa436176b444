"""Taking in records from another system: Patients (matched on their MRN identifier, else
registered), their chart entries (ICD-10-CM Conditions, MedicationRequests, AllergyIntolerances,
body weight and height) and QuestionnaireResponses of the instruments ketacare knows, stored
through the patients and measures services (which score and audit them) with the other system
recorded as the response's source.

Each entry succeeds or fails alone, in a savepoint: a failed entry saves nothing and is reported
with an OperationOutcome naming the element. A ``transaction`` Bundle is all or nothing, as FHIR
defines it. Duplicates (the same instrument, time and answers; the same diagnosis code,
medication or allergy) are skipped, not doubled. Score Observations are checked against their
QuestionnaireResponse, never stored alone: ketacare keeps a measure as its item answers and
scores them itself (a total without answers could not be re-scored or checked). Resources
ketacare does not take in (encounters, vital signs, administrations, ...) are reported as not
imported."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.fhir import reading
from ketacare.fhir.services.exporting import allowed
from ketacare.fhir.services.import_report import EntryResult, ImportReport, Outcome
from ketacare.fhir.services.import_stages import STAGES, Run

__all__ = ["EntryResult", "ImportReport", "Outcome", "PermissionDenied", "import_text"]


def import_text(actor: Actor, text: str, source: str) -> ImportReport:
    """Import a Bundle, a resource or NDJSON; ``source`` names the sending system when the
    resources do not (``meta.source``). Raises :class:`reading.UnreadableInput` when the input as a
    whole cannot be read, PermissionDenied without FHIR import permission."""
    allowed(actor, Perm.FHIR_IMPORT)
    parsed = reading.read_input(text)
    report = ImportReport(parsed.kind, source)
    run = Run(actor, source, parsed.entries)
    with transaction.atomic():
        for stage in STAGES:
            for entry in parsed.entries:
                result = stage(run, entry)
                if result is not None:
                    report.entries.append(result)
        report.entries.sort(key=lambda e: e.number)
        if parsed.kind == "transaction" and report.failed:
            transaction.set_rollback(True)
            _roll_back(report)
        else:
            record(
                actor,
                Action.CREATE,
                entity_type="fhir_import",
                new={
                    "input": parsed.kind,
                    "source": source,
                    "outcomes": report.tally(),
                    "created": [e.created for e in report.entries if e.created],
                    "patients": sorted({p.mrn for p in run.patients.values()}),
                },
            )
    return report


def _roll_back(report: ImportReport) -> None:
    """Mark what would have been saved as not saved: a transaction is all or nothing."""
    report.rolled_back = True
    failed = ", ".join(str(e.number) for e in report.failed)
    for entry in report.entries:
        if entry.outcome in (Outcome.CREATED, Outcome.MATCHED, Outcome.DUPLICATE):
            entry.outcome, entry.created = Outcome.ROLLED_BACK, ""
            entry.message = f"not saved: entry {failed} failed, and a transaction is all or nothing"
