"""Batch input: one bad line never stops the rest; a large batch split over worker processes
gives the same output, in order."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ketacare.clinical import instruments
from ketacare.lib import jsonlines


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


def _request(i: int) -> str:
    answers = [(i + k) % 4 for k in range(7)]
    if i % 5 == 0:
        answers[i % 7] = None  # type: ignore[call-overload]  # an unanswered item
    return json.dumps({"instrument": "gad7", "answers": answers})


def test_parallel_results_equal_the_sequential_ones_in_order_with_true_line_numbers() -> None:
    lines = [_request(i) for i in range(jsonlines.CHUNK * 2 + 7)]
    lines[jsonlines.CHUNK + 11] = "{not json"  # line CHUNK + 12, in the second chunk
    lines.insert(5, "   ")  # blank lines are skipped and still counted
    sequential = list(jsonlines.results(lines, instruments.score_request))
    blocks = list(jsonlines.parallel_results(lines, instruments.score_request, workers=2))
    assert len(blocks) == 3
    assert "\n".join(blocks).split("\n") == sequential
    bad = [json.loads(s) for s in sequential if "error" in s]
    assert bad == [{"error": f"line {jsonlines.CHUNK + 13}: not valid JSON (Expecting property "
                    "name enclosed in double quotes)"}]  # fmt: skip


def test_a_small_batch_is_scored_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object) -> None:
        raise AssertionError("a batch of one chunk must not start worker processes")

    monkeypatch.setattr(jsonlines.multiprocessing, "get_context", no_pool)
    lines = [_request(i) for i in range(jsonlines.CHUNK)]
    blocks = list(jsonlines.parallel_results(lines, instruments.score_request, workers=4))
    assert blocks == ["\n".join(jsonlines.results(lines, instruments.score_request))]
    assert list(jsonlines.parallel_results([], instruments.score_request, workers=4)) == []


def test_score_batch_output_is_the_same_for_any_number_of_workers(tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(_request(i) for i in range(jsonlines.CHUNK + 500)) + "\n")
    outputs = []
    for workers in ("1", "2"):
        out = StringIO()
        call_command("score", "--batch", str(batch), "--workers", workers, stdout=out)
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    assert outputs[0].count("\n") == jsonlines.CHUNK + 500


@pytest.mark.parametrize("value", ["0", "17", "two"])
def test_score_workers_outside_1_to_16_is_refused_naming_the_range(value: str) -> None:
    with pytest.raises(CommandError, match="is not a whole number from 1 to 16"):
        call_command("score", "--batch", "-", "--workers", value)
