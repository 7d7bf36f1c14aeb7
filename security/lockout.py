"""Glue between django-axes and the panel: the locked-out response."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LOCKED_MESSAGE = "Too many failed attempts. Please wait before trying again."


def lockout_response(request: HttpRequest, response=None, credentials=None, *args, **kwargs) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a 429 with the generic message and Retry-After."""
    seconds = 60
    resp = render(
        request,
        "error.html",
        {"status": 429, "title": "Too many attempts", "message": LOCKED_MESSAGE},
        status=429,
    )
    resp["Retry-After"] = str(seconds)
    return resp
