"""Enforces the step-up that views declare: ``@high_security("<page_key>")`` and
``@stepup_required`` (security.stepup.decorators). One place, every request, GET and POST
alike: a form posted to a protected page from anywhere else is refused just the same.

- High Security Mode on for the page and the policy table says ``blocked``: without a
  step-up with a second factor in the last 15 minutes, the user goes to the step-up page
  (and comes back); an account without 2FA goes to enrollment instead.
- ``read_only``: GET/HEAD/OPTIONS pass (``request.high_security.read_only`` lets the page
  say so and offer "Verify to make changes"); any other method is refused the same way.
  A refused form post is kept in the session, when that is safe, and offered again
  after the step-up (security.stepup.resume).
- ``@stepup_required``: a recent step-up with any factor, mode or not.

The mode being off for the page costs no query (security.stepup.high_security).
Place after ``teams.middleware.TeamMiddleware`` (an outsider gets the team's 404 first).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from panel.links import safe_next
from security.stepup import high_security, pages, resume, state
from security.twofactor.totp import has_2fa

LEVEL_2FA = "2fa"


def stepup_url(next_url: str, *, second_factor: bool = False) -> str:
    query = {"next": next_url}
    if second_factor:
        query["level"] = LEVEL_2FA
    return f"{reverse('security:stepup')}?{urlencode(query)}"


def stepup_redirect(request: HttpRequest, *, second_factor: bool = False) -> HttpResponse:
    """To the step-up page and back. After a post refused by High Security Mode, back to
    the page the form was on (the Referer, when it is ours), or to the form itself when it
    can be sent again."""
    next_url = request.get_full_path()
    if (
        second_factor
        and request.method not in high_security.SAFE_METHODS
        and not resume.kept_for(request, next_url)
    ):
        next_url = safe_next(request, request.headers.get("referer"), reverse("dashboard"))
    return redirect(stepup_url(next_url, second_factor=second_factor))


@dataclass(frozen=True)
class PageState:
    """``request.high_security`` on a page that declares a key, for its template."""

    decision: high_security.Decision
    verified: bool
    path: str

    @property
    def read_only(self) -> bool:
        """Viewable, but changes need the step-up (the page says so)."""
        return self.decision.on and self.decision.action == pages.READ_ONLY and not self.verified

    @property
    def verify_url(self) -> str:
        return stepup_url(self.path, second_factor=True)


class _Undeclared:
    """``request.high_security`` on a page that declares no key: never read-only. Set
    for every view, so that the base template's ``request.high_security.read_only``
    finds it: a lookup that fails costs the template engine a ``dir()`` of the request,
    on every page."""

    read_only = False
    verify_url = ""


UNDECLARED = _Undeclared()


def refuse(request: HttpRequest) -> HttpResponse:
    """High Security Mode refused this request: to enrollment (no 2FA) or the step-up."""
    if not has_2fa(request.user):
        messages.warning(
            request,
            "High Security Mode is on for this page: it needs two-factor "
            "authentication. Turn it on to continue.",
        )
        return redirect("security:twofactor_enable")
    if request.method not in high_security.SAFE_METHODS:
        resume.keep(request)
    return stepup_redirect(request, second_factor=True)


class HighSecurityMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        request.high_security = UNDECLARED  # a declared page's PageState replaces it below
        page_key = getattr(view_func, "high_security", None)
        needs_stepup = getattr(view_func, "stepup_required", False)
        if not page_key and not needs_stepup:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if page_key and getattr(view_func, "superuser_required", False) and not user.is_superuser:
            page_key = None  # an operator page: the view's own 403 comes first
        if page_key:
            decision = high_security.decide(request, page_key, view_kwargs)
            verified = decision.on and state.is_verified(request)
            request.high_security = PageState(decision, verified, request.get_full_path())
            if not decision.allows(request.method, verified=verified):
                return refuse(request)
        if needs_stepup and not state.is_recent(request):
            return stepup_redirect(request)
        return None
