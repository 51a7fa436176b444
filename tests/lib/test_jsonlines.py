"""Batch input: one bad line never stops the rest."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

from django.core.management import call_command


def test_a_line_that_is_not_utf8_gets_its_own_error_and_the_rest_are_scored(
    tmp_path: Path,
) -> None:
    batch = tmp_path / "batch.jsonl"
    good = json.dumps({"instrument": "gad7", "answers": [1, 1, 1, 1, 1, 1, 1]}).encode()
    batch.write_bytes(good + b"\n" + b'{"instrument": "gad\xff7", "answers": []}\n' + good + b"\n")
    out = StringIO()
    call_command("score", "--batch", str(batch), stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line.get("total") for line in lines] == [7, None, 7]
    assert "error" in lines[1]
    assert "gad\ufffd7" in lines[1]["error"]
