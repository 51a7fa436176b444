"""``{{ instrument_id|abbreviation }}``: an instrument as clinicians name it ("gad7" -> "GAD-7"),
for pages that hold only its id (a stored response, a plan's primary outcome)."""

from __future__ import annotations

from django import template

from ketacare.clinical import instruments

register = template.Library()


@register.filter
def abbreviation(instrument_id: str) -> str:
    found = instruments.library().get(str(instrument_id))
    return found.abbreviation if found else str(instrument_id)
