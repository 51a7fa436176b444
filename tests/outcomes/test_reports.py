"""A patient's progress report and the letter to their referring clinician (issue "Outcomes",
part 6): the report's data from a real course (sessions run through the services, measures,
adverse events, the plan), never a total from an incomplete response, the pages and PDFs, the
refusal without a referring clinician, the audit events and who may generate them."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEvent
from ketacare.measures import services as measures
from ketacare.measures.models import Response
from ketacare.outcomes import reports
from ketacare.outcomes.letters import Letter
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.plans.models import TreatmentPlan
from ketacare.supervised.models import Session
from ketacare.supervised.services import administration, gate, lifecycle, observations
from tests.conftest import login
from tests.supervised.builders import NORMAL, act, pass_gate, shift, signed_plan, stocked

pytestmark = pytest.mark.django_db

SITE = {
    "name": "Harbor Ketamine Clinic",
    "address": "12 Elm Street",
    "city": "Springfield",
    "state": "IL",
    "zip": "62701",
    "phone": "+1 217 555 0100",
}
with_site = override_settings(KETACARE_SITE=SITE)
REFERRER = {
    "referrer_name": "Dr. Ana Whitfield",
    "referrer_credentials": "MD, psychiatrist",
    "referrer_practice": "Lakeside Psychiatry",
    "referrer_address": "40 Lake Road\nSpringfield, IL 62704",
    "referrer_phone": "+1 217 555 0199",
    "referrer_fax": "+1 217 555 0198",
    "referrer_email": "a.whitfield@lakeside.example",
}
DAY = 24 * 60


def answered(
    patient: Patient, instrument: str, answers: Sequence[int | None], context: str, days_ago: float
) -> Response:
    return measures.record_response(
        Actor.system("test setup"),
        patient,
        instrument,
        list(answers),
        context=context,
        completed_at=timezone.now() - timedelta(days=days_ago),
    )


BACK_ENTERED = "Run today and moved into the past for this report"


def held(
    plan: TreatmentPlan,
    number: int,
    prescriber: User,
    nurse: User,
    days_ago: int,
    adverse: Sequence[str] = (),
) -> Session:
    """Session ``number`` of an esketamine ``plan`` run from check-in to discharge (56 mg, two
    devices), then moved ``days_ago`` days into the past with the measures its gate recorded;
    ``adverse`` events begin 20 minutes after the first device."""
    mark = timezone.now()
    session = gate.check_in(
        act(nurse), plan.sessions.get(number=number), wrong_day_reason=BACK_ENTERED
    )
    session = gate.clear(act(nurse), pass_gate(session, nurse))
    now = timezone.now()
    pack = stocked(session, prescriber)
    for device in range(1, (session.devices or 0) + 1):
        entry = administration.DoseEntry(
            started_at=now,
            ended_at=now,
            container=pack,
            verified_by=prescriber,
            device_number=device,
        )
        administration.record_administration(act(nurse), session, entry)
    session = shift(administration.end_dosing(act(nurse), session, now), 130)
    start = session.dosing_started_at
    assert start is not None
    observations.record_vitals(act(nurse), session, NORMAL, taken_at=start + timedelta(minutes=41))
    observations.record_vitals(act(nurse), session, NORMAL)
    observations.record_rating(act(nurse), session, "moaas", [5])
    observations.record_rating(act(nurse), session, "cadss", [0] * 23)
    lifecycle.escort_arrived(act(nurse), session)
    session = shift(lifecycle.discharge(act(prescriber), session), days_ago * DAY)
    Response.objects.filter(patient=plan.patient, completed_at__gte=mark).update(
        completed_at=F("completed_at") - timedelta(days=days_ago)
    )
    for code in adverse:
        data = {
            "code": code,
            "severity": "mild",
            "onset_at": session.dosing_started_at + timedelta(minutes=20),  # type: ignore[operator]
            "action": "observed_closely",
            "outcome": "resolved",
        }
        observations.record_adverse_event(act(nurse), session, data)
    return Session.objects.get(pk=session.pk)


def course(patient: Patient, prescriber: User, nurse: User) -> TreatmentPlan:
    """Rosa's course so far: GAD-7 18 and PHQ-9 15 at baseline three weeks ago, two esketamine
    sessions (two weeks ago with nausea, one week ago), and a GAD-7 of 4 yesterday."""
    answered(patient, "gad7", [3, 3, 2, 3, 2, 3, 2], "baseline", 21)
    answered(patient, "phq9", [2, 2, 2, 2, 2, 2, 2, 1, 0], "baseline", 21)
    plan = signed_plan(patient, prescriber, "esketamine-nasal")
    held(plan, 1, prescriber, nurse, days_ago=14, adverse=["nausea"])
    held(plan, 2, prescriber, nurse, days_ago=7)
    answered(patient, "gad7", [1, 1, 0, 1, 0, 1, 0], "follow_up", 1)
    return plan


def with_referrer(patient: Patient) -> Patient:
    return patients.update_patient(Actor.system("test setup"), patient, REFERRER)


def line(report: reports.ProgressReport, instrument: str) -> reports.MeasureLine:
    return next(m for m in report.measures if m.instrument.id == instrument)


# --- the data -------------------------------------------------------------------------------------


def test_the_report_holds_the_diagnoses_sessions_measures_adverse_events_and_plan(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    plan = course(patient, prescriber, nurse)
    report = reports.progress_report(patient, prescriber)

    assert [d.code for d in report.diagnoses] == ["F41.1", "F33.1"]
    assert [(s.number, s.route, s.state, str(s.dose_mg)) for s in report.sessions] == [
        (1, "nasal spray", "discharged", "56.0"),
        (2, "nasal spray", "discharged", "56.0"),
    ]
    first, second = (s.on for s in report.sessions)
    assert (second - first).days == 7
    assert report.sessions[0].adverse_events == ["nausea (mild)"]
    assert report.sessions[1].adverse_events == []
    assert [(e.code, e.session.planned.number) for e in report.adverse_events] == [("nausea", 1)]

    gad7 = line(report, "gad7")
    assert gad7.baseline
    assert gad7.baseline.score.total == 18
    assert gad7.latest
    assert gad7.latest.score.total == 4
    assert gad7.outcome is not None
    assert (gad7.outcome.change, gad7.outcome.response, gad7.outcome.remission) == (-14, True, True)
    assert gad7.outcome.reliable_improvement is True
    assert gad7.trend.svg
    assert "<svg" in gad7.trend.svg
    phq9 = line(report, "phq9")
    assert phq9.baseline
    assert phq9.baseline.score.total == 15
    assert (phq9.latest, phq9.outcome) == (None, None)  # one result: nothing to compare
    assert not line(report, "cadss").has_criteria  # a session rating, not an outcome measure

    assert report.plan is not None
    assert report.plan.plan == plan
    assert (report.plan.done, report.plan.planned) == (2, plan.sessions.count())
    assert report.plan.doses == ["56 mg"]


def test_an_incomplete_response_never_gives_a_total_in_the_report(
    patient: Patient, prescriber: User
) -> None:
    answered(patient, "gad7", [3, 3, 2, 3, 2, 3, 2], "baseline", 10)
    answered(patient, "gad7", [1, 1, 0, 1, 0, 1, None], "follow_up", 1)  # 4 answered: no total
    gad7 = line(reports.progress_report(patient, prescriber), "gad7")
    assert gad7.baseline
    assert gad7.baseline.score.total == 18
    assert (gad7.latest, gad7.outcome, gad7.incomplete) == (None, None, 1)

    page = login(Client(), prescriber).get(reverse("outcomes:report", args=[patient.pk]))
    section = page.content.decode().split('id="measure-gad7"')[1].split("</table>")[0]
    assert "not enough data" in section
    assert ">4<" not in section
    assert "4 <span" not in section
    assert "1 incomplete response (a missing answer) not scored" in page.content.decode()


def test_the_wsas_shows_under_functioning_after_the_symptom_measures(
    patient: Patient, prescriber: User
) -> None:
    answered(patient, "wsas", [6, 5, 5, 4, 4], "baseline", 10)
    answered(patient, "wsas", [2, 2, 2, 1, 1], "follow_up", 1)
    answered(patient, "gad7", [3, 3, 2, 3, 2, 3, 2], "baseline", 10)
    report = reports.progress_report(patient, prescriber)
    assert [m.instrument.id for m in report.functioning_measures] == ["wsas"]
    assert [m.instrument.id for m in report.symptom_measures] == ["gad7"]
    wsas = line(report, "wsas")
    assert (wsas.has_criteria, wsas.outcome) == (False, None)  # no cited response criteria
    assert report.judged_measures == report.symptom_measures

    page = login(Client(), prescriber).get(reverse("outcomes:report", args=[patient.pk]))
    text = page.content.decode()
    functioning = text.split('id="functioning"><h3>Functioning</h3>')[1].split("</section>")[0]
    assert 'id="measure-wsas"' in functioning
    assert text.index('id="measure-gad7"') < text.index('id="functioning"')


def test_a_patient_with_nothing_recorded_gets_a_report_that_says_so(
    patient: Patient, prescriber: User
) -> None:
    page = login(Client(), prescriber).get(reverse("outcomes:report", args=[patient.pk]))
    text = page.content.decode()
    assert "No treatment plan recorded." in text
    assert "No supervised sessions yet." in text
    assert "No measures recorded." in text
    assert "Functioning not measured yet (WSAS)." in text
    letter = Letter(reports.progress_report(patient, prescriber), prescriber)
    assert "has not yet had a supervised treatment session" in letter.paragraphs[1]
    assert letter.paragraphs[2] == "No outcome measures are recorded yet."


# --- pages and PDFs -------------------------------------------------------------------------------


@with_site
def test_the_report_page_and_pdf_show_the_course(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    course(patient, prescriber, nurse)
    client = login(Client(), prescriber)
    page = client.get(reverse("outcomes:report", args=[patient.pk])).content.decode()
    assert "Generalized anxiety disorder" in page
    assert "F41.1" in page
    assert "F33.1" in page
    assert "Harbor Ketamine Clinic" in page
    assert "56.0 mg" in page
    assert "nausea" in page
    assert 'src="data:image/svg+xml;base64,' in page
    # Sources by name, as a referring clinician reads them: no research-note tags.
    assert "ketacare's configurable default" in html.unescape(page)
    assert "Bischoff" in page
    assert "[Issue3]" not in page
    assert "(GK)" not in page
    assert "[S20]" not in page
    pdf = client.get(reverse("outcomes:report_pdf", args=[patient.pk]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "progress-report-ROSA-001.pdf" in pdf["Content-Disposition"]


@with_site
def test_the_letter_is_addressed_to_the_referrer_and_signed_by_the_prescriber(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    course(patient, prescriber, nurse)
    with_referrer(patient)
    client = login(Client(), prescriber)
    page = client.get(reverse("outcomes:letter", args=[patient.pk])).content.decode()
    assert "Dear Dr. Ana Whitfield," in page
    assert "Lakeside Psychiatry" in page
    assert "40 Lake Road<br>Springfield, IL 62704" in page
    assert "Thank you for referring Rosa Delgado to Harbor Ketamine Clinic" in page
    assert "Generalized anxiety disorder (F41.1)" in page
    assert "2 supervised sessions (nasal spray)" in page
    assert "GAD-7: 18 at baseline" in page
    assert "a response (at least 50% reduction)" in page
    assert "PHQ-9: 15 at baseline" in page
    assert "change cannot be judged" in page
    assert "nausea (mild)" in page
    assert f"{prescriber.display_name}<br>Prescribing clinician, Harbor Ketamine Clinic" in page
    pdf = client.get(reverse("outcomes:letter_pdf", args=[patient.pk]))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_without_a_referring_clinician_the_letter_asks_for_one_and_the_pdf_is_refused(
    patient: Patient, prescriber: User
) -> None:
    client = login(Client(), prescriber)
    page = client.get(reverse("outcomes:letter", args=[patient.pk]))
    assert page.status_code == 200
    assert b"No referring clinician is recorded" in page.content
    assert reverse("patients:edit", args=[patient.pk]).encode() in page.content
    before = AuditEvent.objects.count()
    pdf = client.get(reverse("outcomes:letter_pdf", args=[patient.pk]))
    assert pdf.status_code == 409
    assert pdf["Content-Type"].startswith("text/html")
    assert b"Record the referring clinician" in pdf.content
    assert AuditEvent.objects.count() == before  # nothing was generated


# --- audit and access -----------------------------------------------------------------------------


def test_generating_each_document_is_audited_naming_the_patient_document_and_format(
    patient: Patient, prescriber: User
) -> None:
    with_referrer(patient)
    client = login(Client(), prescriber)
    for name in ("report", "report_pdf", "letter", "letter_pdf"):
        assert client.get(reverse(f"outcomes:{name}", args=[patient.pk])).status_code == 200
    events = AuditEvent.objects.filter(action="view", patient=patient, actor=prescriber)
    assert [e.new_values for e in events.order_by("seq")] == [
        {"document": "progress_report", "format": "html"},
        {"document": "progress_report", "format": "pdf"},
        {"document": "referral_letter", "format": "html", "addressed_to": "Dr. Ana Whitfield"},
        {"document": "referral_letter", "format": "pdf", "addressed_to": "Dr. Ana Whitfield"},
    ]


@pytest.mark.parametrize("role", [Role.NURSE, Role.THERAPIST, Role.FRONT_DESK, Role.ADMIN])
def test_only_a_prescriber_generates_reports_and_letters(
    role: Role, staff: dict[Role, User], patient: Patient
) -> None:
    client = login(Client(), staff[role])
    for name in ("report", "report_pdf", "letter", "letter_pdf"):
        assert client.get(reverse(f"outcomes:{name}", args=[patient.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="view", patient=patient).exists()


def test_a_missing_patient_is_404(prescriber: User) -> None:
    client = login(Client(), prescriber)
    for name in ("report", "report_pdf", "letter", "letter_pdf"):
        assert client.get(reverse(f"outcomes:{name}", args=[999_999])).status_code == 404


def test_the_chart_links_to_both_for_a_prescriber_only(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    report = reverse("outcomes:report", args=[patient.pk]).encode()
    letter = reverse("outcomes:letter", args=[patient.pk]).encode()
    chart = reverse("patients:chart", args=[patient.pk])
    mine = login(Client(), prescriber).get(chart).content
    assert report in mine
    assert letter in mine
    theirs = login(Client(), nurse).get(chart).content
    assert report not in theirs
    assert letter not in theirs
