"""/api/: credentials never in a query string, and JSON error bodies everywhere.

Placed before every middleware that reads the request (inside the security-header
middleware only), so it sees the request before anything logs, stores or looks it up,
and every response after them:

- A query string that carries a key or token (a parameter named like one, or a value
  that looks like an API key or a JWT) is refused with 400 before any other middleware
  runs; the key is not logged (Django logs the path only, and this refusal logs nothing).
- An error response that is not JSON (the request-limit 400, a 404 for an unknown path,
  the 429 of a rate limit, a 500) is replaced with the error body of its status.

The documentation pages (/api/docs/) keep their HTML.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse

from .errors import error_response

PREFIX = "/api/"
HTML_PATHS = ("/api/docs/",)
CREDENTIAL_PARAMS = {
    "key",
    "api_key",
    "apikey",
    "api-key",
    "token",
    "access_token",
    "refresh_token",
    "refresh",
    "access",
    "auth",
    "authorization",
    "bearer",
    "jwt",
    "twofactortoken",
    "signintoken",
}
# An API key, or a JWT (three base64url parts, the first of which starts with {").
_CREDENTIAL_VALUE = re.compile(r"pnl_[A-Za-z0-9_-]{8,}|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.")
CREDENTIAL_IN_QUERY = (
    "Send keys and tokens in the Authorization header (Bearer), never in the address: "
    "addresses end up in logs and browser history. Treat this key or token as exposed."
)


def credentials_in_query(query: str) -> bool:
    if not query:
        return False
    if _CREDENTIAL_VALUE.search(query):
        return True
    try:
        pairs = parse_qsl(query, keep_blank_values=True)
    except ValueError:
        return False
    return any(name.strip().lower() in CREDENTIAL_PARAMS for name, _ in pairs) or any(
        _CREDENTIAL_VALUE.search(value) for _, value in pairs
    )


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(PREFIX) and not request.path_info.startswith(HTML_PATHS)


class ApiErrorMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        if credentials_in_query(request.META.get("QUERY_STRING", "")):
            # The query string is dropped from the request, so that nothing downstream
            # (a log line, an audit event) can copy it.
            request.META["QUERY_STRING"] = ""
            return error_response(400, "credentials_in_query", CREDENTIAL_IN_QUERY)
        response = self.get_response(request)
        if not is_api(request) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        replacement = error_response(response.status_code)
        for header in ("Retry-After", "Allow", "WWW-Authenticate"):
            if response.has_header(header):
                replacement[header] = response[header]
        return replacement
