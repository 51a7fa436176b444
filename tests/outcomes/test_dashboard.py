"""The clinic outcome dashboard: its figures on a small hand-built cohort, the filters, small
groups withheld from the administrator, the summaries kept fresh, a bounded number of queries,
who may see it and the audit trail."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEvent
from ketacare.measures import services as measures_services
from ketacare.outcomes import summaries
from ketacare.outcomes.dashboard import open_dashboard
from ketacare.outcomes.figures import Filters, figures
from ketacare.outcomes.models import CourseSummary, EpisodeSummary, StaleSummary
from ketacare.patients.models import Patient
from tests.conftest import login, make_user
from tests.outcomes.builders import at, course, dosed, measure, plan, treated_patient

pytestmark = pytest.mark.django_db


class Cohort:
    """Four patients of one prescriber, GAD, IV, first dosed in March 2026 (GAD-7 totals):

    ======  ========  ======================================  ==================================
    who     baseline  after the first dose                    sessions (days; induction)
    ======  ========  ======================================  ==================================
    ana     16 (d-2)  12 (d1), 7 (d4.1) response, 4 (d8)      0, 3, 7 (plan v1, then v2); AE x2
                      remission; 10 (d20), 12 (d27) relapse   at the first
    ben     15 (d-1)  14 (d1), 12 (d5)                        0, 3 (plan 1); 40 (plan 2); AE at 3
    cruz    20 (d-5)  10 (d2) response and reliable change    0; one alarm
    dee     none      9 (d1)                                  0, 2
    ======  ========  ======================================  ==================================

    Followed (baseline and a later result): ana, ben, cruz. Response 2/3, remission 1/3,
    reliable improvement 1/3 (GAD-7 needs a fall of 5.59 points: only cruz, ana's latest is 12).
    Induction sessions 3, 2, 1, 2: at least 1: 4, 2: 3, 3: 1. Nine dosed sessions; measured in
    the 72 h before the dose: ana 3 of 3, ben 2 of 3, cruz 0 (baseline 5 days before), dee 1 of
    2: 6 of 9. Three adverse events and one alarm in nine sessions."""

    def __init__(self, prescriber: User, nurse: User) -> None:
        self.ana = treated_patient(prescriber, given_name="Ana")
        first = plan(self.ana)
        dosed(first, 0, adverse_events=2, by=nurse)
        revised = plan(self.ana, previous=first)
        dosed(revised, 3)
        dosed(revised, 7)
        for day, total in [(-2, 16), (1, 12), (4.1, 7), (8, 4), (20, 10), (27, 12)]:
            measure(self.ana, day, total)

        self.ben = treated_patient(prescriber, given_name="Ben")
        first = plan(self.ben)
        dosed(first, 0)
        dosed(first, 3, adverse_events=1, by=nurse)
        dosed(plan(self.ben), 40)
        for day, total in [(-1, 15), (1, 14), (5, 12)]:
            measure(self.ben, day, total)

        self.cruz = treated_patient(prescriber, given_name="Cruz")
        dosed(plan(self.cruz), 0, alarms=1)
        for day, total in [(-5, 20), (2, 10)]:
            measure(self.cruz, day, total)

        self.dee = treated_patient(prescriber, given_name="Dee")
        course(self.dee, [0, 2], [(1, 9)])


@pytest.fixture
def cohort(prescriber: User, nurse: User) -> Cohort:
    return Cohort(prescriber, nurse)


def refreshed(f: Filters | None = None) -> object:
    summaries.refresh_stale()
    return figures(f or Filters(), summaries.rules())


# --- the figures -----------------------------------------------------------------------------


def test_the_outcome_rates_follow_the_episode_rules(cohort: Cohort) -> None:
    found = refreshed()
    o = found.outcomes  # type: ignore[attr-defined]
    assert o.followed == 3
    assert (o.responded.rate.numerator, o.responded.rate.denominator) == (2, 3)
    assert (o.remitted.rate.numerator, o.remitted.rate.denominator) == (1, 3)
    assert (o.reliably_improved.rate.numerator, o.reliably_improved.rate.denominator) == (1, 3)
    assert o.relapsed == 1


def test_the_curves_count_days_completed_since_the_first_dose_and_since_response(
    cohort: Cohort,
) -> None:
    o = refreshed().outcomes  # type: ignore[attr-defined]
    ttr = o.time_to_response.curve
    # ana responds on day 4 (4.1 completed days), cruz on day 2; ben is censored at day 5.
    assert (ttr.subjects, ttr.events) == (3, 2)
    assert [(p.day, p.events) for p in ttr.points] == [(2.0, 1), (4.0, 1), (5.0, 0)]
    assert ttr.median == 4.0
    durability = o.durability.curve
    # ana relapses at day 20, 15.9 days after her response; cruz is censored at once (day 0).
    assert (durability.subjects, durability.events) == (2, 1)
    assert [(p.day, p.events) for p in durability.points] == [(0.0, 0), (15.0, 1)]


def test_retention_counts_the_induction_plan_with_its_revisions_only(cohort: Cohort) -> None:
    r = refreshed().retention  # type: ignore[attr-defined]
    assert r.treated == 4
    assert [s.rate.numerator for s in r.steps] == [4, 3, 1, 0, 0, 0]
    assert r.steps[-1].label == "6 or more"


def test_sessions_are_measured_within_72_hours_before_the_dose(cohort: Cohort) -> None:
    s = refreshed().sessions  # type: ignore[attr-defined]
    assert (s.measured.rate.numerator, s.sessions, s.patients) == (6, 9, 4)
    assert (s.adverse_events, s.alarms) == (3, 1)
    assert s.adverse_events_per_100 == pytest.approx(33.33, abs=0.01)
    assert s.alarms_per_100 == pytest.approx(11.11, abs=0.01)


def test_the_filters_narrow_every_figure(cohort: Cohort, prescriber: User) -> None:
    other = make_user(Role.PRESCRIBER, "dr.other")
    eve = treated_patient(other, diagnosis="F43.10", given_name="Eve")
    course(eve, [40], [(39, 18), (41, 6)], route="esketamine")
    ptsd = refreshed(Filters(diagnosis="ptsd"))
    assert ptsd.retention.treated == 1  # type: ignore[attr-defined]
    assert ptsd.outcomes.responded.rate.numerator == 1  # type: ignore[attr-defined]
    assert refreshed(Filters(route="esketamine")).sessions.sessions == 1  # type: ignore[attr-defined]
    assert refreshed(Filters(route="iv")).retention.treated == 4  # type: ignore[attr-defined]
    mine = refreshed(Filters(prescriber=prescriber.pk))
    assert mine.retention.treated == 4  # type: ignore[attr-defined]
    april = refreshed(Filters(start_month=date(2026, 4, 1)))  # eve's first dose: April 11
    assert april.retention.treated == 1  # type: ignore[attr-defined]
    phq9 = refreshed(Filters(instrument="phq9"))
    assert phq9.outcomes.followed == 0  # type: ignore[attr-defined]
    assert phq9.sessions.measured.rate.numerator == 0  # type: ignore[attr-defined]


def test_a_relapse_rule_without_a_cut_off_leaves_durability_out(
    cohort: Cohort, settings: object
) -> None:
    measure(cohort.dee, -1, 40, "pcl5")
    measure(cohort.dee, 1, 20, "pcl5")
    settings.KETACARE_RELAPSE_RULE = "moderate-band"  # type: ignore[attr-defined]
    summaries.mark_changed_rules()
    assert refreshed(Filters(instrument="gad7")).outcomes.durability is not None  # type: ignore[attr-defined]
    pcl5 = refreshed(Filters(instrument="pcl5")).outcomes  # type: ignore[attr-defined]
    assert pcl5.durability is None  # PCL-5 has no moderate band
    assert pcl5.responded.rate.numerator == 1  # response is judged all the same
    episode = EpisodeSummary.objects.get(instrument="pcl5")
    assert (episode.relapse_judged, episode.durability_days) == (False, None)


# --- freshness -------------------------------------------------------------------------------


def test_a_new_response_marks_its_patient_and_the_next_view_includes_it(
    cohort: Cohort, prescriber: User
) -> None:
    summaries.refresh_stale()
    assert StaleSummary.objects.count() == 0
    before = EpisodeSummary.objects.get(patient=cohort.ben, instrument="gad7")
    assert before.response_at is None
    measure(cohort.ben, 6, 5)  # 15 -> 5: a response
    assert list(StaleSummary.objects.values_list("patient_id", flat=True)) == [cohort.ben.pk]
    response = login(Client(), prescriber).get(reverse("outcomes:dashboard"))
    assert response.status_code == 200
    assert StaleSummary.objects.count() == 0
    after = EpisodeSummary.objects.get(patient=cohort.ben, instrument="gad7")
    assert after.response_at is not None
    assert "3 of 3" in response.content.decode()


def test_a_rescore_marks_the_patients_whose_stored_scores_it_rewrote(cohort: Cohort) -> None:
    from ketacare.accounts.actor import Actor
    from ketacare.measures import services as measures
    from ketacare.measures.models import Response

    summaries.refresh_stale()
    assert StaleSummary.objects.count() == 0
    older = "0" * 12  # the version of an earlier instrument file
    Response.objects.filter(patient=cohort.ben).update(scored_with=older)
    measures.rescore_responses(Actor.system("test"))
    assert list(StaleSummary.objects.values_list("patient_id", flat=True)) == [cohort.ben.pk]


def test_an_unchanged_patient_is_not_rewritten_and_a_rebuild_recovers_everything(
    cohort: Cohort,
) -> None:
    summaries.refresh_stale()
    stamp = CourseSummary.objects.get(patient=cohort.ana).refreshed_at
    summaries.mark_stale([cohort.ana.pk])
    summaries.refresh_stale()
    assert CourseSummary.objects.get(patient=cohort.ana).refreshed_at == stamp
    EpisodeSummary.objects.all().delete()
    CourseSummary.objects.all().delete()
    assert summaries.rebuild() == 4
    assert EpisodeSummary.objects.count() == 4
    assert figures(Filters(), summaries.rules()).outcomes.responded.rate.numerator == 2


def test_a_changed_outcome_parameter_marks_every_summary_again(
    cohort: Cohort, settings: object
) -> None:
    summaries.refresh_stale()
    settings.KETACARE_OUTCOME_OVERRIDES = {"gad7": {"response_percent": 20}}  # type: ignore[attr-defined]
    assert summaries.mark_changed_rules() == 4
    found = refreshed()
    assert found.outcomes.responded.rate.numerator == 3  # type: ignore[attr-defined]  # ben: 15->12


# --- the page --------------------------------------------------------------------------------


def test_the_page_shows_the_figures_each_linked_to_its_definition(
    cohort: Cohort, prescriber: User
) -> None:
    page = login(Client(), prescriber).get(reverse("outcomes:dashboard")).content.decode()
    assert '<a href="#def-response" title="How this is computed">67% (2 of 3)</a>' in page
    for anchor in [
        "response",
        "remission",
        "reliable-improvement",
        "time-to-response",
        "durability",
        "retention",
        "measurement",
        "adverse-events",
        "alarms",
    ]:
        assert f'id="def-{anchor}"' in page
        assert f'href="#def-{anchor}"' in page
    assert 'id="def-suppression"' in page
    assert "33.3 (3 in 9)" in page
    assert "ketacare&#x27;s configurable default" in page
    assert not re.search(r"\[(S\d+|Issue\d+|GK)\]|\(GK\)|issue 3", page)
    assert page.count('<img class="km-chart" src="data:image/svg+xml;base64,') == 2


def test_functioning_shows_each_band_at_baseline_and_latest_for_patients_measured_both_times(
    cohort: Cohort, prescriber: User
) -> None:
    def wsas(patient: Patient, day: float, items: list[int]) -> None:
        measures_services.record_response(
            Actor.system("t"), patient, "wsas", items, context="ad_hoc", completed_at=at(day)
        )

    wsas(cohort.ana, -2, [5, 5, 5, 5, 5])  # 25: moderately severe
    wsas(cohort.ana, 10, [2, 2, 2, 1, 1])  # 8: subclinical
    wsas(cohort.ben, -1, [3, 3, 3, 3, 3])  # 15, but never measured after the dose
    wsas(cohort.cruz, -40, [4, 4, 4, 4, 4])  # too long before the first dose for a baseline
    wsas(cohort.cruz, 3, [2, 2, 2, 2, 2])
    fn = refreshed().functioning  # type: ignore[attr-defined]
    assert (fn.patients, fn.baseline_median, fn.latest_median) == (1, 25.0, 8.0)
    assert [(b.label, b.at_baseline, b.latest) for b in fn.bands] == [
        ("subclinical", 0, 1),
        ("significant impairment", 0, 0),
        ("moderately severe", 1, 0),
    ]
    page = login(Client(), prescriber).get(reverse("outcomes:dashboard")).content.decode()
    assert "1 patient · median 25 at baseline, 8 latest" in page
    assert "Significant impairment" in page


def test_functioning_is_noted_but_not_offered_as_an_outcome_filter(
    cohort: Cohort, prescriber: User
) -> None:
    client = login(Client(), prescriber)
    page = client.get(reverse("outcomes:dashboard")).content.decode()
    assert 'id="functioning-note"' in page
    assert '<option value="gad7"' in page
    assert '<option value="wsas"' not in page  # no cited response or remission criteria
    assert client.get(reverse("outcomes:dashboard"), {"instrument": "wsas"}).status_code == 400


def test_the_page_filters_from_the_query_string_and_refuses_a_bad_one(
    cohort: Cohort, prescriber: User
) -> None:
    client = login(Client(), prescriber)
    page = client.get(reverse("outcomes:dashboard"), {"route": "esketamine"})
    assert "no patients" in page.content.decode()
    assert client.get(reverse("outcomes:dashboard"), {"route": "rectal"}).status_code == 400


def test_a_prescriber_opens_the_patients_behind_a_figure_and_it_is_audited(
    cohort: Cohort, prescriber: User
) -> None:
    client = login(Client(), prescriber)
    url = reverse("outcomes:figure_patients", kwargs={"figure": "responded"})
    page = client.get(url, {"instrument": "gad7"}).content.decode()
    assert cohort.ana.mrn in page
    assert cohort.cruz.mrn in page
    assert cohort.ben.mrn not in page
    event = AuditEvent.objects.filter(entity_type="outcome_figure").get()
    assert event.new_values["patients"] == sorted(
        [cohort.ana.mrn, cohort.cruz.mrn],
        key=lambda m: Patient.objects.get(mrn=m).given_name,
    )
    assert event.new_values["filters"] == {"instrument": "gad7"}
    retained = reverse("outcomes:figure_patients", kwargs={"figure": "retained"})
    page = client.get(retained, {"sessions": "3"}).content.decode()
    assert cohort.ana.mrn in page
    assert cohort.ben.mrn not in page
    assert client.get(retained, {"sessions": "9"}).status_code == 400
    assert (
        client.get(reverse("outcomes:figure_patients", kwargs={"figure": "x"})).status_code == 404
    )


def test_viewing_the_dashboard_is_audited_with_its_filters(
    cohort: Cohort, prescriber: User, admin: User
) -> None:
    login(Client(), prescriber).get(reverse("outcomes:dashboard"), {"route": "iv"})
    login(Client(), admin).get(reverse("outcomes:dashboard"))
    events = AuditEvent.objects.filter(entity_type="outcome_dashboard").order_by("seq")
    assert [(e.action, e.new_values) for e in events] == [
        ("view", {"filters": {"instrument": "gad7", "route": "iv"}, "identified": True}),
        ("view", {"filters": {"instrument": "gad7"}, "identified": False}),
    ]


# --- small groups ----------------------------------------------------------------------------


def test_the_admin_sees_fewer_than_11_instead_of_a_small_group_and_no_names(
    cohort: Cohort, admin: User
) -> None:
    page = login(Client(), admin).get(reverse("outcomes:dashboard")).content.decode()
    assert "fewer than 11" in page
    assert "2 of 3" not in page
    assert "(3 in 9)" not in page
    assert "km-chart" not in page
    assert "/outcomes/figures/" not in page
    for p in (cohort.ana, cohort.ben, cohort.cruz, cohort.dee):
        assert p.mrn not in page
        assert p.family_name not in page


def test_a_group_of_exactly_11_is_shown_to_the_admin(admin: User, prescriber: User) -> None:
    for n in range(11):
        patient = treated_patient(prescriber, given_name=f"P{n}")
        course(patient, [0], [(-1, 16), (2, 6 if n < 4 else 14)])
    client = login(Client(), admin)
    page = client.get(reverse("outcomes:dashboard")).content.decode()
    assert "36% (4 of 11)" in page
    assert page.count('class="km-chart"') == 1  # durability: 4 responders, withheld
    assert "No curve for a group this small." in page
    assert "11 treated" in page
    narrower = client.get(reverse("outcomes:dashboard"), {"route": "iv", "diagnosis": "ptsd"})
    shown = narrower.content.decode()
    assert ">fewer than 11</a>" not in shown  # an empty group discloses nobody
    assert '<a href="#def-response" title="How this is computed">no patients</a>' in shown


# --- cost ------------------------------------------------------------------------------------


def _queries_for_a_fresh_view(client: Client, django_assert_max_num_queries: object) -> None:
    # 40 for the dashboard, one for the credential banner every clinician's page reads and one
    # for the second factor every signed-in request's login passed
    with django_assert_max_num_queries(42):  # type: ignore[operator]
        assert client.get(reverse("outcomes:dashboard")).status_code == 200


def test_the_number_of_queries_does_not_grow_with_the_patients(
    prescriber: User, django_assert_max_num_queries: object
) -> None:
    client = login(Client(), prescriber)
    for size in (2, 12):
        while CourseSummary.objects.count() + StaleSummary.objects.count() < size:
            patient = treated_patient(prescriber)
            course(patient, [0, 3], [(-1, 15), (1, 9), (4, 6)])
        _queries_for_a_fresh_view(client, django_assert_max_num_queries)
    assert CourseSummary.objects.count() == 12


# --- who may see it --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.NURSE, Role.THERAPIST, Role.FRONT_DESK])
def test_other_roles_are_refused(role: Role, staff: dict[Role, User]) -> None:
    client = login(Client(), staff[role])
    assert client.get(reverse("outcomes:dashboard")).status_code == 403
    figure = reverse("outcomes:figure_patients", kwargs={"figure": "treated"})
    assert client.get(figure).status_code == 403


def test_the_admin_may_not_open_the_patients_behind_a_figure(admin: User) -> None:
    url = reverse("outcomes:figure_patients", kwargs={"figure": "treated"})
    assert login(Client(), admin).get(url).status_code == 403


def test_the_service_records_no_identities_for_the_admin(cohort: Cohort, admin: User) -> None:
    from ketacare.accounts.actor import Actor

    board = open_dashboard(Actor(admin, Actor.system("t").channel), Filters())
    assert board.identified is False


def test_the_refresh_command_rebuilds_everything_or_only_what_is_stale(cohort: Cohort) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("outcomes_refresh", "--stale", stdout=out)
    assert "4 patients refreshed" in out.getvalue()
    CourseSummary.objects.all().delete()
    call_command("outcomes_refresh", stdout=out)
    assert "4 patients refreshed" in out.getvalue().splitlines()[-1]
    assert CourseSummary.objects.count() == 4
