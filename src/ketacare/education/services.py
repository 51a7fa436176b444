"""Every education write with its audit event in the same transaction: a clinic edit of a
handout (a new version), a handout sent by one-time link or recorded as given on paper, and the
patient opening and acknowledging the link."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action, Channel
from ketacare.audit.services import record
from ketacare.clinical import handouts
from ketacare.education import selectors
from ketacare.education.models import HandoutDelivery, HandoutVersion, Method, digest
from ketacare.lib import versions
from ketacare.patients.models import Patient

# Long enough to read before the first session, which is often days after the plan is signed.
LINK_DAYS = 7


class HandoutUnavailable(Exception):
    """The link is wrong, already acknowledged, or expired; the message says which."""


@dataclass(frozen=True)
class IssuedHandout:
    delivery: HandoutDelivery
    token: str


def _known(route: str, language: str) -> None:
    if route not in handouts.ROUTES or language not in handouts.LANGUAGES:
        raise ValidationError({"route": f"No handout for {route!r} in {language!r}."})


@transaction.atomic
def edit_handout(
    actor: Actor,
    route: str,
    language: str,
    *,
    title: str,
    body: str,
    reason: str,
    expected_version: int | None = None,
) -> HandoutVersion:
    """The clinic's copy as a new version; the older ones stay as they were. An edit based on
    another version than the current one (``expected_version``: its number, 0 as shipped)
    saves nothing and raises :class:`~ketacare.lib.versions.StaleVersion` carrying the
    current :class:`~.selectors.CurrentHandout`."""
    user = require(actor, Perm.EDUCATION_EDIT, "body", "Only a prescriber or admin edits handouts.")
    _known(route, language)
    if not (title.strip() and body.strip() and reason.strip()):
        raise ValidationError({"body": "A title, the text and the reason for the edit are needed."})
    latest = (
        HandoutVersion.objects.select_for_update().filter(route=route, language=language).first()
    )
    before = selectors.current(route, language)
    versions.check(expected_version, before, before.number)
    try:
        # The first clinic edit has no row to lock: of two at once, the unique number refuses
        # the second, which is then as stale as a checked one.
        with transaction.atomic():
            version = HandoutVersion.objects.create(
                route=route,
                language=language,
                number=(latest.number if latest else 0) + 1,
                title=title.strip(),
                body=body.strip(),
                version=handouts.version_of(title, body),
                edited_by=user,
                edited_at=timezone.now(),
                reason=reason.strip(),
            )
    except IntegrityError:
        now = selectors.current(route, language)
        raise versions.StaleVersion(now, now.number) from None
    record(
        actor,
        Action.CREATE,
        version,
        old={"number": before.number, "version": before.version},
        new={"number": version.number, "version": version.version, "reason": version.reason},
    )
    return version


def _deliver(
    actor: Actor, patient: Patient, route: str, language: str, method: Method
) -> HandoutDelivery:
    user = require(actor, Perm.EDUCATION_SEND, "route", "Your role cannot give out handouts.")
    _known(route, language)
    text = selectors.current(route, language)
    return HandoutDelivery(
        patient=patient,
        route=route,
        language=language,
        method=method,
        number=text.number,
        version=text.version,
        title=text.title,
        body=text.body,
        issued_by=user,
        issued_at=timezone.now(),
    )


@transaction.atomic
def send_handout(actor: Actor, patient: Patient, route: str, language: str) -> IssuedHandout:
    """A one-time link to the current handout, valid :data:`LINK_DAYS` days."""
    delivery = _deliver(actor, patient, route, language, Method.LINK)
    token = secrets.token_urlsafe(32)
    delivery.token_digest = digest(token)
    delivery.expires_at = delivery.issued_at + timedelta(days=LINK_DAYS)
    delivery.save()
    record(actor, Action.CREATE, delivery, patient=patient, new=_summary(delivery))
    return IssuedHandout(delivery, token)


@transaction.atomic
def record_on_paper(
    actor: Actor, patient: Patient, route: str, language: str, given_at: datetime | None = None
) -> HandoutDelivery:
    """The current handout was handed to the patient on paper and gone through with them."""
    delivery = _deliver(actor, patient, route, language, Method.PAPER)
    delivery.acknowledged_at = given_at or delivery.issued_at
    delivery.acknowledged_version = delivery.version
    delivery.save()
    record(actor, Action.CREATE, delivery, patient=patient, new=_summary(delivery))
    return delivery


def _summary(delivery: HandoutDelivery) -> dict[str, object]:
    return {
        "route": delivery.route,
        "language": delivery.language,
        "method": delivery.method,
        "number": delivery.number,
        "version": delivery.version,
        "expires_at": delivery.expires_at,
        "acknowledged_at": delivery.acknowledged_at,
    }


def _patient_actor(delivery: HandoutDelivery, ip: str | None) -> Actor:
    return Actor(None, Channel.WEB, ip, label=f"patient handout link (delivery {delivery.pk})")


def _usable(token: str) -> HandoutDelivery:
    delivery = (
        HandoutDelivery.objects.select_for_update()
        .select_related("patient")
        .filter(token_digest=digest(token), method=Method.LINK)
        .first()
    )
    if delivery is None:
        raise HandoutUnavailable("This link is not valid. Please ask the clinic for a new one.")
    if delivery.acknowledged_at is not None:
        raise HandoutUnavailable("You have already read this handout. Thank you.")
    assert delivery.expires_at is not None  # every link has an expiry
    if delivery.expires_at <= timezone.now():
        raise HandoutUnavailable("This link has expired. Please ask the clinic for a new one.")
    return delivery


@transaction.atomic
def open_handout(token: str, ip: str | None) -> HandoutDelivery:
    """The handout a link points to, audited as the patient opening it."""
    delivery = _usable(token)
    record(
        _patient_actor(delivery, ip),
        Action.VIEW,
        delivery,
        patient=delivery.patient,
        new={"version": delivery.version},
    )
    return delivery


@transaction.atomic
def acknowledge(token: str, ip: str | None) -> HandoutDelivery:
    """The patient read and understood the handout: the time and the exact version (hash) they
    were shown. The link works once."""
    delivery = _usable(token)
    delivery.acknowledged_at = timezone.now()
    delivery.acknowledged_version = delivery.version
    delivery.save(update_fields=["acknowledged_at", "acknowledged_version"])
    record(
        _patient_actor(delivery, ip),
        Action.UPDATE,
        delivery,
        patient=delivery.patient,
        old={"acknowledged_at": None},
        new={"acknowledged_at": delivery.acknowledged_at, "version": delivery.version},
    )
    return delivery


@transaction.atomic
def patient_handouts(actor: Actor, patient: Patient) -> list[HandoutDelivery]:
    """The handouts a patient was given, audited as a read of their record."""
    record(actor, Action.VIEW, patient, patient=patient, new={"page": "handouts"})
    return list(selectors.deliveries(patient))
