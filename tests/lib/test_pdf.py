"""PDFs of the site's pages are rendered offline: the site's static files and ``data:`` images
load, anything else is refused rather than fetched."""

from __future__ import annotations

import pytest

from ketacare.lib.pdf import OfflineFetcher, render_pdf


def test_the_site_stylesheet_and_data_uris_load() -> None:
    fetcher = OfflineFetcher()
    css = fetcher.fetch("http://testserver/static/lib/ketacare.css")
    assert b".topbar" in css.read()
    svg = fetcher.fetch("data:image/svg+xml;base64,PHN2Zy8+")
    assert svg.read() == b"<svg/>"


@pytest.mark.parametrize(
    "url",
    [
        "https://fonts.googleapis.com/css2?family=Inter",
        "http://testserver/media/upload.png",
        "file:///etc/passwd",
        "http://testserver/static/../settings.py",
    ],
)
def test_anything_else_is_refused_without_a_request(url: str) -> None:
    with pytest.raises(ValueError, match="loads only the site's static files"):
        OfflineFetcher().fetch(url)


def test_a_page_that_links_a_remote_font_still_renders_without_it() -> None:
    html = (
        '<link rel="stylesheet" href="https://fonts.example/inter.css">'
        '<img src="https://tracker.example/p.gif"><p>Rosa Delgado</p>'
    )
    assert render_pdf(html, "http://testserver/").startswith(b"%PDF")
