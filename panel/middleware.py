"""Panel-wide middleware: request hygiene and security headers."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .views import bad_request_page


class RequestLimitsMiddleware:
    """Refuse requests whose form data cannot be trusted before any view parses it.

    Invalid UTF-8 in the query string or a urlencoded body and NUL characters get a 400
    with a clear page, instead of a view crashing on them later.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query:
            return bad_request_page(request, "The address contains characters that are not allowed.")
        content_type = request.META.get("CONTENT_TYPE", "")
        if request.method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length and length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                body = request.body
                try:
                    from urllib.parse import unquote_to_bytes

                    for pair in body.split(b"&"):
                        unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
                except UnicodeDecodeError:
                    return bad_request_page(request, "The form data is not valid UTF-8 text.")
                if b"%00" in body:
                    return bad_request_page(request, "The form contains characters that are not allowed.")
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and no-store caching for signed-in pages."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/auth/"):
            # Pages with personal data or one-time codes must not sit in a shared cache.
            response.headers["Cache-Control"] = "no-store"
        return response
