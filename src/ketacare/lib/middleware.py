"""Response headers for every page: a strict Content-Security-Policy and Permissions-Policy
(everything is served from this origin), and ``Cache-Control: no-store`` once a user is logged
in. A header a view has already set is kept; who may see a page is decided elsewhere."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Everything is served from this origin (htmx and the API docs are vendored), so the policy can
# be strict: no inline script, no third-party origin, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def security_headers(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        signed_in = request.user.is_authenticated if hasattr(request, "user") else False
        if signed_in or request.path.startswith("/api/"):
            # Patient data must not linger in shared caches or the browser's back button; an
            # API call signed by a bearer token has no session user, so every API answer counts.
            response.setdefault("Cache-Control", "no-store")
        return response

    return middleware
