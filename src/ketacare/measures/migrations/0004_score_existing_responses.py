"""Store the score of every response recorded before scores were stored, derived from its item
answers by the instrument engine with the files shipped when this runs (``scored_with`` names
the version). Batched, so memory stays flat however many responses there are. A response whose
instrument is no longer shipped, or whose answers no longer fit its file, is left unscored
(``scored_with`` blank); its answers are untouched and ``ketacare measures rescore`` names it."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from ketacare.clinical import instruments

BATCH = 500
SCORE_FIELDS = [
    "complete",
    "total",
    "severity",
    "flags",
    "subscales",
    "provisional_diagnosis",
    "risk",
    "scored_with",
]


def score_existing(apps: Any, schema_editor: Any) -> None:
    """Score the unscored responses of shipped instruments, ``BATCH`` at a time in id order."""
    Response = apps.get_model("measures", "Response")
    ItemAnswer = apps.get_model("measures", "ItemAnswer")
    db = schema_editor.connection.alias
    library = instruments.library()
    unscored = Response.objects.using(db).filter(scored_with="", instrument__in=list(library))
    after = 0
    while batch := list(unscored.filter(pk__gt=after).order_by("pk")[:BATCH]):
        answers: dict[int, dict[int, int | None]] = {}
        rows = ItemAnswer.objects.using(db).filter(response_id__in=[r.pk for r in batch])
        for response_id, item, value in rows.values_list("response_id", "item", "value"):
            answers.setdefault(response_id, {})[item] = value
        scored = [r for r in batch if store(r, library[r.instrument], answers.get(r.pk, {}))]
        Response.objects.using(db).bulk_update(scored, SCORE_FIELDS)
        after = batch[-1].pk


def store(
    response: Any, instrument: instruments.Instrument, by_item: dict[int, int | None]
) -> bool:
    """Set ``response``'s stored score from its answers; False if they cannot be scored."""
    values = [by_item.get(n) for n in range(1, len(instrument.items) + 1)]
    try:
        score = instruments.score(instrument, values)
    except instruments.InvalidAnswers:
        return False
    response.complete, response.total = score.complete, score.total
    response.severity, response.risk = score.severity or "", score.risk or ""
    response.flags, response.subscales = list(score.flags), dict(score.subscales)
    response.provisional_diagnosis = score.provisional_diagnosis
    response.scored_with = instrument.version
    return True


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0003_response_stored_scores"),
    ]

    operations = [
        migrations.RunPython(score_existing, migrations.RunPython.noop, elidable=True),
    ]
