"""The dispensing record as rows (CSV, JSON, the page and the PDF share them): the fields
21 CFR 1304.22(c) asks of a dispenser, one row per ledger entry in the range, and one per
inventory line. Quantities are in the container's unit and in mg; people are named."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from ketacare.controlled.models import Inventory, Kind, LedgerEntry
from ketacare.controlled.selectors import Record

COLUMNS = [
    "section",
    "date",
    "entry",
    "product",
    "ndc",
    "strength",
    "bottle",
    "lot",
    "quantity",
    "unit",
    "mg",
    "patient",
    "patient_address",
    "supplier",
    "supplier_address",
    "supplier_dea",
    "invoice",
    "by",
    "witnesses",
    "manner",
    "reason",
]
SECTIONS = {"receipts": "receipt", "administrations": "administration", "disposals": "disposal"}


def _address(entry: LedgerEntry) -> str:
    p = entry.patient
    if p is None:
        return ""
    parts = [p.address_line, p.city, p.region, p.postal_code]
    return ", ".join(x for x in parts if x) or "not recorded"


def local(at: datetime) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M}"


def signed(e: LedgerEntry, value: Decimal) -> str:
    """Outflows as a positive amount (the entry says what it was); a correction or an
    overfill adjustment with its sign, + when it adds to the container."""
    text = f"{abs(value).normalize():f}"
    if e.kind in (Kind.CORRECTION, Kind.OVERFILL):
        return ("+" if value > 0 else "-") + text
    return text


def _row(section: str, e: LedgerEntry) -> dict[str, str]:
    c, product = e.container, e.container.product
    witnesses = [w.display_name for w in (e.witness, e.second_witness) if w is not None]
    receipt = section == "receipt"
    manner = e.details.get("method", "") if isinstance(e.details, dict) else ""
    return {
        "section": section,
        "date": local(e.occurred_at),
        "entry": e.get_kind_display(),
        "product": product.name,
        "ndc": product.ndc,
        "strength": product.strength,
        "bottle": c.bottle_number,
        "lot": c.lot,
        "quantity": signed(e, e.quantity),
        "unit": product.unit_label,
        "mg": signed(e, e.mg),
        "patient": e.patient.full_name if e.patient else "",
        "patient_address": _address(e),
        "supplier": c.supplier_name if receipt else "",
        "supplier_address": c.supplier_address if receipt else "",
        "supplier_dea": c.supplier_dea if receipt else "",
        "invoice": c.invoice_number if receipt else "",
        "by": e.performed_by.display_name,
        "witnesses": "; ".join(witnesses),
        "manner": manner,
        "reason": e.reason,
    }


def _inventory_rows(inventories: Iterable[Inventory]) -> list[dict[str, str]]:
    rows = []
    for inv in inventories:
        for line in inv.lines.all():
            product = line.container.product
            rows.append(
                dict.fromkeys(COLUMNS, "")
                | {
                    "section": "inventory",
                    "date": local(inv.taken_at),
                    "entry": f"{inv.kind} inventory, {inv.get_business_point_display()}",
                    "product": product.name,
                    "ndc": product.ndc,
                    "strength": product.strength,
                    "bottle": line.container.bottle_number,
                    "lot": line.container.lot,
                    "quantity": f"{line.measured.normalize():f}",
                    "unit": product.unit_label,
                    "by": inv.signed_by.display_name,
                    "reason": "estimated" if line.estimated else "",
                }
            )
        if not inv.lines.exists():
            rows.append(
                dict.fromkeys(COLUMNS, "")
                | {
                    "section": "inventory",
                    "date": local(inv.taken_at),
                    "entry": f"{inv.kind} inventory, {inv.get_business_point_display()}",
                    "quantity": "0",
                    "by": inv.signed_by.display_name,
                    "reason": "nothing on hand",
                }
            )
    return rows


def rows(record: Record) -> list[dict[str, str]]:
    found = []
    for attr, section in SECTIONS.items():
        found += [_row(section, e) for e in getattr(record, attr)]
    return found + _inventory_rows(record.inventories)


def as_csv(record: Record) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows(record))
    return out.getvalue()


def as_json(record: Record) -> str:
    reg = record.registration
    return json.dumps(
        {
            "registration": {
                "dea_number": reg.dea_number,
                "name": reg.name,
                "address": reg.address,
            },
            "from": record.start.isoformat(),
            "to": record.end.isoformat(),
            "rows": rows(record),
        },
        indent=2,
    )


def patients_named(record: Record) -> list[str]:
    """The MRNs of every patient the record names (for the audit of who read it)."""
    return sorted({e.patient.mrn for e in record.administrations if e.patient is not None})
