"""Staff credentials: each status in words, the warning window, the DEA check digit, what the
services refuse (naming the field), the page per role and the banner."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent, Channel
from ketacare.clinic import credentials, services
from ketacare.clinic.models import Licence
from tests.clinic.builders import DEA_NUMBER, certified, licensed, manager
from tests.conftest import login, refused

TODAY = date(2026, 11, 3)


@pytest.mark.parametrize(
    ("days", "level", "words"),
    [
        (61, "current", "current (until 3 Jan 2027)"),
        (60, "warning", "expires in 60 days (2 Jan 2027)"),
        (59, "warning", "expires in 59 days (1 Jan 2027)"),
        (1, "warning", "expires tomorrow (4 Nov 2026)"),
        (0, "warning", "expires today (3 Nov 2026)"),
        (-1, "expired", "expired on 2 Nov 2026"),
    ],
)
def test_a_credential_is_flagged_from_60_days_before_it_expires(
    days: int, level: str, words: str
) -> None:
    found = credentials.status(TODAY + timedelta(days=days), TODAY, 60)
    assert (found.level, found.words) == (level, words)


def test_a_credential_not_on_file_reads_not_recorded() -> None:
    assert credentials.status(None, TODAY, 60).words == "not recorded"


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("AP1234563", True),
        ("BO4172932", True),
        ("MJ3508162", True),
        ("AP1234564", False),  # the check digit is 3
        ("XP1234563", False),  # not a practitioner's registrant type
        ("AP123456", False),
        ("A11234563", False),
    ],
)
def test_a_dea_number_is_checked_with_the_dea_check_digit(number: str, valid: bool) -> None:
    assert (services.dea_number_problem(number) == "") is valid


def test_a_licence_renewed_replaces_its_expiry_and_is_audited_with_both(
    prescriber: User,
) -> None:
    licensed(prescriber, expires_on=timezone.localdate() + timedelta(days=10))
    renewed = timezone.localdate() + timedelta(days=700)
    licence = licensed(prescriber, expires_on=renewed)
    assert Licence.objects.filter(user=prescriber).count() == 1
    event = AuditEvent.objects.filter(entity_type="licence").order_by("-id").first()
    assert event is not None
    assert event.action == "update"
    assert event.new_values["expires_on"] == renewed.isoformat()
    assert licence.expires_on == renewed


def test_an_expired_licence_is_recorded_all_the_same(prescriber: User) -> None:
    licence = licensed(prescriber, expires_on=date(2020, 1, 31))
    assert licence.pk is not None


@pytest.mark.parametrize(
    ("field", "change", "says"),
    [
        ("expires_on", {"expires_on": date(1899, 12, 31)}, "from 1900"),
        ("expires_on", {"expires_on": date(2099, 1, 1)}, "check the year"),
        ("state", {"state": "ZZ"}, "Choose one of the states"),
        ("kind", {"kind": "vet"}, "Choose one of the licence kinds"),
        ("number", {"number": "??"}, "licence number"),
    ],
)
def test_a_licence_is_refused_naming_the_field(
    prescriber: User, field: str, change: dict[str, object], says: str
) -> None:
    values: dict[str, object] = {
        "user": prescriber,
        "kind": "MD",
        "state": "CA",
        "number": "A1",
        "expires_on": date(2027, 1, 1),
    } | change
    request = services.LicenceRequest(**values)  # type: ignore[arg-type]
    assert says in refused(field, lambda: services.record_licence(manager(), request))
    assert not Licence.objects.exists()


def test_a_dea_registration_with_a_wrong_check_digit_is_refused(prescriber: User) -> None:
    request = services.DeaRequest(prescriber, "AP1234564", "CA", date(2027, 1, 1), ("3N",))
    assert "check digit" in refused("number", lambda: services.record_dea(manager(), request))


def test_a_dea_registration_without_schedule_iii_non_narcotic_says_it_does_not_cover_ketamine(
    prescriber: User, admin: User
) -> None:
    request = services.DeaRequest(prescriber, DEA_NUMBER, "CA", date(2027, 1, 1), ("2", "4"))
    services.record_dea(manager(), request)
    page = login(Client(), admin).get(reverse("clinic:credentials")).content.decode()
    assert "does not cover ketamine" in page


def test_only_an_administrator_records_credentials(nurse: User) -> None:
    request = services.CertificationRequest(nurse, "ACLS", date(2027, 1, 1))
    nurse_acting = Actor(nurse, Channel.CLI)
    says = refused("user", lambda: services.record_certification(nurse_acting, request))
    assert "administrator" in says


def test_the_administrator_sees_every_clinician_and_the_forms(
    admin: User, prescriber: User, nurse: User, therapist: User
) -> None:
    page = login(Client(), admin).get(reverse("clinic:credentials")).content.decode()
    for user in (prescriber, nurse, therapist):
        assert user.display_name in page
    assert "Record the licence" in page
    assert "not recorded" in page


def test_a_clinician_sees_only_their_own_credentials_and_no_forms(
    prescriber: User, nurse: User
) -> None:
    certified(nurse)
    page = login(Client(), nurse).get(reverse("clinic:credentials")).content.decode()
    assert nurse.display_name in page
    assert prescriber.display_name not in page
    assert "Record the licence" not in page
    post = login(Client(), nurse).post(reverse("clinic:record_credential", args=["licence"]))
    assert post.status_code == 403


def test_the_administrator_records_a_licence_through_the_page(
    admin: User, prescriber: User
) -> None:
    client = login(Client(), admin)
    response = client.post(
        reverse("clinic:record_credential", args=["licence"]),
        {
            "licence-user": prescriber.pk,
            "licence-kind": "MD",
            "licence-state": "CA",
            "licence-number": "A 55512",
            "licence-expires_on": "2019-05-31",
        },
        follow=True,
    )
    assert "expired on 31 May 2019" in response.content.decode()
    assert Licence.objects.get(user=prescriber).number == "A 55512"


def test_a_refused_form_comes_back_with_the_reason_beside_the_field(
    admin: User, prescriber: User
) -> None:
    response = login(Client(), admin).post(
        reverse("clinic:record_credential", args=["dea"]),
        {
            "dea-user": prescriber.pk,
            "dea-number": "AP1234564",
            "dea-state": "CA",
            "dea-expires_on": "2027-01-01",
            "dea-schedules": ["3N"],
        },
    )
    assert response.status_code == 400
    assert "check digit does not match" in response.content.decode()


def test_a_clinician_whose_certification_runs_out_within_the_window_sees_a_banner(
    nurse: User,
) -> None:
    certified(nurse, expires_on=timezone.localdate() + timedelta(days=59))
    page = login(Client(), nurse).get(reverse("patients:list")).content.decode()
    assert "Your ACLS certification expires in 59 days" in page


def test_no_banner_61_days_before_expiry(nurse: User) -> None:
    certified(nurse, expires_on=timezone.localdate() + timedelta(days=61))
    page = login(Client(), nurse).get(reverse("patients:list")).content.decode()
    assert 'id="credential-warning"' not in page


def test_the_administrator_is_told_how_many_staff_need_a_renewal(
    admin: User, prescriber: User, nurse: User
) -> None:
    licensed(prescriber, expires_on=timezone.localdate() - timedelta(days=3))
    certified(nurse, expires_on=timezone.localdate() + timedelta(days=20))
    certified(nurse, kind="BLS", expires_on=timezone.localdate() + timedelta(days=20))
    page = login(Client(), admin).get(reverse("patients:list")).content.decode()
    assert credentials.staff_needing_attention(timezone.localdate()) == 2
    assert "2 staff members hold a credential expiring" in page
