"""Passkeys and security keys (django-otp-webauthn), as a second factor only: the relying party
is the clinic's host, and the allowed origin is the page's own unless configured. The ceremony's
endpoints (:data:`urlpatterns`, mounted by the site as namespace ``otp_webauthn``) are the
library's, with registration and verification audited; :func:`finish_second_step` is what every
way of passing the second step ends with."""

from __future__ import annotations

import json
from typing import Any

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp.models import Device
from django_otp_webauthn import exceptions, views
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential

from ketacare.accounts import factors, services
from ketacare.accounts.access import public
from ketacare.accounts.actor import Actor
from ketacare.lib.redirects import next_url


def relying_party_id(request: HttpRequest) -> str:
    """The passkeys' relying party: KETACARE_WEBAUTHN_RP_ID, or the host the browser asked for."""
    return settings.KETACARE_WEBAUTHN_RP_ID or request.get_host().split(":")[0]


class KetacareWebAuthnHelper(WebAuthnHelper):  # type: ignore[misc]  # untyped library
    """django-otp-webauthn's helper, with the allowed origins defaulting to this request's own
    (scheme, host and port) when ``OTP_WEBAUTHN_ALLOWED_ORIGINS`` is empty."""

    def get_allowed_origins(self) -> list[str]:
        configured = list(settings.OTP_WEBAUTHN_ALLOWED_ORIGINS)
        return configured or [f"{self.request.scheme}://{self.request.get_host()}"]


def finish_second_step(request: HttpRequest, device: Device) -> None:
    """Marks this login as having passed its second step with ``device``: a new session key (as
    at the password step), and the lockout's count of failures cleared only now, not at the
    password step, so wrong codes between right passwords still add up."""
    django_otp.login(request, device)
    request.session.cycle_key()
    request.session.pop(factors.GRACE_SESSION_KEY, None)
    AxesProxyHandler.reset_attempts(username=request.user.get_username())


class RegisterPasskey(views.CompleteCredentialRegistrationView):  # type: ignore[misc]
    """django-otp-webauthn's registration, audited."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post(*args, **kwargs)
        device = WebAuthnCredential.objects.get(pk=json.loads(response.content)["id"])
        services.record_passkey_added(Actor.from_request(self.request), device.user, device)
        return response


class VerifyWithPasskey(views.CompleteCredentialAuthenticationView):  # type: ignore[misc]
    """django-otp-webauthn's authentication as the second step of a password login, audited."""

    def complete_auth(self, device: Any) -> None:
        if not self.request.user.is_authenticated:  # never a login by passkey alone
            raise exceptions.NotAuthenticated()
        finish_second_step(self.request, device)
        services.record_passkey_login(Actor.from_request(self.request), device.user, device)

    def get_success_url(self) -> str:
        return next_url(self.request, self.request.GET.get("next", ""), "/patients/")


def _open(view: Any) -> Any:
    # The ceremony's endpoints check the login themselves (registration needs one, and a verified
    # one once the user has any factor); the permission check would refuse them unmarked.
    return public(view)


urlpatterns = [
    path(
        "registration/begin/",
        _open(views.BeginCredentialRegistrationView.as_view()),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        _open(RegisterPasskey.as_view()),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        _open(views.BeginCredentialAuthenticationView.as_view()),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        _open(VerifyWithPasskey.as_view()),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        _open(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"])),
        name="js-i18n-catalog",
    ),
]
