"""JSON-lines input for the batch commands (``ketacare score --batch``, ``ketacare screen
--batch``): one result per non-blank input line, in order, with an error object for a line that
is not JSON, so one bad line never stops the rest.

Large inputs can be handled by several processes (:func:`parallel_results`): the lines go out in
chunks and come back in their order, so the output is the same as the sequential one."""

from __future__ import annotations

import io
import itertools
import json
import multiprocessing
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, TextIO

from django.core.management.base import CommandError

Handler = Callable[[object], dict[str, Any]]
CHUNK = 2000  # lines per task: large enough to amortise the pipe, small enough to stream


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


def results(stream: Iterable[str], handle: Handler, first: int = 1) -> Iterator[str]:
    """``handle`` applied to each decoded line, as JSON text; ``first`` numbers the first line."""
    for number, line in enumerate(stream, start=first):
        if not line.strip():
            continue
        try:
            result = handle(json.loads(line))
        except json.JSONDecodeError as exc:
            result = {"error": f"line {number}: not valid JSON ({exc.msg})"}
        yield json.dumps(result)


def parallel_results(stream: Iterable[str], handle: Handler, workers: int) -> Iterator[str]:
    """The same as :func:`results`, in blocks of lines joined by newlines, computed by
    ``workers`` processes when the input is longer than one chunk. ``handle`` must be a
    module-level function (it is sent to the workers by name)."""
    chunks = _chunks(stream)
    head = next(chunks, None)
    if head is None:
        return
    second = next(chunks, None)
    if workers <= 1 or second is None:  # small input: forking would cost more than it saves
        for chunk in itertools.chain([head], [] if second is None else [second], chunks):
            yield _block(handle, chunk)
        return
    # fork: the workers inherit the loaded instrument library instead of reloading it.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(partial(_block, handle), itertools.chain([head, second], chunks))


def _chunks(stream: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    lines = iter(stream)
    first = 1
    while block := list(itertools.islice(lines, CHUNK)):
        yield first, block
        first += len(block)


def _block(handle: Handler, chunk: tuple[int, list[str]]) -> str:
    first, lines = chunk
    return "\n".join(results(lines, handle, first))
