from __future__ import annotations

import itertools
import json
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.clinical import protocols
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.plans import selectors, services
from ketacare.plans.models import PlannedSession, TreatmentPlan
from ketacare.screening import services as screening
from tests.conftest import build_patient, login

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 12, 7)


def actor(user: User | None = None) -> Actor:
    return Actor(user, Actor.system("t").channel) if user else Actor.system("t")


def request(protocol_id: str = "iv-racemic", **kw: object) -> services.PlanRequest:
    values: dict[str, object] = {
        "protocol_id": protocol_id,
        "start_on": MONDAY,
        "start_time": time(9, 30),
        "chair": "Chair 2",
    }
    values.update(kw)
    return services.PlanRequest(**values)  # type: ignore[arg-type]


def signed_screening(patient: Patient, prescriber: User) -> None:
    screening.save_intake(
        actor(),
        patient,
        {
            "bp_systolic": 122,
            "bp_diastolic": 78,
            "has_escort": True,
            "cssrs_risk": "none",
            "prior_treatments": [
                {"name": "a", "kind": "medication", "adequate": True},
                {"name": "b", "kind": "psychotherapy", "adequate": True},
            ],
        },
    )
    screening.sign_screening(actor(prescriber), screening.run_screening(actor(), patient))


def test_an_iv_plan_doses_by_weight_and_spaces_its_six_sessions(patient: Patient) -> None:
    plan = services.create_plan(actor(), patient, request())
    sessions = list(plan.sessions.order_by("number"))
    assert len(sessions) == len(protocols.session_doses(protocols.get("iv-racemic")))
    first_six = sessions[:6]
    assert [s.dose_mg for s in first_six] == [Decimal("34.3")] * 6  # 0.5 mg/kg x 68.5 kg
    days = [s.scheduled_on for s in sessions]
    assert days[0] == MONDAY
    assert all((b - a).days >= 2 for a, b in itertools.pairwise(days))
    assert {s.chair for s in sessions} == {"Chair 2"}
    assert AuditEvent.objects.get(entity_type="treatmentplan").new_values["doses_mg"][0] == "34.3"


def test_the_adjusted_basis_is_recorded_and_used(patient: Patient) -> None:
    plan = services.create_plan(actor(), patient, request(basis="adjusted"))
    # 68.5 kg is above the Devine IBW for a 165 cm woman (56.9 kg): 56.9 + 0.4 x 11.6 = 61.5
    assert plan.basis == "adjusted"
    assert plan.dosing_weight_kg == Decimal("61.5")
    assert plan.sessions.first().dose_mg == Decimal("30.8")  # type: ignore[union-attr]


def test_esketamine_uses_fixed_doses_and_devices(patient: Patient) -> None:
    plan = services.create_plan(actor(), patient, request("esketamine-nasal"))
    first = plan.sessions.order_by("number").first()
    assert first is not None
    assert (first.dose_mg, first.unit) == (Decimal("56.0"), "mg")


def test_a_dose_over_the_clinic_cap_is_refused_not_clipped(
    patient: Patient, settings: object
) -> None:
    settings.KETACARE_DOSE_CAPS = {"max_mg_per_kg": {"iv": 0.4}}  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as exc:
        services.create_plan(actor(), patient, request())
    assert "over the iv cap of 0.4 mg/kg" in exc.value.message_dict["basis"][0]
    assert not TreatmentPlan.objects.exists()


def test_a_plan_needs_a_charted_weight_and_a_known_chair(prescriber: User) -> None:
    bare = build_patient()
    with pytest.raises(ValidationError, match="Record the patient's weight"):
        services.create_plan(actor(), bare, request())
    with pytest.raises(ValidationError, match="Unknown chair"):
        services.create_plan(actor(), bare, request(chair="Chair 99"))


def test_signing_needs_a_prescriber_and_a_current_signed_screening_or_an_override(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    plan = services.create_plan(actor(), patient, request())
    with pytest.raises(ValidationError, match="Only a prescriber"):
        services.sign_plan(actor(nurse), plan)
    with pytest.raises(ValidationError, match="no current signed screening"):
        services.sign_plan(actor(prescriber), plan)
    signed_screening(patient, prescriber)
    signed = services.sign_plan(actor(prescriber), plan)
    assert signed.status == "signed"
    assert signed.screening is not None


def test_a_documented_override_signs_without_a_screening(
    patient: Patient, prescriber: User
) -> None:
    plan = services.create_plan(actor(), patient, request())
    why = "Screened at the referring hospital last week; records scanned into the chart."
    signed = services.sign_plan(actor(prescriber), plan, why)
    assert (signed.screening, signed.screening_override) == (None, why)


def test_a_change_after_signing_is_a_new_version_with_a_reason(
    patient: Patient, prescriber: User
) -> None:
    plan = services.sign_plan(
        actor(prescriber),
        services.create_plan(actor(), patient, request()),
        "Screened elsewhere; records reviewed and scanned into the chart.",
    )
    with pytest.raises(ValidationError, match="Say why the plan changes"):
        services.revise_plan(actor(prescriber), plan, request(basis="adjusted"), "weight")
    new = services.revise_plan(
        actor(prescriber),
        plan,
        request(basis="adjusted"),
        "Weight gain since intake; dose on adjusted body weight instead.",
    )
    assert (new.version, new.previous, new.status) == (2, plan, "draft")
    with pytest.raises(ValidationError, match="already revised as version 2; revise that one"):
        services.revise_plan(
            actor(prescriber), plan, request(), "A second revision of the same signed version."
        )
    services.sign_plan(
        actor(prescriber), new, "Screened elsewhere; records reviewed and scanned into the chart."
    )
    plan.refresh_from_db()
    assert plan.status == "superseded"


def test_sessions_move_only_within_the_minimum_interval_and_cancel_with_a_reason(
    patient: Patient,
) -> None:
    plan = services.create_plan(actor(), patient, request())
    first, second = plan.sessions.order_by("number")[:2]
    with pytest.raises(ValidationError, match="minimum interval"):
        services.move_session(actor(), second, first.scheduled_on)
    last = plan.sessions.order_by("number").last()
    assert last is not None
    services.move_session(actor(), last, last.scheduled_on + timedelta(days=1), "Chair 1")
    last.refresh_from_db()
    assert last.chair == "Chair 1"
    event = AuditEvent.objects.get(entity_type="plannedsession")
    assert event.new_values["chair"] == "Chair 1"
    with pytest.raises(ValidationError, match="Say why"):
        services.cancel_session(actor(), second, " ")
    services.cancel_session(actor(), second, "patient unwell")
    assert PlannedSession.objects.get(pk=second.pk).status == "cancelled"


def test_the_calendar_lays_out_a_day_and_a_week_by_chair(patient: Patient, nurse: User) -> None:
    services.create_plan(actor(), patient, request())
    day = selectors.calendar(MONDAY, 1)[0]
    assert [s.number for s in day.by_chair["Chair 2"]] == [1]
    assert day.by_chair["Chair 1"] == []
    page = login(Client(), nurse).get(f"/calendar/?date={MONDAY.isoformat()}&view=week")
    body = page.content.decode()
    assert body.count('class="card calendar-day"') == 7
    assert "Delgado, Rosa" in body
    assert "Chair 2" in body


def test_a_prescriber_creates_and_signs_a_plan_on_the_web(
    patient: Patient, prescriber: User
) -> None:
    client = login(Client(), prescriber)
    response = client.post(
        f"/patients/{patient.pk}/plans/new/",
        {
            "protocol": "iv-racemic",
            "basis": "actual",
            "start_on": MONDAY.isoformat(),
            "weekdays": ["0", "3"],
            "start_time": "10:00",
            "chair": "Chair 1",
        },
    )
    plan = TreatmentPlan.objects.get()
    assert response["Location"] == f"/plans/{plan.pk}/"
    assert {s.scheduled_on.weekday() for s in plan.sessions.all()} <= {0, 3}
    refused = client.post(f"/plans/{plan.pk}/sign/", {})
    assert refused.status_code == 400
    assert b"no current signed screening" in refused.content
    signed_screening(patient, prescriber)
    client.post(f"/plans/{plan.pk}/sign/", {})
    assert TreatmentPlan.objects.get().status == "signed"
    sign_event = AuditEvent.objects.filter(entity_type="treatmentplan", action="update").get()
    assert sign_event.actor == prescriber
    assert sign_event.new_values["status"] == "signed"


def test_a_clinic_makes_its_own_template_in_versions_and_plans_from_it(
    patient: Patient, prescriber: User
) -> None:
    from ketacare.plans.selectors import shipped_template_data

    client = login(Client(), prescriber)
    page = client.get("/protocols/iv-racemic/edit/").content.decode()
    assert "clinic-iv-racemic" in page  # starts from the shipped template
    data = {
        **shipped_template_data("iv-racemic"),
        "id": "clinic-iv-weekly",
        "name": "IV weekly (clinic)",
    }
    saved = services.save_clinic_protocol(actor(prescriber), data, "weekly induction")
    assert (saved.slug, saved.version) == ("clinic-iv-weekly", 1)
    again = services.save_clinic_protocol(actor(prescriber), data, "same, re-reviewed")
    assert again.version == 2
    plan = services.create_plan(actor(), patient, request("clinic-iv-weekly"))
    assert plan.protocol_version.endswith("(clinic v2)")
    with pytest.raises(ValidationError, match='must start with "clinic-"'):
        services.save_clinic_protocol(actor(prescriber), {**data, "id": "iv-racemic"}, "x")
    broken = {**data, "phases": []}
    with pytest.raises(ValidationError):
        services.save_clinic_protocol(actor(prescriber), broken, "no phases")
    assert AuditEvent.objects.filter(entity_type="clinicprotocol").count() == 2
    listing = client.get("/protocols/").content.decode()
    assert "clinic-iv-weekly" in listing
    assert "Edit (new version)" in listing


def test_a_template_version_saved_meanwhile_gets_a_conflict_page_and_is_kept(
    prescriber: User, admin: User
) -> None:
    from ketacare.plans.selectors import shipped_template_data

    data = {**shipped_template_data("iv-racemic"), "id": "clinic-iv-weekly", "name": "IV weekly"}
    services.save_clinic_protocol(actor(prescriber), data, "weekly induction")
    client = login(Client(), prescriber)
    form = client.get("/protocols/clinic-iv-weekly/edit/").context["form"]
    assert form.initial["version"] == 1
    services.save_clinic_protocol(
        actor(admin), {**data, "name": "IV weekly, 40 min"}, "longer infusion", expected_version=1
    )
    stale = client.post(
        "/protocols/clinic-iv-weekly/edit/",
        {
            "template": json.dumps({**data, "name": "IV weekly, evenings"}),
            "change_note": "evening slots",
            "version": 1,
        },
    )
    assert stale.status_code == 409
    rows = {r.label: r for r in stale.context["rows"]}
    assert rows["Template: name"].entered == '"IV weekly, evenings"'
    assert rows["Template: name"].saved == '"IV weekly, 40 min"'
    assert {label for label, r in rows.items() if r.differs} == {
        "Template: name",
        "What this version changes",
    }
    assert 'href="/protocols/clinic-iv-weekly/edit/"' in stale.content.decode()
    latest = services.clinic_protocol("clinic-iv-weekly")
    assert latest is not None
    assert (latest.version, latest.data["name"]) == (2, "IV weekly, 40 min")


def test_saving_a_template_on_its_latest_version_from_the_page_makes_the_next(
    prescriber: User,
) -> None:
    client = login(Client(), prescriber)
    opened = client.get("/protocols/iv-racemic/edit/").context["form"].initial
    assert opened["version"] == 0  # no clinic version of it yet
    response = client.post(
        "/protocols/iv-racemic/edit/",
        {"template": json.dumps(opened["template"]), "change_note": "ours", "version": 0},
    )
    assert response.status_code == 302
    again = client.post(
        "/protocols/iv-racemic/edit/",
        {"template": json.dumps(opened["template"]), "change_note": "ours", "version": 0},
    )
    assert again.status_code == 409  # a second save from the same old page
    latest = services.clinic_protocol("clinic-iv-racemic")
    assert latest is not None
    assert latest.version == 1


WHY = "Screened elsewhere; records reviewed and scanned into the chart."


def test_opening_the_plan_page_is_audited_as_a_view_of_the_plan(
    patient: Patient, nurse: User
) -> None:
    plan = services.create_plan(actor(), patient, request())
    assert login(Client(), nurse).get(f"/plans/{plan.pk}/").status_code == 200
    event = AuditEvent.objects.get(action="view")
    assert (event.entity_type, event.entity_id) == ("treatmentplan", str(plan.pk))
    assert (event.patient, event.actor) == (patient, nurse)


def test_the_calendar_names_every_patient_it_shows_and_no_other(
    patient: Patient, clerk: User
) -> None:
    others = [build_patient(mrn=mrn, family_name=mrn) for mrn in ("CAL-2", "CAL-3")]
    for other, chair, start in (
        (others[0], "Chair 1", MONDAY),
        (others[1], "Chair 3", MONDAY + timedelta(days=1)),
    ):
        patients.add_entry(
            actor(),
            other,
            "measurements",
            {"measured_on": date(2026, 1, 5), "weight_kg": Decimal("70")},
        )
        services.create_plan(actor(), other, request(chair=chair, start_on=start))
    services.create_plan(actor(), patient, request())
    login(Client(), clerk).get(f"/calendar/?date={MONDAY.isoformat()}")
    event = AuditEvent.objects.get(action="view")
    assert (event.entity_type, event.patient, event.actor) == ("calendar", None, clerk)
    assert event.new_values == {"start": "2026-12-07", "days": 1, "patients": ["CAL-2", "ROSA-001"]}


def test_signing_a_new_version_audits_superseding_the_old_and_cancelling_its_sessions(
    patient: Patient, prescriber: User
) -> None:
    old = services.sign_plan(
        actor(prescriber), services.create_plan(actor(), patient, request()), WHY
    )
    new = services.revise_plan(
        actor(prescriber), old, request(basis="adjusted"), "Weight gain since intake: " + WHY
    )
    services.sign_plan(actor(prescriber), new, WHY)
    updates = AuditEvent.objects.filter(action="update", patient=patient, actor=prescriber)
    plan_events = updates.filter(entity_type="treatmentplan", entity_id=str(old.pk))
    superseded = plan_events.order_by("-seq").first()  # after the event that signed it
    assert superseded is not None
    assert (superseded.old_values, superseded.new_values) == (
        {"status": "signed"},
        {"status": "superseded", "replaced_by": new.pk},
    )
    cancelled = updates.filter(entity_type="plannedsession")
    assert {e.entity_id for e in cancelled} == {str(s.pk) for s in old.sessions.all()}
    assert {e.new_values["reason"] for e in cancelled} == {"replaced by version 2"}
    assert {s.status for s in old.sessions.all()} == {"cancelled"}


def test_a_new_versions_event_shows_the_dates_it_stored_moves_and_held_sessions_included(
    patient: Patient, prescriber: User
) -> None:
    plan = services.sign_plan(
        actor(prescriber), services.create_plan(actor(), patient, request()), WHY
    )
    last = plan.sessions.order_by("number").last()
    assert last is not None
    moved_to = last.scheduled_on + timedelta(days=3)
    services.move_session(actor(), last, moved_to)
    new = services.revise_plan(
        actor(prescriber), plan, request(), "Session one was given elsewhere: " + WHY, 1
    )
    created = AuditEvent.objects.get(entity_type="treatmentplan", entity_id=str(new.pk))
    stored = [s.scheduled_on.isoformat() for s in new.sessions.order_by("number")]
    assert created.new_values["dates"] == stored
    assert stored[-1] == moved_to.isoformat()
    assert created.new_values["held"] == [1]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date=9999-12-31", "Enter a date from 0001-01-02 to 9999-12-30."),
        ("date=0001-01-01", "Enter a date from 0001-01-02 to 9999-12-30."),
        ("date=9999-12-27&view=week", "Enter a date from 0001-01-14 to 9999-12-24."),
        ("date=0001-01-08&view=week", "Enter a date from 0001-01-14 to 9999-12-24."),
        ("date=2026-02-30", "Enter a valid date."),
        ("view=month", "Select a valid choice."),
    ],
)
def test_a_calendar_date_it_cannot_show_is_a_400_naming_the_parameter(
    nurse: User, query: str, message: str
) -> None:
    response = login(Client(), nurse).get(f"/calendar/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ("Date: " if "date" in query else "View: ") in response.content.decode()


def test_the_calendar_shows_its_first_and_last_pages(nurse: User) -> None:
    client = login(Client(), nurse)
    for query in ("date=0001-01-02", "date=9999-12-30", "date=9999-12-24&view=week"):
        assert client.get(f"/calendar/?{query}").status_code == 200, query


def test_a_plan_that_would_run_past_the_last_date_is_an_error_on_its_start(
    patient: Patient, prescriber: User
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.create_plan(actor(), patient, request(start_on=date(9999, 12, 20)))
    assert "run past 9999-12-31" in exc.value.message_dict["start_on"][0]
    response = login(Client(), prescriber).post(
        f"/patients/{patient.pk}/plans/new/",
        {
            "protocol": "iv-racemic",
            "basis": "actual",
            "start_on": "9999-12-20",
            "start_time": "10:00",
            "chair": "Chair 1",
        },
    )
    assert response.status_code == 200
    assert (
        'id="id_start_on-error">The sessions would run past 9999-12-31' in response.content.decode()
    )
    assert not TreatmentPlan.objects.exists()
