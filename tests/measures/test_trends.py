from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.measures import selectors, services
from ketacare.patients.models import Patient
from tests.conftest import login

pytestmark = pytest.mark.django_db


def record(
    patient: Patient,
    instrument: str,
    answers: list[int | None],
    days_ago: float,
    context: str = "follow_up",
    hours: Decimal | None = None,
) -> None:
    services.record_response(
        Actor.system("t"),
        patient,
        instrument,
        answers,
        context=context,
        hours_after_dose=hours,
        completed_at=timezone.now() - timedelta(days=days_ago),
    )


def test_the_trend_compares_the_latest_with_the_baseline_and_cites_its_rules(
    patient: Patient,
) -> None:
    record(patient, "gad7", [3, 3, 2, 2, 2, 2, 1], days_ago=30, context="baseline")  # 15
    record(
        patient,
        "gad7",
        [1, 1, 1, 1, 1, 1, 1],
        days_ago=20,
        context="post_session",
        hours=Decimal("4"),
    )  # 7
    record(patient, "gad7", [1, 1, 1, 1, 0, 0, 0], days_ago=1)  # 4
    (trend,) = [selectors.trend(s) for s in selectors.series(patient)]
    assert trend.outcome is not None
    o = trend.outcome
    assert (o.baseline, o.current, o.change) == (15, 4, -11)
    assert round(o.percent_change or 0) == -73
    assert (o.response, o.remission, o.reliable_improvement) == (True, True, True)
    assert len(trend.series.dose_times) == 1  # the post-session response implies a dosing time
    assert trend.svg is not None
    assert trend.svg.startswith("<svg")


def test_an_incomplete_response_is_listed_but_never_plotted_or_compared(patient: Patient) -> None:
    record(patient, "gad7", [3, 3, 3, 3, 3, 3, 3], days_ago=10, context="baseline")
    record(patient, "gad7", [0, 0, 0, None, 0, 0, 0], days_ago=1)
    (trend,) = [selectors.trend(s) for s in selectors.series(patient)]
    assert len(trend.series.points) == 2
    assert trend.outcome is None  # the only complete response is the baseline itself


def test_cssrs_has_no_plot_and_no_outcome(patient: Patient) -> None:
    record(patient, "cssrs-screen", [0, 0, None, None, None, 0, None], days_ago=1)
    (trend,) = [selectors.trend(s) for s in selectors.series(patient)]
    assert (trend.svg, trend.outcome) == (None, None)


def test_the_chart_section_shows_plots_status_and_alerts_and_is_audited(
    patient: Patient, prescriber: User
) -> None:
    record(patient, "phq9", [3] * 8 + [0], days_ago=14, context="baseline")  # 24
    record(patient, "phq9", [1] * 8 + [1], days_ago=1)  # 9, item 9 = 1
    page = login(Client(), prescriber).get(f"/patients/{patient.pk}/measures/").content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    assert 'alt="Patient Health Questionnaire-9, total score on a scale of 0 to 27.' in page
    assert "PHQ-9" in page
    assert "Baseline 24 → latest 9" in page
    assert "response" in page
    assert "reliable improvement" in page
    assert "Open safety alert" in page
    assert "PHQ-9 item 9 answered 1" in page
    assert "Close alert" in page
    assert (
        AuditEvent.objects.filter(
            action="view", patient=patient, actor=prescriber, new_values__sections="measures"
        ).count()
        == 1
    )


def test_a_trend_is_drawn_once_until_its_data_changes(
    patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketacare.measures import charts as trend_charts

    drawn: list[int] = []
    real = trend_charts.trend_svg

    def counting(*args: object, **kwargs: object) -> str:
        drawn.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(selectors, "trend_svg", counting)
    record(patient, "gad7", [3, 3, 2, 2, 2, 2, 1], days_ago=30, context="baseline")
    record(patient, "gad7", [1, 1, 1, 1, 0, 0, 0], days_ago=1)
    first = [selectors.trend(s).svg for s in selectors.series(patient)]
    again = [selectors.trend(s).svg for s in selectors.series(patient)]
    assert first == again
    assert len(drawn) == 1
    record(patient, "gad7", [0, 0, 0, 0, 0, 0, 0], days_ago=0.5)  # new data: drawn anew
    (latest,) = [selectors.trend(s) for s in selectors.series(patient)]
    assert len(drawn) == 2
    assert latest.svg != first[0]
