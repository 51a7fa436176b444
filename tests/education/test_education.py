"""Patient education: the clinic's versions of a handout, the one-time link the patient
acknowledges, the paper record, and the pre-dose gate's education item."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Action, AuditEvent
from ketacare.clinical import handouts
from ketacare.education import selectors, services
from ketacare.education.models import HandoutDelivery, Method
from ketacare.lib.versions import StaleVersion
from ketacare.patients.models import Patient
from ketacare.supervised import selectors as sessions
from ketacare.supervised.services import gate, lifecycle
from tests.conftest import login
from tests.supervised.builders import (
    act,
    checked_in,
    dosed,
    first_session,
    next_session_today,
    signed_plan,
)

pytestmark = pytest.mark.django_db


def edit(user: User, body: str = "## Before\nBring a friend.", reason: str = "Local rules") -> int:
    return services.edit_handout(
        act(user), "iv", "en", title="IV at our clinic", body=body, reason=reason
    ).number


def gate_codes(session: object) -> list[str]:
    return [i.code for i in gate_items(session)]


def gate_items(session: object) -> list[object]:
    from ketacare.clinical.session import gate_items as items

    return list(items(sessions.gate_facts(session)))  # type: ignore[arg-type]


# --- versions -------------------------------------------------------------------------------


def test_the_current_handout_is_the_shipped_one_until_the_clinic_edits_it() -> None:
    text = selectors.current("iv", "en")
    assert text.number == 0
    assert text.version == handouts.shipped("iv", "en").version


def test_each_edit_is_a_new_version_and_the_newest_is_current(prescriber: User) -> None:
    assert edit(prescriber) == 1
    assert edit(prescriber, "## Before\nBring an adult.", "Wording") == 2
    text = selectors.current("iv", "en")
    assert (text.number, text.title) == (2, "IV at our clinic")
    assert text.version == handouts.version_of("IV at our clinic", "## Before\nBring an adult.")
    assert [v.number for v in selectors.history("iv", "en")] == [2, 1]
    assert selectors.current("iv", "es").number == 0


def test_an_edit_is_audited_with_the_versions_before_and_after(prescriber: User) -> None:
    edit(prescriber)
    event = AuditEvent.objects.get(action=Action.CREATE, entity_type="handoutversion")
    assert event.old_values["number"] == 0
    assert event.new_values["reason"] == "Local rules"


def test_a_nurse_cannot_edit_and_an_edit_needs_a_reason(nurse: User, prescriber: User) -> None:
    with pytest.raises(ValidationError):
        edit(nurse)
    with pytest.raises(ValidationError):
        edit(prescriber, reason=" ")


def test_the_edit_page_saves_a_new_version(prescriber: User) -> None:
    client = login(Client(), prescriber)
    url = reverse("education:edit", args=["esketamine", "es"])
    assert "Antes de venir" in client.get(url).content.decode()
    assert 'name="version" value="0"' in client.get(url).content.decode()
    response = client.post(
        url, {"title": "T", "body": "## A\nB", "reason": "Nuestra versión", "version": 0}
    )
    assert response.status_code == 302
    assert selectors.current("esketamine", "es").number == 1
    assert client.post(url, {"title": "T", "version": 1}).status_code == 400


def test_an_edit_started_before_anothers_was_saved_gets_a_conflict_page(
    prescriber: User, admin: User
) -> None:
    client = login(Client(), prescriber)
    url = reverse("education:edit", args=["iv", "en"])
    opened = client.get(url).context["form"].initial  # the shipped text, version 0
    edit(admin, "## Before\nBring an adult.", "Our escort rule")
    stale = client.post(url, {**opened, "body": "## Before\nEat lightly.", "reason": "Food"})
    assert stale.status_code == 409
    rows = {r.label: r for r in stale.context["rows"]}
    assert rows["Body"].saved == "## Before\nBring an adult."
    assert rows["Body"].entered == "## Before\nEat lightly."
    assert rows["Reason"].differs
    assert admin.display_name in stale.content.decode()
    text = selectors.current("iv", "en")
    assert (text.number, text.reason) == (1, "Our escort rule")


def test_the_service_refuses_an_edit_based_on_an_older_version(prescriber: User) -> None:
    edit(prescriber)
    with pytest.raises(StaleVersion) as refused:
        services.edit_handout(
            act(prescriber), "iv", "en", title="T", body="B", reason="R", expected_version=0
        )
    assert refused.value.version == 1
    assert refused.value.current.number == 1
    assert [v.number for v in selectors.history("iv", "en")] == [1]


# --- pages ----------------------------------------------------------------------------------


def test_the_spanish_handout_renders_in_spanish(nurse: User) -> None:
    page = login(Client(), nurse).get(reverse("education:handout", args=["oral-sl", "es"]))
    html = page.content.decode()
    assert 'lang="es"' in html
    assert "Llame al 911" in html
    assert "988" in html


def test_the_handout_pdf_is_a_pdf(nurse: User) -> None:
    response = login(Client(), nurse).get(reverse("education:handout_pdf", args=["iv", "en"]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_an_unknown_handout_is_not_found(nurse: User) -> None:
    client = login(Client(), nurse)
    assert client.get(reverse("education:handout", args=["iv", "fr"])).status_code == 404


def test_the_list_shows_every_handout(clerk: User) -> None:
    html = login(Client(), clerk).get(reverse("education:handouts")).content.decode()
    assert html.count("PDF") == len(handouts.ROUTES) * len(handouts.LANGUAGES)


# --- delivery by link -----------------------------------------------------------------------


def test_the_link_shows_the_first_name_and_the_handout_and_is_audited(
    patient: Patient, nurse: User
) -> None:
    issued = services.send_handout(act(nurse), patient, "esketamine", "en")
    assert issued.delivery.token_digest != issued.token
    page = Client().get(reverse("education:read", args=[issued.token]))
    html = page.content.decode()
    assert patient.given_name in html
    assert patient.family_name not in html
    assert "I have read and understood this" in html
    opened = AuditEvent.objects.filter(action=Action.VIEW, entity_type="handoutdelivery")
    assert opened.get().actor_label.startswith("patient handout link")


def test_acknowledging_records_the_time_and_the_version_read_once(
    patient: Patient, nurse: User, prescriber: User
) -> None:
    issued = services.send_handout(act(nurse), patient, "iv", "es")
    edit(prescriber)  # a later edit does not change what was sent
    client = Client()
    url = reverse("education:read", args=[issued.token])
    assert "Gracias" not in client.post(url).content.decode()
    delivery = HandoutDelivery.objects.get()
    assert delivery.acknowledged_at is not None
    assert delivery.acknowledged_version == handouts.shipped("iv", "es").version
    assert "already read" in client.get(url).content.decode()
    with pytest.raises(services.HandoutUnavailable):
        services.acknowledge(issued.token, None)
    event = AuditEvent.objects.get(action=Action.UPDATE, entity_type="handoutdelivery")
    assert event.new_values["version"] == delivery.version
    assert event.channel == "web"


def test_an_expired_or_wrong_link_shows_why(patient: Patient, nurse: User) -> None:
    issued = services.send_handout(act(nurse), patient, "iv", "en")
    HandoutDelivery.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert (
        "expired" in Client().get(reverse("education:read", args=[issued.token])).content.decode()
    )
    assert "not valid" in Client().get(reverse("education:read", args=["nope"])).content.decode()


def test_the_patient_can_download_the_pdf(patient: Patient, nurse: User) -> None:
    issued = services.send_handout(act(nurse), patient, "im-sc", "en")
    response = Client().get(reverse("education:read_pdf", args=[issued.token]))
    assert response.content.startswith(b"%PDF")
    gone = Client().get(reverse("education:read_pdf", args=["nope"]))
    assert "not valid" in gone.content.decode()


def test_staff_send_a_link_from_the_patients_page(patient: Patient, nurse: User) -> None:
    client = login(Client(), nurse)
    page = client.get(reverse("education:patient", args=[patient.pk]))
    assert "Not recorded." in page.content.decode()
    sent = client.post(
        reverse("education:send", args=[patient.pk]), {"route": "iv", "language": "en"}
    )
    assert "/education/h/" in sent.content.decode()
    bad = client.post(reverse("education:send", args=[patient.pk]), {"route": "x"})
    assert bad.status_code == 302
    assert HandoutDelivery.objects.get().method == Method.LINK


# --- on paper -------------------------------------------------------------------------------


def test_a_handout_given_on_paper_is_recorded_and_audited(patient: Patient, nurse: User) -> None:
    client = login(Client(), nurse)
    url = reverse("education:paper", args=[patient.pk])
    assert client.post(url, {"route": "esketamine", "language": "es"}).status_code == 302
    assert client.post(url, {}).status_code == 302
    delivery = HandoutDelivery.objects.get()
    assert (delivery.method, delivery.issued_by) == (Method.PAPER, nurse)
    assert delivery.acknowledged_version == handouts.shipped("esketamine", "es").version
    assert selectors.has_read(patient, "esketamine")
    assert AuditEvent.objects.filter(
        action=Action.CREATE, entity_type="handoutdelivery", patient=patient
    ).exists()


def test_a_front_desk_clerk_cannot_give_a_handout(patient: Patient, clerk: User) -> None:
    with pytest.raises(ValidationError):
        services.record_on_paper(act(clerk), patient, "iv", "en")
    with pytest.raises(ValidationError):
        services.record_on_paper(Actor.system("t"), patient, "iv", "xx")


# --- the gate -------------------------------------------------------------------------------


def test_a_first_session_of_a_route_waits_for_the_handout(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse, "esketamine-nasal")
    assert "education" in gate_codes(session)
    services.record_on_paper(act(nurse), patient, "iv", "en")  # another route does not count
    assert "education" in gate_codes(session)
    issued = services.send_handout(act(nurse), patient, "esketamine", "es")
    assert "education" in gate_codes(session)  # sent is not read
    services.acknowledge(issued.token, None)
    assert "education" not in gate_codes(session)


def test_a_handout_on_paper_clears_the_gate_item(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse, "iv-racemic")
    services.record_on_paper(act(nurse), patient, "iv", "en")
    assert "education" not in gate_codes(session)


def test_a_second_session_of_the_same_route_does_not_ask_again(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    first = dosed(patient, prescriber, nurse, "iv-racemic")
    lifecycle.abort(act(nurse), first, "Stopped early: the patient felt unwell")
    HandoutDelivery.objects.all().delete()
    second = next_session_today(first, nurse, prescriber)
    assert sessions.gate_facts(second).education_acknowledged is None


def test_a_first_session_of_a_new_route_asks_again(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    first = dosed(patient, prescriber, nurse, "iv-racemic")
    lifecycle.abort(act(nurse), first, "Stopped early: the patient felt unwell")
    reason = "Switching to esketamine after the IV course was stopped"
    plan = signed_plan(
        patient, prescriber, "esketamine-nasal", overlap_reason=reason, chair="Chair 4"
    )
    session = gate.check_in(act(nurse), first_session(plan))
    assert sessions.gate_facts(session).education_acknowledged is False
