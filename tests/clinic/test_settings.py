"""The clinic settings: the environment's values until an administrator saves the clinic's own,
every field checked and named, chairs with bookings kept, every change audited; and every
reader (plans, the REMS form, report letterheads) taking the settings in effect."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.clinic import selectors, services
from ketacare.clinic.models import ClinicSettings
from ketacare.patients.models import Patient
from ketacare.plans import services as plans
from ketacare.plans.forms import MoveForm
from tests.conftest import login
from tests.plans.test_plans import request

ENV_SITE = {
    "name": "Harbourview Anxiety Clinic",
    "address": "12 Quay Street",
    "city": "Portland",
    "state": "ME",
    "zip": "04101",
    "phone": "+1 207 555 0100",
}
from_env = override_settings(KETACARE_SITE=ENV_SITE, KETACARE_CHAIRS=["Bay 1", "Bay 2"])


def act(user: User) -> Actor:
    return Actor(user, Actor.system("t").channel)


def settings_request(**kw: Any) -> services.SettingsRequest:
    values: dict[str, Any] = {
        "name": "Cedar Grove Interventional Psychiatry",
        "address": "400 Birch Avenue, Suite 210",
        "city": "Burlington",
        "state": "VT",
        "zip": "05401",
        "phone": "+1 802 555 0147",
        "chairs": ("Chair 1", "Chair 2", "Chair 3"),
        "opens_at": time(7, 30),
        "closes_at": time(17, 0),
        "open_days": (0, 1, 2, 3, 4, 5),
    }
    return services.SettingsRequest(**(values | kw))


def form_data(**kw: Any) -> dict[str, Any]:
    r = settings_request()
    data: dict[str, Any] = {
        "name": r.name,
        "address": r.address,
        "city": r.city,
        "state": r.state,
        "zip": r.zip,
        "phone": r.phone,
        "chairs": "\n".join(r.chairs),
        "opens_at": "07:30",
        "closes_at": "17:00",
        "open_days": ["0", "1", "2", "3", "4"],
        "required_certification": "ACLS",
        "version": selectors.current().version,  # as the page opened now carries it
    }
    return data | kw


@from_env
@pytest.mark.django_db
def test_with_nothing_saved_the_environment_is_in_effect_and_the_page_says_so(
    admin: User, client: Client
) -> None:
    clinic = selectors.current()
    assert clinic.from_environment
    assert (clinic.name, clinic.chairs) == ("Harbourview Anxiety Clinic", ("Bay 1", "Bay 2"))
    assert clinic.source("name") == "environment variable KETACARE_SITE_NAME"
    assert clinic.source("opens_at") == "ketacare's configurable default"

    page = login(client, admin).get(reverse("clinic:settings")).content.decode()

    assert "Nothing has been saved here yet" in page
    assert "environment variables (KETACARE_SITE_* and KETACARE_CHAIRS)" in page
    assert 'value="Harbourview Anxiety Clinic"' in page
    assert "Bay 1\nBay 2</textarea>" in page


@from_env
@pytest.mark.django_db
def test_an_admin_saves_the_settings_and_the_change_is_audited(admin: User, client: Client) -> None:
    response = login(client, admin).post(reverse("clinic:settings"), form_data())

    assert response.status_code == 302
    clinic = selectors.current()
    assert not clinic.from_environment
    assert clinic.name == "Cedar Grove Interventional Psychiatry"
    assert clinic.chairs == ("Chair 1", "Chair 2", "Chair 3")
    assert (clinic.opens_at, clinic.closes_at, clinic.open_days) == (
        time(7, 30),
        time(17),
        (0, 1, 2, 3, 4),
    )
    assert clinic.source("name") == "the clinic settings"
    event = AuditEvent.objects.filter(entity_type="clinicsettings").get()
    assert event.actor == admin
    assert event.old_values["name"] == "Harbourview Anxiety Clinic"
    assert event.new_values["name"] == "Cedar Grove Interventional Psychiatry"
    assert event.old_values["chairs"] == ["Bay 1", "Bay 2"]
    page = client.get(reverse("clinic:settings")).content.decode()
    assert f"Saved by {admin.display_name} on " in page
    assert "Nothing has been saved here yet" not in page


@pytest.mark.django_db
def test_a_second_save_audits_only_what_changed(admin: User) -> None:
    services.save_settings(act(admin), settings_request())
    services.save_settings(act(admin), settings_request(phone="+1 802 555 0199"))

    last = AuditEvent.objects.filter(entity_type="clinicsettings").order_by("seq").last()
    assert last is not None
    assert (last.action, last.old_values, last.new_values) == (
        "update",
        {"phone": "+1 802 555 0147"},
        {"phone": "+1 802 555 0199"},
    )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"closes_at": "07:00"}, "closes_at", "Must be later than the opening time (07:30)."),
        ({"chairs": "Chair 1\nChair 1"}, "chairs", "named twice: Chair 1"),
        ({"chairs": "x" * 41}, "chairs", "each 1 to 40 characters"),
        ({"chairs": "\n".join(f"C{i}" for i in range(21))}, "chairs", "1 to 20 distinct names"),
        ({"phone": "call us"}, "phone", "Enter a phone number: digits, spaces"),
        ({"open_days": []}, "open_days", "This field is required."),
        ({"open_days": ["9"]}, "open_days", "Select a valid choice. 9 is not one"),
        ({"name": "  "}, "name", "This field is required."),
    ],
)
@pytest.mark.django_db
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(
    admin: User, client: Client, change: dict[str, Any], field: str, words: str
) -> None:
    response = login(client, admin).post(reverse("clinic:settings"), form_data(**change))

    assert response.status_code == 400
    assert words in " ".join(response.context["form"].errors[field])
    assert not ClinicSettings.objects.exists()
    assert not AuditEvent.objects.filter(entity_type="clinicsettings").exists()


@pytest.mark.django_db
def test_the_service_names_every_problem_at_once_with_the_allowed_values(admin: User) -> None:
    bad = settings_request(
        zip="", chairs=(), closes_at=time(7), open_days=(7,), phone="", address="a" * 101
    )
    with pytest.raises(ValidationError) as refused:
        services.save_settings(act(admin), bad)

    errors = refused.value.message_dict
    assert set(errors) == {"zip", "chairs", "closes_at", "open_days", "phone", "address"}
    assert "Monday, Tuesday" in errors["open_days"][0]
    assert "At most 100 characters (this is 101)" in errors["address"][0]


@pytest.mark.django_db
def test_only_an_administrator_saves_the_settings(prescriber: User, client: Client) -> None:
    with pytest.raises(ValidationError):
        services.save_settings(act(prescriber), settings_request())
    assert login(client, prescriber).get(reverse("clinic:settings")).status_code == 403
    assert not ClinicSettings.objects.exists()


@pytest.mark.django_db
def test_removing_a_chair_with_bookings_from_today_is_refused_naming_them(
    admin: User, patient: Patient, client: Client
) -> None:
    services.save_settings(act(admin), settings_request())
    tomorrow = timezone.localdate() + timedelta(days=1)
    plans.create_plan(act(admin), patient, request(start_on=tomorrow, chair="Chair 3"))

    response = login(client, admin).post(
        reverse("clinic:settings"), form_data(chairs="Chair 1\nChair 2")
    )

    assert response.status_code == 400
    message = " ".join(response.context["form"].errors["chairs"])
    assert "Chair 3 still has bookings from today on" in message
    assert f"Chair 3 on {tomorrow:%a %Y-%m-%d} at 09:30 (Delgado, Rosa, session 1)" in message
    assert selectors.chairs() == ("Chair 1", "Chair 2", "Chair 3")


@pytest.mark.django_db
def test_a_chair_without_bookings_is_removed_and_renamed_freely(admin: User) -> None:
    services.save_settings(act(admin), settings_request())

    services.save_settings(act(admin), settings_request(chairs=("Recliner A", "Chair 2")))

    assert selectors.chairs() == ("Recliner A", "Chair 2")
    assert [c for c, _ in MoveForm().fields["chair"].choices] == ["Recliner A", "Chair 2"]


@pytest.mark.django_db
def test_a_plan_books_only_the_chairs_in_effect(admin: User, patient: Patient) -> None:
    services.save_settings(act(admin), settings_request(chairs=("Recliner A",)))

    with pytest.raises(ValidationError) as refused:
        plans.create_plan(act(admin), patient, request(chair="Chair 2"))

    assert refused.value.message_dict["chair"] == ["Unknown chair; use one of Recliner A."]
    plan = plans.create_plan(act(admin), patient, request(chair="Recliner A"))
    assert plan.chair == "Recliner A"
