"""The one loader for folders of cited TOML files: instruments, protocols and PK models."""

from __future__ import annotations

import pickle
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ketacare.clinical import instruments, pk, protocols
from ketacare.clinical.library import Library, UnknownEntry
from ketacare.clinical.pk import catalogue


@dataclass(frozen=True)
class Widget:
    id: str
    size: int


class InvalidWidget(ValueError):
    pass


class UnknownWidget(UnknownEntry):
    pass


class Reader:
    """Builds widgets and remembers every file it was asked to read."""

    def __init__(self) -> None:
        self.files: list[str] = []

    def __call__(self, text: str, origin: str) -> Widget:
        self.files.append(origin)
        data = tomllib.loads(text)
        return Widget(data["id"], data["size"])


def widget_folder(tmp_path: Path, *ids: str) -> Path:
    for number, widget_id in enumerate(ids, start=1):
        (tmp_path / f"{widget_id}.toml").write_text(f'id = "{widget_id}"\nsize = {number}\n')
    return tmp_path


def widgets(folder: Path, reader: Reader | None = None) -> Library[Widget]:
    return Library(
        "widget", folder, reader or Reader(), invalid=InvalidWidget, unknown=UnknownWidget
    )


def test_an_unknown_id_names_the_kind_and_every_known_id_sorted(tmp_path: Path) -> None:
    library = widgets(widget_folder(tmp_path, "sprocket", "cog"))
    with pytest.raises(UnknownWidget) as exc:
        library.get("gear")
    assert str(exc.value) == "unknown widget 'gear'; known: cog, sprocket"
    assert (exc.value.kind, exc.value.entry_id, exc.value.known) == (
        "widget",
        "gear",
        ("cog", "sprocket"),
    )


def test_an_unknown_entry_is_a_key_error_that_survives_pickling(tmp_path: Path) -> None:
    library = widgets(widget_folder(tmp_path, "cog"))
    with pytest.raises(KeyError) as exc:
        library.get("gear")
    copy = pickle.loads(pickle.dumps(exc.value))  # noqa: S301 - our own exception
    assert type(copy) is UnknownWidget
    assert str(copy) == "unknown widget 'gear'; known: cog"


def test_entries_are_read_in_file_name_order_and_only_from_toml_files(tmp_path: Path) -> None:
    folder = widget_folder(tmp_path, "sprocket", "cog")
    (folder / "README.txt").write_text("not a widget")
    (folder / "spares").mkdir()
    library = widgets(folder)
    assert library.ids() == ("cog", "sprocket")
    assert library.values() == (Widget("cog", 2), Widget("sprocket", 1))
    assert library.get("cog") == Widget("cog", 2)


def test_nothing_is_read_until_first_use(tmp_path: Path) -> None:
    reader = Reader()
    folder = tmp_path / "widgets"
    library = widgets(folder, reader)  # the folder does not exist yet
    folder.mkdir()
    widget_folder(folder, "cog")
    assert reader.files == []
    assert library.ids() == ("cog",)


def test_the_folder_is_read_once_and_kept(tmp_path: Path) -> None:
    reader = Reader()
    library = widgets(widget_folder(tmp_path, "cog", "sprocket"), reader)
    first = library.by_id()
    (tmp_path / "gear.toml").write_text('id = "gear"\nsize = 3\n')
    library.get("cog")
    assert (library.ids(), library.values()) == (("cog", "sprocket"), tuple(first.values()))
    assert library.by_id() is first
    assert reader.files == ["cog.toml", "sprocket.toml"]


def test_the_entries_cannot_be_changed_by_a_caller(tmp_path: Path) -> None:
    entries = widgets(widget_folder(tmp_path, "cog")).by_id()
    with pytest.raises(TypeError):
        entries["gear"] = Widget("gear", 9)  # type: ignore[index]


def test_a_file_whose_id_is_not_its_name_is_refused_with_the_kinds_error(tmp_path: Path) -> None:
    (tmp_path / "cog.toml").write_text('id = "gear"\nsize = 1\n')
    with pytest.raises(InvalidWidget, match=r"^cog\.toml: id 'gear' differs from the file name$"):
        widgets(tmp_path).by_id()


def test_a_broken_file_raises_what_the_kinds_reader_raises(tmp_path: Path) -> None:
    (tmp_path / "cog.toml").write_text('id = "cog"\n')
    with pytest.raises(KeyError, match="size"):
        widgets(tmp_path).by_id()


@pytest.mark.parametrize(
    ("get", "error", "kind"),
    [
        (instruments.get, instruments.UnknownInstrument, "instrument"),
        (protocols.get, protocols.UnknownProtocol, "protocol"),
        (pk.get, pk.UnknownModel, "model"),
    ],
)
def test_each_kinds_unknown_id_is_caught_as_its_own_error_or_as_an_unknown_entry(
    get: Callable[[str], object], error: type[UnknownEntry], kind: str
) -> None:
    with pytest.raises(error, match=f"^unknown {kind} 'gad-7'; known: "):
        get("gad-7")
    with pytest.raises(UnknownEntry) as any_kind:
        get("gad-7")
    assert type(any_kind.value) is error
    assert isinstance(any_kind.value, KeyError)


def test_the_shipped_libraries_read_their_folders_inside_the_package() -> None:
    assert instruments.SHIPPED.ids() == tuple(instruments.library())
    assert "gad7" in instruments.SHIPPED.ids()
    assert protocols.SHIPPED.values() == tuple(protocols.library().values())
    assert "esketamine-nasal" in protocols.SHIPPED.ids()
    assert catalogue.SHIPPED.ids() == tuple(pk.models())
    assert "routes" not in catalogue.SHIPPED.ids()
