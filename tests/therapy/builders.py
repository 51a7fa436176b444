"""Builders for therapy tests: an acting therapist and a note ready to sign, per kind."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session
from ketacare.therapy import services
from ketacare.therapy.models import TherapySession

COMPLETE = {
    "preparation": {
        "intention": "To meet the grief with less fear",
        "expectations": "Unsure; has read about dissociation",
        "consent_to_touch": "yes",
        "touch_limits": "Hand on the shoulder only",
        "support_plan": "Sister drives her home and stays the evening",
        "music_preference": "Instrumental, no vocals",
        "eyeshade_preference": "Eyeshades, may lift them",
        "safety_plan": "Crisis line and sister's number; no SI at present",
    },
    "dosing_support": {
        "present_from": "09:00",
        "present_to": "11:15",
        "set_and_setting": "Dim room, eyeshades, playlist A",
        "experience": "Felt held; images of her father",
        "challenging": "",
    },
    "integration": {
        "themes": "Grief, permission to rest",
        "practices": "Journaling daily; a walk at dusk",
        "risk_screen": "C-SSRS screen negative today",
        "plan": "Next dose Thursday; integration after",
    },
}


def act(user: User) -> Actor:
    return Actor(user, Channel.WEB)


def tomorrow() -> datetime:
    return timezone.now() + timedelta(days=1)


def booked(
    therapist: User, patient: Patient, kind: str = "preparation", supervised: Session | None = None
) -> TherapySession:
    req = services.ScheduleRequest(kind, tomorrow(), supervised)
    return services.schedule(act(therapist), patient, req)
