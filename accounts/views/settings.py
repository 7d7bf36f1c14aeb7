"""Profile > Settings: the Security tab and its password change."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from panel import ratelimits

from .. import services
from ..decorators import not_while_impersonating
from ..forms import ChangePasswordForm
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


@not_while_impersonating
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
@ratelimit(
    group="accounts:password_change",
    key=ratelimits.user_key,
    rate=ratelimits.CHANGE_PER_USER,
    method="POST",
)
def password_change(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            changed = services.change_password(
                user=request.user,
                new_password=form.cleaned_data["new_password1"],
                request=request,
            )
            message = "Your password has been changed. You were signed out everywhere else."
            if changed.device_kept and settings.NEW_DEVICE_APPROVAL:
                message += (
                    " This browser stays trusted; other browsers will need a code we email"
                    " you the next time they sign in."
                )
            elif settings.NEW_DEVICE_APPROVAL:
                message += " Every browser will need a code we email you at its next sign-in."
            messages.success(request, message)
            return redirect("accounts:settings_security")
        if form.wrong_current_password:
            services.password_change_failed(user=request.user, request=request)
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "settings_tabs": settings_tabs("security")},
        status=400 if form.is_bound else 200,
    )
