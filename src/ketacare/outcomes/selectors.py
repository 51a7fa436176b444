"""Reads of the research export's own tables: the data-use agreements, all of them or those in
force on a day. Neither shows patient data, so neither is audited."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from ketacare.outcomes.models import DataUseAgreement


def agreements() -> QuerySet[DataUseAgreement]:
    return DataUseAgreement.objects.select_related("recorded_by")


def current_agreements(on: date) -> QuerySet[DataUseAgreement]:
    """The agreements a limited data set may be released under on ``on``."""
    return agreements().filter(signed_on__lte=on, expires_on__gte=on)
