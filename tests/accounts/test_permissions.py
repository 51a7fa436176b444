"""Every URL and every API operation, for every role: allowed or refused, as the table says.

The tables are written out by hand (not derived from ``roles.GRANTS``) so a change to the grants
that opens a door has to be made twice to pass. A route missing from a table fails the walk."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls import path as url_path
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

import ketacare.site.urls
from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.api_auth import StaffAuth
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.measures import services as measures
from ketacare.measures.schedules import create_schedule
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.plans.services import PlanRequest, create_plan
from ketacare.screening import services as screening
from ketacare.site.api import api
from tests.conftest import login
from tests.process_notes import builders as process_notes

A, P, N, T, F = Role.ADMIN, Role.PRESCRIBER, Role.NURSE, Role.THERAPIST, Role.FRONT_DESK
EVERYONE = {A, P, N, T, F}
CLINICIANS_WHO_CHART_MEDS = {P, N}

# url name -> (method, roles allowed)
PAGES: dict[str, tuple[str, set[Role]]] = {
    "patients:list": ("GET", EVERYONE),
    "patients:register": ("GET", {A, P, N, F}),
    "patients:chart": ("GET", EVERYONE),
    "patients:edit": ("GET", {A, P, N, F}),
    "patients:no_known_allergies": ("POST", CLINICIANS_WHO_CHART_MEDS),
    "patients:add_diagnoses": ("POST", {P}),
    "patients:remove_diagnoses": ("POST", {P}),
    "patients:add_medications": ("POST", CLINICIANS_WHO_CHART_MEDS),
    "patients:remove_medications": ("POST", CLINICIANS_WHO_CHART_MEDS),
    "patients:add_allergies": ("POST", CLINICIANS_WHO_CHART_MEDS),
    "patients:remove_allergies": ("POST", CLINICIANS_WHO_CHART_MEDS),
    "patients:add_measurements": ("POST", CLINICIANS_WHO_CHART_MEDS),
    "patients:remove_measurements": ("POST", CLINICIANS_WHO_CHART_MEDS),
    "audit_trail": ("GET", {A}),
    "dashboard": ("GET", {P, N, T}),
    "measures:patient_measures": ("GET", {P, N, T}),
    "measures:record": ("GET", {P, N, T}),
    "measures:issue": ("GET", {P, N, T, F}),
    "measures:close_alert": ("POST", {P}),
    "measures:entered_in_error": ("POST", {P, N, T}),
    "measures:schedules": ("GET", {P, N, T, F}),
    "measures:stop_schedule": ("POST", {P, N, T, F}),
    "measures:record_dose": ("POST", {P, N, T}),
    "screening:intake": ("GET", {P, N}),
    "screening:run": ("POST", {P, N}),
    "screening:result": ("GET", {P, N, T}),
    "screening:sign": ("POST", {P}),
    "plans:new": ("GET", {P}),
    "plans:detail": ("GET", {P, N, T}),
    "plans:sign": ("POST", {P}),
    "plans:revise": ("GET", {P}),
    "plans:move": ("POST", {P, N, F}),
    "plans:cancel": ("POST", {P, N, F}),
    "plans:calendar": ("GET", EVERYONE),
    "plans:protocols": ("GET", {P}),
    "plans:titration": ("POST", {P}),
    "plans:titration_decide": ("POST", {P}),
    "plans:protocol_edit": ("GET", {P}),
    "sessions:monitor": ("GET", {P, N, T}),
    "sessions:board": ("GET", {P, N, T}),
    "sessions:patient_sessions": ("GET", {P, N, T}),
    "sessions:detail": ("GET", {P, N, T}),
    "sessions:live": ("GET", {P, N, T}),
    "sessions:instructions": ("GET", {P, N, T}),
    "sessions:check_in": ("POST", {P, N}),
    "sessions:gate": ("POST", {P, N}),
    "sessions:consent": ("POST", {P, N}),
    "sessions:weight": ("POST", {P, N}),
    "sessions:confirm_bp": ("POST", {P}),
    "sessions:review_risk": ("POST", {P}),
    "sessions:confirm_second_dose": ("POST", {P}),
    "sessions:clear": ("POST", {P, N}),
    "sessions:dose": ("POST", {P, N}),
    "sessions:end_dosing": ("POST", {P, N}),
    "sessions:vitals": ("POST", {P, N}),
    "sessions:rate": ("POST", {P, N}),
    "sessions:adverse_event": ("POST", {P, N}),
    "sessions:escort": ("POST", {P, N}),
    "sessions:ready": ("POST", {P, N}),
    "sessions:discharge": ("POST", {P, N}),
    "sessions:cancel": ("POST", {P, N}),
    "sessions:abort": ("POST", {P, N}),
    "sessions:titrate": ("POST", {P}),
    "sessions:acknowledge": ("POST", {P, N}),
    "sessions:event_outcome": ("POST", {P, N}),
    "accounts:staff": ("GET", {A}),
    "accounts:set_active": ("POST", {A}),
    "accounts:tokens": ("GET", EVERYONE),
    "accounts:keepalive": ("POST", EVERYONE),
    "accounts:revoke_token": ("POST", EVERYONE),
    "accounts:second_factor": ("GET", EVERYONE),
    "accounts:enrol": ("GET", EVERYONE),
    "accounts:skip_enrolment": ("POST", EVERYONE),
    "accounts:security": ("GET", EVERYONE),
    "accounts:password_change": ("GET", EVERYONE),
    "accounts:remove_factor": ("POST", EVERYONE),
    "accounts:backup_codes": ("POST", EVERYONE),
    "accounts:reset_second_factor": ("GET", {A}),
    "pk:compare": ("GET", {P, N, T}),
    "sessions:rems": ("GET", {P, N, T}),
    "sessions:rems_pdf": ("GET", {P, N, T}),
    "sessions:rems_inputs": ("POST", {P, N}),
    "sessions:rems_sign": ("POST", {P, N}),
    "sessions:rems_due": ("GET", {P, N, T}),
    # The front desk's day: everyone who sees the calendar; arrivals by the desk and clinicians.
    "sessions:desk": ("GET", EVERYONE),
    "sessions:arrive": ("POST", {P, N, F}),
    "clinic:settings": ("GET", {A}),
    "clinic:credentials": ("GET", EVERYONE),
    "clinic:record_credential": ("POST", {A}),
    "clinic:duty": ("GET", EVERYONE),
    "clinic:add_shift": ("POST", {A, N, F}),
    "clinic:remove_shift": ("POST", {A, N, F}),
    # Controlled substances: nurses and prescribers handle and read the ledger; the prescriber
    # manages the stock (receipts, inventories, disposals, adjustments, discrepancies).
    # FHIR: a record leaves with the prescriber; records from elsewhere come in with the
    # clinicians who chart them.
    "fhir:export_patient": ("GET", {P}),
    "fhir:import": ("GET", {P, N}),
    "controlled:index": ("GET", {P, N}),
    "controlled:setup": ("GET", {P}),
    "controlled:receive": ("GET", {P}),
    "controlled:inventory": ("GET", {P}),
    "controlled:container": ("GET", {P, N}),
    "controlled:waste": ("POST", {P, N}),
    "controlled:count": ("POST", {P, N}),
    "controlled:dispose": ("POST", {P}),
    "controlled:overfill": ("POST", {P}),
    "controlled:correct": ("POST", {P}),
    "controlled:form_41": ("GET", {P, N}),
    "controlled:discrepancies": ("GET", {P, N}),
    "controlled:theft": ("POST", {P}),
    "controlled:clock": ("POST", {P}),
    "controlled:resolve": ("POST", {P}),
    "controlled:record": ("GET", {P, N}),
    "controlled:record_csv": ("GET", {P, N}),
    "controlled:record_pdf": ("GET", {P, N}),
    # Progress reports and letters to the referring clinician: the prescriber signs the letter.
    "outcomes:report": ("GET", {P}),
    "outcomes:report_pdf": ("GET", {P}),
    "outcomes:letter": ("GET", {P}),
    "outcomes:letter_pdf": ("GET", {P}),
    "outcomes:export": ("GET", {A, P}),
    "outcomes:agreements": ("GET", {A}),
    # The clinic outcome dashboard (the admin's without identities); who is behind a figure.
    "outcomes:dashboard": ("GET", {A, P}),
    "outcomes:figure_patients": ("GET", {P}),
    # Patient education: anyone reads the handouts; clinicians give them; P and A edit them.
    "education:handouts": ("GET", EVERYONE),
    "education:handout": ("GET", EVERYONE),
    "education:handout_pdf": ("GET", EVERYONE),
    "education:edit": ("GET", {A, P}),
    "education:patient": ("GET", {P, N, T}),
    "education:send": ("POST", {P, N, T}),
    "education:paper": ("POST", {P, N, T}),
    # Psychotherapy alongside ketamine: that a session exists, its notes, writing them.
    "therapy:list": ("GET", {P, T}),
    "therapy:patient": ("GET", {P, N, T, F}),
    "therapy:schedule": ("POST", {T}),
    "therapy:note": ("GET", {P, T}),
    "therapy:save": ("POST", {T}),
    "therapy:sign": ("POST", {T}),
    "therapy:addendum": ("POST", {T}),
    "therapy:cancel": ("POST", {T}),
    # Private process notes: the therapist's own (404 for anyone else's); grants by the admin.
    "process_notes:patient_notes": ("GET", {T}),
    "process_notes:edit": ("POST", {T}),
    "process_notes:grants": ("GET", {A}),
    "process_notes:revoke": ("POST", {A}),
}
PUBLIC_PAGES = {
    "home",
    "healthz",
    "accounts:login",
    "accounts:logout",
    # the passkey ceremony's endpoints check the login themselves (ketacare.accounts.passkeys)
    "otp_webauthn:credential-registration-begin",
    "otp_webauthn:credential-registration-complete",
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete",
    "otp_webauthn:js-i18n-catalog",
    "self_report:code",
    "self_report:link",
    "self_report:form",
    "education:read",
    "education:read_pdf",
}

# API operation id -> roles allowed
API_OPERATIONS: dict[str, set[Role]] = {
    "ketacare_site_api_me": EVERYONE,
    "ketacare_patients_api_search_patients": EVERYONE,
    "ketacare_patients_api_register_patient": {A, P, N, F},
    "ketacare_patients_api_get_patient": EVERYONE,
    "ketacare_patients_api_update_patient": {A, P, N, F},
    "ketacare_patients_api_add_diagnoses": {P},
    "ketacare_patients_api_remove_diagnoses": {P},
    "ketacare_patients_api_add_medications": CLINICIANS_WHO_CHART_MEDS,
    "ketacare_patients_api_remove_medications": CLINICIANS_WHO_CHART_MEDS,
    "ketacare_patients_api_add_allergies": CLINICIANS_WHO_CHART_MEDS,
    "ketacare_patients_api_remove_allergies": CLINICIANS_WHO_CHART_MEDS,
    "ketacare_patients_api_add_measurements": CLINICIANS_WHO_CHART_MEDS,
    "ketacare_patients_api_remove_measurements": CLINICIANS_WHO_CHART_MEDS,
    "ketacare_supervised_api_active_sessions": {P, N},
    "ketacare_supervised_api_post_vitals": {P, N},
    "ketacare_supervised_api_post_discharge": {P, N},
    # FHIR: a record or the clinic's leaves the clinic with the prescriber; measures come in
    # with the clinicians who chart them.
    "ketacare_fhir_api_everything": {P},
    "ketacare_fhir_api_export_kick_off": {P},
    "ketacare_fhir_api_export_status": {P},
    "ketacare_fhir_api_export_file": {P},
    "ketacare_fhir_api_import_records": {P, N},
}

ENTRY_ROWS: dict[str, dict[str, Any]] = {
    "diagnoses": {"code": "F43.10"},
    "medications": {
        "name": "buspirone",
        "dose_amount": Decimal("15"),
        "dose_unit": "mg",
        "frequency": "twice daily",
    },
    "allergies": {"substance": "latex"},
    "measurements": {"measured_on": date(2026, 1, 1), "weight_kg": Decimal("70")},
}


def named_routes(
    resolver: URLResolver | None = None, ns: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "api":
                continue  # walked through the OpenAPI schema below
            yield from named_routes(entry, f"{ns}{entry.namespace}:" if entry.namespace else ns)
        elif entry.name:
            yield f"{ns}{entry.name}", entry


def fresh_kwargs(name: str, patient: Patient, user: User) -> dict[str, int | str]:
    """URL arguments for one request; deletable things are made anew so every call can succeed."""
    kwargs: dict[str, int | str] = {}
    pattern = str(dict(named_routes())[name].pattern)
    if "patient_id" in pattern:
        kwargs["patient_id"] = patient.pk
    if "item_id" in pattern:
        kind = name.split("_", 1)[1]
        row = {**ENTRY_ROWS[kind]}
        if kind == "diagnoses":
            patient.diagnoses.filter(code=row["code"]).delete()
        kwargs["item_id"] = patients.add_entry(Actor.system("t"), patient, kind, row).pk
    if "token_id" in pattern:
        kwargs["token_id"] = accounts.issue_token(Actor.system("t"), user, "walk")[0].pk
    if "instrument_id" in pattern:
        kwargs["instrument_id"] = "gad7"
    if "alert_id" in pattern:
        response = measures.record_response(
            Actor.system("t"),
            patient,
            "phq9",
            [0] * 8 + [1],
            context="ad_hoc",
            completed_at=timezone.now(),
        )
        kwargs["alert_id"] = response.alerts.get().pk
    if "response_id" in pattern:
        kwargs["response_id"] = measures.record_response(
            Actor.system("t"),
            patient,
            "gad7",
            [1] * 7,
            context="ad_hoc",
            completed_at=timezone.now(),
        ).pk
    if "schedule_id" in pattern:
        kwargs["schedule_id"] = create_schedule(
            Actor.system("t"),
            patient,
            ["gad7"],
            hours_after_session=[4],
            starts_on=timezone.localdate(),
        ).pk
    if "review_id" in pattern:
        kwargs["review_id"] = fresh_review(patient).pk
    if "protocol_id" in pattern:
        kwargs["protocol_id"] = "iv-racemic"
    if "step" in pattern:
        kwargs["step"] = "history"
    if "screening_id" in pattern:
        screening.save_intake(Actor.system("t"), patient, {"bp_systolic": 120, "bp_diastolic": 80})
        kwargs["screening_id"] = screening.run_screening(Actor.system("t"), patient).pk
    if "plan_id" in pattern or "session_id" in pattern:
        patient.measurements.get_or_create(
            measured_on=date(2026, 1, 5), defaults={"weight_kg": Decimal("68.5")}
        )
        # A course after the patient's last, so signing one never clashes with the next.
        start = date(2026, 12, 7) + timedelta(days=90 * patient.plans.count())
        plan = create_plan(
            Actor.system("t"),
            patient,
            PlanRequest("iv-racemic", start, time(9, 0), "Chair 1"),
        )
        kwargs["plan_id" if "plan_id" in pattern else "session_id"] = (
            plan.pk if "plan_id" in pattern else plan.sessions.order_by("number").last().pk
        )  # type: ignore[union-attr]
    for key in ("container_id", "entry_id", "discrepancy_id"):
        if key in pattern:  # no such row: 403 first, an allowed role then gets 404
            kwargs[key] = 999_999
    if "<str:credential>" in pattern:
        kwargs["credential"] = "licence"
    if "shift_id" in pattern:  # no such row: 403 first, an allowed role then gets 404
        kwargs["shift_id"] = 999_999
    if "therapy_id" in pattern:  # no such row: 403 first, an allowed role then gets 404
        kwargs["therapy_id"] = 999_999
    if "alarm_id" in pattern or "event_id" in pattern:
        # No such row: the permission check comes first (403), an allowed role then gets 404.
        kwargs["alarm_id" if "alarm_id" in pattern else "event_id"] = 999_999
    if "instrument_id" in pattern and name == "sessions:rate":
        kwargs["instrument_id"] = "moaas"
    if "<str:lang>" in pattern:
        kwargs["route"], kwargs["lang"] = "iv", "en"
    if "figure" in pattern:
        kwargs["figure"] = "treated"
    if "device_id" in pattern:
        kwargs["kind"] = "totp"
        kwargs["device_id"] = TOTPDevice.objects.get_or_create(user=user, name="walk")[0].pk
    if "user_id" in pattern:
        kwargs["user_id"] = User.objects.exclude(pk=user.pk).first().pk  # type: ignore[union-attr]
    if name.startswith("process_notes:"):
        kwargs.update(process_notes.route_kwargs(name, patient))
    return kwargs


def fresh_review(patient: Patient) -> Any:
    """A titration review awaiting its decision (needs measures and a signed plan)."""
    from ketacare.plans import titration
    from ketacare.plans.services import sign_plan

    for context, answers in (("baseline", [3] * 7), ("follow_up", [2] * 7)):
        measures.record_response(
            Actor.system("t"),
            patient,
            "gad7",
            answers,
            context=context,
            completed_at=timezone.now(),
        )
    patient.measurements.get_or_create(
        measured_on=date(2026, 1, 5), defaults={"weight_kg": Decimal("68.5")}
    )
    doctor = User.objects.filter(role=Role.PRESCRIBER).first()
    # Each review its own signed plan, a course after the last one (no overlap, no clash).
    start = date(2026, 12, 7) + timedelta(days=90 * patient.plans.count())
    plan = create_plan(
        Actor.system("t"),
        patient,
        PlanRequest("iv-racemic", start, time(9, 0), "Chair 1"),
    )
    plan = sign_plan(
        Actor(doctor, Actor.system("t").channel),
        plan,
        "Screened elsewhere; the signed form is scanned into the chart.",
    )
    return titration.review(
        Actor.system("t"),
        plan,
        1,
        adverse_events=[],
        cadss_total=None,
        peak_systolic=None,
        peak_diastolic=None,
    )


def test_every_page_is_in_the_table() -> None:
    assert {name for name, _ in named_routes()} == set(PAGES) | PUBLIC_PAGES


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_every_page_allows_or_refuses_each_role_as_the_table_says(
    role: Role, staff: dict[Role, User], patient: Patient
) -> None:
    client = login(Client(), staff[role])
    wrong = []
    for name, (method, allowed) in PAGES.items():
        url = reverse(name, kwargs=fresh_kwargs(name, patient, staff[role]))
        response = client.post(url, {}) if method == "POST" else client.get(url)
        refused = response.status_code == 403
        if refused == (role in allowed) or response.status_code >= 500:
            wrong.append(f"{method} {name}: {response.status_code}")
    assert wrong == []


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_log_in_everywhere_but_the_public_pages(
    patient: Patient, staff: dict[Role, User]
) -> None:
    client = Client()
    for name, (method, _) in PAGES.items():
        url = reverse(name, kwargs=fresh_kwargs(name, patient, staff[Role.ADMIN]))
        response = client.post(url) if method == "POST" else client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/?next="), name
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("accounts:login")).status_code == 200


def unmarked(request: Any) -> HttpResponse:
    return HttpResponse("should never be seen")


# This module doubles as a urlconf: the real site plus one view that declares nothing.
urlpatterns = [url_path("unmarked/", unmarked), *ketacare.site.urls.urlpatterns]


@pytest.mark.django_db
@pytest.mark.urls("tests.accounts.test_permissions")
def test_a_view_that_declares_no_permission_is_refused_even_to_the_admin(admin: User) -> None:
    response = login(Client(), admin).get("/unmarked/")
    assert response.status_code == 403
    assert b"should never be seen" not in response.content


def api_operations() -> Iterator[tuple[str, str, str]]:
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            yield op["operationId"], method.upper(), path


def test_every_api_operation_is_in_the_table_and_declares_a_permission() -> None:
    assert {op for op, _, _ in api_operations()} == set(API_OPERATIONS)
    for router_path_view in _path_views():
        for operation in router_path_view.operations:
            auths = operation.auth_callbacks
            assert len(auths) == 1, operation.view_func
            assert isinstance(auths[0], StaffAuth), operation.view_func
            assert auths[0].permission is not None, operation.view_func


def _path_views() -> Iterator[Any]:
    for _prefix, router in api._routers:
        yield from router.path_operations.values()


def test_the_api_default_refuses_everyone() -> None:
    default = api.auth[0] if isinstance(api.auth, list | tuple) else api.auth
    assert isinstance(default, StaffAuth)
    assert default.permission is None


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_every_api_operation_allows_or_refuses_each_role_as_the_table_says(
    role: Role, staff: dict[Role, User], patient: Patient
) -> None:
    _, secret = accounts.issue_token(Actor.system("t"), staff[role], "walk")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    wrong = []
    for op_id, method, path in api_operations():
        url = "/api/v1" + path.removeprefix("/api/v1")
        url = url.replace("{patient_id}", str(patient.pk))
        url = url.replace("{session_id}", "999999")  # permission first (403), then 404
        url = url.replace("{job_id}", str(uuid.uuid4())).replace("{resource_type}", "Patient")
        if "{item_id}" in url:
            kind = op_id.rsplit("_", 1)[1]
            row = {**ENTRY_ROWS[kind]}
            patient.diagnoses.filter(code=row.get("code", "-")).delete()
            url = url.replace(
                "{item_id}", str(patients.add_entry(Actor.system("t"), patient, kind, row).pk)
            )
        call: Callable[..., Any] = getattr(client, method.lower())
        if method == "GET":
            response = call(url + ("?q=rosa" if url.endswith("/patients") else ""))
        else:
            response = call(url, data="{}", content_type="application/json")
        refused = response.status_code == 403
        if refused == (role in API_OPERATIONS[op_id]) or response.status_code >= 500:
            wrong.append(f"{method} {path}: {response.status_code}")
    assert wrong == []


@pytest.mark.django_db
def test_the_api_answers_401_without_credentials(patient: Patient) -> None:
    client = Client()
    for _op, method, path in api_operations():
        url = "/api/v1" + path.removeprefix("/api/v1")
        url = url.replace("{patient_id}", str(patient.pk)).replace("{item_id}", "1")
        url = url.replace("{session_id}", "1")
        url = url.replace("{job_id}", str(uuid.uuid4())).replace("{resource_type}", "Patient")
        response = getattr(client, method.lower())(url)
        assert response.status_code == 401, f"{method} {path}"
