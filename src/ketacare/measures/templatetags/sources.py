"""``{{ text|cited }}``: a cited parameter's source as a clinician reads it (the chart's trends,
the outcome documents, the screening review, the session page): research-note tags replaced by
the names of the works they cite, ketacare's own choices named as its configurable default
(``clinical.cohort.plain_source``). The works are the outcome and cohort files' unless the
filter is given another data file's ``[sources]``: ``{{ rule.source|cited:sources }}``."""

from __future__ import annotations

from collections.abc import Mapping

from django import template

from ketacare.clinical import cohort

register = template.Library()


@register.filter
def cited(text: str, sources: Mapping[str, str] | None = None) -> str:
    plain = cohort.plain_source(str(text), cohort.sources() if sources is None else sources)
    if not plain.works:
        return plain.text
    works = "; ".join(plain.works)
    return f"{plain.text}; {works}" if plain.text else works
