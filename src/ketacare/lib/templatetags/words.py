"""Stored values in words a person reads. ``{{ code|words }}``: a code as its choices label it
(``ready_for_discharge`` -> "ready for discharge"), for values kept without a
``get_FOO_display`` (a transition's states, a score's band or flags); ``lib.fields.enum_choices``
labels codes the same way. ``{{ value|readable }}``: a stored value (an audit event's old or new
value, a list or a mapping) as text, never a Python repr. ``{{ code|route }}``: a route of
administration by its label (``iv`` -> "IV infusion")."""

from __future__ import annotations

from django import template

from ketacare.clinical.dosing import ROUTE_LABELS

register = template.Library()


@register.filter
def words(code: object) -> str:
    return str(code).replace("_", " ") if code is not None else ""


@register.filter
def readable(value: object) -> str:
    """A stored value as text a person reads, never a Python repr: a list as its items joined by
    commas, a mapping as "key: value" pairs joined by semicolons, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{words(k)}: {readable(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(readable(v) for v in value) or "—"
    return str(value)


@register.filter
def route(code: str) -> str:
    """A route of administration as a page names it (``iv`` -> "IV infusion")."""
    return ROUTE_LABELS.get(str(code), str(code))
