"""How long a staff login lasts: an idle timeout that only the user's own actions extend, and an
absolute lifetime however busy the screen.

A page that polls (the live monitor, a session page refreshing its vitals) sends
``X-Ketacare-Poll: 1`` (the base template's script adds it to every htmx request triggered by a
timer), and such requests never count as activity: a monitor left alone logs out after the idle
timeout like any page, first showing a notice with a button to stay signed in. Every answer to a
signed-in request says how many seconds of idleness are left (``X-Session-Idle-Left``), which
is what the notice counts down from. Whatever the activity, a login ends after
``SESSION_ABSOLUTE_HOURS``. Ending a login is Django's logout, so it is audited like any other.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

BEGAN = "ketacare_login_began"
SEEN = "ketacare_last_activity"
POLL_HEADER = "X-Ketacare-Poll"
LEFT_HEADER = "X-Session-Idle-Left"
# Activity is stored to the minute: a session row is written at most once a minute, not on
# every request (the idle timeout is 30 minutes; the notice shows the last one).
SEEN_RESOLUTION = 60


def is_poll(request: HttpRequest) -> bool:
    return request.headers.get(POLL_HEADER) == "1"


class SessionLifetimeMiddleware:
    """Ends a staff login that has been idle too long or has lasted too long (after Django's
    session and authentication middleware, before the permission check)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.get_response(request)
        now = time.time()
        session = request.session
        began = float(session.setdefault(BEGAN, now))
        seen = float(session.setdefault(SEEN, now))
        idle_limit = settings.SESSION_IDLE_SECONDS
        hours = settings.SESSION_ABSOLUTE_HOURS
        if now - began > hours * 3600:
            why = f"You were signed out after {hours:g} hours; please sign in again."
            return self._end(request, why)
        if now - seen > idle_limit:
            why = (
                f"You were signed out after {idle_limit // 60} minutes without activity; "
                "please sign in again."
            )
            return self._end(request, why)
        if not is_poll(request) and now - seen >= SEEN_RESOLUTION:
            session[SEEN] = seen = now
        response = self.get_response(request)
        if request.user.is_authenticated:  # not if the view itself logged out
            response[LEFT_HEADER] = str(max(0, int(idle_limit - (now - seen))))
        return response

    def _end(self, request: HttpRequest, why: str) -> HttpResponse:
        logout(request)
        messages.info(request, why)
        return self.get_response(request)  # now anonymous: the permission check sends to login
