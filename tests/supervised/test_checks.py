from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings


@override_settings(KETACARE_ALARM_OVERRIDES={"tachycardia": {"heart_rate": "fast"}})
def test_a_malformed_alarm_override_stops_start_up_naming_the_setting() -> None:
    with pytest.raises(SystemCheckError, match=r"KETACARE_ALARM_OVERRIDES: Alarm tachycardia"):
        call_command("check")


@override_settings(KETACARE_ALARM_OVERRIDES={"tachycardia": {"heart_rate": 120}})
def test_a_valid_alarm_override_passes_the_start_up_checks() -> None:
    call_command("check")  # raises SystemCheckError if any check fails
