"""The site's own pages as PDF, rendered by WeasyPrint with no network access.

A printable page is rendered to HTML by its view (with the site's stylesheets and, for charts,
``data:`` images) and handed to :func:`render_pdf`. WeasyPrint uses its print rendering, so a
page's ``@media print`` rules shape the PDF; fonts are the machine's own (no web fonts).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from weasyprint import HTML
from weasyprint.document import Document
from weasyprint.urls import URLFetcher, URLFetcherResponse

__all__ = ["OfflineFetcher", "lay_out", "render_pdf"]


class OfflineFetcher(URLFetcher):  # type: ignore[misc]
    """Lets WeasyPrint read the site's static files from disk and decode ``data:`` URIs (the
    charts), and nothing else: the PDF never makes a network request."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)  # decoded in memory by urllib's DataHandler
        found = _static_file(urlsplit(url).path)
        if found is None:
            raise ValueError(f"the PDF loads only the site's static files, not {url}")
        kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
        return URLFetcherResponse(url, Path(found).read_bytes(), {"Content-Type": kind})


def _static_file(path: str) -> str | None:
    if not path.startswith(settings.STATIC_URL):
        return None
    try:
        found = finders.find(path.removeprefix(settings.STATIC_URL))
    except SuspiciousFileOperation:  # "../" out of a static folder
        return None
    return found if isinstance(found, str) else None


def render_pdf(html: str, base_url: str) -> bytes:
    """``html`` (a whole page whose links are relative to ``base_url``) as PDF bytes."""
    pdf: bytes = lay_out(html, base_url).write_pdf()
    return pdf


def lay_out(html: str, base_url: str) -> Document:
    """``html`` laid out in pages as the PDF will be: its boxes say where every line of text
    sits (a test can check that none runs out of its table cell)."""
    document: Document = HTML(string=html, base_url=base_url, url_fetcher=OfflineFetcher()).render()
    return document
