"""The demo clinic's controlled-substance stock: its DEA registration, the products it holds
(ketamine 10, 50 and 100 mg/mL vials and Spravato packs), a signed initial inventory taken
almost two years ago (so the biennial inventory is due within the warning period), and the
containers every demo dose is drawn from, received as doses need them.

Multiple-dose vials are received at the start of each 28-day period (their beyond-use period)
and what is left in them at its end is destroyed on site before two witnesses, so the ledger of
a past period closes at zero. :func:`seed_extras` adds what an inspector would look at: a
Form 41 destruction of an expired vial, a blind count that found a vial short (a theft or loss
with its clocks running), and a device held for a named patient past its 14 days.

Synthetic data only, through the real services (with "now" moved where a dose happened)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from unittest import mock

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.clinical import controlled as rules
from ketacare.controlled import selectors
from ketacare.controlled.models import (
    Container,
    ContainerStatus,
    InventoryKind,
    Product,
    Registration,
    Unit,
)
from ketacare.controlled.services import counts, handling, stock
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session

DEA = "FH4821736"
SUPPLIER: dict[str, str] = {
    "supplier_name": "Northeast Medical Supply (synthetic)",
    "supplier_address": "400 Commerce Way, Portland, ME 04103",
    "supplier_dea": "RN5550142",
}
PARENTERAL = "iv,im,sc,oral,sublingual"
PRODUCTS = {
    "k10": {
        "name": "Ketamine HCl 10 mg/mL, 20 mL vial",
        "drug": "racemic ketamine",
        "ndc": "0409-2053-20",
        "form": "multiple-dose vial",
        "unit": "mL",
        "mg_per_unit": Decimal("10"),
        "units_per_container": Decimal("20"),
        "routes": PARENTERAL,
    },
    "k50": {
        "name": "Ketamine HCl 50 mg/mL, 10 mL vial",
        "drug": "racemic ketamine",
        "ndc": "0409-2051-10",
        "form": "multiple-dose vial",
        "unit": "mL",
        "mg_per_unit": Decimal("50"),
        "units_per_container": Decimal("10"),
        "routes": PARENTERAL,
    },
    "k100": {
        "name": "Ketamine HCl 100 mg/mL, 10 mL vial",
        "drug": "racemic ketamine",
        "ndc": "0409-2052-10",
        "form": "multiple-dose vial",
        "unit": "mL",
        "mg_per_unit": Decimal("100"),
        "units_per_container": Decimal("10"),
        "routes": PARENTERAL,
    },
    "spravato": {
        "name": "Spravato 28 mg nasal spray, pack of 3 devices",
        "drug": "esketamine",
        "ndc": "50458-028-03",
        "form": "nasal spray device",
        "unit": "device",
        "mg_per_unit": Decimal("28"),
        "units_per_container": Decimal("3"),
        "routes": "esketamine",
        "beyond_use_days": 0,
    },
}
# Which product a route's dose is drawn from: 10 mg/mL for an infusion, 50 mg/mL for a small
# IM or SC volume, 100 mg/mL for an oral or sublingual solution.
FOR_ROUTE = {"iv": "k10", "im": "k50", "sc": "k50", "oral": "k100", "sublingual": "k100"}
EPOCH = date(2024, 1, 1)  # periods of 28 days count from here
PERIOD = 28


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _as(user: User) -> Actor:
    return Actor(user, Channel.CLI, label="ketacare demo")


def _manager() -> User:
    return User.objects.filter(username__startswith="dr.", is_active=True).order_by("username")[0]


def _nurses() -> tuple[User, User]:
    first, second = (User.objects.get(username=u) for u in ("nurse.reyes", "nurse.tanaka"))
    return first, second


def registration() -> Registration:
    """The clinic's registration, its products and an initial inventory taken 685 days ago."""
    found = Registration.objects.filter(dea_number=DEA).first()
    if found is not None:
        return found
    manager, now = _as(_manager()), timezone.now()
    reg = stock.register(
        manager,
        {
            "dea_number": DEA,
            "name": "Demo Ketamine Clinic",
            "address": "12 Harbour Street, Portland, ME 04101",
            "phone": "+1 207 555 0100",
            "expires_on": timezone.localdate() + timedelta(days=300),
        },
    )
    for fields in PRODUCTS.values():
        if not Product.objects.filter(ndc=fields["ndc"]).exists():
            stock.add_product(manager, dict(fields))
    taken = timezone.make_aware(
        datetime.combine(timezone.localdate() - timedelta(days=685), time(8, 0))
    )
    with _at(now if taken > now else taken + timedelta(minutes=5)):
        stock.take_inventory(manager, reg, InventoryKind.INITIAL, taken, "opening")
    return reg


def _period_start(at: datetime) -> datetime:
    day = timezone.localdate(at)
    start = EPOCH + timedelta(days=(day - EPOCH).days // PERIOD * PERIOD)
    return timezone.make_aware(datetime.combine(start, time(7, 30)))


def container_for(session: Session, at: datetime, units: Decimal) -> Container:
    """A container ``session``'s dose (``units`` of it) can be drawn from at ``at``: one received
    this period with enough left, else a new one received at the period's start."""
    reg = registration()
    key = "spravato" if session.is_esketamine else FOR_ROUTE[session.route]
    product = Product.objects.get(ndc=PRODUCTS[key]["ndc"])
    received = _period_start(at)
    if received > at:  # the first minutes of a period: yesterday's stock
        received -= timedelta(days=1)
    candidates = Container.objects.filter(
        registration=reg,
        product=product,
        received_at=received,
        status__in=[ContainerStatus.IN_STOCK, ContainerStatus.OPEN],
    ).exclude(opened_at__gt=at)
    for c in candidates.order_by("bottle_number"):
        if selectors.balance(c) >= units:
            return c
    return _receive(reg, product, received)


def _receive(reg: Registration, product: Product, at: datetime) -> Container:
    number = Container.objects.filter(registration=reg).count() + 1
    lot = f"{'SP' if product.unit == Unit.DEVICE else 'KT'}{at:%y%m}-{number % 7 + 1}"
    with _at(at + timedelta(minutes=1)):
        (made,) = stock.receive(
            _as(_manager()),
            reg,
            stock.Receipt(
                product=product,
                containers=1,
                bottle_numbers=[f"{number:04d}"],
                lot=lot,
                expires_on=timezone.localdate(at) + timedelta(days=540),
                invoice_number=f"INV-{at:%Y%m%d}-{number % 97}",
                received_at=at,
                supplier_name=SUPPLIER["supplier_name"],
                supplier_address=SUPPLIER["supplier_address"],
                supplier_dea=SUPPLIER["supplier_dea"],
            ),
        )
    return made


def dose_units(session: Session) -> Decimal:
    """What one administration of ``session`` draws from its container: a device, or the dose
    in mL of the route's vial rounded up to the syringe's 0.1 mL (the rest is wasted before the
    verifier)."""
    if session.is_esketamine:
        return Decimal(1)
    product = PRODUCTS[FOR_ROUTE[session.route]]
    exact = rules.units_of(session.dose_mg, Decimal(str(product["mg_per_unit"])))
    return exact.quantize(Decimal("0.1"), rounding=ROUND_CEILING)


def close_past_periods(now: datetime) -> int:
    """Destroy on site what is left in each vial whose period has ended: the remainder of a
    multiple-dose vial past its beyond-use date. How many were destroyed."""
    current = _period_start(now)
    closed = 0
    for c in Container.objects.filter(
        product__unit=Unit.ML,
        received_at__lt=current,
        status__in=[ContainerStatus.IN_STOCK, ContainerStatus.OPEN],
    ).select_related("product"):
        left = selectors.balance(c)
        if left <= 0:
            continue
        end = c.received_at + timedelta(days=PERIOD)
        _destroy(c, left, end, "remainder past its beyond-use date")
        closed += 1
    return closed


def _destroy(c: Container, quantity: Decimal, at: datetime, reason: str) -> None:
    first, second = _nurses()
    with _at(at):
        handling.dispose(
            _as(_manager()),
            c,
            handling.Disposal(
                quantity=quantity,
                on_site=True,
                method="Drawn into a chemical denaturing pouch (non-retrievable)",
                location="Medication room, 12 Harbour Street",
                witness=first,
                second_witness=second,
                reason=reason,
            ),
        )


def seed_extras(now: datetime) -> None:
    """What an inspector would look for, once: a theft-or-loss discrepancy with its clocks
    running, a named-patient device past its 14 days, a 100 mg/mL vial in stock."""
    reg = registration()
    if reg.containers.filter(named_patient__isnull=False).exists():
        return
    first, _ = _nurses()
    k50 = Product.objects.get(ndc=PRODUCTS["k50"]["ndc"])
    vial = _receive(reg, k50, now - timedelta(days=3))
    with _at(now - timedelta(days=2)):
        _, found = counts.count(_as(first), vial, Decimal("8.6"), note="end-of-day count")
    if found is not None:
        with _at(now - timedelta(days=2, hours=-1)):
            counts.mark_theft_or_loss(_as(_manager()), found, timezone.localdate())
            counts.record_clock(_as(_manager()), found, "notice", timezone.localdate())
    spravato = Product.objects.get(ndc=PRODUCTS["spravato"]["ndc"])
    patient = Patient.objects.filter(mrn__startswith="DEMO-").order_by("mrn").last()
    at = now - timedelta(days=17)
    with _at(at + timedelta(minutes=1)):
        stock.receive(
            _as(_manager()),
            reg,
            stock.Receipt(
                product=spravato,
                containers=1,
                bottle_numbers=[f"NP-{reg.containers.count() + 1:04d}"],
                lot="SP-NAMED-1",
                expires_on=timezone.localdate(at) + timedelta(days=400),
                invoice_number="RX-SPECIALTY-2231",
                received_at=at,
                named_patient=patient,
                supplier_name="Specialty pharmacy (synthetic)",
                supplier_address="88 Pharmacy Row, Boston, MA 02110",
                supplier_dea="BS7654321",
            ),
        )
    _receive(reg, Product.objects.get(ndc=PRODUCTS["k100"]["ndc"]), now - timedelta(hours=20))
