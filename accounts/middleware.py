"""An administrator forced a password change: until the user changes it, every page sends
them to the change-password page (signing out still works).

Enforced on every request, not only at sign-in: the flag may be set while the user is
signed in, and a bookmark must not get around it. Pages that the change itself needs stay
reachable (``ALLOWED``): the change-password page, signing out, and the step-up pages a
page may ask for first. Apps whose pages must stay reachable add their URL names with
``allow_during_forced_change`` (accounts imports no other app).

Place after the authentication and messages middleware, and before the team middleware
(which lets the change-password page through its own "finish this first" redirects).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

CHANGE_PAGE = "accounts:settings_password"
ALLOWED: set[str] = {
    CHANGE_PAGE,
    "security:logout",
    "security:stepup",
    "security:stepup_passkey_options",
    "accounts:password_strength",
}
MESSAGE = "An administrator asked you to choose a new password before you continue."


def allow_during_forced_change(*url_names: str) -> None:
    ALLOWED.update(url_names)


class ForcedPasswordChangeMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.must_change_password:
            return None
        if getattr(request, "impersonator", None) is not None:
            # An administrator acting as the user never sets their password: the user
            # still has to, at their own next visit.
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED:
            return None
        messages.warning(request, MESSAGE)
        return redirect(CHANGE_PAGE)
