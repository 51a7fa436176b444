"""Controlled: the reads. Balances are derived from the ledger here and nowhere stored; the
dispensing record (21 CFR 1304.22(c)), the discrepancy log, what the dashboard warns of, and
the ledger's own consistency checks for ``ketacare controlled reconcile``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from ketacare.clinical import controlled as rules
from ketacare.controlled.models import (
    Container,
    ContainerStatus,
    Discrepancy,
    Inventory,
    InventoryKind,
    Kind,
    LedgerEntry,
    Registration,
    Unit,
)

USABLE = (ContainerStatus.IN_STOCK, ContainerStatus.OPEN)
DISPOSALS = (Kind.DISPOSE_ON_SITE, Kind.DISPOSE_REVERSE_DISTRIBUTOR, Kind.LOSS)


def balance(container: Container) -> Decimal:
    """The container's balance: the sum of its entries' signed quantities, never stored."""
    total = container.entries.aggregate(total=Sum("quantity"))["total"]
    return Decimal(0) if total is None else _exact(total)


def _exact(total: Decimal) -> Decimal:
    # SQLite sums decimals as floating point: back to the field's 0.001 (sums of 0.001s).
    return rules.balance([Decimal(total)]).quantize(rules.MILLI)


def open_containers() -> QuerySet[Container]:
    return Container.objects.filter(status__in=USABLE).select_related("product", "registration")


def usable_for(drug: str, route: str) -> QuerySet[Container]:
    """Containers a dose of ``drug`` by ``route`` may be drawn from today (the service checks
    again, with the reasons)."""
    today = timezone.localdate()
    return (
        open_containers()
        .filter(product__drug=drug, product__routes__contains=route)
        .filter(expires_on__gte=today, registration__expires_on__gte=today)
        .filter(Q(beyond_use_on__isnull=True) | Q(beyond_use_on__gte=today))
        .order_by(F("opened_at").desc(nulls_last=True), "bottle_number")
    )


def amount(value: Decimal, container: Container) -> str:
    """``value`` in the container's unit, as written by hand: "3.5 mL", "1 device"."""
    text = f"{value.normalize():f}"
    if container.product.unit != Unit.DEVICE:
        return f"{text} mL"
    return f"{text} device{'' if value == 1 else 's'}"


def label(container: Container) -> str:
    """How a container reads in a choice: bottle, product, lot, what is left, use-by."""
    use_by = container.beyond_use_on or container.expires_on
    return (
        f"Bottle {container.bottle_number}: {container.product.name}, lot {container.lot}, "
        f"{amount(balance(container), container)} left, use by {use_by:%d %b %Y}"
    )


@dataclass(frozen=True)
class Stock:
    container: Container
    balance: Decimal
    flags: list[str]

    @property
    def left(self) -> str:
        return amount(self.balance, self.container)


def flags(container: Container, today: date) -> list[str]:
    found = []
    why = container.unusable(today)
    if why and container.status in USABLE:
        found.append(f"{why}: dispose of it")
    if (
        container.named_patient_id
        and container.status in USABLE
        and rules.unused_device_overdue(timezone.localdate(container.received_at), today)
    ):
        found.append("dispensed for a named patient and unused: dispose of it, not to stock")
    return found


def stock(registration: Registration | None = None, *, every: bool = False) -> list[Stock]:
    """Containers with their balances and what needs doing (usable ones unless ``every``)."""
    today = timezone.localdate()
    rows = Container.objects.select_related("product", "registration", "named_patient")
    if registration is not None:
        rows = rows.filter(registration=registration)
    if not every:
        rows = rows.filter(status__in=USABLE)
    totals = dict(
        LedgerEntry.objects.filter(container__in=rows)
        .values("container")
        .annotate(total=Sum("quantity"))
        .values_list("container", "total")
    )
    return [Stock(c, _exact(totals.get(c.pk) or Decimal(0)), flags(c, today)) for c in rows]


@dataclass(frozen=True)
class Line:
    entry: LedgerEntry
    balance: Decimal


def ledger(container: Container) -> list[Line]:
    """The container's entries in the order they happened, each with the balance after it."""
    running = Decimal(0)
    lines = []
    entries = container.entries.select_related(
        "performed_by", "witness", "second_witness", "patient", "reverses"
    ).order_by("occurred_at", "id")
    for entry in entries:
        running += entry.quantity
        lines.append(Line(entry, running))
    return lines


# The dispensing record and other reports --------------------------------------------------


@dataclass
class Record:
    """The dispensing record of 21 CFR 1304.22(c) for a registration and a date range."""

    registration: Registration
    start: date
    end: date
    receipts: list[LedgerEntry] = field(default_factory=list)
    administrations: list[LedgerEntry] = field(default_factory=list)
    disposals: list[LedgerEntry] = field(default_factory=list)
    inventories: list[Inventory] = field(default_factory=list)


def _in_range(start: date, end: date) -> Q:
    return Q(occurred_at__date__gte=start, occurred_at__date__lte=end)


def dispensing_record(registration: Registration, start: date, end: date) -> Record:
    """Receipts (supplier and DEA number), administrations (patient name and address, date,
    quantity, by whom), waste and disposals (date, manner, quantity), corrections beside what
    they correct, and the inventories taken in the range."""
    entries = (
        LedgerEntry.objects.filter(container__registration=registration)
        .filter(_in_range(start, end))
        .select_related(
            "container__product", "performed_by", "witness", "second_witness", "patient"
        )
        .order_by("occurred_at", "id")
    )
    found = Record(registration, start, end)
    for e in entries:
        if e.kind == Kind.RECEIVE:
            found.receipts.append(e)
        elif e.kind == Kind.ADMINISTER or (e.kind == Kind.CORRECTION and e.planned_session_id):
            found.administrations.append(e)
        elif e.kind in (Kind.WASTE, Kind.OVERFILL, Kind.CORRECTION, *DISPOSALS):
            found.disposals.append(e)
    found.inventories = list(
        registration.inventories.filter(taken_at__date__gte=start, taken_at__date__lte=end)
        .select_related("signed_by")
        .prefetch_related("lines__container__product")
    )
    return found


def form_41(entry: LedgerEntry) -> LedgerEntry:
    """An on-site destruction with what DEA Form 41 asks for (sections A to D)."""
    return LedgerEntry.objects.select_related(
        "container__product",
        "container__registration",
        "performed_by",
        "witness",
        "second_witness",
    ).get(pk=entry.pk, kind=Kind.DISPOSE_ON_SITE)


def discrepancies(registration: Registration | None = None) -> QuerySet[Discrepancy]:
    rows = Discrepancy.objects.select_related(
        "container__product", "discovered_by", "prior_user", "resolved_by"
    )
    return rows.filter(container__registration=registration) if registration else rows


# What the dashboard warns of --------------------------------------------------------------


@dataclass(frozen=True)
class Warning:
    text: str
    urgent: bool


def warnings(today: date) -> list[Warning]:
    """A biennial inventory due within the warning period, open theft-or-loss clocks, open
    discrepancies, containers to dispose of, an expired or expiring registration."""
    found: list[Warning] = []
    for reg in Registration.objects.all():
        if not reg.is_current(today):
            expired = f"{reg.expires_on:%d %b %Y}"
            text = f"DEA registration {reg.dea_number} expired on {expired}: dosing is refused."
            found.append(Warning(text, True))
        last = reg.inventories.order_by("-taken_at").first()
        if last is None:
            found.append(
                Warning(
                    f"No initial inventory for {reg.dea_number}: no receipt can be recorded.", True
                )
            )
            continue
        last_on = timezone.localdate(last.taken_at)
        if rules.biennial_warning(last_on, today):
            due = rules.biennial_due(last_on)
            found.append(
                Warning(
                    f"Biennial inventory for {reg.dea_number} due by {due:%d %b %Y}.", due <= today
                )
            )
    for d in discrepancies().filter(theft_or_loss=True):
        if d.clocks_open:
            found.append(Warning(_clock_text(d), True))
    open_count = discrepancies().filter(resolved_at__isnull=True).count()
    if open_count:
        found.append(
            Warning(
                f"{open_count} open discrepanc{'y' if open_count == 1 else 'ies'} to resolve.",
                False,
            )
        )
    for row in stock():
        for flag in row.flags:
            found.append(
                Warning(
                    f"Bottle {row.container.bottle_number} ({row.container.product.name}) {flag}.",
                    False,
                )
            )
    return found


def _clock_text(d: Discrepancy) -> str:
    parts = []
    if d.notice_sent_on is None:
        parts.append(f"DEA Field Division notice due {d.notice_due_on:%d %b %Y}")
    if d.form_106_filed_on is None:
        parts.append(f"DEA Form 106 due {d.form_106_due_on:%d %b %Y}")
    return f"Theft or loss, bottle {d.container.bottle_number}: {'; '.join(parts)}."


def has_initial_inventory(registration: Registration) -> bool:
    return registration.inventories.filter(kind=InventoryKind.INITIAL).exists()


# The ledger's own consistency (reconcile) -------------------------------------------------


def ledger_problems(containers: Sequence[Container] | None = None) -> list[str]:
    """Each container whose entries do not add up: mg not its quantity at the strength, a
    balance below zero at any point, a status that contradicts the balance, a correction
    larger than what it corrects."""
    rows = containers if containers is not None else Container.objects.select_related("product")
    problems = []
    for c in rows:
        problems += [
            f"Bottle {c.bottle_number} ({c.product.name}): {p}" for p in _container_problems(c)
        ]
    return problems


def _container_problems(c: Container) -> list[str]:
    found = []
    tolerance = c.product.mg_per_unit * Decimal("0.0005") + Decimal("0.005")
    for line in ledger(c):
        e = line.entry
        if abs(e.quantity * c.product.mg_per_unit - e.mg) > tolerance:
            found.append(f"entry {e.pk} records {e.mg} mg for {e.quantity} at {c.product.strength}")
        if line.balance < 0:
            found.append(
                f"the balance is {line.balance} after entry {e.pk} ({e.occurred_at:%d %b %Y %H:%M})"
            )
        reversed_ = e.reverses.quantity if e.reverses is not None else Decimal(0)
        if e.reverses_id and abs(e.quantity) > abs(reversed_):
            found.append(f"correction {e.pk} reverses more than entry {e.reverses_id} recorded")
    held = balance(c)
    if c.status in (ContainerStatus.EMPTY, ContainerStatus.DISPOSED) and held != 0:
        found.append(f"marked {c.get_status_display()} but the ledger holds {held}")
    return found


def entries_of(planned_session_ids: Sequence[int]) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(planned_session_id__in=planned_session_ids)


def last_count(container: Container) -> tuple[datetime, Decimal] | None:
    entry = container.entries.filter(kind=Kind.COUNT).order_by("-occurred_at", "-id").first()
    return (entry.occurred_at, entry.measured or Decimal(0)) if entry else None
