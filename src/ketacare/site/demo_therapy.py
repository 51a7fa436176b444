"""Demo therapy: for a few patients whose doses were recorded (each dose already proposed its
integration), a signed preparation note before the first dose and a signed integration note
for the proposal, written by the patient's therapist through the therapy services."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.therapy import services
from ketacare.therapy.models import Kind, Status, TherapySession

PREPARATION = {
    "intention": "To loosen the grip of the low mood and reconnect with friends",
    "expectations": "Some dissociation; worried about feeling out of control",
    "consent_to_touch": "yes",
    "touch_limits": "A hand on the forearm only, after asking",
    "support_plan": "Partner drives home and stays the evening",
    "music_preference": "Instrumental, no vocals",
    "eyeshade_preference": "Eyeshades, may lift them",
    "safety_plan": "Crisis line and partner's number agreed; no current suicidal ideation",
}
INTEGRATION = {
    "themes": "Grief for a parent; permission to rest",
    "practices": "Ten minutes of journaling daily; a walk each evening",
    "risk_screen": "C-SSRS screen negative at the last session; no new risk today",
    "plan": "Next dose as planned; integration again after it",
}


def _at(day: datetime, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day.date(), time(hour)))


def seed(limit: int = 4) -> int:
    """Signed preparation and integration notes for up to ``limit`` patients; how many."""
    proposals = (
        TherapySession.objects.filter(
            kind=Kind.INTEGRATION, status=Status.PROPOSED, patient__therapist__isnull=False
        )
        .select_related("patient__therapist", "supervised")
        .order_by("dosed_on")
    )
    seeded: set[int] = set()
    for proposal in proposals:
        if proposal.patient_id in seeded or len(seeded) >= limit:
            continue
        therapist: User = proposal.patient.therapist  # type: ignore[assignment]
        actor = Actor(therapist, Channel.CLI, label="demo")
        dosed = timezone.make_aware(datetime.combine(proposal.dosed_on, time(10)))  # type: ignore[arg-type]
        prep = services.schedule(
            actor,
            proposal.patient,
            services.ScheduleRequest(Kind.PREPARATION, _at(dosed - timedelta(days=3), 14)),
        )
        _signed(actor, prep, PREPARATION)
        booked = services.schedule(
            actor,
            proposal.patient,
            services.ScheduleRequest(
                Kind.INTEGRATION, _at(dosed + timedelta(days=1), 15), proposal.supervised
            ),
        )
        if booked.scheduled_at is not None and booked.scheduled_at < timezone.now():
            _signed(actor, booked, INTEGRATION)
        seeded.add(proposal.patient_id)
    _close_history()
    return len(seeded)


HISTORY_REASON = "Integration took place before the clinic recorded therapy in ketacare"


def _close_history(days: int = 14) -> None:
    """The demo's past doses each proposed an integration; those whose window closed more than
    ``days`` ago are cancelled with a reason, so the therapists' lists show the current ones."""
    cutoff = timezone.localdate() - timedelta(days=days)
    stale = TherapySession.objects.filter(
        kind=Kind.INTEGRATION, status=Status.PROPOSED, due_by__lt=cutoff
    ).select_related("patient__therapist")
    fallback = User.objects.filter(role="therapist", is_active=True).order_by("pk").first()
    for proposal in stale:
        therapist = proposal.patient.therapist or fallback
        if therapist is not None:
            services.cancel(Actor(therapist, Channel.CLI, label="demo"), proposal, HISTORY_REASON)


def _signed(actor: Actor, ts: TherapySession, content: dict[str, str]) -> None:
    services.save_draft(actor, ts, content)
    services.sign(actor, ts)
