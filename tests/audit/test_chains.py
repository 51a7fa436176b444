"""Several independent audit chains: a transaction appends to its thread's chain and locks only
that chain's head; heads are guarded in the database like the events; verification walks every
chain against its head."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.audit import chain as hashing
from ketacare.audit import services
from ketacare.audit.models import CHAINS, Action, AuditEvent, ChainHead
from ketacare.audit.selectors import verify_chain
from tests.conftest import build_patient

pytestmark = pytest.mark.django_db


def test_every_chain_has_a_head_from_the_start() -> None:
    heads = ChainHead.objects.order_by("chain")
    assert [h.chain for h in heads] == list(range(CHAINS))
    assert verify_chain().intact


def test_threads_spread_over_the_chains_and_keep_theirs() -> None:
    seen: list[int] = []
    together = threading.Barrier(16)  # all alive at once: a finished thread's id is reused

    def note() -> None:
        first = services.chain_of_this_thread()
        together.wait()
        seen.extend([first, services.chain_of_this_thread()])

    threads = [threading.Thread(target=note) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pairs = list(zip(seen[::2], seen[1::2], strict=True))
    assert all(a == b for a, b in pairs)  # a thread always writes to the same chain
    assert len({a for a, _ in pairs}) > 1  # and not every thread to the same one
    assert all(0 <= a < CHAINS for a, _ in pairs)


def test_a_write_locks_only_its_own_chains_head(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "chain_of_this_thread", lambda: 3)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        services.record(Actor.system("t"), Action.VIEW, entity_type="x")
        services.record(Actor.system("t"), Action.VIEW, entity_type="y")
    heads = [q["sql"] for q in queries.captured_queries if "audit_chainhead" in q["sql"]]
    reads = [sql for sql in heads if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2
    assert all('"chain" = 3' in sql for sql in reads)
    if connection.vendor == "postgresql":
        assert all("FOR UPDATE" in sql for sql in reads)
    events = AuditEvent.objects.filter(chain=3).order_by("seq")
    assert [(e.seq, e.entity_type) for e in events] == [(1, "x"), (2, "y")]
    assert events[1].prev_hash == events[0].hash
    assert ChainHead.objects.get(chain=3).seq == 2
    assert ChainHead.objects.get(chain=4).seq == 0


def test_chains_are_verified_apart_and_a_problem_names_its_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for number in (1, 2):
        monkeypatch.setattr(services, "chain_of_this_thread", lambda n=number: n)
        build_patient()
        build_patient()
    assert verify_chain().intact
    assert verify_chain().events == AuditEvent.objects.count()
    with connection.cursor() as cursor:  # what someone with rights to drop triggers could do
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_delete")
    AuditEvent.objects.filter(chain=2, seq=1).delete()
    problems = verify_chain().problems
    assert problems[0] == "chain 2, event #1..#1 missing (deleted?)"
    assert all(p.startswith("chain 2, ") for p in problems)


def test_chain_zero_events_hash_as_before_there_were_chains() -> None:
    event = AuditEvent(
        chain=0, seq=1, occurred_at=timezone.now(), actor_label="x", action="view", channel="cli"
    )
    assert "chain" not in event.payload()
    event.chain = 5
    assert event.payload()["chain"] == 5


def _head_sql(sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_chainhead SET seq = 0 WHERE chain = {chain}",  # moved back
        "UPDATE audit_chainhead SET hash = 'x' WHERE chain = {chain}",  # onto nothing
        "UPDATE audit_chainhead SET seq = seq + 1 WHERE chain = {chain}",  # past its events
        "UPDATE audit_chainhead SET chain = 99 WHERE chain = {chain}",
        "DELETE FROM audit_chainhead",
        "INSERT INTO audit_chainhead (chain, seq, hash) VALUES (99, 5, 'x')",
    ],
)
def test_the_database_refuses_to_move_a_head_anywhere_but_forward(sql: str) -> None:
    build_patient()
    chain = services.chain_of_this_thread()
    before = list(ChainHead.objects.order_by("chain").values_list("chain", "seq", "hash"))
    with pytest.raises((IntegrityError, DatabaseError), match="audit chain head"):
        _head_sql(sql.format(chain=chain))
    assert list(ChainHead.objects.order_by("chain").values_list("chain", "seq", "hash")) == before


def test_truncating_the_heads_is_refused_on_postgresql() -> None:
    if connection.vendor != "postgresql":  # SQLite has no TRUNCATE; DELETE is refused above
        assert connection.vendor == "sqlite"
        return
    with pytest.raises(DatabaseError, match="audit chain heads cannot be removed"):
        _head_sql("TRUNCATE audit_chainhead CASCADE")


def test_deleting_the_newest_events_and_moving_the_head_back_is_refused() -> None:
    """The attack the head's guard stops: events deleted (their triggers dropped), then the
    head moved back to hide it."""
    build_patient()
    build_patient()
    chain = services.chain_of_this_thread()
    head = ChainHead.objects.get(chain=chain)
    previous = AuditEvent.objects.get(chain=chain, seq=head.seq - 1)
    with pytest.raises((IntegrityError, DatabaseError), match="only moves forward"):
        _head_sql(
            f"UPDATE audit_chainhead SET seq = {previous.seq}, hash = '{previous.hash}' "  # noqa: S608
            f"WHERE chain = {chain}"
        )
    assert verify_chain().intact


def test_the_genesis_is_the_empty_chains_hash() -> None:
    assert ChainHead.objects.get(chain=CHAINS - 1).hash == hashing.GENESIS


@pytest.mark.django_db
def test_many_events_written_at_once_follow_each_other_on_one_chain() -> None:
    from ketacare.audit.selectors import verify_chain

    entries = [services.Entry(entity_type="board", new={"n": n}) for n in range(5)]
    with transaction.atomic():
        assert services.record_many(Actor.system("t"), Action.VIEW, []) == []
        events = services.record_many(Actor.system("t"), Action.VIEW, entries)
    seqs = [e.seq for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert verify_chain().intact
