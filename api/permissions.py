"""Which team a request acts in, and whether it may: scope, membership and permission.

A view declares ``scopes = {"GET": "domains:read", "POST": "domains:write", ...}``.
``TeamScopePermission`` then checks, on every request:

1. an API key holds that scope (an access token holds every scope: it is the user);
2. the caller is a member of the team right now (a key's team is fixed; a token names it
   with ``?team=<id>``, or uses the user's only team), read fresh from the database;
3. the member's role holds the permission behind the scope (``api.scopes.PERMISSION``).

A refusal is a 403 with the error body; a team the caller is not in is a 404, as on the
pages. The services check the exact permission again when they change something.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from teams import access

from . import scopes as scope_catalog
from .exceptions import ApiRefusal


def credential(request):
    return getattr(request, "auth", None)


def resolve_team(request) -> access.TeamAccess:
    """The caller's ``TeamAccess`` in the team the request acts in (fresh), or a refusal."""
    user = request.user
    cred = credential(request)
    # The user was loaded for this request (with the key or the session), so the
    # memberships read here are the current ones.
    memberships = access.load(user)
    if cred is not None and cred.kind == "key":
        found = memberships.get(cred.key.team_id)
        if found is None:
            raise ApiRefusal(
                "not_a_member",
                "The owner of this key is no longer a member of its team.",
                status=403,
            )
        return found
    raw = request.query_params.get("team")
    if raw not in (None, ""):
        try:
            team_id = int(raw)
        except (TypeError, ValueError):
            raise ApiRefusal("invalid_team", "team must be a team id (an integer).") from None
        found = memberships.get(team_id)
        if found is None:
            raise ApiRefusal("not_found", "There is no such team.", status=404)
        return found
    if len(memberships) == 1:
        return next(iter(memberships.values()))
    if not memberships:
        raise ApiRefusal("no_team", "You are not a member of any team.", status=403)
    raise ApiRefusal(
        "team_required", "You are a member of several teams: name one with ?team=<id>."
    )


class TeamScopePermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        scope = getattr(view, "scopes", {}).get(request.method)
        if scope is None and request.method in ("HEAD", "OPTIONS"):
            scope = getattr(view, "scopes", {}).get("GET")
        if scope is None:
            return True
        cred = credential(request)
        if cred is not None and cred.kind == "key" and scope not in cred.key.scopes:
            raise ApiRefusal(
                "missing_scope", f"This API key does not have the scope “{scope}”.", status=403
            )
        team_access = resolve_team(request)
        permission = scope_catalog.PERMISSION.get(scope)
        if permission and not team_access.has(permission):
            raise ApiRefusal(
                "permission_missing",
                f"Your role in {team_access.team.name} does not include the permission "
                f"“{permission}”.",
                status=403,
            )
        request.team_access = team_access
        return True


class AccessTokenOnly(BasePermission):
    """Account endpoints (2FA management, sign-out): an access token, not an API key
    (a key acts for a team's resources, never on the account itself)."""

    def has_permission(self, request, view) -> bool:
        cred = credential(request)
        if cred is None or not request.user.is_authenticated:
            return False
        if cred.kind != "token":
            raise ApiRefusal(
                "token_required",
                "This endpoint needs an access token, not an API key.",
                status=403,
            )
        return True
