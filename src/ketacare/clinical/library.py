"""One loader for a folder of cited TOML files, one entry per file, looked up by id.

Instrument definitions (``data/instruments/``), protocol templates (``data/protocols/``) and
pharmacokinetic models (``data/pk/``) are each a :class:`Library`. It reads every ``*.toml`` in
its folder once, on first use, in file-name order, through the kind's own ``read`` (which refuses
a broken file with the kind's own ``ValueError``), and refuses, with that same error class, a file
whose entry's id is not its file name.

Errors: :class:`UnknownEntry` (a ``KeyError``) for an id that is not in the folder; its message
names the kind and every known id. Each kind raises its own subclass (``UnknownInstrument``,
``UnknownProtocol``, ``UnknownModel``), so a caller may catch either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Generic, Protocol, TypeVar


class Identified(Protocol):
    """What a library holds: anything with an ``id``."""

    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=Identified)


class UnknownEntry(KeyError):
    """No entry of ``kind`` has ``entry_id``; ``known`` is every id there is, sorted."""

    def __init__(self, kind: str, entry_id: str, known: tuple[str, ...]) -> None:
        super().__init__(kind, entry_id, known)
        self.kind = kind
        self.entry_id = entry_id
        self.known = known

    def __str__(self) -> str:
        return f"unknown {self.kind} {self.entry_id!r}; known: {', '.join(self.known)}"


@dataclass(eq=False)
class Library(Generic[T]):
    """The entries of one folder by id, read on first use and kept for the process.

    ``folder`` is a path inside the ``ketacare.clinical`` package (``"data/protocols"``), or any
    folder. ``read(text, file_name)`` builds one entry or raises ``invalid``; an unknown id raises
    ``unknown`` (a subclass of :class:`UnknownEntry`) naming ``kind``.
    """

    kind: str
    folder: str | Traversable
    read: Callable[[str, str], T]
    invalid: type[ValueError]
    unknown: type[UnknownEntry] = UnknownEntry
    _entries: Mapping[str, T] | None = field(default=None, init=False, repr=False)

    def by_id(self) -> Mapping[str, T]:
        """Every entry by id (read-only), in file-name order."""
        if self._entries is None:
            self._entries = MappingProxyType(self._load())
        return self._entries

    def get(self, entry_id: str) -> T:
        """The entry with this id, or ``unknown`` listing the known ids."""
        entries = self.by_id()
        try:
            return entries[entry_id]
        except KeyError:
            raise self.unknown(self.kind, entry_id, tuple(sorted(entries))) from None

    def ids(self) -> tuple[str, ...]:
        return tuple(self.by_id())

    def values(self) -> tuple[T, ...]:
        return tuple(self.by_id().values())

    def _load(self) -> dict[str, T]:
        found: dict[str, T] = {}
        for entry in sorted(self._folder().iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".toml"):
                item = self.read(entry.read_text(), entry.name)
                if item.id != entry.name.removesuffix(".toml"):
                    raise self.invalid(f"{entry.name}: id {item.id!r} differs from the file name")
                found[item.id] = item
        return found

    def _folder(self) -> Traversable:
        if isinstance(self.folder, str):
            return resources.files("ketacare.clinical").joinpath(self.folder)
        return self.folder
