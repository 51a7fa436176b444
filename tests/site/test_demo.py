from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.selectors import verify_chain
from ketacare.measures.models import Response
from ketacare.patients.models import Diagnosis, Medication, Patient
from ketacare.site import demo

pytestmark = pytest.mark.django_db


def test_the_demo_clinic_has_every_role_and_a_realistic_mix_of_patients() -> None:
    result = demo.seed()
    assert result.patients_created == 60
    assert set(User.objects.values_list("role", flat=True)) == {r.value for r in Role}
    assert Patient.objects.count() >= 50
    primaries = Counter(Diagnosis.objects.filter(is_primary=True).values_list("code", flat=True))
    assert sum(primaries.values()) == Patient.objects.count()  # one primary each
    conditions = {code[:3] for code in primaries}
    assert conditions >= {"F41", "F40", "F43", "F42"}  # GAD/panic, social anxiety, PTSD, OCD
    assert Diagnosis.objects.filter(code__startswith="F33").exists()  # comorbid depression
    assert Medication.objects.values("name").distinct().count() >= 10
    with_history = [p for p in Patient.objects.all() if p.measurements.count() > 1]
    assert len(with_history) >= 10
    assert Patient.objects.filter(support_person_name="").exists()  # some lack an escort
    referred = Patient.objects.exclude(referrer_name="").count()
    assert 50 <= referred < Patient.objects.count()  # most have a referrer on record, not all
    assert verify_chain().intact


def test_seeding_twice_changes_nothing() -> None:
    demo.seed(count=5)
    before = (User.objects.count(), Patient.objects.count(), Medication.objects.count())
    again = demo.seed(count=5)
    assert (again.staff_created, again.patients_created) == (0, 0)
    assert (User.objects.count(), Patient.objects.count(), Medication.objects.count()) == before


def test_if_empty_leaves_a_clinic_with_staff_alone(admin: User) -> None:
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "demo not seeded" in out.getvalue()
    assert Patient.objects.count() == 0


def test_the_demo_command_prints_the_logins(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo", "--patients", "2")
    out = capsys.readouterr().out
    assert "8 staff and 2 patients created" in out
    assert "frontdesk.brooks (front_desk)" in out
    assert demo.DEMO_PASSWORD in out


def test_the_demo_clinic_has_four_sessions_in_the_chairs_today() -> None:
    from django.utils import timezone

    from ketacare.supervised import selectors
    from ketacare.supervised.models import Session

    result = demo.seed(count=5)
    assert result.sessions_created == 4
    board = {c.session.patient.mrn: c for c in selectors.board(timezone.now())}
    assert {mrn: c.session.state for mrn, c in board.items()} == {
        "DEMO-0001": "monitoring",
        "DEMO-0002": "dosing",
        "DEMO-0003": "monitoring",
        "DEMO-0004": "checked_in",
    }
    assert [a.kind for a in board["DEMO-0003"].open_alarms] == ["hypertension"]
    assert board["DEMO-0002"].due is not None  # the infusion's next reading is counting down
    assert demo.seed(count=5).sessions_created == 0
    assert Session.objects.count() == 4
    assert verify_chain().intact


def test_the_demo_records_functioning_at_baseline_and_follow_up_in_step_with_the_gad7() -> None:
    demo.seed(count=8)
    baselines = Response.objects.filter(instrument="wsas", context="baseline")
    assert (
        baselines.count() == Response.objects.filter(instrument="gad7", context="baseline").count()
    )
    assert Response.objects.filter(instrument="wsas", context="follow_up").exists()
    for wsas in baselines:
        gad7 = Response.objects.get(patient=wsas.patient, instrument="gad7", context="baseline")
        assert wsas.completed_at == gad7.completed_at
        assert wsas.score().complete
        assert abs(wsas.score().total - gad7.score().total * 40 / 21 * 0.85) <= 4  # type: ignore[operator]
