"""Every page and API read that shows a patient leaves an audit event naming them.

The walk requests each one as a role allowed to see it and looks for a VIEW (SEARCH for
searches) written by that request that names the patient: its ``patient`` is set to them, or
their record number is among the values of a list page's event. Routes that show no patient
data are exempted by hand, each with its reason; a route that is neither walked nor exempted
fails, so a new page cannot slip past the audit trail."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import Action, AuditEvent, Channel
from ketacare.controlled.models import Container
from ketacare.fhir.services import jobs as fhir_jobs
from ketacare.measures import services as measures
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.plans.models import PlannedSession, TreatmentPlan
from ketacare.supervised.models import Session
from ketacare.supervised.services import administration
from tests.accounts.test_permissions import PAGES, api_operations, named_routes
from tests.conftest import login
from tests.controlled import builders as controlled
from tests.outcomes.builders import dosed, plan
from tests.process_notes import builders as process_notes
from tests.supervised.builders import checked_in, cleared, stocked

pytestmark = pytest.mark.django_db


class Scene:
    """One patient, Rosa, with what the pages show, each piece built when a visit first asks
    for it: an esketamine session checked in today (signed screening and plan behind it) with
    the plan's later sessions on the calendar, and an open safety alert."""

    def __init__(self, patient: Patient, staff: dict[Role, User]) -> None:
        self.patient, self.staff = patient, staff

    @cached_property
    def session(self) -> Session:
        return checked_in(
            self.patient, self.staff[Role.PRESCRIBER], self.staff[Role.NURSE], "esketamine-nasal"
        )

    @property
    def plan(self) -> TreatmentPlan:
        return self.session.plan

    @property
    def later(self) -> PlannedSession:
        """The plan's second session: planned, not started."""
        return self.plan.sessions.get(number=2)

    @property
    def screening_id(self) -> int:
        assert self.plan.screening_id is not None
        return self.plan.screening_id

    @cached_property
    def container(self) -> Container:
        """A vial Rosa's session was dosed from (the gate passed, the infusion started)."""
        nurse, prescriber = self.staff[Role.NURSE], self.staff[Role.PRESCRIBER]
        session = cleared(self.patient, prescriber, nurse, "iv-racemic")
        vial = stocked(session, prescriber)
        entry = administration.DoseEntry(timezone.now(), prescriber, vial)
        administration.record_administration(Actor(nurse, Channel.WEB), session, entry)
        return vial

    def named_device(self) -> str:
        """A Spravato pack dispensed for Rosa, on the stock page."""
        controlled.container(self.staff[Role.PRESCRIBER], "spravato", named_patient=self.patient)
        return reverse("controlled:index")

    def dispensing_record(self, name: str) -> str:
        reg = self.container.registration
        today = timezone.localdate().isoformat()
        return reverse(name) + f"?registration={reg.pk}&start={today}&end={today}"

    def alert(self) -> None:
        measures.record_response(
            Actor.system("walk"),
            self.patient,
            "phq9",
            [0] * 8 + [1],  # item 9 answered: a safety alert
            context="ad_hoc",
            completed_at=timezone.now(),
        )


@dataclass(frozen=True)
class Visit:
    """One request that shows the patient, and what it must leave in the trail."""

    name: str  # the URL's name, or the API operation's id
    url: Callable[[Scene], str]
    role: Role = Role.PRESCRIBER
    action: Action = Action.VIEW
    method: str = "GET"
    data: dict[str, str] = field(default_factory=dict)
    status: int = 200  # 400: a form's errors shown on the page about the patient
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}{f'[{self.label}]' if self.label else ''}"


def page(name: str, **kwargs: Callable[[Scene], object]) -> Callable[[Scene], str]:
    return lambda s: reverse(name, kwargs={k: f(s) for k, f in kwargs.items()})


def patient_id(s: Scene) -> int:
    return s.patient.pk


def session_id(s: Scene) -> int:
    return s.session.pk


def plan_id(s: Scene) -> int:
    return s.plan.pk


def referred(s: Scene) -> int:
    """Rosa, with the referring clinician a letter is addressed to (else it is refused)."""
    patients.update_patient(Actor.system("walk"), s.patient, {"referrer_name": "Dr. Whitfield"})
    return s.patient.pk


def treated(s: Scene) -> str:
    """The patients behind a dashboard figure, with Rosa treated (a dosed session)."""
    dosed(plan(s.patient), 0)
    return reverse("outcomes:figure_patients", kwargs={"figure": "treated"})


def noted(s: Scene) -> int:
    """Rosa, with a private process note by her therapist."""
    process_notes.a_note(s.patient, s.staff[Role.THERAPIST])
    return s.patient.pk


def granted(s: Scene) -> str:
    """The grants page, with access to Rosa's process notes granted to another therapist."""
    process_notes.a_grant(s.patient, s.staff[Role.THERAPIST])
    return reverse("process_notes:grants")


def dashboard(s: Scene) -> str:
    s.alert()
    return reverse("dashboard")


def therapy_id(s: Scene) -> int:
    """A preparation session booked with the therapist for tomorrow."""
    from ketacare.therapy import services as therapy

    when = timezone.now() + datetime.timedelta(days=1)
    actor = Actor(s.staff[Role.THERAPIST], Actor.system("walk").channel)
    request = therapy.ScheduleRequest("preparation", when)
    return therapy.schedule(actor, s.patient, request).pk


def therapy_list(s: Scene) -> str:
    therapy_id(s)
    return reverse("therapy:list")


def with_a_session(url: Callable[[], str]) -> Callable[[Scene], str]:
    """A list page (the monitor, the forms due) with Rosa's session under way on it."""

    def build(s: Scene) -> str:
        assert s.session.is_active
        return url()

    return build


PAGE_VISITS = [
    Visit(
        "patients:list", lambda s: reverse("patients:list") + "?q=ROSA-001", action=Action.SEARCH
    ),
    Visit("patients:chart", page("patients:chart", patient_id=patient_id)),
    Visit("patients:edit", page("patients:edit", patient_id=patient_id)),
    *(
        Visit(
            f"patients:add_{kind}",
            page(f"patients:add_{kind}", patient_id=patient_id),
            method="POST",
            status=400,
            label="invalid",
        )
        for kind in ("diagnoses", "medications", "allergies", "measurements")
    ),
    Visit("dashboard", dashboard),
    Visit("audit_trail", lambda s: reverse("audit_trail") + "?patient=ROSA-001", role=Role.ADMIN),
    Visit("measures:patient_measures", page("measures:patient_measures", patient_id=patient_id)),
    Visit(
        "measures:record",
        page("measures:record", patient_id=patient_id, instrument_id=lambda s: "gad7"),
    ),
    Visit("measures:issue", page("measures:issue", patient_id=patient_id)),
    Visit("measures:schedules", page("measures:schedules", patient_id=patient_id)),
    Visit(
        "screening:intake",
        page("screening:intake", patient_id=patient_id, step=lambda s: "history"),
    ),
    Visit("screening:result", page("screening:result", screening_id=lambda s: s.screening_id)),
    Visit(
        "screening:sign",
        page("screening:sign", screening_id=lambda s: s.screening_id),
        method="POST",
        status=400,
        label="already signed",
    ),
    Visit("plans:new", page("plans:new", patient_id=patient_id)),
    Visit("plans:detail", page("plans:detail", plan_id=plan_id)),
    Visit(
        "plans:sign",
        page("plans:sign", plan_id=plan_id),
        method="POST",
        status=400,
        label="already signed",
    ),
    Visit("plans:revise", page("plans:revise", plan_id=plan_id)),
    Visit(
        "plans:calendar",
        lambda s: reverse("plans:calendar") + f"?date={s.later.scheduled_on.isoformat()}",
    ),
    Visit("sessions:monitor", with_a_session(lambda: reverse("sessions:monitor"))),
    Visit("sessions:board", with_a_session(lambda: reverse("sessions:board"))),
    Visit("sessions:patient_sessions", page("sessions:patient_sessions", patient_id=patient_id)),
    Visit("sessions:detail", page("sessions:detail", session_id=session_id), label="checked in"),
    Visit(
        "sessions:detail",
        page("sessions:detail", session_id=lambda s: s.later.pk),
        label="not started",
    ),
    Visit("sessions:live", page("sessions:live", session_id=session_id)),
    Visit("sessions:instructions", page("sessions:instructions", session_id=session_id)),
    Visit("sessions:rems", page("sessions:rems", session_id=session_id)),
    Visit("sessions:rems_pdf", page("sessions:rems_pdf", session_id=session_id)),
    Visit(
        "sessions:rems_inputs",
        page("sessions:rems_inputs", session_id=session_id),
        method="POST",
        data={"ready_to_leave_minutes": "0"},
        status=400,
        label="invalid",
    ),
    Visit(
        "sessions:rems_sign",
        page("sessions:rems_sign", session_id=session_id),
        method="POST",
        status=400,
        label="incomplete",
    ),
    Visit("sessions:rems_due", with_a_session(lambda: reverse("sessions:rems_due"))),
    Visit("sessions:desk", with_a_session(lambda: reverse("sessions:desk")), role=Role.FRONT_DESK),
    Visit("outcomes:report", page("outcomes:report", patient_id=patient_id)),
    Visit("outcomes:report_pdf", page("outcomes:report_pdf", patient_id=patient_id)),
    Visit("outcomes:letter", page("outcomes:letter", patient_id=patient_id)),
    Visit("outcomes:letter_pdf", page("outcomes:letter_pdf", patient_id=referred)),
    Visit("outcomes:figure_patients", treated),
    Visit("education:patient", page("education:patient", patient_id=patient_id)),
    Visit("therapy:list", therapy_list, role=Role.THERAPIST),
    Visit("therapy:patient", page("therapy:patient", patient_id=patient_id), role=Role.NURSE),
    Visit(
        "therapy:schedule",
        page("therapy:schedule", patient_id=patient_id),
        role=Role.THERAPIST,
        method="POST",
        status=400,
        label="invalid",
    ),
    Visit("therapy:note", page("therapy:note", therapy_id=therapy_id), role=Role.THERAPIST),
    Visit(
        "therapy:save",
        page("therapy:save", therapy_id=therapy_id),
        role=Role.THERAPIST,
        method="POST",
        data={"consent_to_touch": "maybe"},
        status=400,
        label="invalid",
    ),
    Visit(
        "process_notes:patient_notes",
        page("process_notes:patient_notes", patient_id=noted),
        role=Role.THERAPIST,
    ),
    Visit("process_notes:grants", granted, role=Role.ADMIN),
    Visit("controlled:index", lambda s: s.named_device(), role=Role.NURSE),
    Visit(
        "controlled:container",
        lambda s: reverse("controlled:container", args=[s.container.pk]),
        role=Role.NURSE,
    ),
    Visit("controlled:record", lambda s: s.dispensing_record("controlled:record")),
    Visit(
        "controlled:record_csv",
        lambda s: s.dispensing_record("controlled:record_csv"),
        action=Action.EXPORT,
    ),
    Visit(
        "controlled:record_pdf",
        lambda s: s.dispensing_record("controlled:record_pdf"),
        action=Action.EXPORT,
        role=Role.NURSE,
    ),
    Visit(
        "fhir:export_patient",
        page("fhir:export_patient", patient_id=patient_id),
        action=Action.EXPORT,
    ),
]

ACTION = "POST-only action that redirects; its write is audited by its service"
NO_PATIENT = "shows no patient data"
PAGES_EXEMPT = {
    "home": "redirects to the patient list or the log-in page",
    "healthz": "the health check: the database's state only",
    "accounts:login": "the log-in form (logins are audited by accounts.signals)",
    "accounts:logout": "logs out (audited by accounts.signals)",
    "accounts:tokens": f"{NO_PATIENT}: the user's own API tokens",
    "accounts:keepalive": f"{NO_PATIENT}: restarts the user's own idle clock",
    "accounts:revoke_token": ACTION,
    "accounts:staff": f"{NO_PATIENT}: the staff list",
    "accounts:set_active": ACTION,
    "accounts:second_factor": f"{NO_PATIENT}: the login's second step (audited by its service)",
    "accounts:enrol": f"{NO_PATIENT}: setting up an authenticator app (audited by its service)",
    "accounts:skip_enrolment": ACTION,
    "accounts:security": f"{NO_PATIENT}: the user's own second factors",
    "accounts:password_change": f"{NO_PATIENT}: the user's own password (audited by its service)",
    "accounts:remove_factor": ACTION,
    "accounts:backup_codes": ACTION,
    "accounts:reset_second_factor": f"{NO_PATIENT}: an administrator's reset of a second factor",
    "otp_webauthn:credential-registration-begin": f"{NO_PATIENT}: a passkey ceremony's step",
    "otp_webauthn:credential-registration-complete": f"{NO_PATIENT}: adds a passkey (audited)",
    "otp_webauthn:credential-authentication-begin": f"{NO_PATIENT}: a passkey ceremony's step",
    "otp_webauthn:credential-authentication-complete": f"{NO_PATIENT}: a login's second step",
    "otp_webauthn:js-i18n-catalog": f"{NO_PATIENT}: the passkey script's messages",
    "patients:register": f"{NO_PATIENT}: an empty registration form",
    "patients:no_known_allergies": ACTION,
    "patients:remove_diagnoses": ACTION,
    "patients:remove_medications": ACTION,
    "patients:remove_allergies": ACTION,
    "patients:remove_measurements": ACTION,
    "measures:stop_schedule": ACTION,
    "measures:record_dose": ACTION,
    "measures:close_alert": ACTION,
    "measures:entered_in_error": ACTION,
    "self_report:code": "the patient's own page: the code entry form",
    "self_report:link": "the patient's own link; opening it is audited (measures.open_request)",
    "self_report:form": "the patient's own questionnaire, behind their code",
    "education:read": "the patient's own handout link; opening it is audited (education.services)",
    "education:read_pdf": "the patient's own handout as PDF; opening it is audited likewise",
    "education:handouts": f"{NO_PATIENT}: the handout catalogue",
    "education:handout": f"{NO_PATIENT}: a handout's text",
    "education:handout_pdf": f"{NO_PATIENT}: a handout's text as PDF",
    "education:edit": f"{NO_PATIENT}: the clinic's copy of a handout (edits audited)",
    "education:send": "POST-only: shows the new link once; the write is audited by its service",
    "education:paper": ACTION,
    "sessions:arrive": ACTION,
    "clinic:settings": f"{NO_PATIENT}: the setting's name, address, chairs, hours (edits audited)",
    "clinic:credentials": f"{NO_PATIENT}: staff licences, DEA registrations, certifications",
    "clinic:duty": f"{NO_PATIENT}: the duty roster (who is on duty when)",
    "clinic:record_credential": ACTION,
    "clinic:add_shift": ACTION,
    "clinic:remove_shift": ACTION,
    "fhir:import": f"{NO_PATIENT}: the upload form; an import is audited by its service",
    "controlled:setup": f"{NO_PATIENT}: the DEA registration and the products",
    "controlled:receive": f"{NO_PATIENT}: the receipt form",
    "controlled:inventory": f"{NO_PATIENT}: inventories, containers and measured amounts",
    "controlled:discrepancies": f"{NO_PATIENT}: containers, counts and the staff involved",
    "controlled:form_41": f"{NO_PATIENT}: one destruction on site (its reading is audited)",
    **{
        f"controlled:{name}": ACTION
        for name in [
            "waste",
            "count",
            "dispose",
            "overfill",
            "correct",
            "theft",
            "clock",
            "resolve",
        ]
    },
    "screening:run": ACTION,
    "plans:move": ACTION,
    "therapy:sign": ACTION,
    "therapy:addendum": ACTION,
    "therapy:cancel": ACTION,
    "plans:cancel": ACTION,
    "plans:titration": ACTION,
    "plans:titration_decide": ACTION,
    "plans:protocols": f"{NO_PATIENT}: the protocol templates",
    "plans:protocol_edit": f"{NO_PATIENT}: a protocol template",
    "pk:compare": f"{NO_PATIENT}: population curves for a weight typed in",
    "outcomes:export": (
        f"{NO_PATIENT} on the page; each download is one EXPORT event "
        "(outcomes.services.export), counts only"
    ),
    "outcomes:agreements": f"{NO_PATIENT}: the data-use agreements",
    "process_notes:edit": ACTION,
    "process_notes:revoke": ACTION,
    "outcomes:dashboard": (
        f"{NO_PATIENT}: clinic-wide counts and rates (its VIEW event records the filters); the "
        "patients behind a figure are outcomes:figure_patients"
    ),
    **{
        f"sessions:{name}": ACTION
        for name in [
            "check_in",
            "gate",
            "consent",
            "weight",
            "confirm_bp",
            "review_risk",
            "confirm_second_dose",
            "clear",
            "dose",
            "end_dosing",
            "vitals",
            "rate",
            "adverse_event",
            "escort",
            "ready",
            "discharge",
            "cancel",
            "abort",
            "titrate",
            "acknowledge",
            "event_outcome",
        ]
    },
}

API_VISITS = [
    Visit(
        "ketacare_patients_api_search_patients",
        lambda s: "/api/v1/patients?q=ROSA-001",
        action=Action.SEARCH,
    ),
    Visit("ketacare_patients_api_get_patient", lambda s: f"/api/v1/patients/{s.patient.pk}"),
    Visit(
        "ketacare_supervised_api_active_sessions",
        with_a_session(lambda: "/api/v1/sessions"),
        role=Role.NURSE,
        action=Action.SEARCH,
    ),
]


def fhir_export_file(s: Scene) -> str:
    """One file of a bulk export of the clinic (Rosa in it) that the worker has built for the
    prescriber who asked for it."""
    actor = Actor(s.staff[Role.PRESCRIBER], Actor.system("walk").channel)
    job = fhir_jobs.kick_off(actor, {"Patient"}, None, "walk")
    fhir_jobs.run_due("walk")
    return f"/api/v1/fhir/$export-file/{job.pk}/Patient.ndjson"


API_VISITS += [
    Visit(
        "ketacare_fhir_api_everything",
        lambda s: f"/api/v1/fhir/Patient/pt-{s.patient.pk}/$everything",
        action=Action.EXPORT,
    ),
    Visit("ketacare_fhir_api_export_file", fhir_export_file, action=Action.EXPORT),
]
API_WRITE = "a write, audited by its service (its answer is what was just written)"
API_EXEMPT = {
    "ketacare_site_api_me": f"{NO_PATIENT}: the caller's own account",
    **{
        f"ketacare_patients_api_{op}": API_WRITE
        for op in [
            "register_patient",
            "update_patient",
            "add_diagnoses",
            "remove_diagnoses",
            "add_medications",
            "remove_medications",
            "add_allergies",
            "remove_allergies",
            "add_measurements",
            "remove_measurements",
        ]
    },
    "ketacare_supervised_api_post_vitals": API_WRITE,
    "ketacare_supervised_api_post_discharge": API_WRITE,
    "ketacare_fhir_api_import_records": API_WRITE,
    # The bulk export's kick-off and status show no patient: the worker's build and every file
    # downloaded are audited as exports naming the patients they hold.
    "ketacare_fhir_api_export_kick_off": f"{NO_PATIENT}: queues an export (audited as created)",
    "ketacare_fhir_api_export_status": f"{NO_PATIENT}: the export's progress and manifest",
}
# The API's own pages beside its operations (named in the "api" URL namespace).
API_PAGES_EXEMPT = {
    "openapi-json": f"{NO_PATIENT}: the OpenAPI schema",
    "openapi-view": f"{NO_PATIENT}: the interactive API docs",
    "api-root": f"{NO_PATIENT}: the API's root",
}


def names_patient(event: AuditEvent, patient: Patient) -> bool:
    return event.patient_id == patient.pk or patient.mrn in json.dumps(event.new_values)


def walk(visit: Visit, scene: Scene, client: Client) -> list[tuple[str, bool]]:
    """The request's status, then each event it wrote: (action, names the patient)."""
    url = visit.url(scene)  # builds what the page shows, before the mark
    mark = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    response = client.post(url, visit.data) if visit.method == "POST" else client.get(url)
    assert response.status_code == visit.status, response.content[:500]
    return [
        (e.action, names_patient(e, scene.patient))
        for e in AuditEvent.objects.filter(seq__gt=mark).order_by("seq")
    ]


@pytest.mark.parametrize("visit", PAGE_VISITS, ids=lambda v: v.id)
def test_every_page_that_shows_a_patient_audits_it(
    visit: Visit, patient: Patient, staff: dict[Role, User]
) -> None:
    client = login(Client(), staff[visit.role])
    events = walk(visit, Scene(patient, staff), client)
    assert (visit.action.value, True) in events


@pytest.mark.parametrize("visit", API_VISITS, ids=lambda v: v.id)
def test_every_api_read_that_shows_a_patient_audits_it(
    visit: Visit, patient: Patient, staff: dict[Role, User]
) -> None:
    _, secret = accounts.issue_token(Actor.system("walk"), staff[visit.role], "walk")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    events = walk(visit, Scene(patient, staff), client)
    assert (visit.action.value, True) in events


def test_every_named_route_is_walked_or_exempted() -> None:
    walked = {v.name for v in PAGE_VISITS}
    assert walked & set(PAGES_EXEMPT) == set()
    assert {name for name, _ in named_routes()} == walked | set(PAGES_EXEMPT)


def test_every_api_operation_is_walked_or_exempted() -> None:
    walked = {v.name for v in API_VISITS}
    assert walked & set(API_EXEMPT) == set()
    assert {op for op, _, _ in api_operations()} == walked | set(API_EXEMPT)
    assert {op for op, method, _ in api_operations() if method == "GET"} - walked == {
        "ketacare_site_api_me",
        "ketacare_fhir_api_export_kick_off",
        "ketacare_fhir_api_export_status",
    }


def test_the_api_has_no_page_beside_its_operations_and_docs() -> None:
    (resolver,) = [
        e
        for e in get_resolver().url_patterns
        if isinstance(e, URLResolver) and e.namespace == "api"
    ]
    paths = {path.removeprefix("/api/v1/") for _, _, path in api_operations()}
    others = {
        p.name
        for p in resolver.url_patterns
        if str(p.pattern).replace("<", "{").replace(">", "}") not in paths
    }
    assert others == set(API_PAGES_EXEMPT)


def test_an_action_exempted_as_post_only_refuses_get(staff: dict[Role, User]) -> None:
    """The exemption has to be true: a page hiding behind it would answer a GET."""
    routes = dict(named_routes())
    answered = {}
    for name, reason in PAGES_EXEMPT.items():
        if reason != ACTION:
            continue
        role = sorted(PAGES[name][1])[0]  # a role the permission table lets in
        params = routes[name].pattern.converters  # type: ignore[attr-defined]
        kwargs = {
            p: 999_999 if type(c).__name__ == "IntConverter" else "x" for p, c in params.items()
        }
        response = login(Client(), staff[role]).get(reverse(name, kwargs=kwargs))
        answered[name] = response.status_code
    assert len(answered) > 20
    assert {name: code for name, code in answered.items() if code != 405} == {}
