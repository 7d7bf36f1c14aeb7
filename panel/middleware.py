"""Panel-wide middleware: request hygiene and security headers."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_to_bytes

import redis.exceptions
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from .views import bad_request_page, method_not_allowed_page, service_unavailable

TOO_LARGE = "That request was too large. Forms here take a few kilobytes at most."
NOT_UTF8_QUERY = "The address is not valid UTF-8 text."
NOT_UTF8_FORM = "The form data is not valid UTF-8 text."
NUL_QUERY = "The address contains characters that are not allowed."
NUL_FORM = "The form contains characters that are not allowed."
NUL_PATH = NUL_QUERY
BAD_HEADER = "A request header contains characters that are not allowed."
NOT_UTF8_HEADER = "A request header is not valid UTF-8 text."
HEADER_TOO_LARGE = "A request header is too large."

# A header value is at most this many characters (bytes, as WSGI gives them); gunicorn's
# own limit (limit_request_field_size) is 8190 bytes for the whole "Name: value" line.
HEADER_LIMIT = 8192
# One cookie (name=value) is at most this long: browsers store at most 4096 bytes.
COOKIE_LIMIT = 4096
# C0 controls except TAB, and DEL: never in a header value (RFC 9110 field-value).
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# The panel's cookies are printable ASCII; anything else in a cookie is someone else's
# or garbled, and is treated as absent.
_COOKIE_ALLOWED = re.compile(r"[\x20-\x7e]*")
_PATH_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _header_problem(value: str) -> str | None:
    """Why a header value is refused (the 400 page's message), or None."""
    if len(value) > HEADER_LIMIT:
        return HEADER_TOO_LARGE
    if _HEADER_CONTROL.search(value):
        return BAD_HEADER
    if not value.isascii():
        try:
            value.encode("latin-1").decode("utf-8")
        except UnicodeEncodeError:
            return None  # already text (an ASGI or test caller), not bytes over latin-1
        except UnicodeDecodeError:
            return NOT_UTF8_HEADER
    return None


def _good_cookies(header: str) -> str:
    """The Cookie header without the cookies that are garbled or too long."""
    kept = [
        part.strip()
        for part in header.split(";")
        if len(part) <= COOKIE_LIMIT and _COOKIE_ALLOWED.fullmatch(part)
    ]
    return "; ".join(part for part in kept if part)


def _decoded(raw: bytes) -> str | None:
    """Percent-decode a query string or urlencoded body; None if it is not UTF-8.

    Decoding the whole string at once is the same as decoding each field: an encoded
    "&" or "=" is plain ASCII and cannot change whether the rest is valid UTF-8.
    """
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return None


class RequestLimitsMiddleware:
    """Refuse requests whose data cannot be trusted, before any view (or CSRF) parses it.

    - A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (by its Content-Length) gets the
      400 "too large" page without being read. Multipart bodies are bounded by Django
      itself (the same setting for fields, file uploads are not accepted by any view).
    - Invalid UTF-8 or a NUL character in the query string or in a urlencoded body gets
      a 400 with a clear message. Django would otherwise replace bad bytes silently
      (and PostgreSQL refuses NUL in text), so a view could store mangled input or fail.
    - Every request header (Host, User-Agent, Accept, X-Forwarded-For, any other) is
      checked once: a control character (C0 except TAB, and DEL), invalid UTF-8 (WSGI
      gives the bytes one character each) or a value over HEADER_LIMIT gets the 400
      page, before axes, the audit trail or a session could store or look it up.
    - A cookie that is not printable ASCII or is over COOKIE_LIMIT is dropped (from
      ``HTTP_COOKIE``, hence ``request.COOKIES``): treated as absent, so a browser with a
      garbled cookie is not stuck on an error page.
    - A control character in the path (``%00`` decoded) gets the 400 page.

    Only urlencoded bodies within the limit are read here, once: Django keeps the bytes,
    so CSRF and the view parse the same body without reading the stream again.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _PATH_CONTROL.search(request.path_info):
            return bad_request_page(request, NUL_PATH)
        meta = request.META
        for name, value in meta.items():
            if (name.startswith("HTTP_") or name in ("CONTENT_TYPE", "CONTENT_LENGTH")) and (
                name != "HTTP_COOKIE" and isinstance(value, str)
            ):
                problem = _header_problem(value)
                if problem:
                    return bad_request_page(request, problem)
        cookies = meta.get("HTTP_COOKIE")
        if cookies:
            good = _good_cookies(cookies)
            if good != cookies:
                meta["HTTP_COOKIE"] = good
                request.__dict__.pop("COOKIES", None)  # parsed again from the header

        query = meta.get("QUERY_STRING", "")
        if query:
            decoded = _decoded(query.encode("latin-1", "replace"))
            if decoded is None:
                return bad_request_page(request, NOT_UTF8_QUERY)
            if "\x00" in decoded:
                return bad_request_page(request, NUL_QUERY)

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return bad_request_page(request, "The request's Content-Length is not a number.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        content_type = request.META.get("CONTENT_TYPE", "")
        if limit is not None and length > limit and not content_type.startswith("multipart/"):
            return bad_request_page(request, TOO_LARGE)

        if length and content_type.startswith("application/x-www-form-urlencoded"):
            decoded = _decoded(request.body)
            if decoded is None:
                return bad_request_page(request, NOT_UTF8_FORM)
            if "\x00" in decoded:
                return bad_request_page(request, NUL_FORM)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy, Permissions-Policy, and no-store for personal pages.

    First in MIDDLEWARE, so it wraps every other middleware: the early 400 pages of
    RequestLimitsMiddleware, CSRF's 403, and the 500 that Django makes of an exception
    (inside each middleware's ``get_response``) all pass through it. Together with
    XFrameOptionsMiddleware and SecurityMiddleware right after it, every response
    carries the same security headers.

    Also gives Django's empty 405 (``require_POST`` and friends) the error page, so a
    link to a POST-only address says what happened instead of showing a blank page."""

    PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            page = method_not_allowed_page(request, response)
            # The headers the inner middlewares gave the empty 405 (nosniff, framing...).
            for name, value in response.items():
                if name.lower() not in ("content-type", "content-length"):
                    page.headers.setdefault(name, value)
            response = page
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        if _personal(request):
            # Pages with personal data or one-time codes must not sit in any cache.
            response.headers["Cache-Control"] = "no-store"
        return response


def _personal(request: HttpRequest) -> bool:
    """A sign-in page, or a signed-in user's (unknown, when the database is down)."""
    if request.path.startswith("/auth/"):
        return True
    user = getattr(request, "user", None)
    if user is None:  # answered before AuthenticationMiddleware (an early 400, a file)
        return False
    try:
        return user.is_authenticated
    except DatabaseError:
        return True


logger = logging.getLogger("panel.outage")

SIGNIN_UNAVAILABLE = "Sign-in is unavailable for a moment. Please try again in a minute."
# Redis holds the rate-limit counters (and the cache): a view that needs them fails closed.
CACHE_OUTAGES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class OutageMiddleware:
    """A view that meets a cache outage (Redis down) answers 503 with a sentence and
    ``Retry-After``, not a 500: sign-in never runs without its rate limits, and nothing
    is counted or changed. Pages that do not need the cache keep working."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, CACHE_OUTAGES):
            return None
        logger.warning(
            "cache unavailable (%s) answering %s", type(exception).__name__, request.path[:200]
        )
        message = SIGNIN_UNAVAILABLE if request.path.startswith("/auth/") else ""
        return service_unavailable(request, message)
