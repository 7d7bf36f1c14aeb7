"""Every error under /api/ is ``{"error": {"code": ..., "message": ...}}``.

``exception_handler`` is DRF's (REST_FRAMEWORK["EXCEPTION_HANDLER"]); the typed refusals
of the services (``security.exceptions.Refusal``, the team refusals) become their status
and message, so the API says what the page would. ``error_response`` is also used by
``api.middleware`` for what never reaches a DRF view (404, 429, 500, the request-limit
400s).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from security.exceptions import Locked, Refusal, StepUpRequired

from .exceptions import ApiRefusal

logger = logging.getLogger(__name__)

CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}

MESSAGES_BY_STATUS = {
    400: "The request could not be understood.",
    401: "Send a valid API key or access token in the Authorization header (Bearer).",
    403: "You are not allowed to do this.",
    404: "There is nothing here.",
    405: "This method is not allowed here.",
    429: "Too many requests. Try again later.",
    500: "Something went wrong on our side. Try again later.",
    503: "The service is unavailable for a moment. Try again shortly.",
}


def body(code: str, message: str, **extra) -> dict:
    error = {"code": code, "message": message}
    error.update(extra)
    return {"error": error}


def error_response(status: int, code: str | None = None, message: str | None = None, **extra):
    """A plain Django JSON response with the error body (for middleware and 404/500)."""
    return JsonResponse(
        body(
            code or CODES_BY_STATUS.get(status, "error"),
            message or MESSAGES_BY_STATUS.get(status, "The request failed."),
            **extra,
        ),
        status=status,
    )


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            text = _first_message(value)
            return text if field in ("non_field_errors", "detail") else f"{field}: {text}"
        return MESSAGES_BY_STATUS[400]
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else MESSAGES_BY_STATUS[400]
    return str(detail)


def exception_handler(exc, context):
    headers = {}
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    if isinstance(exc, ApiRefusal):
        status, code, message = exc.status_code, exc.error_code, str(exc.detail)
    elif isinstance(exc, StepUpRequired):
        status, code = 403, "stepup_required"
        message = "Confirm it's you first: sign in again (or step up) within the last 15 minutes."
    elif isinstance(exc, Locked):
        status, code, message = 429, "locked", "Too many failed attempts. Try again later."
        retry = getattr(exc.lock, "retry_after", 0)
        if retry:
            headers["Retry-After"] = str(int(retry))
    elif isinstance(exc, Refusal):
        status = exc.status
        code = getattr(exc, "api_code", None) or CODES_BY_STATUS.get(status, "refused")
        message = exc.message
    elif isinstance(exc, drf.ValidationError):
        status, code, message = 400, "invalid", _first_message(exc.detail)
        return Response(
            body(code, message, fields=exc.detail if isinstance(exc.detail, dict) else None),
            status=status,
        )
    elif isinstance(exc, drf.ParseError):
        status, code, message = 400, "malformed_body", "The body is not valid JSON."
    elif isinstance(exc, drf.APIException):
        status = exc.status_code
        code = CODES_BY_STATUS.get(status, "error")
        if isinstance(exc, drf.AuthenticationFailed | drf.NotAuthenticated):
            status, code = 401, "unauthenticated"
        message = _first_message(exc.detail)
        if isinstance(exc, drf.NotAuthenticated):
            message = MESSAGES_BY_STATUS[401]
        if isinstance(exc, drf.Throttled) and exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
    else:
        return None  # a real bug: Django's 500, made JSON by api.middleware

    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return Response(body(code, message), status=status, headers=headers)
