"""The password policy beyond Django's validators (length 12, not like the user's name, not one
of 20,000 common passwords, not all digits): :class:`GuessablePasswordValidator` refuses what a
guesser tries first, and the password ketacare publishes for its demo clinic.

The demo clinic is seeded with :data:`DEMO_PASSWORD` on purpose (it is printed by
``ketacare demo``); nobody can choose it, or anything like the patterns below, for a real
account."""

from __future__ import annotations

from django.core.exceptions import ValidationError

DEMO_PASSWORD = "ketacare-demo-2026"  # noqa: S105 (published: the demo clinic's, refused elsewhere)
PUBLISHED = frozenset({DEMO_PASSWORD})
_RUNS = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789" * 3,
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
)


class GuessablePasswordValidator:
    """One character or a short pattern repeated ("aaaaaaaaaaaa", "abcabcabcabc"), too few
    different characters, a run along the alphabet, the digits or a keyboard row
    ("123456789012", "qwertyuiopas"), or a password ketacare publishes."""

    def validate(self, password: str, user: object = None) -> None:
        low = password.lower()
        if password in PUBLISHED or "ketacare-demo" in low:
            raise ValidationError(
                "This is the demo clinic's published password; choose your own.",
                code="password_published",
            )
        if _repeats(low) or len(set(low)) < 5:
            raise ValidationError(
                "This password repeats a few characters; use more different ones "
                "(a few unrelated words work well).",
                code="password_repetitive",
            )
        if _is_run(low):
            raise ValidationError(
                "This password is a run of letters, digits or keys in order; choose another.",
                code="password_sequence",
            )

    def get_help_text(self) -> str:
        return (
            "Your password cannot repeat a few characters, follow the alphabet, the digits or a "
            "keyboard row, or be the demo clinic's published password."
        )


def _repeats(text: str) -> bool:
    """The text is a pattern of 1 to 4 characters repeated."""
    return any(
        len(text) > size and text == (text[:size] * (len(text) // size + 1))[: len(text)]
        for size in range(1, 5)
    )


def _is_run(text: str) -> bool:
    return len(text) > 2 and any(text in run or text in run[::-1] for run in _RUNS)
