"""Scores stored beside the item answers: written with them, re-derived by ``ketacare measures
rescore`` when an instrument file changes, filled in for old rows by the data migration, and read
by the chart without re-scoring (and with a note when a shown score is from an earlier file)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Action, AuditEvent
from ketacare.clinical import instruments
from ketacare.measures import services
from ketacare.measures.models import ItemAnswer, Response
from ketacare.patients.models import Patient
from tests.conftest import login

pytestmark = pytest.mark.django_db

OLD_VERSION = "0123456789ab"  # an instrument file version that is not the shipped one
NOTE = "Some scores were computed with an earlier version of the {} definition"
UNSCORED = {
    "complete": False,
    "total": None,
    "severity": "",
    "flags": [],
    "subscales": {},
    "provisional_diagnosis": None,
    "risk": "",
    "scored_with": "",
}


def record(patient: Patient, instrument_id: str, answers: list[int | None]) -> Response:
    return services.record_response(
        Actor.system("t"),
        patient,
        instrument_id,
        answers,
        context="ad_hoc",
        completed_at=timezone.now(),
    )


def reloaded(response: Response) -> Response:
    return Response.objects.get(pk=response.pk)


def plant(response: Response, **fields: Any) -> None:
    """Change stored fields behind the services' back, as an old row or an old file would."""
    Response.objects.filter(pk=response.pk).update(**fields)


def version(instrument_id: str) -> str:
    return instruments.get(instrument_id).version


# instrument, answers, and what is stored: (complete, total, severity, flags, subscales, risk)
CASES = [
    pytest.param("gad7", [3, 0, 1, 2, 0, 0, 1], (True, 7, "mild", [], {}, ""), id="gad7 complete"),
    pytest.param(
        "gad7", [3, 0, None, 2, 0, 0, 1], (False, None, "", [], {}, ""), id="gad7 incomplete"
    ),
    pytest.param(
        "phq9",
        [0] * 8 + [2],
        (True, 2, "minimal", ["suicidal_ideation"], {}, ""),
        id="phq9 item 9 endorsed",
    ),
    pytest.param(
        "phq9",
        [3, 3, None, 3, 3, 3, 3, 3, 1],
        (False, None, "", ["suicidal_ideation"], {}, ""),
        id="phq9 incomplete, item 9 endorsed",
    ),
    pytest.param(
        "pcl5",
        [4, 3, 3, 3, 3, 2, 2, *[3] * 13],
        (True, 59, "", ["probable_ptsd"], {"B": 16, "C": 4, "D": 21, "E": 18}, ""),
        id="pcl5 complete",
    ),
    pytest.param(
        "pcl5",
        [1, 1, 1, 1, 1, None, 2, *[None] * 13],
        (False, None, "", [], {"B": 5}, ""),
        id="pcl5 only cluster B complete",
    ),
    pytest.param(
        "cssrs-screen",
        [1, 1, 1, 0, 0, 0, None],
        (True, None, "", ["suicide_risk"], {}, "moderate"),
        id="cssrs moderate risk",
    ),
    pytest.param(
        "cssrs-screen",
        [1, None, None, None, None, None, None],
        (False, None, "", [], {}, "low"),
        id="cssrs incomplete",
    ),
]


@pytest.mark.parametrize(("instrument_id", "answers", "stored"), CASES)
def test_the_stored_score_is_the_engines_score_of_the_answers(
    patient: Patient, instrument_id: str, answers: list[int | None], stored: tuple[Any, ...]
) -> None:
    r = reloaded(record(patient, instrument_id, answers))
    assert (r.complete, r.total, r.severity, r.flags, r.subscales, r.risk) == stored
    assert r.scored_with == version(instrument_id)
    engine = instruments.score(instruments.get(instrument_id), answers)
    assert r.score() == engine == r.score_from_answers()


def test_a_failure_in_record_response_stores_neither_answers_nor_scores(
    patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def audit_fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(services, "record", audit_fails)
    with pytest.raises(RuntimeError):
        record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1])
    assert not Response.objects.exists()
    assert not ItemAnswer.objects.exists()


# Rescoring -----------------------------------------------------------------------------------


def rescore(**kwargs: Any) -> services.Rescored:
    return services.rescore_responses(Actor.system("t"), **kwargs)


def rescore_events() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=Action.UPDATE, entity_type="response").order_by("seq")
    )


def test_rescore_fixes_a_row_scored_with_an_older_file_and_leaves_current_rows_alone(
    patient: Patient,
) -> None:
    stale = record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1])
    current = record(patient, "phq9", [1] * 9)
    plant(stale, scored_with=OLD_VERSION, total=99, severity="severe")
    plant(current, total=42)  # wrong, but scored with the current file: not this run's business

    done = rescore()

    assert (done.rescored, done.changed, done.failed) == ({"gad7": 1}, 1, [])
    fixed = reloaded(stale)
    assert (fixed.total, fixed.severity, fixed.scored_with) == (7, "mild", version("gad7"))
    assert reloaded(current).total == 42


def test_rescore_writes_one_audit_event_naming_the_versions_and_the_changed_responses(
    patient: Patient,
) -> None:
    changed = record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1])
    unchanged = record(patient, "gad7", [0] * 7)
    plant(changed, scored_with=OLD_VERSION, total=99)
    plant(unchanged, scored_with="")

    rescore()

    (event,) = rescore_events()
    assert event.old_values == {"scored_with": {"gad7": ["", OLD_VERSION]}}
    assert event.new_values == {
        "scored_with": {"gad7": version("gad7")},
        "rescored": {"gad7": 2},
        "score_changed": [changed.pk],
        "all": False,
    }
    assert event.patient_id is None
    assert event.actor_label == "t"


def test_a_second_rescore_rescores_nothing_and_audits_nothing(patient: Patient) -> None:
    plant(record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1]), scored_with=OLD_VERSION)
    assert rescore().total == 1

    again = rescore()

    assert (again.total, again.rescored) == (0, {})
    assert len(rescore_events()) == 1


def test_rescore_all_rederives_current_rows_too(patient: Patient) -> None:
    response = record(patient, "phq9", [1] * 9)
    plant(response, total=42)

    done = rescore(everything=True)

    assert (done.rescored, done.changed) == ({"phq9": 1}, 1)
    assert reloaded(response).total == 9
    assert rescore_events()[0].new_values["all"] is True


def test_rescore_works_in_batches_each_with_its_own_audit_event(patient: Patient) -> None:
    rows = [record(patient, "gad7", [n % 4] * 7) for n in range(5)]
    Response.objects.filter(pk__in=[r.pk for r in rows]).update(scored_with=OLD_VERSION)

    done = rescore(batch_size=2)

    assert done.rescored == {"gad7": 5}
    assert [e.new_values["rescored"] for e in rescore_events()] == [
        {"gad7": 2},
        {"gad7": 2},
        {"gad7": 1},
    ]
    assert not Response.objects.exclude(scored_with=version("gad7")).exists()


def test_answers_that_no_longer_fit_the_file_are_reported_and_keep_their_stored_score(
    patient: Patient,
) -> None:
    unfit = record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1])
    fine = record(patient, "gad7", [0] * 7)
    ItemAnswer.objects.filter(response=unfit, item=1).update(value=9)  # gad7 items are 0-3
    Response.objects.update(scored_with=OLD_VERSION)

    done = rescore()

    assert done.rescored == {"gad7": 1}
    assert [(pk, "item 1: 9 is out of range" in why) for pk, why in done.failed] == [
        (unfit.pk, True)
    ]
    assert (reloaded(unfit).total, reloaded(unfit).scored_with) == (7, OLD_VERSION)
    assert reloaded(fine).scored_with == version("gad7")


def run_command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("measures", "rescore", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_rescore_command_prints_a_one_line_summary_and_is_idempotent(
    patient: Patient,
) -> None:
    plant(record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1]), scored_with=OLD_VERSION, total=1)
    plant(record(patient, "phq9", [1] * 9), scored_with=OLD_VERSION)
    plant(record(patient, "phq9", [0] * 9), scored_with=OLD_VERSION)

    assert run_command() == ("rescored 3 responses (GAD-7 1, PHQ-9 2); 1 score changed\n", "")
    assert run_command()[0] == (
        "rescored 0 responses: every stored score is from the current instrument files\n"
    )
    assert run_command("--all")[0] == "rescored 3 responses (GAD-7 1, PHQ-9 2); 0 scores changed\n"


def test_the_rescore_command_names_a_response_it_could_not_rescore_and_exits_1(
    patient: Patient,
) -> None:
    unfit = record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1])
    ItemAnswer.objects.filter(response=unfit, item=1).update(value=9)
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as exc:
        call_command("measures", "rescore", "--all", stdout=out, stderr=err)

    assert exc.value.returncode == 1
    assert out.getvalue().startswith("rescored 0 responses")
    assert err.getvalue().startswith(f"response {unfit.pk}: gad7 item 1: 9 is out of range")


# The data migration --------------------------------------------------------------------------

migration = importlib.import_module("ketacare.measures.migrations.0004_score_existing_responses")


def run_data_migration() -> None:
    """0004's function with the historical models it runs with at deploy time."""
    state = MigrationLoader(connection).project_state(("measures", "0004_score_existing_responses"))
    migration.score_existing(state.apps, SimpleNamespace(connection=connection))


def test_the_data_migration_scores_responses_recorded_before_scores_were_stored(
    patient: Patient,
) -> None:
    pcl5 = record(patient, "pcl5", [1, 1, 1, 1, 1, None, 2, *[None] * 13])
    cssrs = record(patient, "cssrs-screen", [1, 1, 1, 0, 0, 0, None])
    Response.objects.update(**UNSCORED)

    run_data_migration()

    for old in (pcl5, cssrs):
        row = reloaded(old)
        assert row.scored_with == version(row.instrument)
        assert row.score() == row.score_from_answers()
    assert reloaded(pcl5).subscales == {"B": 5}
    assert (reloaded(cssrs).risk, reloaded(cssrs).flags) == ("moderate", ["suicide_risk"])


def test_the_data_migration_leaves_scored_rows_and_unscorable_answers_as_they_are(
    patient: Patient,
) -> None:
    scored = record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1])
    unfit = record(patient, "gad7", [0] * 7)
    plant(scored, total=42)
    plant(unfit, **UNSCORED)
    ItemAnswer.objects.filter(response=unfit, item=1).update(value=9)

    run_data_migration()

    assert reloaded(scored).total == 42
    assert reloaded(unfit).scored_with == ""


def test_the_data_migration_works_through_more_than_one_batch(
    patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migration, "BATCH", 2)
    for n in range(5):
        record(patient, "gad7", [n % 4] * 7)
    Response.objects.update(**UNSCORED)

    run_data_migration()

    assert sorted(Response.objects.values_list("total", flat=True)) == [0, 0, 7, 14, 21]
    assert not Response.objects.filter(scored_with="").exists()


# The chart -----------------------------------------------------------------------------------


def measures_page(user: User, patient: Patient) -> str:
    url = reverse("measures:patient_measures", args=[patient.pk])
    response = login(Client(), user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_chart_shows_the_stored_score(prescriber: User, patient: Patient) -> None:
    response = record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1])
    plant(response, total=19, severity="severe")  # as a stored score that differs from today's

    page = measures_page(prescriber, patient)

    assert "<td>19</td>" in page
    assert "<td>severe</td>" in page
    assert "<td>7</td>" not in page


def test_the_chart_notes_scores_from_an_earlier_instrument_file_and_only_for_that_instrument(
    prescriber: User, patient: Patient
) -> None:
    gad7 = record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1])
    record(patient, "phq9", [1] * 9)
    assert NOTE.format("GAD-7") not in measures_page(prescriber, patient)

    plant(gad7, scored_with=OLD_VERSION)
    page = measures_page(prescriber, patient)

    assert NOTE.format("GAD-7") in page
    assert "ketacare measures rescore" in page
    assert NOTE.format("PHQ-9") not in page


def page_queries(user: User, patient: Patient) -> int:
    with CaptureQueriesContext(connection) as queries:
        measures_page(user, patient)
    return len(queries)


def add_responses(patient: Patient, n: int) -> None:
    for i in range(n):
        record(patient, ("gad7", "phq9")[i % 2], [i % 4] * (7 if i % 2 == 0 else 9))


def test_the_measures_page_makes_the_same_queries_for_20_responses_as_for_200(
    prescriber: User,
    patient: Patient,
    django_assert_max_num_queries: Callable[[int], Any],
) -> None:
    # Each count twice: first with the trend charts drawn (and cached), then from the cache.
    add_responses(patient, 20)
    drawn_20, cached_20 = page_queries(prescriber, patient), page_queries(prescriber, patient)
    add_responses(patient, 180)

    with django_assert_max_num_queries(drawn_20):
        measures_page(prescriber, patient)
    assert page_queries(prescriber, patient) == cached_20
    assert cached_20 < drawn_20  # a chart is drawn once per change of its data
