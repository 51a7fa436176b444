"""``ketacare createuser``: a staff account from the command line, for the first administrator
and for scripts. The password comes from ``KETACARE_PASSWORD`` or a prompt, never an argument;
the checks, the account and its audit event are :func:`ketacare.accounts.services.create_user`'s,
acting as the system. A refused account exits 2 naming each field."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.accounts import services
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Role


class Command(BaseCommand):
    help = "Create a staff account. The password comes from KETACARE_PASSWORD or a prompt."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **o: Any) -> None:
        password = os.environ.get("KETACARE_PASSWORD") or getpass.getpass("Password: ")
        try:
            user = services.create_user(
                Actor.system("ketacare createuser"),
                username=o["username"],
                password=password,
                role=o["role"],
                first_name=o["first_name"],
                last_name=o["last_name"],
                email=o["email"],
            )
        except ValidationError as exc:
            lines = [f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
            raise CommandError("; ".join(lines), returncode=2) from exc
        self.stdout.write(f"created {user.username} with role {user.role}")
