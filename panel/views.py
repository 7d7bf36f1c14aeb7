"""Error pages and small panel-wide views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status=status,
    )


def bad_request_page(request: HttpRequest, message: str) -> HttpResponse:
    return _error(request, 400, "Bad request", message)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    message = "We could not understand that request."
    text = str(exception or "")
    if "too large" in text.lower() or "exceeded" in text.lower():
        message = "That request was too large."
    return _error(request, 400, "Bad request", message)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 403, "Access denied", "You do not have permission to see this page.")


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 404, "Page not found", "The page you asked for does not exist.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(
        request, 500, "Something went wrong", "An unexpected error occurred. Please try again."
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


def service_unavailable(request: HttpRequest, message: str = "") -> HttpResponse:
    response = _error(
        request,
        503,
        "Temporarily unavailable",
        message or "The panel is temporarily unavailable. Please try again shortly.",
    )
    response["Retry-After"] = "30"
    return response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    return redirect("accounts:login")


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard.html")
