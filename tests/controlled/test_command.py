"""``ketacare controlled``: ``reconcile`` passes on the demo clinic and fails, naming the
container, on a planted discrepancy; ``report`` prints the dispensing record as CSV or JSON
and audits the export."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.controlled.models import Container, Kind, LedgerEntry
from ketacare.site import demo, demo_controlled
from ketacare.supervised.models import Administration

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("controlled", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def demo_clinic() -> None:
    """The demo clinic's staff, patients and today's chairs, with its controlled stock."""
    demo.seed(count=6)
    demo_controlled.close_past_periods(timezone.now())
    demo_controlled.seed_extras(timezone.now())


def test_reconcile_passes_on_the_demo_clinic() -> None:
    call_command("demo", "--patients", "8", stdout=io.StringIO())  # with a treatment history
    assert LedgerEntry.objects.filter(kind=Kind.DISPOSE_ON_SITE).exists()  # past vials closed
    assert Administration.objects.exists()
    assert LedgerEntry.objects.filter(kind=Kind.WASTE).exists()  # syringe remainders
    out, err = run("reconcile")
    assert out.startswith("reconciled:")
    assert err == ""


def test_reconcile_fails_naming_the_container_of_a_planted_discrepancy(
    demo_clinic: None,
) -> None:
    dose = Administration.objects.select_related("container").first()
    assert dose is not None
    assert dose.container is not None
    nurse = User.objects.get(username="nurse.reyes")
    LedgerEntry.objects.create(  # an extra draw on the session, with no dose behind it
        container=dose.container,
        kind=Kind.ADMINISTER,
        quantity=Decimal("-0.5"),
        mg=-dose.container.product.mg_per_unit / 2,
        occurred_at=timezone.now(),
        performed_by=nurse,
        patient=dose.session.patient,
        planned_session=dose.session.planned,
    )
    with pytest.raises(CommandError) as caught:
        run("reconcile")
    assert caught.value.returncode == 1
    assert "does not reconcile" in str(caught.value)


def test_reconcile_names_a_dose_without_its_ledger_entries(demo_clinic: None) -> None:
    dose = Administration.objects.select_related("container").first()
    assert dose is not None
    assert dose.container is not None
    Administration.objects.create(
        session=dose.session,
        device_number=99 if dose.device_number else None,
        drug=dose.drug,
        route=dose.route,
        dose_mg=dose.dose_mg,
        lot_number=dose.lot_number,
        container=dose.container,
        drawn=Decimal(0),
        wasted=Decimal(0),
        started_at=dose.started_at,
        administered_by=dose.administered_by,
        verified_by=dose.verified_by,
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("controlled", "reconcile", stdout=io.StringIO(), stderr=err)
    assert f"bottle {dose.container.bottle_number}" in err.getvalue()
    assert "administer entr" in err.getvalue()


def test_the_report_prints_receipts_administrations_and_disposals_as_csv(
    demo_clinic: None,
) -> None:
    today = timezone.localdate().isoformat()
    before = AuditEvent.objects.filter(action="export").count()
    out, _ = run("report", "--from", "2024-01-01", "--to", today, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    sections = {r["section"] for r in rows}
    assert {"receipt", "administration", "inventory"} <= sections
    given = [r for r in rows if r["section"] == "administration"]
    assert all(r["patient"] and r["by"] and float(r["quantity"]) > 0 for r in given)
    receipt = next(r for r in rows if r["section"] == "receipt")
    assert receipt["supplier_dea"] == "RN5550142"
    assert AuditEvent.objects.filter(action="export").count() == before + 1


def test_the_report_as_json_and_its_refusals(demo_clinic: None) -> None:
    today = timezone.localdate().isoformat()
    out, _ = run("report", "--from", today, "--to", today, "--format", "json")
    data = json.loads(out)
    assert data["registration"]["dea_number"] == "FH4821736"
    assert {r["section"] for r in data["rows"]} >= {"administration"}
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("report", "--from", "yesterday", "--to", today)
    with pytest.raises(CommandError, match="before --from"):
        run("report", "--from", today, "--to", "2020-01-01")
    with pytest.raises(CommandError, match="known: FH4821736"):
        run("report", "--from", today, "--to", today, "--registration", "XX0000000")
    assert Container.objects.exists()
