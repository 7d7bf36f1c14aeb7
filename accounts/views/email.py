"""Changing one's email address: the form under Profile > Settings > Security (a fresh
step-up first), the confirmation link sent to the new address, and the undo link sent to
the old one. Thin: each view parses, calls ``accounts.controls`` and answers.

The emailed links are public (the mailbox is the proof) and change nothing on a GET: a
mail scanner fetching them sees a page with a button; the POST does it. Their pages send
no Referer (``Referrer-Policy: no-referrer``), so the token in the path goes nowhere.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from panel import ratelimits

from .. import controls
from ..decorators import not_while_impersonating, stepup_required
from ..forms import EmailChangeForm
from ..tabs import settings_page


@not_while_impersonating
@stepup_required
@require_http_methods(["GET", "POST"])
@ratelimit(
    group="accounts:email_change",
    key=ratelimits.user_key,
    rate=ratelimits.CHANGE_PER_USER,
    method="POST",
    block=True,
)
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            change = controls.request_email_change(
                user=request.user, new_email=form.cleaned_data["new_email"], request=request
            )
        except controls.ControlRefused as refused:
            form.add_error("new_email", refused.message)
        except PermissionDenied as denied:
            form.add_error(None, str(denied))
        else:
            messages.success(
                request,
                f"We sent a confirmation link to {change.new_email}. Your address changes once "
                f"it is followed; {change.old_email} was told, with a way to undo it.",
            )
            return redirect("accounts:settings_security")
    return settings_page(
        request,
        "security",
        "accounts/email_change.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


def _link_page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return response


def _refused(request, refused: controls.ControlRefused) -> HttpResponse:
    return _link_page(
        request,
        "accounts/email_change_link.html",
        {"refused": refused.message},
        status=refused.status,
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            change = controls.confirm_email_change(token=token, request=request)
        else:
            change = controls.read_confirm_link(token)
    except controls.ControlRefused as refused:
        return _refused(request, refused)
    if request.method == "POST":
        messages.success(request, f"Your email address is now {change.new_email}.")
        return redirect(
            "accounts:settings_security" if request.user.is_authenticated else "security:login"
        )
    return _link_page(
        request, "accounts/email_change_link.html", {"change": change, "kind": "confirm"}
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def email_change_undo(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            change = controls.undo_email_change(token=token, request=request)
        else:
            change = controls.read_undo_link(token)
    except controls.ControlRefused as refused:
        return _refused(request, refused)
    if request.method == "POST":
        messages.success(
            request,
            f"Done: the account's address is {change.old_email} and every session was "
            "signed out. If you did not ask for the change, reset your password now.",
        )
        return redirect("accounts:password_reset")
    return _link_page(
        request, "accounts/email_change_link.html", {"change": change, "kind": "undo"}
    )
