"""The pages: a nurse doses from a vial on the session page (the verifier witnessing the waste
of the draw), ends an infusion early stating what was given, the ledger and the dispensing
record show it; the prescriber receives stock, signs inventories, disposes on site with two
witnesses (the Form 41 record) and works the discrepancy log. Refusals name the field."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.controlled import selectors
from ketacare.controlled.models import Container, Discrepancy, Kind, LedgerEntry, Product
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session
from tests.conftest import PASSWORD, login
from tests.controlled.builders import SUPPLIER, container, product, registration
from tests.supervised.builders import cleared, shift

pytestmark = pytest.mark.django_db
WHEN = "%Y-%m-%dT%H:%M"


def _now(minutes_ago: int = 0) -> str:
    return timezone.localtime(timezone.now() - timedelta(minutes=minutes_ago)).strftime(WHEN)


def test_a_nurse_doses_from_a_vial_and_the_verifier_witnesses_the_waste(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    vial = container(prescriber, "k10", lot="K-2231")
    client = login(Client(), nurse)
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert "K-2231" in page  # the container is chosen by bottle and lot
    url = reverse("sessions:dose", args=[session.pk])
    data = {
        "started_at": _now(),
        "container": vial.pk,
        "drawn": str(session.dose_mg / 10 + Decimal("0.6")),
        "verified_by": prescriber.pk,
        "verifier_password": "wrong password",
    }
    client.post(url, data)
    assert not LedgerEntry.objects.filter(planned_session=session.planned).exists()
    client.post(url, data | {"verifier_password": PASSWORD})
    kinds = LedgerEntry.objects.filter(planned_session=session.planned).values_list(
        "kind", flat=True
    )
    assert sorted(kinds) == ["administer", "waste"]
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert f"0.6 mL, witnessed by {prescriber.display_name}" in page
    ledger = client.get(reverse("controlled:container", args=[vial.pk])).content.decode()
    assert "administered" in ledger
    assert "wasted" in ledger
    today = timezone.localdate().isoformat()
    query = f"?registration={vial.registration_id}&start={today}&end={today}"
    record = client.get(reverse("controlled:record") + query).content.decode()
    assert patient.full_name in record
    assert "remainder of the dose drawn" in record
    csv = client.get(reverse("controlled:record_csv") + query).content.decode()
    assert "administration," in csv
    assert "disposal," in csv
    pdf = client.get(reverse("controlled:record_pdf") + query)
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_ending_an_infusion_early_on_the_page_asks_for_the_amount_and_a_witness(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    vial = container(prescriber)
    client = login(Client(), nurse)
    client.post(
        reverse("sessions:dose", args=[session.pk]),
        {
            "started_at": _now(),
            "container": vial.pk,
            "verified_by": prescriber.pk,
            "verifier_password": PASSWORD,
        },
    )
    shift(Session.objects.get(pk=session.pk), 12)
    url = reverse("sessions:end_dosing", args=[session.pk])
    response = client.post(url, {"ended_at": _now(), "given_unit": "mg"}, follow=True)
    assert "Amount actually given" in response.content.decode()
    assert Session.objects.get(pk=session.pk).state == "dosing"
    client.post(
        url,
        {
            "ended_at": _now(),
            "given_amount": "10",
            "given_unit": "mg",
            "given_reason": "Patient asked to stop",
            "witness": prescriber.pk,
            "witness_password": PASSWORD,
        },
    )
    session = Session.objects.get(pk=session.pk)
    assert session.given_mg == Decimal(10)
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert "Ended early: 10 of" in page


def test_the_prescriber_receives_stock_and_signs_an_inventory(prescriber: User) -> None:
    reg = registration(prescriber)
    k10 = product(prescriber, "k10")
    client = login(Client(), prescriber)
    data = {
        "product": k10.pk,
        "bottle_numbers": "V-1, V-2",
        "lot": "K-9",
        "expires_on": (timezone.localdate() + timedelta(days=300)).isoformat(),
        "invoice_number": "INV-77",
        "received_at": _now(5),
        **SUPPLIER,
    }
    response = client.post(reverse("controlled:receive"), data | {"supplier_dea": "bad"})
    assert "two capital letters and seven digits" in response.content.decode()
    client.post(reverse("controlled:receive"), data)
    assert set(reg.containers.values_list("bottle_number", flat=True)) == {"V-1", "V-2"}
    form = {"kind": "biennial", "taken_at": _now(1), "business_point": "close"}
    for c in reg.containers.all():
        form |= {f"measured_{c.pk}": "20"}
    client.post(reverse("controlled:inventory"), form)
    biennial = reg.inventories.get(kind="biennial")
    assert biennial.lines.count() == 2
    page = client.get(reverse("controlled:inventory")).content.decode()
    assert "close of business" in page


def test_destruction_on_site_gives_a_form_41_record(
    prescriber: User, nurse: User, staff: dict[object, User]
) -> None:
    vial = container(prescriber, expires_on=timezone.localdate() - timedelta(days=2))
    other = User.objects.create_user("nurse.kim", password=PASSWORD, role="nurse", first_name="Kim")
    client = login(Client(), prescriber)
    client.post(
        reverse("controlled:dispose", args=[vial.pk]),
        {
            "dispose-quantity": "20",
            "dispose-on_site": "1",
            "dispose-method": "Denaturing pouch",
            "dispose-location": "Medication room",
            "dispose-reason": "expired",
            "dispose-witness": nurse.pk,
            "dispose-witness_password": PASSWORD,
            "dispose-second_witness": other.pk,
            "dispose-second_witness_password": PASSWORD,
        },
    )
    entry = vial.entries.get(kind=Kind.DISPOSE_ON_SITE)
    pdf = client.get(reverse("controlled:form_41", args=[entry.pk]))
    assert pdf.content.startswith(b"%PDF")
    assert Container.objects.get(pk=vial.pk).status == "disposed"


def test_a_blind_count_opens_a_discrepancy_the_prescriber_resolves(
    prescriber: User, nurse: User
) -> None:
    vial = container(prescriber)
    nurse_client = login(Client(), nurse)
    page = nurse_client.get(reverse("controlled:container", args=[vial.pk])).content.decode()
    assert "Blind count" in page
    nurse_client.post(reverse("controlled:count", args=[vial.pk]), {"count-measured": "17"})
    found = Discrepancy.objects.get()
    client = login(Client(), prescriber)
    client.post(
        reverse("controlled:theft", args=[found.pk]),
        {"discovered_on": timezone.localdate().isoformat()},
    )
    log = client.get(reverse("controlled:discrepancies")).content.decode()
    assert "Form 106" in log
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "DEA Form 106 due" in dashboard
    client.post(
        reverse("controlled:resolve", args=[found.pk]),
        {"resolution": "3 mL unaccounted for; reported", "post_loss": "on"},
    )
    assert selectors.balance(vial) == Decimal(17)
    assert Discrepancy.objects.get().resolved_by == prescriber


def test_pages_read_in_words_for_nurse_and_prescriber(prescriber: User, nurse: User) -> None:
    container(prescriber, "spravato")
    for user in (nurse, prescriber):
        client = login(Client(), user)
        for name in ("controlled:index", "controlled:discrepancies", "controlled:record"):
            text = client.get(reverse(name)).content.decode()
            assert "in_stock" not in text
            assert "dispose_on_site" not in text
            assert "None" not in text.split("<main", 1)[-1]
    setup = login(Client(), prescriber).get(reverse("controlled:setup")).content.decode()
    assert (
        "ketacare&#x27;s configurable default" in setup
        or "ketacare's configurable default" in setup
    )
    assert Product.objects.count() == 1
