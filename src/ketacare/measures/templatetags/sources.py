"""``{{ text|cited }}``: a cited parameter's source as a clinician reads it (the chart's trends,
the outcome documents): research-note tags replaced by the names of the works they cite,
ketacare's own choices named as its configurable default (``clinical.cohort.plain_source``)."""

from __future__ import annotations

from django import template

from ketacare.clinical import cohort

register = template.Library()


@register.filter
def cited(text: str) -> str:
    plain = cohort.plain_source(text, cohort.sources())
    if not plain.works:
        return plain.text
    return f"{plain.text}; {'; '.join(plain.works)}"
