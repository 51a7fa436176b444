"""Reads that reveal patients, audited: the stock (a device dispensed for a named patient), the
dispensing record (page, CSV, PDF, command), a container's ledger, a Form 41 record."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from ketacare.accounts.actor import Actor
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.controlled import report
from ketacare.controlled.models import Container, LedgerEntry
from ketacare.controlled.selectors import Record, Stock


@transaction.atomic
def view_record(actor: Actor, found: Record) -> None:
    _record_read(actor, found, Action.VIEW, "page")


@transaction.atomic
def export_record(actor: Actor, found: Record, kind: str) -> None:
    _record_read(actor, found, Action.EXPORT, kind)


def _record_read(actor: Actor, found: Record, action: Action, kind: str) -> None:
    record(
        actor,
        action,
        entity_type="dispensing record",
        new={
            "registration": found.registration.dea_number,
            "from": found.start,
            "to": found.end,
            "format": kind,
            "patients": report.patients_named(found),
        },
    )


@transaction.atomic
def view_stock(actor: Actor, rows: Sequence[Stock]) -> None:
    """The stock page names the patient a device was dispensed for."""
    named = sorted({r.container.named_patient.mrn for r in rows if r.container.named_patient})
    record(actor, Action.VIEW, entity_type="controlled stock", new={"patients": named})


@transaction.atomic
def view_ledger(actor: Actor, container: Container) -> None:
    patients = sorted(
        {mrn for mrn in container.entries.values_list("patient__mrn", flat=True) if mrn}
    )
    record(actor, Action.VIEW, container, new={"page": "ledger", "patients": patients})


@transaction.atomic
def view_form_41(actor: Actor, entry: LedgerEntry) -> None:
    record(actor, Action.VIEW, entry, new={"page": "DEA Form 41 record"})
