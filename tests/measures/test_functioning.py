"""Functioning (the WSAS) beside the symptom trends: the chart, self-report and clinician entry."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.measures import selectors, services
from ketacare.measures.models import Response
from ketacare.patients.models import Patient
from tests.conftest import login

pytestmark = pytest.mark.django_db


def record(patient: Patient, instrument_id: str, answers: list[int | None]) -> Response:
    return services.record_response(
        Actor.system("t"),
        patient,
        instrument_id,
        answers,
        context="ad_hoc",
        completed_at=timezone.now(),
    )


def measures_page(user: User, patient: Patient) -> str:
    response = login(Client(), user).get(reverse("measures:patient_measures", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_wsas_sits_under_functioning_right_after_the_primary_symptom_trend(
    prescriber: User, patient: Patient
) -> None:
    record(patient, "cadss", [0] * 23)  # sorts first by id, but is no outcome measure
    record(patient, "phq9", [1] * 9)
    record(patient, "gad7", [2] * 7)
    record(patient, "wsas", [3, 3, 2, 2, 2])

    page = measures_page(prescriber, patient)

    order = [page.index(f'id="{anchor}"') for anchor in ("measure-gad7", "functioning")]
    order += [page.index('id="measure-wsas"'), page.index('id="measure-cadss"')]
    assert order == sorted(order)
    functioning = page.split('id="functioning"')[1].split("</section>")[0]
    assert '<h3 id="functioning-heading">Functioning</h3>' in functioning
    assert "<td>12</td>" in functioning
    assert "0-9 subclinical; 10-20 significant impairment; 21-40 moderately severe" in functioning
    assert "Mundt 2002" in functioning


def test_a_patient_without_a_wsas_is_told_functioning_is_not_measured_yet(
    prescriber: User, patient: Patient
) -> None:
    record(patient, "gad7", [2] * 7)
    page = measures_page(prescriber, patient)
    assert "Functioning not measured yet (WSAS)." in page
    assert reverse("measures:record", args=[patient.pk, "wsas"]) in page  # "Enter a measure"


def test_chart_trends_split_symptoms_from_functioning(patient: Patient) -> None:
    record(patient, "wsas", [None, 1, 1, 1, 1])  # work left blank: incomplete, no total
    record(patient, "cadss", [0] * 23)
    record(patient, "ybocs", [1] * 10)

    trends = selectors.chart_trends(patient)

    assert [t.series.instrument.id for t in trends.symptoms] == ["ybocs", "cadss"]
    assert trends.primary is trends.symptoms[0]
    assert [t.series.instrument.id for t in trends.other_symptoms] == ["cadss"]
    (wsas,) = trends.functioning
    assert wsas.series.points[0].score.total is None


def test_a_chart_with_nothing_recorded_says_so(prescriber: User, patient: Patient) -> None:
    page = measures_page(prescriber, patient)
    assert "No measures recorded yet." in page
    assert 'id="functioning"' not in page
    assert selectors.chart_trends(patient).primary is None


def test_a_patient_completes_the_wsas_by_self_report(patient: Patient) -> None:
    issued = services.issue_request(Actor.system("t"), patient, ["wsas"], context="pre_session")
    client = Client()
    page = client.post("/self-report/", {"code": issued.code}, follow=True).content.decode()
    assert "my home management (cleaning, tidying" in page  # WSAS item text ships
    assert "8 Very severely" in page
    answers = {f"wsas__{n}": str(v) for n, v in enumerate([2, 2, 2, 2, 2], 1)}
    done = client.post("/self-report/form/", answers)
    assert b"Your answers were sent" in done.content
    response = Response.objects.get(instrument="wsas")
    assert (response.source, response.score().total, response.score().severity) == (
        "self_report",
        10,
        "significant_impairment",
    )


def test_a_clinician_can_enter_a_wsas(prescriber: User, patient: Patient) -> None:
    url = reverse("measures:record", args=[patient.pk, "wsas"])
    page = login(Client(), prescriber).get(url)
    assert page.status_code == 200
    assert b"ability to form and maintain close relationships" in page.content
