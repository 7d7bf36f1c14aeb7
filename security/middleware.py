"""Enforces what the security decorators declare, and answers the typed refusals.

- ``@lockout_guarded`` (security.lockout.decorators): a POST checks the pair's lock and
  takes an attempt slot first; the slot goes back when no secret was refused.
- A blocked address (``security.blocking``) gets 403 for every POST that could check a
  password or a code (every public form, every ``@lockout_guarded`` page), before the
  view runs: no password is hashed for it. Signing out still works.
- ``@stepup_required`` and ``@high_security`` are enforced by
  ``security.stepup.middleware.HighSecurityMiddleware`` (after the team middleware).
- A ``security.exceptions.Refusal`` that no view caught becomes its page: the locked
  page, the step-up redirect, or the error page with the refusal's message and status.

Place after the authentication, session-tracking and messages middleware.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from panel.net import client_ip
from security.blocking.decorators import checks_a_secret
from security.blocking.services import blocked_network_for
from security.blocking.views import blocked_response
from security.exceptions import HighSecurityRequired, Locked, Refusal, StepUpRequired
from security.lockout import policy as lockout
from security.lockout.axes import locked_response
from security.stepup.middleware import refuse as refuse_high_security, stepup_redirect


class PolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            # A slot taken by a guarded page and not used by a refused secret goes back.
            lockout.release(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if (
            request.method == "POST"
            and checks_a_secret(view_func)
            and blocked_network_for(client_ip(request)) is not None
        ):
            return blocked_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if getattr(view_func, "lockout_guarded", False) and request.method == "POST":
            ip, username = lockout.pair_for(request, user.get_username())
            lock = lockout.acquire(request, ip=ip, username=username)
            if lock.locked:
                return locked_response(request, lock)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, Refusal):
            return None
        if isinstance(exception, Locked):
            return locked_response(request, exception.lock)
        if isinstance(exception, HighSecurityRequired):
            return refuse_high_security(request)
        if isinstance(exception, StepUpRequired):
            return stepup_redirect(request)
        return render(
            request,
            "error.html",
            {"status": exception.status, "title": exception.title, "message": exception.message},
            status=exception.status,
        )
