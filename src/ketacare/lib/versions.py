"""No lost updates: every record people edit carries a version number, and a change says which
version it was based on.

The service compares that version with the saved one inside its transaction, with the row
locked, and raises :class:`StaleVersion` when they differ, saving nothing; two saves based on
the same version can therefore never both pass. A page turns :class:`StaleVersion` into a
conflict page (:func:`conflict_page`, status 409) that shows what the person entered beside
what is saved now; the API turns it into 412 Precondition Failed.

HTTP's side, RFC 9110: a read sends the version as a strong entity tag (:func:`etag`,
section 8.8.3); a PATCH must send it back in ``If-Match`` (:func:`expected_version`, section
13.1.1), where ``*`` matches any current version and a weak tag (``W/"3"``) never matches,
because If-Match uses the strong comparison.

Errors::

    StaleVersion            the record changed since the change was based on it
    PreconditionRequired    an API write without If-Match (answered 428, RFC 6585)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

__all__ = [
    "ConflictRow",
    "PreconditionRequired",
    "SavedBy",
    "StaleVersion",
    "check",
    "conflict_page",
    "conflict_rows",
    "etag",
    "expected_version",
    "form_rows",
    "version_field",
]


class StaleVersion(Exception):
    """The record is now at ``version``, not the version the change was based on; ``current``
    is the record as saved now (for the conflict page or the 412 answer)."""

    def __init__(self, current: Any, version: int) -> None:
        super().__init__(f"changed since it was opened: it is now at version {version}")
        self.current = current
        self.version = version


class PreconditionRequired(Exception):
    """An API write came without ``If-Match``: it could silently undo someone else's change."""


def check(expected: int | None, current: Any, version: int) -> None:
    """Raise :class:`StaleVersion` unless ``expected`` is ``version`` (``None``: no check, for
    writes that change nothing a person could have edited, such as the chart's allergy
    status). Call it with the row locked, inside the write's transaction."""
    if expected is not None and expected != version:
        raise StaleVersion(current, version)


# --- HTTP ----------------------------------------------------------------------------------


def etag(version: int) -> str:
    """A strong entity tag for ``version``."""
    return f'"{version}"'


def _strong_versions(header: str) -> set[int]:
    """The versions named by strong tags in an If-Match list; weak or foreign tags name none."""
    found: set[int] = set()
    for tag in header.split(","):
        tag = tag.strip()
        if len(tag) >= 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit():
            found.add(int(tag[1:-1]))
    return found


def expected_version(header: str | None, current: Any, version: int) -> int | None:
    """The version an API write is based on, from its ``If-Match`` header: ``None`` for ``*``
    (any current version), else ``version`` when one of the header's strong tags names it.
    Raises :class:`PreconditionRequired` without the header, :class:`StaleVersion` when no tag
    matches. The service checks the version again with the row locked."""
    if header is None or not header.strip():
        raise PreconditionRequired("If-Match")
    if header.strip() == "*":
        return None
    if version not in _strong_versions(header):
        raise StaleVersion(current, version)
    return version


# --- forms ---------------------------------------------------------------------------------


def version_field() -> forms.IntegerField:
    """A form's hidden field for the version it was opened on."""
    return forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=0,
        error_messages={
            "required": "This form is out of date (it does not say which version of the record "
            "it was opened on): open the page again.",
            "invalid": "This form is out of date: open the page again.",
            "min_value": "This form is out of date: open the page again.",
        },
    )


# --- the conflict page ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictRow:
    """One field of a conflict: its label, what the person entered, what is saved now."""

    label: str
    entered: str
    saved: str

    @property
    def differs(self) -> bool:
        return self.entered != self.saved


@dataclass(frozen=True)
class SavedBy:
    """Who saved the version that is current now, and when, where the audit trail says."""

    name: str = ""
    at: datetime | None = None


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def conflict_rows(
    labels: Mapping[str, str], entered: Mapping[str, Any], saved: Mapping[str, Any]
) -> list[ConflictRow]:
    """A row per labelled field, in the labels' order, with values as a person reads them."""
    return [
        ConflictRow(label, _shown(entered.get(key)), _shown(saved.get(key)))
        for key, label in labels.items()
    ]


def _human(field: forms.Field, value: Any) -> Any:
    """A coded value as its label (``female`` -> "Female"), each of a multiple choice's too;
    anything else as it is."""
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        labels = dict(field.choices)  # type: ignore[arg-type]
        if isinstance(value, list | tuple):
            return [labels.get(v, v) for v in value]
        return labels.get(value, value)
    return value


def form_rows(form: forms.BaseForm, saved: Mapping[str, Any]) -> list[ConflictRow]:
    """The rows for a validated form's visible fields against ``saved`` (the same keys), each
    labelled as on the form and coded values shown as their labels."""
    visible = form.visible_fields()
    fields = {b.name: b.field for b in visible}
    return conflict_rows(
        {b.name: str(b.label) for b in visible},
        {name: _human(field, form.cleaned_data.get(name)) for name, field in fields.items()},
        {name: _human(field, saved.get(name)) for name, field in fields.items()},
    )


def conflict_page(
    request: HttpRequest,
    *,
    title: str,
    rows: Iterable[ConflictRow],
    saved_by: SavedBy,
    start_again: str,
    back: str,
) -> HttpResponse:
    """409 Conflict: what the person entered beside what is saved now, the fields that differ
    highlighted, with a link (``start_again``) that opens the form again on the saved version.
    Nothing of the stale change was saved."""
    rows = list(rows)
    return render(
        request,
        "lib/conflict.html",
        {
            "title": title,
            "rows": rows,
            "differing": sum(r.differs for r in rows),
            "saved_by": saved_by,
            "start_again": start_again,
            "back": back,
        },
        status=409,
    )
