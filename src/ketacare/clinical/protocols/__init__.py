"""Dosing protocol templates as cited data, their planned doses and their session calendar.

Each template is a TOML file in ``data/protocols/`` (route, dose per session, the titration ladder,
phases with their frequency and minimum interval, patient instructions). Every number is a table
``{ value, source }``; a number without a source is refused. A clinic's own template, stored by
the app as JSON, goes through the same :func:`parse`.

Calendar rules (:func:`plan_dates`, :func:`check_move`): sessions happen at the same time of day,
so a minimum interval of ``h`` hours is ``ceil(h / 24)`` days. A session's phase governs the gap
before it and how many sessions its ISO calendar week may hold (counting those before it). Only
finite phases are planned; an open-ended last phase (esketamine from week 9) is not.

Errors::

    InvalidProtocol   (ValueError)    a template breaks these rules; names the file and problem
    UnknownProtocol   (UnknownEntry)  no template has this id; UnknownEntry is a KeyError
    ScheduleConflict  (ValueError)    a session date breaks a minimum interval, or a calendar
                                      has no open day
"""

from ketacare.clinical.protocols._calendar import (
    SEARCH_DAYS,
    ScheduleConflict,
    check_move,
    plan_dates,
    session_doses,
)
from ketacare.clinical.protocols._loading import (
    HOURS_PER_WEEK,
    ROUTES,
    SHIPPED,
    InvalidProtocol,
    UnknownProtocol,
    get,
    library,
    parse,
)
from ketacare.clinical.protocols._model import (
    Device,
    DoseStep,
    Instruction,
    Phase,
    PlannedDose,
    Protocol,
    SessionDose,
)

__all__ = [
    "HOURS_PER_WEEK",
    "ROUTES",
    "SEARCH_DAYS",
    "SHIPPED",
    "Device",
    "DoseStep",
    "Instruction",
    "InvalidProtocol",
    "Phase",
    "PlannedDose",
    "Protocol",
    "ScheduleConflict",
    "SessionDose",
    "UnknownProtocol",
    "check_move",
    "get",
    "library",
    "parse",
    "plan_dates",
    "session_doses",
]
