"""Start-up checks: a clinic's alarm overrides are validated when the server or a command starts
(``ketacare check``, ``migrate``), not first found broken when a nurse records vital signs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from ketacare.clinical import monitoring


@register()
def alarm_overrides(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        monitoring.alarm_rules(settings.KETACARE_ALARM_OVERRIDES)
    except monitoring.InvalidAlarmOverride as exc:
        return [Error(f"KETACARE_ALARM_OVERRIDES: {exc}", id="ketacare.E001")]
    return []
