"""API input that no database can store is refused up front with a 422 naming the field, instead
of a server error deep in a query: NUL characters (PostgreSQL text cannot hold them) and unpaired
UTF-16 surrogates (``"\\ud800"`` is valid JSON but not valid text anywhere), in query parameters
and in JSON bodies. HTML forms already refuse NUL (Django's fields) and cannot carry a lone
surrogate (form data is decoded as UTF-8 with replacement).

An integer from the request beyond what the database can hold (an id above 2**63 - 1, which
SQLite refuses with ``OverflowError`` on some lookups) cannot name a stored record: 404."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

_BAD = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "must not contain NUL characters or unpaired surrogates"
Location = list[str | int]


class UnstorableInput:
    """422 for API text no database can store; 404 for an integer beyond the database's range."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            found = next(_in_query(request), None) or next(_in_body(request), None)
            if found is not None:
                return JsonResponse(
                    {"detail": [{"type": "value_error", "loc": found, "msg": MESSAGE}]},
                    status=422,
                )
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OverflowError):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "Not Found"}, status=404)
        raise Http404("no such record") from exception


def _in_query(request: HttpRequest) -> Iterator[Location]:
    for key, values in request.GET.lists():
        if _BAD.search(key) or any(_BAD.search(v) for v in values):
            yield ["query", key]


def _in_body(request: HttpRequest) -> Iterator[Location]:
    if request.method not in ("POST", "PUT", "PATCH") or "json" not in (request.content_type or ""):
        return
    try:
        decoded = json.loads(request.body)
    except ValueError:  # not JSON: the operation's own parsing answers that
        return
    yield from _walk(decoded, ["body"])


def _walk(value: object, at: Location) -> Iterator[Location]:
    if isinstance(value, str):
        if _BAD.search(value):
            yield at
    elif isinstance(value, dict):
        for key, item in value.items():
            if _BAD.search(key):
                yield [*at, key]
            yield from _walk(item, [*at, key])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, [*at, i])
