"""The shipped patient handouts: every route in both languages, sourced, versioned by hash."""

from __future__ import annotations

import pytest

from ketacare.clinical import handouts
from ketacare.clinical.handouts import Section

ALL = [(r, lang) for r in handouts.ROUTES for lang in handouts.LANGUAGES]


@pytest.mark.parametrize(("route", "language"), ALL)
def test_every_route_has_a_sourced_handout_in_each_language(route: str, language: str) -> None:
    handout = handouts.shipped(route, language)
    assert (handout.route, handout.language) == (route, language)
    assert handout.title
    assert handout.sources
    assert any("988" in b for s in handout.sections for b in s.bullets)
    assert handouts.parse_body(handout.body) == handout.sections


def test_the_english_and_spanish_handouts_have_the_same_shape() -> None:
    for route in handouts.ROUTES:
        en, es = handouts.shipped(route, "en"), handouts.shipped(route, "es")
        assert [len(s.text) + len(s.bullets) for s in en.sections] == [
            len(s.text) + len(s.bullets) for s in es.sections
        ]
        assert en.version != es.version


def test_the_esketamine_handout_carries_the_label_preparation() -> None:
    body = handouts.shipped("esketamine", "en").body
    assert "Do not eat for 2 hours" in body
    assert "30 minutes" in body
    assert "at least 1 hour before" in body
    assert "until the next day, after a restful sleep" in body


def test_the_version_is_the_sha256_of_the_text_and_ignores_line_endings() -> None:
    assert len(handouts.version_of("T", "a")) == 64
    assert handouts.version_of("T", "a\nb") == handouts.version_of(" T ", "a\r\nb\n")
    assert handouts.version_of("T", "a") != handouts.version_of("T", "b")


def test_the_body_format_reads_headings_paragraphs_and_bullets() -> None:
    body = "Intro line\n\n## Next\nSay this.\n- one\n- two\n\n## Empty"
    assert handouts.parse_body(body) == (
        Section("", ("Intro line",)),
        Section("Next", ("Say this.",), ("one", "two")),
        Section("Empty"),
    )
    assert handouts.parse_body("") == ()


@pytest.mark.parametrize(
    ("session_route", "group"),
    [("iv", "iv"), ("im", "im-sc"), ("sc", "im-sc"), ("sublingual", "oral-sl")],
)
def test_session_routes_map_to_their_handout(session_route: str, group: str) -> None:
    assert handouts.route_for(session_route) == group
    assert session_route in handouts.session_routes(group)


def test_unknown_routes_and_languages_are_refused() -> None:
    with pytest.raises(handouts.UnknownHandout):
        handouts.route_for("rectal")
    with pytest.raises(handouts.UnknownHandout):
        handouts.shipped("iv", "fr")
