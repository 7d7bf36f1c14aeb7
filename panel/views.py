"""Error pages and small panel-wide views.

Every error page is templates/error.html in the panel's look, with a status, a title
and one sentence the visitor can act on; never a traceback or an exception's text.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status=status,
    )


def _plain_error(status: int, title: str, message: str) -> HttpResponse:
    """The error page rendered without the request: no session, user or database.

    For 500 and 503, whose cause may be the database itself.
    """
    body = render_to_string(
        "error.html",
        {"status": status, "title": title, "message": message, "site_name": settings.SITE_NAME},
    )
    return HttpResponse(body, status=status)


def bad_request_page(request: HttpRequest, message: str) -> HttpResponse:
    return _error(request, 400, "Bad request", message)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        message = "That request was too large. Forms here take a few kilobytes at most."
    elif isinstance(exception, TooManyFieldsSent):
        message = "That form sent too many fields."
    else:
        message = "We could not understand that request."
    return _error(request, 400, "Bad request", message)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 403, "Access denied", "You do not have permission to see this page.")


def method_not_allowed_page(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The error page for an empty 405, keeping its ``Allow`` header."""
    allowed = {m.strip() for m in response.get("Allow", "").split(",")}
    if "GET" in allowed:
        message = "This page cannot take a form submission. Open it from its link instead."
    else:
        message = "This address answers a button on a page. Go back and use the button."
    page = _error(request, 405, "Not available this way", message)
    if response.has_header("Allow"):
        page["Allow"] = response["Allow"]
    return page


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 404, "Page not found", "The page you asked for does not exist.")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. A database outage is a 503 (try again), anything else a plain 500."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    ):
        return service_unavailable(request)
    return _plain_error(
        500, "Something went wrong", "An unexpected error occurred. Please try again."
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        "Form expired",
        "Your form could not be checked. Reload the page and try again; "
        "make sure your browser accepts cookies from this site.",
    )


def ratelimited(request: HttpRequest, exception=None) -> HttpResponse:
    response = _error(
        request,
        429,
        "Too many requests",
        "You have made too many requests. Please wait a minute and try again.",
    )
    response["Retry-After"] = "60"
    return response


def service_unavailable(request: HttpRequest | None = None, message: str = "") -> HttpResponse:
    response = _plain_error(
        503,
        "Temporarily unavailable",
        message or "The panel is temporarily unavailable. Please try again in a minute.",
    )
    response["Retry-After"] = "30"
    return response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    return redirect("security:login")


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard.html")
