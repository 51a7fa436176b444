"""Signed checkpoints outside the database find what the chains alone cannot: the newest events
deleted and the heads moved back to match (by someone able to drop the triggers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from ketacare.audit import checkpoint, selectors, services
from ketacare.audit.models import AuditEvent, ChainHead
from tests.conftest import build_patient

pytestmark = pytest.mark.django_db
KEY = "k" * 64


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path: Path) -> Path:
    file = tmp_path / "checkpoints.jsonl"
    with override_settings(KETACARE_AUDIT_CHECKPOINT_FILE=file, KETACARE_AUDIT_KEY=KEY):
        yield file


def delete_newest_event_and_move_head_back() -> int:
    """What a database superuser could do: drop the guards, delete this thread's newest event
    and move its head back onto the one before, so the chain alone still verifies."""
    number = services.chain_of_this_thread()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_chainhead DISABLE TRIGGER audit_head_guard_rows")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_head_moves_forward")
            cursor.execute("DROP TRIGGER audit_event_no_delete")
    head = ChainHead.objects.get(chain=number)
    previous = AuditEvent.objects.get(chain=number, seq=head.seq - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM audit_auditevent WHERE chain = %s AND seq = %s", [number, head.seq]
        )
    ChainHead.objects.filter(chain=number).update(seq=previous.seq, hash=previous.hash)
    return number


def test_a_checkpoint_is_one_signed_line_per_call_in_a_private_file(checkpoint_file: Path) -> None:
    build_patient()
    checkpoint.take()
    checkpoint.take()
    lines = checkpoint_file.read_text().splitlines()
    assert len(lines) == 2
    assert set(json.loads(lines[0])) == {"taken_at", "heads", "mac"}
    assert checkpoint_file.stat().st_mode & 0o777 == 0o600
    assert len(checkpoint.read().checkpoints) == 2


def test_verify_matches_the_checkpoints_of_an_intact_trail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_patient()
    call_command("audit", "checkpoint")
    build_patient()
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "audit chain intact" in out
    assert "matches 1 signed checkpoint(s)" in out


def test_verify_without_checkpoints_says_what_it_cannot_see(
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_patient()
    call_command("audit", "verify")
    assert "no signed checkpoint" in capsys.readouterr().out


def test_a_deleted_tail_behind_moved_back_heads_is_found(
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_patient()
    build_patient()
    checkpoint.take()
    number = delete_newest_event_and_move_head_back()
    assert selectors.verify_chain().intact  # the chains alone cannot tell
    with pytest.raises(CommandError) as failed:
        call_command("audit", "verify")
    assert failed.value.returncode == 1
    err = capsys.readouterr().err
    assert f"chain {number}: event #" in err
    assert "is gone: the newest events were deleted" in err
    assert checkpoint.behind() == [f"the head of chain {number} is behind the newest checkpoint"]


def test_an_edited_checkpoint_line_is_refused(checkpoint_file: Path) -> None:
    build_patient()
    checkpoint.take()
    line = json.loads(checkpoint_file.read_text())
    line["heads"] = {chain: [0, "0" * 64] for chain in line["heads"]}
    checkpoint_file.write_text(json.dumps(line) + "\nnot json\n")
    reading = checkpoint.read()
    assert reading.checkpoints == ()
    assert "checkpoint line 1" in reading.problems[0]
    assert "not signed with this clinic's key" in reading.problems[0]
    assert reading.problems[1] == "checkpoint line 2 is not a checkpoint (damaged file?)"
    assert checkpoint.behind()[0].startswith("checkpoint line 1")


def test_a_checkpoint_under_another_key_does_not_count(checkpoint_file: Path) -> None:
    build_patient()
    checkpoint.take()
    with override_settings(KETACARE_AUDIT_KEY="x" * 64):
        assert "not signed with this clinic's key" in checkpoint.read().problems[0]


def test_a_later_checkpoint_behind_an_earlier_one_is_named(checkpoint_file: Path) -> None:
    build_patient()
    build_patient()
    first = checkpoint.take()
    chain, (seq, _) = next((c, h) for c, h in first.heads.items() if h[0] > 1)
    earlier = AuditEvent.objects.get(chain=chain, seq=seq - 1)
    heads = {**first.heads, chain: (earlier.seq, earlier.hash)}
    taken_at = first.taken_at.replace(microsecond=0)
    body = {
        "taken_at": taken_at.isoformat(),
        "heads": {str(c): list(h) for c, h in heads.items()},
        "mac": checkpoint.sign(KEY.encode(), taken_at, heads),
    }
    with checkpoint_file.open("a") as out:
        out.write(json.dumps(body) + "\n")
    problems = checkpoint.compare(checkpoint.read())
    assert problems == [
        f"chain {chain}: the checkpoint of {taken_at:%Y-%m-%d %H:%M} saw #{seq - 1}, "
        f"behind #{seq} seen earlier: its head had been moved back"
    ]


def test_a_rewritten_event_at_a_checkpoint_is_named(checkpoint_file: Path) -> None:
    build_patient()
    point = checkpoint.take()
    chain, (seq, _) = next((c, h) for c, h in point.heads.items() if h[0])
    forged = {**point.heads, chain: (seq, "f" * 64)}
    body = {
        "taken_at": point.taken_at.isoformat(),
        "heads": {str(c): list(h) for c, h in forged.items()},
        "mac": checkpoint.sign(KEY.encode(), point.taken_at, forged),
    }
    checkpoint_file.write_text(json.dumps(body) + "\n")
    assert checkpoint.compare(checkpoint.read()) == [
        f"chain {chain}: event #{seq} differs from what the checkpoint of "
        f"{point.taken_at:%Y-%m-%d %H:%M} saw: the chain was rewritten"
    ]


def test_a_checkpoint_is_taken_only_when_the_newest_is_old_enough(checkpoint_file: Path) -> None:
    build_patient()
    assert checkpoint.take_if_due(60) is not None
    assert checkpoint.take_if_due(60) is None
    assert len(checkpoint_file.read_text().splitlines()) == 1


def test_without_a_configured_key_one_is_made_once_and_kept_private(tmp_path: Path) -> None:
    with override_settings(KETACARE_AUDIT_KEY="", KETACARE_VAR_DIR=tmp_path / "var"):
        first = checkpoint.key()
        assert checkpoint.key() == first
        key_file = tmp_path / "var" / "audit_checkpoint_key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert len(first) == 64


def test_an_unreadable_checkpoint_file_is_not_a_health_failure(checkpoint_file: Path) -> None:
    checkpoint_file.mkdir()  # a folder where the file should be: reading it fails
    assert checkpoint.behind() == []


def test_the_worker_takes_a_checkpoint_when_one_is_due(checkpoint_file: Path) -> None:
    build_patient()
    call_command("worker", "--once", "--id", "checkpointer")
    call_command("worker", "--once", "--id", "checkpointer")  # the first is under an hour old
    assert len(checkpoint.read().checkpoints) == 1
