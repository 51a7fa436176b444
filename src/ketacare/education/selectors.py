"""Reads: the current text of each handout (the clinic's newest edit, else as shipped), a
patient's deliveries, and whether the gate's education item is met."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from ketacare.clinical import handouts
from ketacare.education.models import HandoutDelivery, HandoutVersion
from ketacare.patients.models import Patient


@dataclass(frozen=True)
class CurrentHandout:
    route: str
    language: str
    number: int  # 0: as shipped
    title: str
    body: str
    version: str
    sources: tuple[str, ...]
    edited_by: str = ""
    edited_at: datetime | None = None
    reason: str = ""

    @property
    def sections(self) -> tuple[handouts.Section, ...]:
        return handouts.parse_body(self.body)

    @property
    def route_label(self) -> str:
        return handouts.ROUTES[self.route]

    @property
    def language_label(self) -> str:
        return handouts.LANGUAGES[self.language]


def current(route: str, language: str) -> CurrentHandout:
    """Raises :class:`handouts.UnknownHandout` for a route or language ketacare has no text for."""
    shipped = handouts.shipped(route, language)
    edit = HandoutVersion.objects.filter(route=route, language=language).first()
    if edit is None:
        return CurrentHandout(
            route, language, 0, shipped.title, shipped.body, shipped.version, shipped.sources
        )
    return CurrentHandout(
        route,
        language,
        edit.number,
        edit.title,
        edit.body,
        edit.version,
        shipped.sources,
        str(edit.edited_by),
        edit.edited_at,
        edit.reason,
    )


def catalogue() -> list[CurrentHandout]:
    return [current(r, lang) for r in handouts.ROUTES for lang in handouts.LANGUAGES]


def history(route: str, language: str) -> QuerySet[HandoutVersion]:
    return HandoutVersion.objects.filter(route=route, language=language).select_related("edited_by")


def deliveries(patient: Patient) -> QuerySet[HandoutDelivery]:
    return HandoutDelivery.objects.filter(patient=patient).select_related("issued_by")


def has_read(patient: Patient, route: str) -> bool:
    """The gate's rule: a handout for this route group was acknowledged through its link, or
    recorded as given on paper, in any language and whatever version (a later clinic edit does
    not ask the patient again)."""
    return HandoutDelivery.objects.filter(
        Q(acknowledged_at__isnull=False), patient=patient, route=route
    ).exists()
