"""Panel-wide middleware: request hygiene and security headers."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .views import bad_request_page, method_not_allowed_page

TOO_LARGE = "That request was too large. Forms here take a few kilobytes at most."
NOT_UTF8_QUERY = "The address is not valid UTF-8 text."
NOT_UTF8_FORM = "The form data is not valid UTF-8 text."
NUL_QUERY = "The address contains characters that are not allowed."
NUL_FORM = "The form contains characters that are not allowed."


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

    Only urlencoded bodies within the limit are read here, once: Django keeps the bytes,
    so CSRF and the view parse the same body without reading the stream again.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
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

    Also gives Django's empty 405 (``require_POST`` and friends) the error page, so a
    link to a POST-only address says what happened instead of showing a blank page."""

    PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            response = method_not_allowed_page(request, response)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/auth/"):
            # Pages with personal data or one-time codes must not sit in any cache.
            response.headers["Cache-Control"] = "no-store"
        return response
