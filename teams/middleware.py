"""The active team and the team pages' policy.

``request.teams`` (a ``TeamContext``) resolves the signed-in user's memberships and
permission sets lazily, with one query at most per request (teams.access), and picks the
active team from the session (falling back to the first team when the stored one is gone:
a removed member loses access on the next request).

``process_view`` enforces ``@team_permission`` (teams.decorators): the view's
``team_id`` names the team; outsiders get 404, members without the permission 403 with
an explanation. ``request.team_access`` is then the member's ``TeamAccess``.

Place after the authentication, session-tracking and messages middleware.
"""

from __future__ import annotations

from functools import cached_property

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from . import access, policy, session
from .decorators import MEMBER, OWNER
from .exceptions import PermissionMissing
from .stages import CHOOSE_KEY

# Reachable while a team's "require 2FA" keeps a member in enrollment: the two steps of
# turning 2FA on, and signing out.
# The change-password page too: an administrator's forced change comes first
# (accounts.middleware), and the two must not send each other round in circles.
ENROLLMENT_PAGES = {
    "security:twofactor_enable",
    "security:twofactor_setup",
    "security:logout",
    "accounts:settings_password",
}
# Reachable while a member of several teams has not picked one yet.
CHOICE_PAGES = {"teams:choose", "security:logout", "accounts:settings_password"}


class TeamContext:
    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @cached_property
    def all(self) -> dict[int, access.TeamAccess]:
        user = self._request.user
        if not user.is_authenticated:
            return {}
        return access.load(user)

    def get(self, team_id) -> access.TeamAccess | None:
        try:
            return self.all.get(int(team_id))
        except (TypeError, ValueError):
            return None

    @cached_property
    def active(self) -> access.TeamAccess | None:
        if not self.all:
            return None
        found = self.all.get(session.active_id(self._request))
        if found is None:
            found = next(iter(self.all.values()))
            session.set_active(self._request, found.team.pk)
        return found

    @cached_property
    def policies(self) -> list[dict]:
        """The team security rules in force for this user, and which team sets each."""
        user = self._request.user
        return policy.in_force(user) if user.is_authenticated else []

    def __iter__(self):
        return iter(self.all.values())

    def __len__(self) -> int:
        return len(self.all)


def refuse(request: HttpRequest, refusal) -> HttpResponse:
    return render(
        request,
        "error.html",
        {"status": refusal.status, "title": refusal.title, "message": refusal.message},
        status=refusal.status,
    )


class TeamMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.teams = TeamContext(request)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        # A team requires 2FA and this session has no verified second factor: enrollment
        # first, nothing else (django-otp's is_verified costs no query).
        requiring = policy.requiring_2fa(request.user)
        if requiring and not request.user.is_verified():
            if view_name in ENROLLMENT_PAGES:
                return None
            messages.warning(
                request,
                f"{requiring[0].name} requires two-factor authentication: turn it on to continue.",
            )
            return redirect("security:twofactor_enable")
        if CHOOSE_KEY in request.session and view_name not in CHOICE_PAGES:
            return redirect("teams:choose")
        needed = getattr(view_func, "team_permission", None)
        if needed is None:
            return None
        found = request.teams.get(view_kwargs.get("team_id"))
        if found is None:
            raise Http404("No such team.")
        request.team_access = found
        if needed == MEMBER or found.has(needed) and needed != OWNER:
            return None
        if needed == OWNER and found.is_owner:
            return None
        message = "Only an Owner of the team can open this page." if needed == OWNER else ""
        return refuse(
            request, PermissionMissing(needed, team_name=found.team.name, message=message)
        )
