"""The impersonation pages: the start form (who, and a written reason; POST after a fresh
step-up) and the banner's End button (POST)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import not_while_impersonating
from security.exceptions import ImpersonationRefused
from security.impersonation import services, state
from security.stepup import state as stepup


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=services.REASON_MAX_LENGTH,
        help_text="Why you need to act as this user (a ticket number, what you will check). "
        "The user sees it in their activity.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_reason(self) -> str:
        reason = services.clean_reason(self.cleaned_data["reason"])
        if not reason:
            raise forms.ValidationError("Write why you need to act as this user.")
        return reason


@not_while_impersonating(
    message="You are already acting as another user: one impersonation at a time. "
    "End this one first."
)
@require_http_methods(["GET", "POST"])
def impersonate_start(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET: the form; POST: start acting as the user. Someone the rules do not let you
    act as is a 404 (no step-up first, nothing said about the account)."""
    target = get_user_model().objects.filter(pk=user_id).first()
    if target is None or not services.may_impersonate(hijacker=request.user, hijacked=target):
        raise Http404("No such user.")
    stepup.require_recent(request)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.start(request=request, target=target, reason=form.cleaned_data["reason"])
            except ImpersonationRefused as refused:
                form.add_error(None, refused.message)
                status = refused.status
            else:
                messages.info(
                    request,
                    f"You are now acting as {target.get_full_name()} for "
                    f"{state.LIMIT_SECONDS // 60} minutes. Every action is recorded with your name.",
                )
                return redirect("dashboard")
        else:
            status = 400
    return render(
        request,
        "security/impersonation/start.html",
        {
            "target": target,
            "form": form,
            "minutes": state.LIMIT_SECONDS // 60,
            "notice": settings.PANEL_IMPERSONATION_NOTICE,
        },
        status=status,
    )


@require_POST
def impersonate_end(request: HttpRequest) -> HttpResponse:
    """The banner's End button: back to your own account."""
    try:
        found = services.end(request=request)
    except ImpersonationRefused as refused:
        messages.info(request, refused.message)
        return redirect("dashboard")
    target = get_user_model().objects.filter(pk=found.user_id).first()
    name = target.get_full_name() if target is not None else "the user"
    messages.success(request, f"You stopped acting as {name}. You are yourself again.")
    return redirect("dashboard")
