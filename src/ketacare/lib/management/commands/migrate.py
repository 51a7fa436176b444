"""``ketacare migrate``: Django's migrate, and the one command (with restore) that may create a
missing SQLite database file (see :mod:`ketacare.lib.db.sqlite3.base`)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate

from ketacare.lib.db.sqlite3.base import creating


class Command(migrate.Command):
    def execute(self, *args: Any, **options: Any) -> Any:
        with creating():  # the system checks before handle() already connect
            return super().execute(*args, **options)
