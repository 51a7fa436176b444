"""Patient education handouts: one per route group and language, shipped as data files in
``data/handouts/<route>.<lang>.toml`` (title, sections, sources), written in plain language from
the labels and protocol templates they cite.

A handout's text is its title and a body in a small plain format (``## heading`` lines, paragraphs,
``- bullet`` lines), so a clinic's edited copy and the shipped one are the same kind of thing. The
version is the SHA-256 of that text: what a patient acknowledges is exactly what they read.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "LANGUAGES",
    "ROUTES",
    "Handout",
    "Section",
    "UnknownHandout",
    "body_of",
    "parse_body",
    "route_for",
    "session_routes",
    "shipped",
    "version_of",
]

# Route groups: one handout covers the session routes that share its instructions.
ROUTES: dict[str, str] = {
    "iv": "IV infusion",
    "im-sc": "IM or SC injection",
    "oral-sl": "Oral or sublingual",
    "esketamine": "Esketamine nasal spray",
}
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
_SESSION_ROUTES = {
    "iv": "iv",
    "im": "im-sc",
    "sc": "im-sc",
    "oral": "oral-sl",
    "sublingual": "oral-sl",
    "esketamine": "esketamine",
}


class UnknownHandout(KeyError):
    """No handout for this route group or language."""


@dataclass(frozen=True)
class Section:
    heading: str
    text: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Handout:
    route: str
    language: str
    title: str
    sections: tuple[Section, ...]
    sources: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        return body_of(self.sections)

    @property
    def version(self) -> str:
        return version_of(self.title, self.body)


def route_for(session_route: str) -> str:
    """The handout route group of a supervised session's route (``im`` and ``sc`` share one)."""
    try:
        return _SESSION_ROUTES[session_route]
    except KeyError:
        raise UnknownHandout(session_route) from None


def session_routes(route: str) -> tuple[str, ...]:
    """The supervised-session routes a handout route group covers."""
    return tuple(r for r, group in _SESSION_ROUTES.items() if group == route)


def version_of(title: str, body: str) -> str:
    """The SHA-256 of a handout's text, line endings normalised."""
    text = f"{title.strip()}\n\n{body.strip()}".replace("\r\n", "\n")
    return hashlib.sha256(text.encode()).hexdigest()


def body_of(sections: tuple[Section, ...]) -> str:
    blocks = []
    for section in sections:
        lines = [f"## {section.heading}", *section.text]
        blocks.append("\n\n".join(lines))
        if section.bullets:
            blocks.append("\n".join(f"- {b}" for b in section.bullets))
    return "\n\n".join(blocks)


def parse_body(body: str) -> tuple[Section, ...]:
    """Sections from the plain format; text before the first heading goes under an empty one.
    Paragraphs and bullets keep their kind, not their interleaving (bullets follow the text)."""
    sections: list[Section] = []
    heading, text, bullets = "", list[str](), list[str]()
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if line.startswith("## "):
            if heading or text or bullets:
                sections.append(Section(heading, tuple(text), tuple(bullets)))
            heading, text, bullets = line[3:].strip(), [], []
        elif line.startswith("- "):
            bullets.append(line[2:].strip())
        elif line:
            text.append(line)
    if heading or text or bullets:
        sections.append(Section(heading, tuple(text), tuple(bullets)))
    return tuple(sections)


@cache
def shipped(route: str, language: str) -> Handout:
    """The handout as shipped with ketacare."""
    if route not in ROUTES or language not in LANGUAGES:
        raise UnknownHandout(f"{route}.{language}")
    path = f"data/handouts/{route}.{language}.toml"
    raw = tomllib.loads(resources.files("ketacare.clinical").joinpath(path).read_text())
    return Handout(
        route=raw["route"],
        language=raw["language"],
        title=raw["title"],
        sections=tuple(
            Section(s["heading"], tuple(s.get("text", ())), tuple(s.get("bullets", ())))
            for s in raw["sections"]
        ),
        sources=tuple(raw["sources"]),
    )
