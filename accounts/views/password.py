"""Forgotten password (request a link, set a new password) and the strength endpoint."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from panel import ratelimits

from .. import services
from ..forms import EmailForm, ResetPasswordForm
from ..models import User
from ..validators import password_strength


@login_not_required
@require_http_methods(["GET", "POST"])
@ratelimit(
    group="accounts:reset:ip", key=ratelimits.ip_key, rate=ratelimits.RESET_PER_IP, method="POST"
)
@ratelimit(
    group="accounts:reset:email",
    key=ratelimits.email_key,
    rate=ratelimits.RESET_PER_EMAIL,
    method="POST",
    block=False,
)
def reset_request(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.request_password_reset(
            email=form.cleaned_data["email"], request=request, send=not request.limited
        )
        return redirect("accounts:password_reset_sent")
    return render(
        request,
        "accounts/password_reset.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@method_decorator(login_not_required, name="dispatch")
class ResetConfirmView(PasswordResetConfirmView):
    """Django's reset-link checks (token into the session, redirect to a URL without
    it), our form, our service and our pages. Never signs the user in."""

    form_class = ResetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("security:login")
    post_reset_login = False

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        if kwargs.get("token") != self.reset_url_token:
            # The response to the address holding the token: a redirect, or the
            # "link invalid" page. Neither may pass the token on in a Referer. (The
            # form page itself keeps same-origin: with no-referrer, browsers send
            # "Origin: null" on its POST and the CSRF check would refuse it.)
            response["Referrer-Policy"] = "no-referrer"
        if not self.validlink and response.status_code == 200:
            response.status_code = 400  # the "link not valid" page
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def form_valid(self, form):
        services.reset_password(
            user=self.user, new_password=form.cleaned_data["new_password1"], request=self.request
        )
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        messages.success(
            self.request, "Your password has been changed. Sign in with your new password."
        )
        return redirect(self.success_url)


# The endpoint answers for at most this much JSON.
_STRENGTH_MAX_BODY = 8 * 1024


@login_not_required
@require_POST
@ratelimit(group="accounts:strength:ip", key=ratelimits.ip_key, rate=ratelimits.STRENGTH_PER_IP)
def strength_view(request: HttpRequest) -> HttpResponse:
    """``POST {"password", "email"?, "full_name"?}`` -> ``{"label", "score", "message"}``.

    ``label`` is weak, medium or strong; a password the validators refuse is always
    weak, and ``message`` says why. CSRF-protected like every POST. The password is
    neither stored nor logged.
    """
    if len(request.body) > _STRENGTH_MAX_BODY:
        return JsonResponse({"error": "Request too large."}, status=413)
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "Send a JSON object."}, status=400)
    if not isinstance(data, dict) or not isinstance(data.get("password", ""), str):
        return JsonResponse({"error": "Send a JSON object."}, status=400)
    password = data.get("password", "")
    if request.user.is_authenticated:
        candidate = request.user
    else:
        email = str(data.get("email") or "")[:254]
        candidate = User(
            email=email,
            full_name=str(data.get("full_name") or "")[:150],
            username=services.username_base(email) if "@" in email else "",
        )
    if not password:
        return JsonResponse({"label": "", "score": 0, "message": ""})
    result = password_strength(
        password, [candidate.username, candidate.email, candidate.full_name, settings.SITE_NAME]
    )
    label, message = result["label"], result["warning"]
    if len(password) > settings.PASSWORD_MAX_LENGTH:
        label, message = "weak", f"Use at most {settings.PASSWORD_MAX_LENGTH} characters."
    else:
        try:
            password_validation.validate_password(password, candidate)
        except ValidationError as error:
            label, message = "weak", error.messages[0]
    return JsonResponse({"label": label, "score": result["score"], "message": message})
