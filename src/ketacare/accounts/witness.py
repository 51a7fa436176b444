"""A second clinician who re-enters their own password at the moment they witness: the verifier
of a dose, the witness of a waste or a disposal. :func:`add_witness` puts the two fields on a
form; :func:`check_witness` checks them in the form's ``clean``. Services check the rest (never
the performer, still active, still allowed) because they do not see the password."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from ketacare.accounts.models import User
from ketacare.accounts.roles import GRANTS, Perm


def witnesses(exclude: User, perm: Perm) -> QuerySet[User]:
    """Active users whose role holds ``perm``, other than ``exclude``."""
    roles = [role.value for role, perms in GRANTS.items() if perm in perms]
    return User.objects.filter(is_active=True, role__in=roles).exclude(pk=exclude.pk)


def add_witness(
    form: forms.BaseForm,
    *,
    user: User,
    perm: Perm,
    name: str,
    label: str,
    reentry_label: str,
    required: bool = True,
) -> None:
    """Fields ``name`` (the witness, never ``user``) and ``name``_password on ``form``."""
    form.fields[name] = forms.ModelChoiceField(
        queryset=witnesses(user, perm), label=label, required=required
    )
    form.fields[password_name(name)] = forms.CharField(
        widget=forms.PasswordInput, label=reentry_label, strip=False, required=required
    )


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
    if not witness.check_password(data.get(password_name(name), "")):
        form.add_error(password_name(name), f"That is not {witness.display_name}'s password.")
    if not witness.can(perm):
        form.add_error(name, "The witness must be an active nurse or prescriber.")
