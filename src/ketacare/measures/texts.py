"""Item text a patient or clinician reads: shipped with ketacare where the licence allows
(GAD-7, PHQ-9, PCL-5), or loaded from the site's own licensed files.

A site puts ``<instrument id>.toml`` files in ``KETACARE_INSTRUMENT_TEXT_DIR``, each with
``items = ["text of item 1", ...]`` (exactly one per item) and optionally ``prompt = "..."``.
A file that does not match its instrument stops start-up of the page with a clear error.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ketacare.clinical import instruments


@dataclass(frozen=True)
class Texts:
    prompt: str
    items: tuple[str, ...]
    source: str  # "shipped" or the site file's path


@cache
def _site_texts(folder: str) -> dict[str, Texts]:
    found: dict[str, Texts] = {}
    if not folder:
        return found
    for path in sorted(Path(folder).glob("*.toml")):
        instrument = instruments.get(path.stem) if path.stem in instruments.library() else None
        if instrument is None:
            raise ImproperlyConfigured(f"{path}: no instrument has id {path.stem!r}")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        items = data.get("items")
        if (
            not isinstance(items, list)
            or len(items) != len(instrument.items)
            or not all(isinstance(t, str) and t.strip() for t in items)
        ):
            raise ImproperlyConfigured(
                f"{path}: items must be a list of {len(instrument.items)} non-empty strings"
            )
        found[path.stem] = Texts(
            str(data.get("prompt", instrument.recall)), tuple(items), str(path)
        )
    return found


def texts_for(instrument: instruments.Instrument) -> Texts | None:
    site = _site_texts(settings.KETACARE_INSTRUMENT_TEXT_DIR).get(instrument.id)
    if site is not None:
        return site
    if all(item.text for item in instrument.items):
        return Texts(instrument.recall, tuple(str(i.text) for i in instrument.items), "shipped")
    return None


def has_patient_text(instrument: instruments.Instrument) -> bool:
    return texts_for(instrument) is not None
