"""The REMS form's PDF lays out inside its columns: a long healthcare setting name and address,
a long patient name and an unbroken e-mail address wrap inside their table cells instead of
running into the next column (checked on WeasyPrint's own layout boxes, as printed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from weasyprint.formatting_structure import boxes

from ketacare.accounts.models import User
from ketacare.clinic import services as clinic
from ketacare.lib import pdf
from ketacare.patients.models import Patient
from ketacare.supervised import rems_views
from tests.conftest import login
from tests.supervised.builders import act
from tests.supervised.test_rems import another_patient, discharged

pytestmark = pytest.mark.django_db

LONG_NAME = (
    "Northern New England Interventional Psychiatry and Ketamine-Assisted Psychotherapy "
    "Center at the Riverside Medical Pavilion"
)
LONG_ADDRESS = "1234 Commonwealth Boulevard Northeast, Building C, Suite 1500, Third Floor"
LONG_EMAIL = "maximiliana.montgomery-fitzwilliam@riverside-interventional-psychiatry.example"


def long_settings(admin: User) -> None:
    clinic.save_settings(
        act(admin),
        clinic.SettingsRequest(
            name=LONG_NAME,
            address=LONG_ADDRESS,
            city="Saint Johnsbury Center",
            state="VT",
            zip="05819-1234",
            phone="+1 802 555 0147",
            chairs=("Chair 1", "Chair 2", "Chair 3", "Chair 4"),
            opens_at=time(7),
            closes_at=time(19),
            open_days=tuple(range(7)),
        ),
    )


def cells(box: boxes.Box) -> Iterator[boxes.TableCellBox]:
    if isinstance(box, boxes.TableCellBox):
        yield box
    for child in getattr(box, "children", []):
        yield from cells(child)


def texts(box: boxes.Box) -> Iterator[boxes.TextBox]:
    if isinstance(box, boxes.TextBox):
        yield box
    for child in getattr(box, "children", []):
        yield from texts(child)


def overflowing(document: Any) -> list[str]:
    """Each piece of text that ends right of its table cell's content box, with by how much."""
    found = []
    for page in document.pages:
        for cell in cells(page._page_box):
            right = cell.content_box_x() + cell.width
            for t in texts(cell):
                if t.position_x + t.width > right + 0.5:
                    found.append(f"{t.text!r} by {t.position_x + t.width - right:.0f}px")
    return found


def cell_lines(document: Any, text: str) -> int:
    """How many lines the table cell holding ``text`` (its first ten characters) takes."""
    first = text[:10]
    for page in document.pages:
        for cell in cells(page._page_box):
            if any(t.text.startswith(first) for t in texts(cell)):
                return len({round(t.position_y) for t in texts(cell)})
    raise AssertionError(f"no cell holds {text!r}")


def test_long_values_wrap_inside_their_cells_in_the_pdf(
    admin: User, prescriber: User, nurse: User, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    long_settings(admin)
    prescriber.email = LONG_EMAIL
    prescriber.save()
    patient: Patient = another_patient(
        "LONG-0001",
        given_name="Maximiliana-Alexandrina",
        family_name="Montgomery-Fitzwilliam-Abernathy-Vanderbilt",
    )
    session = discharged(patient, prescriber, nurse)
    laid_out: list[Any] = []

    def keep_layout(html: str, base_url: str) -> bytes:
        document = pdf.lay_out(html, base_url)
        laid_out.append(document)
        rendered: bytes = document.write_pdf()
        return rendered

    monkeypatch.setattr(rems_views, "render_pdf", keep_layout)
    response = login(Client(), nurse).get(reverse("sessions:rems_pdf", args=[session.pk]))
    assert response.status_code == 200
    (tmp_path / "rems.pdf").write_bytes(response.content)

    document = laid_out[0]
    assert overflowing(document) == []
    assert cell_lines(document, LONG_NAME) >= 2
    assert cell_lines(document, LONG_EMAIL) >= 2
