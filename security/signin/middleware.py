"""While a sign-in is half done, nothing but its next step is reachable."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse

from security.signin import pending
from security.signin.stages import STAGE_URL_NAMES

# Public pages that stay reachable while a sign-in is pending: signing out (which ends
# it) and starting over. Everything else, the admin included, goes to the next step.
ALWAYS_ALLOWED = {"security:login", "security:logout"}


class PendingSignInMiddleware:
    """Place right after AuthenticationMiddleware (before LoginRequiredMiddleware).

    With a pending sign-in in the session (the password was right, a second step is
    not done yet) every request except the stage's own page, sign-in and sign-out is
    redirected to that stage's page. Django admin views are marked
    ``login_not_required`` (the admin checks access itself), so they are redirected
    explicitly as well.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            return None
        if not hasattr(request, "session"):
            return None
        state = pending.get(request)
        if state is None:
            return None
        url_name = STAGE_URL_NAMES.get(state.stage)
        try:
            stage_url = reverse(url_name) if url_name else reverse("security:login")
        except NoReverseMatch:
            stage_url = reverse("security:login")
        match = request.resolver_match
        view_name = match.view_name if match is not None else ""
        if request.path == stage_url or view_name in ALWAYS_ALLOWED:
            return None
        if view_name in STAGE_URL_NAMES.values():
            # Another stage's page: not this sign-in's next step.
            return redirect(stage_url)
        is_admin = match is not None and "admin" in match.namespaces
        if getattr(view_func, "login_required", True) or is_admin:
            return redirect(stage_url)
        # Other public pages (password reset, sign-up, static) stay reachable; none of
        # them signs anyone in.
        return None
