"""The research export's files: a REDCap project (data dictionary, flat records with repeating
instruments, the list of repeating forms) or one Parquet file per table, each zipped with a
README.txt that says what the data set is and what was taken out of it.

REDCap conventions: the data dictionary has REDCap's 18 columns in REDCap's order; variable names
match ``^[a-z][a-z0-9_]{0,25}$`` and are unique across the project; choices read ``0, Not at all
| 1, Several days``; records carry ``record_id``, ``redcap_repeat_instrument`` and
``redcap_repeat_instance``. The project is classic (no events), so there is no
``instrument_designations.csv``. Item text appears only where the instrument's licence lets
ketacare ship it; otherwise an item is "Item N"."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ketacare.clinical import instruments
from ketacare.clinical.deidentify import Kind, Mode, rules
from ketacare.outcomes.export import Column, Dataset, Table, ValueType


class Format(StrEnum):
    REDCAP = "redcap"
    PARQUET = "parquet"


FORMAT_LABELS = {
    Format.REDCAP: "REDCap project (data dictionary and records, CSV)",
    Format.PARQUET: "Parquet, one file per table (DuckDB, pandas, R arrow)",
}
MODE_LABELS = {
    Mode.DEIDENTIFIED: "De-identified (HIPAA Safe Harbor, 45 CFR 164.514(b)(2))",
    Mode.LIMITED: "Limited data set (45 CFR 164.514(e)), under a data-use agreement",
    Mode.IDENTIFIED: "Identified (everything, names and record numbers included)",
}

DICTIONARY_HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
SYSTEM_COLUMNS = ("record_id", "redcap_repeat_instrument", "redcap_repeat_instance")
VALIDATION = {ValueType.INTEGER: "integer", ValueType.NUMBER: "number", ValueType.DATE: "date_ymd"}
# Full dates, ZIP codes, identifiers and free text are what REDCap's own de-identified export
# should drop: flagged "Identifier?" in the dictionary.
PHI = (Kind.IDENTIFIER, Kind.FREE_TEXT, Kind.ZIP, Kind.DATE, Kind.BIRTH_DATE)
NOT_EXPORTED = (
    "medications, allergies and body measurements (medication names and notes are typed in)",
    "screening intakes, treatment plans and their notes, titration reviews, consents",
    "vital-sign readings one by one, alarms, REMS forms, administrations (their lot numbers "
    "only in the identified export)",
    "the audit trail (it holds IP addresses) and staff accounts",
    "biometric identifiers and photographs: ketacare stores none",
)


@dataclass(frozen=True)
class Form:
    """A REDCap form made from one table: its variables are the table's columns with a prefix;
    a repeating form takes its instance from the table's ``instance`` column."""

    name: str
    table: str
    prefix: str
    instance: str | None = None


FORMS = (
    Form("demographics", "patients", ""),
    Form("diagnoses", "diagnoses", "dx_", "diagnosis"),
    Form("sessions", "sessions", "ses_", "session"),
    Form("adverse_events", "adverse_events", "ae_", "event"),
)
RESPONSE_KEYS = ("study_id", "response", "instrument")  # in the record itself, not variables


@dataclass(frozen=True)
class Variable:
    name: str
    form: str
    type: str  # REDCap field type
    label: str
    choices: str = ""
    note: str = ""
    validation: str = ""
    identifier: bool = False

    def row(self) -> list[str]:
        flag = "y" if self.identifier else ""
        return [
            self.name,
            self.form,
            "",
            self.type,
            self.label,
            self.choices,
            self.note,
            self.validation,
            "",
            "",
            flag,
            *[""] * 7,
        ]


def write(fmt: Format, dataset: Dataset, agreement: str = "") -> bytes:
    """The export as a zip file's bytes; ``agreement`` describes the data-use agreement."""
    files = redcap_files(dataset) if fmt is Format.REDCAP else parquet_files(dataset)
    files["README.txt"] = readme(dataset, fmt, agreement, sorted(files)).encode()
    return _zip(files, dataset.made_on)


def filename(study: str, mode: Mode, fmt: Format, made_on: date) -> str:
    return f"ketacare-{study}-{mode}-{fmt}-{made_on.isoformat()}.zip"


def _zip(files: dict[str, bytes], made_on: date) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(
                name, date_time=(made_on.year, made_on.month, made_on.day, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


# REDCap


def instrument_form(instrument: instruments.Instrument) -> str:
    return instrument.id.replace("-", "_")


def data_dictionary(dataset: Dataset) -> list[Variable]:
    """Every variable of the project, form by form: record_id first, then the demographics,
    the repeating tables and one repeating form per instrument ketacare knows."""
    found = [Variable("record_id", "demographics", "text", "Study id")]
    for form in FORMS:
        found += [
            _variable(form, c, dataset.mode)
            for c in dataset.table(form.table).columns
            if _is_variable(form, c)
        ]
    responses = dataset.table("responses").columns
    for instrument in instruments.library().values():
        form = Form(instrument_form(instrument), "responses", f"{instrument_form(instrument)}_")
        found += [
            _variable(form, c, dataset.mode) for c in responses if c.name not in RESPONSE_KEYS
        ]
        found += [_item(form, instrument, item) for item in instrument.items]
    return found


def _is_variable(form: Form, column: Column) -> bool:
    return column.name not in ("study_id", form.instance)


def _variable(form: Form, column: Column, mode: Mode) -> Variable:
    is_yes_no = column.type is ValueType.BOOLEAN
    return Variable(
        name=f"{form.prefix}{column.name}",
        form=form.name,
        type="yesno" if is_yes_no else "text",
        label=column.label,
        note=column.note,
        validation=VALIDATION.get(column.type, ""),
        identifier=mode is not Mode.DEIDENTIFIED and column.kind in PHI,
    )


def _item(form: Form, instrument: instruments.Instrument, item: instruments.Item) -> Variable:
    text = (item.text or item.label) if instrument.licence.ship_text else f"Item {item.number}"
    return Variable(
        name=f"{form.prefix}{item.number}",
        form=form.name,
        type="radio",
        label=f"{instrument.abbreviation} {item.number}. {text}",
        choices=" | ".join(f"{o.value}, {o.label.replace('|', '/')}" for o in item.options),
    )


def records(dataset: Dataset) -> tuple[list[str], list[dict[str, Any]]]:
    """The flat records file: its header (REDCap's system columns, then every variable) and one
    row per patient's demographics, diagnosis, session, adverse event and response."""
    variables = [v.name for v in data_dictionary(dataset)]
    header = [*SYSTEM_COLUMNS, *variables[1:]]
    by_record: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for form in FORMS:
        for row in dataset.table(form.table).records():
            by_record[row["study_id"]].append(_record(form, row))
    for record_id, row in _response_records(dataset):
        by_record[record_id].append(row)
    order = [r["study_id"] for r in dataset.table("patients").records()]
    return header, [row for record_id in order for row in by_record[record_id]]


def _record(form: Form, row: dict[str, Any]) -> dict[str, Any]:
    values = {
        f"{form.prefix}{k}": v for k, v in row.items() if k not in ("study_id", form.instance)
    }
    repeat = (form.name, row[form.instance]) if form.instance else ("", "")
    return dict(zip(SYSTEM_COLUMNS, (row["study_id"], *repeat), strict=True)) | values


def _response_records(dataset: Dataset) -> Iterator[tuple[str, dict[str, Any]]]:
    answers: dict[tuple[str, int], dict[int, Any]] = defaultdict(dict)
    for a in dataset.table("item_answers").records():
        answers[(a["study_id"], a["response"])][a["item"]] = a["value"]
    instance: dict[tuple[str, str], int] = defaultdict(int)
    for row in dataset.table("responses").records():
        form = row["instrument"].replace("-", "_")
        instance[(row["study_id"], form)] += 1
        values = {f"{form}_{k}": v for k, v in row.items() if k not in RESPONSE_KEYS}
        items = answers[(row["study_id"], row["response"])]
        values |= {f"{form}_{n}": v for n, v in items.items()}
        system = (row["study_id"], form, instance[(row["study_id"], form)])
        yield row["study_id"], dict(zip(SYSTEM_COLUMNS, system, strict=True)) | values


def repeating_instruments(dataset: Dataset) -> list[tuple[str, str]]:
    """Every repeating form (REDCap's "Repeating instruments" upload: form_name, label)."""
    forms = [(f.name, "") for f in FORMS if f.instance]
    return forms + [(instrument_form(i), "") for i in instruments.library().values()]


def redcap_files(dataset: Dataset) -> dict[str, bytes]:
    header, rows = records(dataset)
    return {
        "data_dictionary.csv": _csv(
            [DICTIONARY_HEADER, *(v.row() for v in data_dictionary(dataset))]
        ),
        "records.csv": _csv([header, *([_text(r.get(h)) for h in header] for r in rows)]),
        "repeating_instruments.csv": _csv(
            [("form_name", "custom_form_label"), *repeating_instruments(dataset)]
        ),
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _csv(rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


# Parquet

ARROW_TYPES = {
    ValueType.TEXT: pa.string(),
    ValueType.INTEGER: pa.int64(),
    ValueType.NUMBER: pa.float64(),
    ValueType.DATE: pa.date32(),
    ValueType.BOOLEAN: pa.bool_(),
}


def parquet_files(dataset: Dataset) -> dict[str, bytes]:
    return {f"{t.name}.parquet": _parquet(t) for t in dataset.tables}


def _parquet(table: Table) -> bytes:
    schema = pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in table.columns])
    columns = [
        [float(v) if isinstance(v, Decimal) else v for v in values]
        for values in zip(*table.rows, strict=True)
    ] or [[] for _ in table.columns]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(columns, schema=schema), buffer)
    return buffer.getvalue()


# README


def readme(dataset: Dataset, fmt: Format, agreement: str, files: Sequence[str]) -> str:
    lines = [
        "ketacare research export",
        "",
        f"Study: {dataset.study}",
        f"Mode: {MODE_LABELS[dataset.mode]}",
        f"Made on: {dataset.made_on.isoformat()}",
        f"Data-use agreement: {agreement or 'none'}",
        f"Format: {FORMAT_LABELS[fmt]}",
        f"Files: {', '.join(files)}",
        "",
        "Rows: " + ", ".join(f"{name} {n}" for name, n in dataset.counts().items()),
        "",
        *_what_was_done(dataset.mode),
        "",
        "Fields left out in this mode:",
        *([f"  - {w}" for w in dataset.withheld] or ["  (none)"]),
        "",
        "Never exported by ketacare:",
        *(f"  - {n}" for n in NOT_EXPORTED),
    ]
    if fmt is Format.REDCAP:
        lines += ["", *_redcap_notes()]
    return "\n".join(lines) + "\n"


def _what_was_done(mode: Mode) -> list[str]:
    study_ids = (
        "Each patient is known by a random study id, the same in every export of this study. "
        "The key from study id to patient stays in the clinic's database and is never exported. "
        "Rows are numbered within each patient (session 1, 2, ...), never by database ids."
    )
    if mode is Mode.IDENTIFIED:
        return [study_ids, "Nothing was removed: names, contacts, record numbers and notes."]
    shared = [
        study_ids,
        "Removed: names, street addresses, cities, phone numbers, email addresses, medical "
        "record numbers, lot numbers, and every free-text field (notes, reasons, descriptions "
        "as typed), since free text can hold any identifier.",
    ]
    if mode is Mode.LIMITED:
        return [*shared, "Kept under the data-use agreement: full dates and 5-digit ZIP codes."]
    r = rules()
    return [
        *shared,
        "Every date is reduced to its year; there are no day counts between dates.",
        f"Ages over {r.oldest_shown} are '{r.over_label}', and their birth year is withheld.",
        "ZIP codes keep their first 3 digits; areas of 20,000 people or fewer become "
        f"{r.zip_replacement} ({', '.join(sorted(r.restricted_zip3))}; "
        "HHS de-identification guidance, 2000 Census).",
    ]


def _redcap_notes() -> list[str]:
    return [
        "REDCap: create a classic project (no events, so there is no "
        "instrument_designations.csv), upload data_dictionary.csv, enable the repeating "
        "instruments in repeating_instruments.csv, then import records.csv.",
        "Item text is shown only where the instrument's licence lets ketacare ship it; "
        "elsewhere an item reads 'Item N'. Totals are ketacare's scoring, not calculated fields.",
    ]
