"""No lost updates on the clinic settings: two administrators saving the settings at once
never silently undo each other's change. The form carries the version it was opened on (0 for
the environment's values); a stale save shows both versions and saves nothing."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEvent
from ketacare.clinic import selectors, services
from ketacare.clinic.models import ClinicSettings
from ketacare.lib.versions import StaleVersion
from tests.clinic.test_settings import act, settings_request
from tests.conftest import login, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_admin(db: None) -> User:
    bea = make_user(Role.ADMIN, "bea.admin")
    bea.first_name = "Bea"
    bea.save(update_fields=["first_name"])
    return bea


def settings_form(client: Client) -> dict[str, Any]:
    """What the browser posts back from the settings form as the page opened it."""
    form = client.get(reverse("clinic:settings")).context["form"]
    data = dict(form.initial)
    return data | {
        "opens_at": f"{data['opens_at']:%H:%M}",
        "closes_at": f"{data['closes_at']:%H:%M}",
        "open_days": [str(d) for d in data["open_days"]],
    }


def test_the_second_of_two_admins_gets_a_conflict_page_and_the_first_change_stays(
    admin: User, second_admin: User
) -> None:
    services.save_settings(act(admin), settings_request())
    alice, bea = login(Client(), admin), login(Client(), second_admin)
    first, second = settings_form(alice), settings_form(bea)
    url = reverse("clinic:settings")

    assert alice.post(url, {**first, "phone": "+1 802 555 0199"}).status_code == 302
    stale = bea.post(url, {**second, "closes_at": "19:00", "open_days": ["0", "2"]})

    assert stale.status_code == 409
    clinic = selectors.current()
    assert clinic.phone == "+1 802 555 0199"  # the first change is intact
    assert clinic.closes_at == time(17)  # and nothing of the stale save was kept
    assert clinic.version == 2
    page = stale.content.decode()
    assert "Nothing you entered was saved" in page
    assert admin.display_name in page
    assert f'href="{url}"' in page  # start again from the saved settings
    rows = {r.label: r for r in stale.context["rows"]}
    phone = rows[services.LABELS["phone"]]
    assert (phone.entered, phone.saved) == ("+1 802 555 0147", "+1 802 555 0199")
    days = rows[services.LABELS["open_days"]]
    assert days.entered == "Monday, Wednesday"  # days by name, not their numbers
    assert days.saved == "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday"
    chairs = rows[services.LABELS["chairs"]]
    assert (chairs.saved, chairs.differs) == ("Chair 1\nChair 2\nChair 3", False)
    assert rows[services.LABELS["required_certification"]].saved.startswith("Advanced")
    assert sum(r.differs for r in rows.values()) == 3  # phone, closing time, days
    updates = AuditEvent.objects.filter(entity_type="clinicsettings", actor=second_admin)
    assert not updates.exists()


def test_two_first_saves_over_the_environment_cannot_both_pass(admin: User) -> None:
    services.save_settings(act(admin), settings_request(), expected_version=0)
    with pytest.raises(StaleVersion) as refused:
        services.save_settings(
            act(admin), settings_request(phone="+1 802 555 0199"), expected_version=0
        )
    assert refused.value.version == 1
    assert refused.value.current.phone == "+1 802 555 0147"
    assert ClinicSettings.objects.get().phone == "+1 802 555 0147"


def test_saving_on_the_current_version_moves_it_on_and_a_save_of_nothing_does_not(
    admin: User,
) -> None:
    services.save_settings(act(admin), settings_request(), expected_version=0)
    services.save_settings(act(admin), settings_request(zip="05402"), expected_version=1)
    services.save_settings(act(admin), settings_request(zip="05402"), expected_version=2)
    assert selectors.current().version == 2


def test_a_settings_form_without_its_version_is_refused_as_out_of_date(admin: User) -> None:
    client = login(Client(), admin)
    data = settings_form(client)
    del data["version"]
    response = client.post(reverse("clinic:settings"), data)
    assert response.status_code == 400
    assert "This form is out of date" in response.content.decode()
    assert not ClinicSettings.objects.exists()
