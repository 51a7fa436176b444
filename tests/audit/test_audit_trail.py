from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from ketacare.accounts.actor import Actor
from ketacare.audit.models import Action, AppendOnly, AuditEvent
from ketacare.audit.selectors import verify_chain
from ketacare.audit.services import NotInTransaction, chain_of_this_thread, record
from ketacare.patients.models import Patient
from tests.conftest import build_patient

pytestmark = pytest.mark.django_db


def test_an_event_cannot_be_written_outside_a_transaction() -> None:
    # pytest-django wraps each test in a transaction; step outside it to see the rule bite.
    connection_ = transaction.get_connection()
    connection_.in_atomic_block = False
    try:
        with pytest.raises(NotInTransaction):
            record(Actor.system("t"), Action.VIEW, entity_type="x")
    finally:
        connection_.in_atomic_block = True


def test_a_rolled_back_change_leaves_no_event() -> None:
    before = AuditEvent.objects.count()

    def change_that_fails_after_its_event_was_written() -> None:
        with transaction.atomic():
            build_patient(mrn="ROLLBACK-1")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        change_that_fails_after_its_event_was_written()
    assert AuditEvent.objects.count() == before
    assert not Patient.objects.filter(mrn="ROLLBACK-1").exists()
    assert verify_chain().intact


def test_events_refuse_changes_through_the_orm() -> None:
    build_patient()
    event = AuditEvent.objects.first()
    assert event is not None
    event.action = "delete"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()


@pytest.mark.parametrize(
    "sql", ["UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"]
)
def test_the_database_itself_refuses_to_change_or_remove_events(sql: str) -> None:
    build_patient()
    with (
        pytest.raises((IntegrityError, DatabaseError), match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.exclude(action="x").count() == AuditEvent.objects.count()


def _without_append_only_triggers() -> None:
    """What an attacker with database rights could do; undone when the test's transaction ends."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # settle deferred FK checks first
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")


def test_audit_verify_passes_on_an_intact_trail(capsys: pytest.CaptureFixture[str]) -> None:
    build_patient()
    build_patient()
    call_command("audit", "verify")
    assert f"audit chain intact: {AuditEvent.objects.count()} events" in capsys.readouterr().out


def test_audit_verify_exits_non_zero_when_an_event_was_edited() -> None:
    build_patient(given_name="Original")
    build_patient()
    _without_append_only_triggers()
    first = AuditEvent.objects.order_by("seq").first()
    assert first is not None
    AuditEvent.objects.filter(pk=first.pk).update(new_values={"given_name": "Forged"})
    with pytest.raises(CommandError, match="audit chain broken") as exc:
        call_command("audit", "verify")
    assert exc.value.returncode == 1


def test_audit_verify_exits_non_zero_when_an_event_was_deleted() -> None:
    for _ in range(3):
        build_patient()
    _without_append_only_triggers()
    chain = chain_of_this_thread()
    AuditEvent.objects.filter(chain=chain, seq=2).delete()
    verdict = verify_chain()
    assert f"chain {chain}, event #2..#2 missing (deleted?)" in verdict.problems
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_audit_verify_catches_deletion_of_the_newest_event() -> None:
    build_patient()
    _without_append_only_triggers()
    newest = AuditEvent.objects.order_by("-seq").first()
    assert newest is not None
    AuditEvent.objects.filter(pk=newest.pk).delete()
    assert any("head records" in p for p in verify_chain().problems)
