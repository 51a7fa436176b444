"""The session page's stored rule texts in clinicians' words: an alarm's rule with each vital sign
named (``heart_rate > 130`` -> "heart rate > 130") and its source with the works it cites by
name; a template's observation source likewise, by the template's own ``[sources]``."""

from __future__ import annotations

from django import template

from ketacare.clinical import monitoring
from ketacare.clinical.cohort import plain_source
from ketacare.plans.services import protocol_for

register = template.Library()


def _said(text: str, sources: dict[str, str]) -> str:
    plain = plain_source(str(text), sources)
    works = "; ".join(plain.works)
    return "; ".join(part for part in (plain.text, works) if part)


@register.filter
def vital_words(rule: str) -> str:
    return monitoring.in_words(str(rule))


@register.filter
def alarm_source(source: str) -> str:
    return monitoring.in_words(_said(source, dict(monitoring.data()["sources"])))


@register.filter
def protocol_source(source: str, protocol_id: str) -> str:
    return _said(source, dict(protocol_for(str(protocol_id)).sources))
