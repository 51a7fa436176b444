"""What a clinic holds of its Schedule III drugs and every movement of it: the DEA registration,
products, containers (a vial, a Spravato device pack), the append-only ledger, inventories,
and discrepancies with their theft-or-loss clocks.

A container's balance is never stored: it is the sum of its ledger entries' signed quantities
(receipts positive), in the container's unit (mL of a vial, devices of esketamine). Ledger rows
are never updated or deleted (here, and by database triggers); a correction is a new entry that
reverses part of an earlier one, with a reason. Ledger rows name the planned session (the
supervised session shares its key) because the dosing record sits above this app."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from ketacare.clinical import controlled as rules
from ketacare.patients.models import Patient
from ketacare.plans.models import PlannedSession


class AppendOnly(Exception):
    """Ledger entries are never changed or removed; post a correction instead."""


def _user(*, null: bool = False, related_name: str = "+") -> Any:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name=related_name,
        null=null,
        blank=null,
    )


def choices(enum: type[StrEnum], labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(m.value, labels[m.value]) for m in enum]


# A DEA registration number: two letters and seven digits (21 CFR 1301.13 registrations).
dea_number = RegexValidator(
    r"^[A-Z]{2}[0-9]{7}$", "Enter a DEA number: two capital letters and seven digits."
)


class Registration(models.Model):
    dea_number = models.CharField("DEA number", max_length=9, unique=True, validators=[dea_number])
    name = models.CharField("registrant name", max_length=200)
    address = models.CharField(max_length=300)
    phone = models.CharField(max_length=25, blank=True)
    schedules = models.CharField(max_length=40, default="3, 3N, 4, 5")
    expires_on = models.DateField("expires on")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dea_number"]

    def __str__(self) -> str:
        return f"{self.dea_number} ({self.name})"

    def is_current(self, today: date) -> bool:
        return today <= self.expires_on


class Drug(StrEnum):
    KETAMINE = "racemic ketamine"  # the supervised session's ``drug``
    ESKETAMINE = "esketamine"


class Unit(StrEnum):
    ML = "mL"
    DEVICE = "device"


UNIT_LABELS = {"mL": "mL", "device": "devices"}


class Product(models.Model):
    name = models.CharField(max_length=120)
    drug = models.CharField(max_length=30, choices=[(d.value, d.value) for d in Drug])
    ndc = models.CharField("NDC", max_length=13)
    schedule = models.CharField(max_length=5, default="III")
    form = models.CharField(max_length=60, help_text="e.g. multiple-dose vial, nasal spray device")
    unit = models.CharField(max_length=10, choices=choices(Unit, UNIT_LABELS))
    mg_per_unit = models.DecimalField(
        "strength (mg per mL or per device)", max_digits=7, decimal_places=2
    )
    units_per_container = models.DecimalField(
        "container size (mL or devices)", max_digits=7, decimal_places=2
    )
    routes = models.CharField(max_length=60, help_text="routes it may be given by, comma-separated")
    beyond_use_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="after opening; empty for the default, 0 for none"
    )

    class Meta:
        ordering = ["drug", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def allowed_routes(self) -> list[str]:
        return [r.strip() for r in self.routes.split(",") if r.strip()]

    @property
    def strength(self) -> str:
        per = "mL" if self.unit == Unit.ML else "device"
        return f"{self.mg_per_unit.normalize():f} mg/{per}"

    @property
    def unit_label(self) -> str:
        return UNIT_LABELS[self.unit]


class ContainerStatus(StrEnum):
    IN_STOCK = "in_stock"
    OPEN = "open"
    EMPTY = "empty"
    DISPOSED = "disposed"


STATUS_LABELS = {"in_stock": "in stock", "open": "open", "empty": "empty", "disposed": "disposed"}


class Container(models.Model):
    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="containers"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="containers")
    bottle_number = models.CharField(max_length=20)
    lot = models.CharField(max_length=40)
    expires_on = models.DateField()
    supplier_name = models.CharField(max_length=200)
    supplier_address = models.CharField(max_length=300)
    supplier_dea = models.CharField("supplier DEA number", max_length=9, validators=[dea_number])
    invoice_number = models.CharField(max_length=60)
    received_at = models.DateTimeField()
    received_by = _user()
    opened_at = models.DateTimeField(null=True, blank=True)
    beyond_use_on = models.DateField(null=True, blank=True)
    named_patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=choices(ContainerStatus, STATUS_LABELS), default="in_stock"
    )

    class Meta:
        ordering = ["product__drug", "bottle_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "bottle_number"], name="bottle_numbers_unique"
            )
        ]

    def __str__(self) -> str:
        return f"bottle {self.bottle_number}: {self.product.name}, lot {self.lot}"

    def unusable(self, today: date) -> str | None:
        return rules.unusable(today, self.expires_on, self.beyond_use_on)


class Kind(StrEnum):
    RECEIVE = "receive"
    ADMINISTER = "administer"
    WASTE = "waste"
    DISPOSE_ON_SITE = "dispose_on_site"
    DISPOSE_REVERSE_DISTRIBUTOR = "dispose_reverse_distributor"
    LOSS = "loss"
    COUNT = "count"
    OVERFILL = "overfill"
    CORRECTION = "correction"


KIND_LABELS = {
    "receive": "received",
    "administer": "administered",
    "waste": "wasted",
    "dispose_on_site": "destroyed on site",
    "dispose_reverse_distributor": "to a reverse distributor",
    "loss": "theft or loss",
    "count": "count",
    "overfill": "overfill adjustment",
    "correction": "correction",
}
OUTFLOWS = [
    Kind.ADMINISTER,
    Kind.WASTE,
    Kind.DISPOSE_ON_SITE,
    Kind.DISPOSE_REVERSE_DISTRIBUTOR,
    Kind.LOSS,
]


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("ledger entries cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("ledger entries cannot be deleted")


class LedgerEntry(models.Model):
    """One movement of one container, in its unit: ``quantity`` signed (receipts and overfill
    positive, outflows negative, a count zero), ``mg`` the same in milligrams."""

    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=30, choices=choices(Kind, KIND_LABELS))
    quantity = models.DecimalField(max_digits=10, decimal_places=3)
    mg = models.DecimalField(max_digits=10, decimal_places=2)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    performed_by = _user()
    witness = _user(null=True)
    second_witness = _user(null=True)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    planned_session = models.ForeignKey(
        PlannedSession, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    reason = models.CharField(max_length=300, blank=True)
    expected = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    measured = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["planned_session"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(witness=models.F("performed_by")),
                name="witness_is_not_the_performer",
            ),
            models.CheckConstraint(
                condition=~models.Q(second_witness=models.F("performed_by"))
                & ~models.Q(second_witness=models.F("witness")),
                name="second_witness_is_a_third_person",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=[k.value for k in OUTFLOWS], quantity__gte=0),
                name="outflows_are_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="receive", quantity__lte=0),
                name="receipts_are_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} of {self.container}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("ledger entries cannot be changed; post a correction")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("ledger entries cannot be deleted; post a correction")


class BusinessPoint(StrEnum):
    OPENING = "opening"
    CLOSE = "close"


class InventoryKind(StrEnum):
    INITIAL = "initial"
    BIENNIAL = "biennial"


class Inventory(models.Model):
    """An initial or biennial inventory (21 CFR 1304.11), signed by who took it."""

    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="inventories"
    )
    kind = models.CharField(max_length=10, choices=[(k.value, k.value) for k in InventoryKind])
    taken_at = models.DateTimeField()
    business_point = models.CharField(
        "taken at",
        max_length=10,
        choices=[("opening", "opening of business"), ("close", "close of business")],
    )
    signed_by = _user()
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["-taken_at"]

    def __str__(self) -> str:
        return f"{self.kind} inventory of {self.taken_at:%d %b %Y}"


class InventoryLine(models.Model):
    inventory = models.ForeignKey(Inventory, on_delete=models.PROTECT, related_name="lines")
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="+")
    expected = models.DecimalField(max_digits=10, decimal_places=3)
    measured = models.DecimalField(max_digits=10, decimal_places=3)
    estimated = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.container}: {self.measured}"


class Discrepancy(models.Model):
    """A count that differs from the ledger by more than the configured threshold. Marked as
    theft or significant loss, it starts the one-business-day notice and Form 106 clocks."""

    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="discrepancies")
    count = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    expected = models.DecimalField(max_digits=10, decimal_places=3)
    measured = models.DecimalField(max_digits=10, decimal_places=3)
    opened_at = models.DateTimeField()
    discovered_by = _user()
    prior_user = _user(null=True)
    theft_or_loss = models.BooleanField(default=False)
    notice_due_on = models.DateField(null=True, blank=True)
    form_106_due_on = models.DateField(null=True, blank=True)
    notice_sent_on = models.DateField(null=True, blank=True)
    form_106_filed_on = models.DateField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = _user(null=True)
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"discrepancy on {self.container}: {self.variance:+} {self.container.product.unit}"

    @property
    def variance(self) -> Decimal:
        return rules.variance(self.expected, self.measured)

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def clocks_open(self) -> bool:
        return self.theft_or_loss and (
            self.notice_sent_on is None or self.form_106_filed_on is None
        )
