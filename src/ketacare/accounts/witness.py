"""A second clinician who re-enters their own password at the moment they witness: the verifier
of a dose, the witness of a waste or a disposal. :func:`add_witness` puts the two fields on a
form; :func:`check_witness` checks them in the form's ``clean``. Services check the rest (never
the performer, still active, still allowed) because they do not see the password.

A re-entered password is a credential like a login's: every attempt is audited, and a wrong one
counts toward the witness's own lockout (django-axes, with the login's limits), so the field
cannot be used to guess a colleague's password. A locked-out witness is refused by name."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import GRANTS, Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record


def witnesses(exclude: User, perm: Perm) -> QuerySet[User]:
    """Active users whose role holds ``perm``, other than ``exclude``."""
    roles = [role.value for role, perms in GRANTS.items() if perm in perms]
    return User.objects.filter(is_active=True, role__in=roles).exclude(pk=exclude.pk)


def add_witness(
    form: forms.BaseForm,
    *,
    request: HttpRequest,
    perm: Perm,
    name: str,
    label: str,
    reentry_label: str,
    required: bool = True,
) -> None:
    """Fields ``name`` (the witness, never the signed-in user) and ``name``_password on ``form``;
    ``request`` is whose keyboard the password is typed at (for the audit and the lockout)."""
    user: Any = request.user
    form.fields[name] = forms.ModelChoiceField(
        queryset=witnesses(user, perm), label=label, required=required
    )
    form.fields[password_name(name)] = forms.CharField(
        widget=forms.PasswordInput, label=reentry_label, strip=False, required=required
    )
    form.witness_request = request  # type: ignore[attr-defined]


def password_name(name: str) -> str:
    # "verified_by" keeps its historical "verifier_password"
    return "verifier_password" if name == "verified_by" else f"{name}_password"


def check_witness(form: forms.BaseForm, data: dict[str, Any], *, name: str, perm: Perm) -> None:
    """The chosen witness's own password, entered now, and their right to act as one; a
    password given with no one chosen is refused too (it would witness nothing)."""
    witness = data.get(name)
    if witness is None:
        if data.get(password_name(name)):
            form.add_error(name, "Choose who is witnessing.")
        return
    request: HttpRequest = form.witness_request  # type: ignore[attr-defined]
    purpose = str(form.fields[name].label or name).lower()
    if not reentered(request, witness, data.get(password_name(name), ""), purpose):
        form.add_error(password_name(name), refusal(request, witness))
    if not witness.can(perm):
        form.add_error(name, "The witness must be an active nurse or prescriber.")


def reentered(request: HttpRequest, witness: User, password: str, purpose: str) -> bool:
    """Whether ``password`` is ``witness``'s, entered at ``request``'s keyboard for ``purpose``:
    refused unchecked while the witness is locked out; audited either way; a wrong one counts
    toward the witness's lockout."""
    credentials = {"username": witness.username, "purpose": purpose}
    if AxesProxyHandler.is_locked(request, credentials):
        return False
    if witness.check_password(password):
        with transaction.atomic():
            record(
                Actor.from_request(request),
                Action.REAUTH,
                witness,
                new={"username": witness.username, "re-entered as": purpose},
            )
        return True
    # Audited by accounts.signals and counted by django-axes, like a failed login; the answer
    # is this form's error, not axes' lockout page for a login.
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    request.axes_locked_out = False  # type: ignore[attr-defined]
    return False


def refusal(request: HttpRequest, witness: User) -> str:
    if AxesProxyHandler.is_locked(request, {"username": witness.username}):
        return (
            f"{witness.display_name}'s account is locked after too many wrong passwords: "
            f"ask another witness, or wait {settings.KETACARE_LOGIN_LOCKOUT_MINUTES} minutes."
        )
    return f"That is not {witness.display_name}'s password."
