"""Every write of measurement-based care: responses (with their stored scores and the safety
alerts they raise), rescoring them when an instrument file changes, self-report requests and their
one-time codes, and closing alerts. Each is one transaction with its audit events."""

from __future__ import annotations

import operator
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import reduce

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical import booking, instruments
from ketacare.education import services as education
from ketacare.education.services import IssuedHandout
from ketacare.measures.models import (
    AlertFlag,
    AssessmentRequest,
    Context,
    ItemAnswer,
    Response,
    SafetyAlert,
    SelfReportAttempt,
    Source,
    digest,
)
from ketacare.measures.safety import safety_flags
from ketacare.measures.signals import responses_rescored
from ketacare.measures.texts import has_patient_text
from ketacare.patients.models import Patient

# Unambiguous characters (no 0/O, 1/I/L) so a code read aloud or typed on a tablet survives.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # 31^8 ~ 8.5e11 codes; with the rate limit a guess is hopeless


@dataclass(frozen=True)
class IssuedRequest:
    request: AssessmentRequest
    code: str
    token: str
    handout: IssuedHandout | None = None


def _check_context(context: str, hours_after_dose: Decimal | None) -> None:
    if context not in {c.value for c in Context}:
        raise ValidationError(
            {
                "context": f"Unknown context {context!r}; use one of "
                f"{', '.join(c.value for c in Context)}."
            }
        )
    if context == Context.POST_SESSION and hours_after_dose is None:
        raise ValidationError(
            {"hours_after_dose": "A post-session measure needs the hours since dosing."}
        )
    if context != Context.POST_SESSION and hours_after_dose is not None:
        raise ValidationError(
            {"hours_after_dose": "Only post-session measures have hours since dosing."}
        )


@transaction.atomic
def record_response(
    actor: Actor,
    patient: Patient,
    instrument_id: str,
    answers: Sequence[object],
    *,
    context: str,
    completed_at: datetime,
    hours_after_dose: Decimal | None = None,
    source: Source = Source.STAFF,
    request: AssessmentRequest | None = None,
    session_id: int | None = None,
    external_system: str = "",
) -> Response:
    """Store a response item by item with the engine's score of it, audit it, and raise an alert
    for any suicide-risk flag. A response taken in from another system has source ``EXTERNAL``
    and names that system in ``external_system``."""
    if (source == Source.EXTERNAL) != bool(external_system.strip()):
        raise ValidationError(
            {"external_system": "Name the other system for (and only for) an external response."}
        )
    try:
        instrument = instruments.get(instrument_id)
        values = instruments.validate_answers(instrument, answers)
    except instruments.UnknownInstrument as exc:
        raise ValidationError({"instrument": str(exc)}) from exc
    except instruments.InvalidAnswers as exc:
        raise ValidationError({"answers": str(exc)}) from exc
    if all(v is None for v in values):
        empty = "No item is answered: nothing to record (an empty questionnaire is no result)."
        raise ValidationError({"answers": empty})
    _check_context(context, hours_after_dose)
    refusal = booking.moment_refusal(completed_at, timezone.localtime())
    if refusal:
        raise ValidationError({"completed_at": refusal})
    result = instruments.score(instrument, values)
    response = Response(
        patient=patient,
        instrument=instrument.id,
        instrument_version=instrument.version,
        context=context,
        hours_after_dose=hours_after_dose,
        completed_at=completed_at,
        source=source,
        external_system=external_system.strip()[:200],
        entered_by=actor.user,
        request=request,
        session_id=session_id,
    )
    response.store_score(result, instrument.version)
    response.save()
    ItemAnswer.objects.bulk_create(
        ItemAnswer(response=response, item=n, value=v) for n, v in enumerate(values, start=1)
    )
    record(
        actor,
        Action.CREATE,
        response,
        patient=patient,
        new={
            "instrument": instrument.id,
            "version": instrument.version,
            "context": context,
            "hours_after_dose": hours_after_dose,
            "completed_at": completed_at,
            "source": source,
            **({"external_system": response.external_system} if external_system else {}),
            "session": session_id,
            "answers": list(values),
            "total": result.total,
            "flags": list(result.flags),
        },
    )
    for flag in safety_flags(result):
        _raise_alert(actor, response, flag, _alert_detail(instrument, values, result))
    return response


def _alert_detail(
    instrument: instruments.Instrument, values: Sequence[int | None], result: instruments.Score
) -> str:
    if result.risk is not None:
        return f"{instrument.abbreviation}: {result.risk} risk"
    flagged = [f for f in instrument.flags if f.flag == AlertFlag.SUICIDAL_IDEATION]
    item = int(flagged[0].on.partition(":")[2]) if flagged else 0
    return f"{instrument.abbreviation} item {item} answered {values[item - 1]}"


def _raise_alert(actor: Actor, response: Response, flag: str, detail: str) -> SafetyAlert:
    patient = response.patient
    alert = SafetyAlert.objects.create(
        patient=patient,
        response=response,
        flag=flag,
        detail=detail,
        assignee=patient.primary_prescriber,
        raised_at=timezone.now(),
    )
    record(
        actor,
        Action.CREATE,
        alert,
        patient=patient,
        new={
            "flag": flag,
            "detail": detail,
            "assignee": patient.primary_prescriber.username if patient.primary_prescriber else None,
        },
    )
    return alert


RESCORE_BATCH = 500  # responses per transaction (and per audit event)


@dataclass
class Rescored:
    """What :func:`rescore_responses` did: responses rescored per instrument id, how many of them
    now have a different score, and those it could not rescore (id, reason), left as they were."""

    rescored: dict[str, int] = field(default_factory=dict)
    changed: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.rescored.values())


def rescore_responses(
    actor: Actor, *, everything: bool = False, batch_size: int = RESCORE_BATCH
) -> Rescored:
    """Re-derive from their item answers the stored scores of every response whose
    ``scored_with`` is not its instrument file's current version (of every response with
    ``everything``). Each batch is one transaction with one audit event summarising it: responses
    per instrument, the versions they were scored with and the one they are now, and the ids
    whose score changed. A response whose answers no longer fit the instrument file, or whose
    instrument is no longer in the library, keeps its stored score."""
    done, after = Rescored(), 0
    while True:
        with transaction.atomic():
            batch = list(
                _to_rescore(everything)
                .filter(pk__gt=after)
                .select_for_update()
                .prefetch_related("answers")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return done
            _rescore_batch(actor, batch, done, everything)
        after = batch[-1].pk


def _to_rescore(everything: bool) -> QuerySet[Response]:
    library = instruments.library().values()
    if everything:
        return Response.objects.filter(instrument__in=[i.id for i in library])
    stale = [Q(instrument=i.id) & ~Q(scored_with=i.version) for i in library]
    return Response.objects.filter(reduce(operator.or_, stale))


def _rescore_batch(actor: Actor, batch: list[Response], done: Rescored, everything: bool) -> None:
    before: dict[str, set[str]] = {}  # instrument id -> the versions its rows were scored with
    changed: list[int] = []
    rescored: list[Response] = []
    for response in batch:
        try:
            fresh = response.score_from_answers()
        except instruments.InvalidAnswers as exc:
            done.failed.append((response.pk, str(exc)))
            continue
        if fresh != response.score():
            changed.append(response.pk)
        before.setdefault(response.instrument, set()).add(response.scored_with)
        response.store_score(fresh, instruments.get(response.instrument).version)
        rescored.append(response)
    if not rescored:
        return
    Response.objects.bulk_update(rescored, Response.SCORE_FIELDS)
    responses_rescored.send(Response, patient_ids=sorted({r.patient_id for r in rescored}))
    counts = {i: sum(1 for r in rescored if r.instrument == i) for i in sorted(before)}
    record(
        actor,
        Action.UPDATE,
        entity_type="response",
        old={"scored_with": {i: sorted(versions) for i, versions in sorted(before.items())}},
        new={
            "scored_with": {i: instruments.get(i).version for i in counts},
            "rescored": counts,
            "score_changed": changed,
            "all": everything,
        },
    )
    for instrument_id, n in counts.items():
        done.rescored[instrument_id] = done.rescored.get(instrument_id, 0) + n
    done.changed += len(changed)


MIN_ERROR_REASON = 10  # characters: enough to say what was wrong


@transaction.atomic
def mark_entered_in_error(actor: Actor, response: Response, reason: str) -> Response:
    """Mark a response entered in error: kept in the record with who and why, and counted
    nowhere after. One that raised a safety alert is marked only by a prescriber, and its open
    alerts close with the reason."""
    field_ = "entered_in_error_reason"
    user = require(actor, Perm.MEASURE_RECORD, field_, "Only a clinician may mark a measure.")
    response = Response.objects.select_for_update().get(pk=response.pk)
    if response.in_error:
        raise ValidationError({field_: "This measure is already marked entered in error."})
    if len(reason.strip()) < MIN_ERROR_REASON:
        raise ValidationError(
            {field_: f"Say what was wrong (a reason of at least {MIN_ERROR_REASON} characters)."}
        )
    alerts = list(response.alerts.select_for_update().filter(closed_at__isnull=True))
    if alerts:
        require(
            actor,
            Perm.ALERT_CLOSE,
            field_,
            "This measure raised an open safety alert: a prescriber marks it entered in error.",
        )
    response.entered_in_error_at, response.entered_in_error_by = timezone.now(), user
    response.entered_in_error_reason = reason.strip()
    response.save(
        update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"]
    )
    record(
        actor,
        Action.UPDATE,
        response,
        patient=response.patient,
        old={"entered_in_error": False},
        new={"entered_in_error": True, "entered_in_error_reason": response.entered_in_error_reason},
    )
    for alert in alerts:
        close_alert(actor, alert, f"Measure entered in error: {response.entered_in_error_reason}")
    return response


@transaction.atomic
def close_alert(actor: Actor, alert: SafetyAlert, note: str) -> SafetyAlert:
    """Close an alert; the note (what was done) is required."""
    alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.closed_at is not None:
        raise ValidationError({"note": "This alert is already closed."})
    minimum = SafetyAlert.CLOSE_NOTE_MIN_LENGTH
    if len(note.strip()) < minimum:
        raise ValidationError({"note": f"Say what was done (at least {minimum} characters)."})
    require(actor, Perm.ALERT_CLOSE, "note", "Only a prescriber can close a safety alert.")
    alert.closed_at, alert.closed_by, alert.close_note = timezone.now(), actor.user, note.strip()
    alert.save(update_fields=["closed_at", "closed_by", "close_note"])
    record(
        actor,
        Action.UPDATE,
        alert,
        patient=alert.patient,
        old={"closed_at": None},
        new={"closed_at": alert.closed_at, "close_note": alert.close_note},
    )
    return alert


def self_report_instruments(instrument_ids: Sequence[str]) -> list[str]:
    """The ids, de-duplicated, if every one names an instrument a patient can complete alone
    (its item text is shipped or loaded by the site); else a ``ValidationError`` saying which."""
    ids = list(dict.fromkeys(instrument_ids))
    if not ids:
        raise ValidationError({"instruments": "Choose at least one instrument."})
    for instrument_id in ids:
        try:
            instrument = instruments.get(instrument_id)
        except instruments.UnknownInstrument as exc:
            raise ValidationError({"instruments": str(exc)}) from exc
        if not has_patient_text(instrument):
            name, status = instrument.abbreviation, instrument.licence.status
            message = (
                f"{name} has no item text here ({status} licence); load the site's "
                "licensed text file to send it to patients."
            )
            raise ValidationError({"instruments": message})
    return ids


def new_secret() -> tuple[str, str]:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return code, secrets.token_urlsafe(32)


@transaction.atomic
def issue_request(
    actor: Actor,
    patient: Patient,
    instrument_ids: Sequence[str],
    *,
    context: str,
    hours_after_dose: Decimal | None = None,
    valid_hours: int | None = None,
    handout: tuple[str, str] | None = None,
) -> IssuedRequest:
    """A one-time code and link for the patient to complete ``instrument_ids`` without login;
    with ``handout`` (route, language), a one-time link to that handout sent with it, in the same
    transaction."""
    ids = self_report_instruments(instrument_ids)
    _check_context(context, hours_after_dose)
    hours = valid_hours or settings.KETACARE_SELF_REPORT_HOURS
    now = timezone.now()
    code, token = new_secret()
    request = AssessmentRequest.objects.create(
        patient=patient,
        instruments=ids,
        context=context,
        hours_after_dose=hours_after_dose,
        code_digest=digest(code),
        token_digest=digest(token),
        due_at=now,
        expires_at=now + timedelta(hours=hours),
        created_by=actor.user,
    )
    record(
        actor,
        Action.CREATE,
        request,
        patient=patient,
        new={"instruments": ids, "context": context, "expires_at": request.expires_at},
    )
    sent = education.send_handout(actor, patient, *handout) if handout else None
    return IssuedRequest(request, code, token, sent)


class RequestUnavailable(Exception):
    """The code or link is wrong, used, or expired; the message says which, and nothing else."""


class TooManyAttempts(Exception):
    """Too many wrong codes from this address recently."""


def _rate_limited(ip: str | None) -> bool:
    since = timezone.now() - timedelta(minutes=settings.KETACARE_SELF_REPORT_LOCKOUT_MINUTES)
    failures = SelfReportAttempt.objects.filter(ip_address=ip, at__gte=since).count()
    return failures >= settings.KETACARE_SELF_REPORT_MAX_FAILURES


def open_request(secret: str, *, by_code: bool, ip: str | None) -> AssessmentRequest:
    """The open request a code or link points to; audited as the patient opening it.

    A wrong code is recorded outside the lookup's transaction, so the failure counts towards the
    rate limit even though the lookup raises.
    """
    if _rate_limited(ip):
        raise TooManyAttempts()
    normalised = secret.strip().upper().replace("-", "").replace(" ", "") if by_code else secret
    lookup = {"code_digest": digest(normalised)} if by_code else {"token_digest": digest(secret)}
    with transaction.atomic():
        request = AssessmentRequest.objects.select_for_update().filter(**lookup).first()
        if (
            request is not None
            and request.completed_at is None
            and request.expires_at > timezone.now()
        ):
            if request.opened_at is None:
                request.opened_at = timezone.now()
                request.save(update_fields=["opened_at"])
            record(
                _patient_actor(request, ip),
                Action.VIEW,
                request,
                patient=request.patient,
                new={"instruments": request.instruments},
            )
            return request
    if request is None:
        SelfReportAttempt.objects.create(ip_address=ip, at=timezone.now())
        raise RequestUnavailable("That code is not valid. Check it and try again.")
    if request.completed_at is not None:
        raise RequestUnavailable("These questionnaires have already been completed. Thank you.")
    raise RequestUnavailable("This code has expired. Please ask the clinic for a new one.")


def _patient_actor(request: AssessmentRequest, ip: str | None) -> Actor:
    from ketacare.audit.models import Channel

    return Actor(None, Channel.WEB, ip, label=f"patient self-report (request {request.pk})")


@transaction.atomic
def submit_self_report(
    request: AssessmentRequest, answers: Mapping[str, Sequence[object]], ip: str | None
) -> list[Response]:
    """Record every instrument of the bundle at once; a request can be completed only once."""
    request = AssessmentRequest.objects.select_for_update().get(pk=request.pk)
    if request.completed_at is not None or request.expires_at <= timezone.now():
        raise RequestUnavailable("These questionnaires can no longer be submitted.")
    if set(answers) != set(request.instruments):
        raise ValidationError(
            {"answers": f"Expected answers for {', '.join(request.instruments)}."}
        )
    actor, now = _patient_actor(request, ip), timezone.now()
    responses = [
        record_response(
            actor,
            request.patient,
            instrument_id,
            answers[instrument_id],
            context=request.context,
            hours_after_dose=request.hours_after_dose,
            completed_at=now,
            source=Source.SELF_REPORT,
            request=request,
        )
        for instrument_id in request.instruments
    ]
    request.completed_at = now
    request.save(update_fields=["completed_at"])
    record(
        actor,
        Action.UPDATE,
        request,
        patient=request.patient,
        old={"completed_at": None},
        new={"completed_at": now},
    )
    return responses


@transaction.atomic
def view_measures(actor: Actor, patient: Patient) -> None:
    """Audit a read of the chart's measures section (trends, scores, alerts)."""
    record(actor, Action.VIEW, patient, patient=patient, new={"sections": "measures"})
