"""Sign in and sign out."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from panel import ratelimits
from security.lockout import policy as lockout
from security.lockout.axes import locked_response
from security.signin import pending, pipeline as signin

from ..forms import LOGIN_FAILED, LoginForm


@login_not_required
@require_http_methods(["GET", "POST"])
@ratelimit(
    key=ratelimits.ip_key, rate=ratelimits.signin_rate, method="POST", group="signin", block=True
)
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        login = form.cleaned_data["username"]
        # The lock is checked before authenticate(): a locked pair costs no password
        # hash, so a locked-out attacker cannot burn our CPU. Then the attempt reserves
        # one of the pair's slots, atomically: however many requests arrive at once, at
        # most AXES_FAILURE_LIMIT passwords of a pair are checked before it locks.
        ip, username = lockout.pair_for(request, login)
        lock = lockout.acquire(request, ip=ip, username=username)
        if lock.locked:
            pending.clear(request)
            return locked_response(request, lock)
        user = authenticate(request, username=login, password=form.cleaned_data["password"])
        if user is not None:
            lockout.release(request)  # the password was right: the slot is given back
        if getattr(request, "axes_locked_out", False):
            # This failure reached the limit: the axes middleware answers with the
            # locked page; the form is not shown again.
            signin.password_failed(request, login=login, user=None)
            return locked_response(request, lockout.status_for(request, login))
        if user is not None and user.email_verified:
            return signin.password_verified(request, user, next_url=request.GET.get("next"))
        signin.password_failed(request, login=login, user=user)
        form.add_error(None, LOGIN_FAILED)
    # A refused sign-in (unknown user, wrong password, unverified address alike) is a 400,
    # as every form of the panel answers bad input: the same status and body for each.
    return render(
        request, "accounts/login.html", {"form": form}, status=400 if form.is_bound else 200
    )


@login_not_required
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    signin.sign_out(request)
    messages.info(request, "You have been signed out.")
    response = redirect("accounts:login")
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response
