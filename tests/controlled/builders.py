"""Builders for the controlled-substance ledger: the clinic's DEA registration, its products
(ketamine 10, 50 and 100 mg/mL vials, Spravato packs), a signed initial inventory and
containers received on an invoice. Every write goes through the services, as a clinic would."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.controlled.models import Container, InventoryKind, Product, Registration
from ketacare.controlled.services import stock
from ketacare.patients.models import Patient
from ketacare.site.demo_controlled import PRODUCTS

DEA = "FK1234563"
SUPPLIER = {
    "supplier_name": "Henry Schein",
    "supplier_address": "135 Duryea Road, Melville, NY 11747",
    "supplier_dea": "RH0123456",
}
# The demo clinic's catalogue: the same products, so the tests dose what a clinic stocks.


def _bottle(reg: Registration) -> str:
    """The next free bottle number (a count, so separate processes agree)."""
    n = reg.containers.count() + 1
    while reg.containers.filter(bottle_number=f"B{n:04d}").exists():
        n += 1
    return f"B{n:04d}"


def act(user: User) -> Actor:
    return Actor(user, Actor.system("t").channel)


def registration(manager: User, expires_on: date | None = None) -> Registration:
    """The clinic's registration with a signed initial inventory taken 30 days ago."""
    found = Registration.objects.filter(dea_number=DEA).first()
    if found is not None:
        return found
    reg = stock.register(
        act(manager),
        {
            "dea_number": DEA,
            "name": "Harbour Ketamine Clinic",
            "address": "12 Harbour Street, Portland, ME 04101",
            "expires_on": expires_on or timezone.localdate() + timedelta(days=400),
        },
    )
    stock.take_inventory(
        act(manager),
        reg,
        InventoryKind.INITIAL,
        timezone.now() - timedelta(days=30),
        "opening",
    )
    return reg


def product(manager: User, key: str = "k10") -> Product:
    fields = PRODUCTS[key]
    found = Product.objects.filter(ndc=fields["ndc"]).first()
    return found or stock.add_product(act(manager), dict(fields))


def container(
    manager: User,
    key: str = "k10",
    *,
    lot: str = "LOT-K42",
    expires_on: date | None = None,
    named_patient: Patient | None = None,
    received_at: object = None,
) -> Container:
    """One container received an hour ago (its receipt entry holds a full container)."""
    reg = registration(manager)
    made = stock.receive(
        act(manager),
        reg,
        stock.Receipt(
            product=product(manager, key),
            containers=1,
            bottle_numbers=[_bottle(reg)],
            lot=lot,
            expires_on=expires_on or timezone.localdate() + timedelta(days=365),
            invoice_number="INV-2026-118",
            received_at=received_at or timezone.now() - timedelta(hours=1),  # type: ignore[arg-type]
            named_patient=named_patient,
            **SUPPLIER,
        ),
    )
    return made[0]
