"""The arithmetic of a Schedule III ledger: amounts in a container's unit (mL of a vial, devices
of esketamine) and in mg, balances as the sum of signed entries, a draw split into what was given
and what was wasted, beyond-use and expiry, business-day clocks, the biennial inventory, count
variance, and a short infusion. The rules that vary by state or clinic are
``data/controlled.toml``, each cited; :func:`rules` reads them.

Errors::

    ValueError
     +-- ControlledError   an impossible amount (``field`` names the input, ``message`` why)
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "ControlledError",
    "Draw",
    "Rules",
    "add_business_days",
    "balance",
    "beyond_use_date",
    "biennial_due",
    "biennial_warning",
    "given_mg",
    "mg_of",
    "needs_dilution",
    "rules",
    "short_infusion",
    "split_draw",
    "units_of",
    "unusable",
    "unused_device_overdue",
    "variance",
    "variance_exceeds",
]

CENT = Decimal("0.01")
MILLI = Decimal("0.001")  # a ledger quantity: 0.001 mL keeps 0.1 mg at 100 mg/mL


class ControlledError(ValueError):
    """An amount the ledger cannot take: ``field`` names the input, ``message`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Rule:
    value: Decimal
    source: str


@dataclass(frozen=True)
class Rules:
    """The configurable numbers, each with its source in words."""

    biennial_days: Rule
    warn_days: Rule
    beyond_use_days: Rule
    unused_named_device_days: Rule
    iv_undiluted_max_mg_per_ml: Rule
    variance_percent: Rule
    variance_floor: Rule
    notice_business_days: Rule
    form_106_days: Rule
    short_percent: Rule


def _plain(text: str, sources: Mapping[str, str]) -> str:
    for tag, work in sources.items():
        text = text.replace(f"[{tag}]", work)
    return text


@cache
def rules() -> Rules:
    """The rules of ``data/controlled.toml``, sources spelled out."""
    text = resources.files("ketacare.clinical").joinpath("data/controlled.toml").read_text()
    data: Mapping[str, Any] = tomllib.loads(text)
    sources = data["sources"]
    found: dict[str, Rule] = {}
    for section in ("inventory", "containers", "counts", "loss", "infusion"):
        for key, entry in data[section].items():
            found[key] = Rule(Decimal(str(entry["value"])), _plain(entry["source"], sources))
    return Rules(**found)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def mg_of(quantity: Decimal, mg_per_unit: Decimal) -> Decimal:
    """mg in ``quantity`` units (mL x mg/mL, or devices x mg per device), to 0.01 mg."""
    return _cents(quantity * mg_per_unit)


def units_of(mg: Decimal, mg_per_unit: Decimal) -> Decimal:
    """Units (mL or devices) holding ``mg``, to 0.001."""
    if mg_per_unit <= 0:
        raise ControlledError("concentration", "must be more than zero")
    return (mg / mg_per_unit).quantize(MILLI, rounding=ROUND_HALF_UP)


def balance(quantities: Iterable[Decimal]) -> Decimal:
    """A container's balance: the sum of its entries' signed quantities (receipts positive)."""
    return sum(quantities, start=Decimal(0))


@dataclass(frozen=True)
class Draw:
    """What was drawn from a container for one dose: given plus wasted, always."""

    drawn: Decimal
    administered: Decimal
    wasted: Decimal


def split_draw(drawn: Decimal, administered: Decimal, held: Decimal) -> Draw:
    """``drawn`` units taken from a container holding ``held``, of which ``administered`` were
    given; the rest is waste. Refused: nothing drawn, more given than drawn, more drawn than
    held (record an overfill adjustment first when a vial holds more than its label)."""
    if drawn <= 0:
        raise ControlledError("drawn", "must be more than zero")
    if administered > drawn:
        raise ControlledError(
            "drawn", f"the dose needs {administered}, more than the {drawn} drawn"
        )
    if drawn > held:
        raise ControlledError("drawn", f"{drawn} is more than the container holds ({held})")
    return Draw(drawn=drawn, administered=administered, wasted=drawn - administered)


def beyond_use_date(opened_on: date, days: int | None = None) -> date:
    """The last day an opened multiple-dose vial may be used."""
    period = int(rules().beyond_use_days.value) if days is None else days
    return opened_on + timedelta(days=period)


def unusable(today: date, expires_on: date, beyond_use: date | None) -> str | None:
    """Why a container cannot be used on ``today`` (expired, past its beyond-use date), or None."""
    if today > expires_on:
        return f"expired on {expires_on:%d %b %Y}"
    if beyond_use is not None and today > beyond_use:
        return f"past its beyond-use date ({beyond_use:%d %b %Y})"
    return None


def needs_dilution(route: str, mg_per_ml: Decimal | None) -> bool:
    """An IV dose from a concentration above the label's undiluted maximum needs a dilution."""
    limit = rules().iv_undiluted_max_mg_per_ml.value
    return route == "iv" and mg_per_ml is not None and mg_per_ml > limit


def add_business_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """``days`` business days after ``start`` (Monday to Friday, skipping ``holidays``)."""
    off = set(holidays)
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in off:
            left -= 1
    return current


def biennial_due(last_inventory: date) -> date:
    return last_inventory + timedelta(days=int(rules().biennial_days.value))


def biennial_warning(last_inventory: date, today: date) -> bool:
    """True from ``warn_days`` before the biennial inventory is due (and after, until taken)."""
    warn = timedelta(days=int(rules().warn_days.value))
    return today >= biennial_due(last_inventory) - warn


def variance(expected: Decimal, measured: Decimal) -> Decimal:
    return measured - expected


def variance_exceeds(expected: Decimal, measured: Decimal, container_size: Decimal) -> bool:
    """A count differs by more than the floor and by more than the configured share of the
    container's size."""
    r = rules()
    gap = abs(variance(expected, measured))
    return gap > r.variance_floor.value and gap > container_size * r.variance_percent.value / 100


def unused_device_overdue(received_on: date, today: date) -> bool:
    """A device dispensed for a named patient and unused this long goes to disposal."""
    return (today - received_on).days > int(rules().unused_named_device_days.value)


def short_infusion(planned_minutes: float | None, actual_minutes: float) -> bool:
    """An infusion ended before the configured share of its planned duration."""
    if not planned_minutes:
        return False
    return actual_minutes < planned_minutes * float(rules().short_percent.value) / 100


def given_mg(amount: Decimal, unit: str, mg_per_ml: Decimal | None, planned_mg: Decimal) -> Decimal:
    """The mg actually given, stated in ``unit`` "mg" or "mL" (at ``mg_per_ml``, the
    concentration of what was infused). Refused: nothing or more than planned, mL without a
    concentration, an unknown unit."""
    if unit == "mg":
        mg = amount
    elif unit == "mL":
        if mg_per_ml is None:
            raise ControlledError("given_unit", "give the amount in mg: no concentration recorded")
        mg = mg_of(amount, mg_per_ml)
    else:
        raise ControlledError("given_unit", "choose mg or mL")
    if mg < 0 or mg > planned_mg:
        raise ControlledError("given_amount", f"between 0 and the {planned_mg} mg drawn")
    return _cents(mg)
