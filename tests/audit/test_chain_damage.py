"""A damaged audit chain (its head guard dropped and the head moved back, as someone with rights
to drop triggers could do) stops audited work with a 503 that says why, shows on /healthz, and is
named by the cheap head check; nothing is half-saved. (/healthz's answer to a damaged chain is in
tests/site/test_health.py: SQLite's shared in-memory test database locks its schema while a test
drops a trigger, so the health check's own thread could not read it here.)"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from ketacare.accounts.models import User
from ketacare.audit import selectors, services
from ketacare.audit.models import AuditEvent, ChainHead
from ketacare.patients.models import Patient
from tests.conftest import build_patient, login, registration

pytestmark = pytest.mark.django_db


def move_head_back() -> int:
    """Drop the heads' guard and move this thread's head back by one event."""
    build_patient()
    build_patient()
    number = services.chain_of_this_thread()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_chainhead DISABLE TRIGGER audit_head_guard_rows")
        else:
            cursor.execute("DROP TRIGGER audit_head_moves_forward")
    head = ChainHead.objects.get(chain=number)
    previous = AuditEvent.objects.get(chain=number, seq=head.seq - 1)
    ChainHead.objects.filter(chain=number).update(seq=previous.seq, hash=previous.hash)
    return number


def test_an_intact_trail_has_no_damaged_head() -> None:
    build_patient()
    assert selectors.damaged_heads() == []


def test_a_head_moved_back_is_named_and_stops_audited_writes() -> None:
    number = move_head_back()
    assert selectors.damaged_heads() == [f"chain {number} has events beyond its head"]
    before = Patient.objects.count()
    with pytest.raises(services.ChainDamaged, match="events beyond its head"):
        build_patient()
    assert Patient.objects.count() == before


def test_a_page_answers_503_in_words_and_saves_nothing(clerk: User) -> None:
    client = login(Client(raise_request_exception=False), clerk)  # logging in is audited too
    move_head_back()
    before = Patient.objects.count()
    form = {**registration(mrn="DAMAGE-1"), "date_of_birth": "1980-02-03"}
    response = client.post("/patients/new/", form)
    assert response.status_code == 503
    assert b"Recording is stopped" in response.content
    assert Patient.objects.count() == before


def test_the_api_answers_503_json(clerk: User) -> None:
    client = login(Client(raise_request_exception=False), clerk)
    move_head_back()
    response = client.get("/api/v1/patients", {"q": "a"})
    assert response.status_code == 503
    assert "audit trail cannot record" in response.json()["detail"]


def test_a_head_pointing_at_no_event_and_a_missing_head_are_named() -> None:
    build_patient()
    number = services.chain_of_this_thread()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_chainhead DISABLE TRIGGER audit_head_guard_rows")
        else:
            cursor.execute("DROP TRIGGER audit_head_moves_forward")
            cursor.execute("DROP TRIGGER audit_head_no_delete")
    ChainHead.objects.filter(chain=number).update(hash="f" * 64)
    other = (number + 1) % 8
    ChainHead.objects.filter(chain=other).delete()
    assert sorted(selectors.damaged_heads()) == sorted(
        [f"chain {other} has no head", f"the head of chain {number} points at no event of it"]
    )
