"""Sign in and sign out."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from security.services import signin

from ..forms import LOGIN_FAILED, LoginForm


@login_not_required
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login = form.cleaned_data["username"]
        user = authenticate(request, username=login, password=form.cleaned_data["password"])
        if user is not None and user.email_verified:
            return signin.password_verified(request, user, next_url=request.GET.get("next"))
        signin.password_failed(request, login=login, user=user)
        form.add_error(None, LOGIN_FAILED)
    return render(request, "accounts/login.html", {"form": form}, status=200)


@login_not_required
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    signin.sign_out(request)
    messages.info(request, "You have been signed out.")
    response = redirect("accounts:login")
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response
