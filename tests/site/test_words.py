"""The demo clinic in the words clinicians use: every page a role may open, on the seeded demo,
shows no raw code, Python repr, issue tag or research-note reference.

One crawl per run: the demo is seeded once (today's four chairs, a treatment history, therapy
notes) and each GET page of the permission table is opened as every role it lets in, with its
arguments taken from the demo (one patient, plan, screening and therapy note of each kind; every
session of today's board, and a discharged one). The visible text is checked: tags, scripts,
styles, attribute values and textareas are stripped first, so a code in a form's ``value`` (or
in the protocol editor's JSON) is no finding. PDFs come from the HTML pages checked here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.patients.models import Patient
from ketacare.plans.models import TreatmentPlan
from ketacare.screening.models import Screening
from ketacare.site import demo, demo_outcomes, demo_therapy
from ketacare.supervised.models import Session
from ketacare.therapy.models import TherapySession
from tests.accounts.test_permissions import PAGES, named_routes
from tests.conftest import login

pytestmark = pytest.mark.django_db

# What a clinician must never read: issue and research-note references, Python reprs and
# internal names. Matched case-sensitively in the visible text.
FORBIDDEN = [
    "[Issue",
    "(GK)",
    "None:",
    "research/",
    ".md",
    "next-capabilities",
    "research notes",
    "(notes ",
    "[PK ",
    "ketacare issue",
    "{'",
    "['",
    "Decimal(",
    "<built-in",
    "object at 0x",
    "Traceback",
]
# A state or enum code: lower-case words joined by underscores ("ready_for_discharge").
RAW_CODE = re.compile(r"(?<![\w@./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")

# Pages that show stored field names and values as they are: the audit trail is the record of
# each change, key by key, for an auditor (its values are shown as text, not Python reprs).
VERBATIM_KEYS = {"audit_trail"}


class VisibleText(HTMLParser):
    """The text a person reads: no tags, attribute values, scripts or styles, and no form input
    (a textarea's content is what was typed, like an input's value)."""

    HIDDEN = {"script", "style", "template", "textarea"}  # a textarea holds what is typed

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split())


def findings(text: str, codes: bool = True) -> list[str]:
    """Each forbidden thing in ``text``, with a few words around it; raw codes too unless
    ``codes`` is false."""
    found = []
    for needle in FORBIDDEN:
        at = text.find(needle)
        if at >= 0:
            found.append(f"{needle!r} in ...{text[max(0, at - 60) : at + 60]}...")
    for match in RAW_CODE.finditer(text) if codes else ():
        at = match.start()
        found.append(f"code {match.group()!r} in ...{text[max(0, at - 60) : at + 60]}...")
    return found


def test_the_checker_sees_only_what_a_person_reads() -> None:
    html = (
        '<p title="ready_for_discharge">Ready <input value="not_applicable"> to go</p>'
        "<script>let state = 'ready_for_discharge';</script><style>.a_b {}</style>"
    )
    assert VisibleText.of(html) == "Ready to go"
    assert findings("State: ready_for_discharge") != []
    assert findings("Source: [Issue4]; {'age': 40}") != []
    assert findings("dr.okafor@demo-clinic.example, DEMO-0001, gad7, 12:30") == []


@dataclass(frozen=True)
class Demo:
    """The seeded demo, and the rows whose pages the crawl opens."""

    staff: dict[Role, User]
    treated: Patient  # in the chair with an open alarm, with a history of measures
    screening: Screening  # a screening awaiting the prescriber, with cautions
    plan: TreatmentPlan
    sessions: list[Session]
    therapy: TherapySession | None

    def arguments(self, name: str, pattern: str) -> Iterator[dict[str, object]]:
        """The URL arguments to open ``name`` with: several for the session pages. A page whose
        arguments the demo cannot fill raises, naming what is missing (add it to ``values``)."""
        needed = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
        if "session_id" in needed:
            for session in self.sessions:
                if name.startswith("sessions:rems") and not (
                    session.is_esketamine and session.dosing_started_at
                ):
                    continue  # the REMS form is the esketamine sessions' only
                yield {"session_id": session.pk}
            return
        values = self.values()
        missing = [key for key in needed if values.get(key) is None]
        if missing:
            raise LookupError(f"{name}: the crawl has no demo value for {missing}")
        yield {key: values[key] for key in needed}

    def values(self) -> dict[str, object]:
        from ketacare.controlled.models import Container

        container = Container.objects.order_by("pk").first()
        return {
            "patient_id": self.treated.pk,
            "plan_id": self.plan.pk,
            "screening_id": self.screening.pk,
            "instrument_id": "gad7",
            "step": "history",
            "protocol_id": "iv-racemic",
            "route": "iv",
            "lang": "en",
            "figure": "treated",
            "therapy_id": self.therapy.pk if self.therapy else None,
            "container_id": container.pk if container else None,
            "user_id": self.staff[Role.NURSE].pk,  # whose second factor the admin would reset
        }


@pytest.fixture
def clinic() -> Demo:
    demo.seed(count=12)
    nurse, verifier = (User.objects.get(username=u) for u in ("nurse.reyes", "nurse.tanaka"))
    prescribers = list(User.objects.filter(username__startswith="dr.").order_by("username"))
    demo_outcomes.seed_history(prescribers, nurse, verifier)
    demo_therapy.seed()
    staff = {
        Role(role): User.objects.filter(role=role).order_by("username").first() for role in Role
    }
    treated = Patient.objects.get(mrn="DEMO-0003")
    start_of_day = timezone.now() - timedelta(hours=12)
    today = list(Session.objects.filter(checked_in_at__gte=start_of_day).order_by("chair"))
    discharged = Session.objects.filter(state="discharged").latest("ended_at")  # from history
    plan = next(s.plan for s in today if s.patient.mrn == "DEMO-0001")
    return Demo(
        staff={r: u for r, u in staff.items() if u is not None},
        treated=treated,
        screening=Screening.objects.get(patient__mrn="DEMO-0005"),
        plan=plan,
        sessions=[*today, discharged],
        therapy=TherapySession.objects.filter(note__signed_at__isnull=False).first(),
    )


def test_every_page_speaks_to_clinicians_in_their_words(clinic: Demo) -> None:
    routes = {name: str(p.pattern) for name, p in named_routes()}
    problems: list[str] = []
    opened = 0
    for name, (method, allowed) in sorted(PAGES.items()):
        if method != "GET" or name.endswith("_pdf") or routes[name].endswith(".pdf"):
            continue  # a PDF's words come from the HTML page beside it, checked there
        for role in sorted(allowed):
            client = login(Client(), clinic.staff[role])
            for kwargs in clinic.arguments(name, routes[name]):
                url = reverse(name, kwargs=kwargs)
                response = client.get(url)
                opened += 1
                if response.status_code in (301, 302):
                    continue  # a page that needs a choice first (a report's dates, say)
                if response.status_code != 200:
                    problems.append(f"{role} {url}: status {response.status_code}")
                    continue
                if not response["Content-Type"].startswith("text/html"):
                    continue  # a PDF or CSV: its words come from the HTML page beside it
                text = VisibleText.of(response.content.decode())
                found = findings(text, codes=name not in VERBATIM_KEYS)
                problems += [f"{role} {url}: {f}" for f in found]
    assert opened > 80
    assert not problems, "\n".join(problems)
