"""``ketacare serve``: collects the static files, then serves the WSGI app with gunicorn (gthread
workers, access log on stdout) on ``--host`` and ``--port``, 127.0.0.1:8000 unless
``KETACARE_HOST`` or ``PORT`` say otherwise. A bad port exits 2.

Served requests on PostgreSQL get a statement timeout and a lock timeout (:data:`WEB_TIMEOUTS`),
so a query stuck behind a lock or running away answers with an error in seconds instead of
holding a worker thread; commands (migrations, exports) run without them."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

# ketacare's configurable defaults for served requests (PostgreSQL), in milliseconds.
WEB_TIMEOUTS = {"statement_timeout": 30_000, "lock_timeout": 10_000}


def add_web_timeouts(database: dict[str, Any]) -> None:
    """Give a PostgreSQL database's connections the served requests' timeouts."""
    if "postgresql" not in database["ENGINE"]:
        return
    options = database.setdefault("OPTIONS", {})
    settings_ = " ".join(f"-c {name}={value}" for name, value in WEB_TIMEOUTS.items())
    options["options"] = f"{options.get('options', '')} {settings_}".strip()


class Command(BaseCommand):
    help = "Serve ketacare with gunicorn (production WSGI server) on 127.0.0.1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("KETACARE_HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
        parser.add_argument("--threads", type=int, default=4, help="threads per process")

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        if not 1 <= options["port"] <= 65535:
            self.stderr.write(f"--port {options['port']} is out of range; use 1 to 65535")
            raise SystemExit(2)
        add_web_timeouts(settings.DATABASES["default"])  # before any worker connects
        # Collect before the WSGI app (and WhiteNoise's index of STATIC_ROOT) is built.
        call_command("collectstatic", interactive=False, verbosity=0)
        from ketacare.site.wsgi import application

        bind = f"{options['host']}:{options['port']}"

        class Server(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                self.cfg.set("bind", bind)
                self.cfg.set("workers", options["workers"])
                self.cfg.set("threads", options["threads"])
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("accesslog", "-")
                self.cfg.set("timeout", 60)
                # No runtime control socket: it lives at one fixed path per user, so two
                # instances on a host would fight over it, and nothing here uses it.
                self.cfg.set("control_socket_disable", True)

            def load(self) -> Any:
                return application

        self.stdout.write(f"ketacare serving on http://{bind}")
        connections.close_all()  # the workers fork from here: each opens its own
        Server().run()
