"""A measure entered in error counts in no outcome (issue 18, point 3): the dashboard's episode
summaries leave it out once marked, and the research export holds none of its rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.clinical.deidentify import Mode
from ketacare.measures import services as measures
from ketacare.measures.models import Response
from ketacare.outcomes import summaries
from ketacare.outcomes.export_formats import Format
from ketacare.outcomes.models import EpisodeSummary
from ketacare.patients.models import Patient
from tests.outcomes.builders import measure
from tests.outcomes.test_dashboard import Cohort, cohort  # noqa: F401  (the fixture)
from tests.outcomes.test_export import clinic, export, tables, unzip  # noqa: F401

pytestmark = pytest.mark.django_db

WRONG = "Another patient's answers typed into this chart by mistake"


def test_a_response_marked_in_error_no_longer_counts_as_the_patients_response(
    cohort: Cohort,  # noqa: F811
    nurse: User,
) -> None:
    measure(cohort.ben, 6, 5)  # 15 -> 5: a response
    summaries.refresh_stale()
    assert EpisodeSummary.objects.get(patient=cohort.ben, instrument="gad7").response_at
    latest = Response.objects.filter(patient=cohort.ben).order_by("-completed_at").first()
    assert latest is not None
    measures.mark_entered_in_error(Actor(nurse, Actor.system("t").channel), latest, WRONG)
    summaries.refresh_stale()
    after = EpisodeSummary.objects.get(patient=cohort.ben, instrument="gad7")
    assert after.response_at is None


def test_the_research_export_leaves_out_a_response_marked_in_error(
    clinic: dict[str, Patient],  # noqa: F811
    prescriber: User,
    tmp_path: Path,
) -> None:
    responses = Response.objects.filter(patient=clinic["zeb"])
    before = responses.count()
    wrong = responses.first()
    assert wrong is not None
    assert before > 1
    measures.mark_entered_in_error(Actor(prescriber, Actor.system("t").channel), wrong, WRONG)
    data = tables(unzip(export(prescriber, Mode.DEIDENTIFIED, Format.PARQUET)))
    assert len(data["responses"]) == before - 1
    kept = sum(r.answers.count() for r in responses.not_in_error())
    assert len(data["item_answers"]) == kept
