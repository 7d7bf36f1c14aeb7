"""Profile > Settings."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from ..tabs import settings_tabs


@require_GET
def settings_index(request: HttpRequest) -> HttpResponse:
    return redirect("accounts:settings_security")


@require_GET
def security_tab(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/settings_security.html",
        {"settings_tabs": settings_tabs("security")},
    )
