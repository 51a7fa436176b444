"""``{{ value|amount }}``: a ledger amount as written by hand, without trailing zeros (0.6, not
0.600; 20, not 20.000); "not recorded" for nothing."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def amount(value: Decimal | None) -> str:
    if value is None:
        return "not recorded"
    text = f"{Decimal(value).normalize():f}"
    return "0" if text in ("-0", "0") else text
