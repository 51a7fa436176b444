"""JSON-lines input for the batch commands (``ketacare score --batch``, ``ketacare screen
--batch``): one result per non-blank input line, in order, with an error object for a line that
is not JSON, so one bad line never stops the rest."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from django.core.management.base import CommandError


def open_input(path: str, option: str) -> TextIO:
    """The file at ``path`` (``-`` for standard input), or exit 2 naming the option.

    Bytes that are not UTF-8 are read as U+FFFD, so such a line fails on its own (as bad JSON or
    a bad value) instead of stopping the whole batch."""
    try:
        if path == "-":
            raw = getattr(sys.stdin, "buffer", None)  # absent when stdin is already text
            if raw is None:
                return sys.stdin
            return io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CommandError(f"{option} {path}: {exc.strerror}", returncode=2) from exc


def results(stream: TextIO, handle: Callable[[object], dict[str, Any]]) -> Iterator[str]:
    """``handle`` applied to each decoded line, as JSON text."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            result = handle(json.loads(line))
        except json.JSONDecodeError as exc:
            result = {"error": f"line {number}: not valid JSON ({exc.msg})"}
        yield json.dumps(result)
