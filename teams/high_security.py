"""High Security Mode on the teams side: the provider that tells
``security.stepup.high_security`` whether the mode is on for a page and which roles the
user holds there (security does not import teams).

- A team page (its URL carries ``team_id``): on when that team's Owner turned it on; the
  user's role in that team.
- Any other page (the user's own sessions, the operator pages): on when any of the user's
  teams has it on; the user's roles in those teams (the strictest rule wins).

Everything comes from ``request.teams``, the memberships already loaded with their teams
in one query: no query of its own.
"""

from __future__ import annotations

from security.stepup import pages
from security.stepup.high_security import Scope

from .models import Role

ROLE_KEYS = {Role.MANAGER: pages.MANAGER, Role.DEVELOPER: pages.DEVELOPER}


def role_key(found) -> str:
    """The policy table's name for a membership's role (a custom role is "member")."""
    role = found.membership.role
    if role.is_owner:
        return pages.OWNER
    if role.is_predefined:
        return ROLE_KEYS.get(role.name, pages.MEMBER)
    return pages.MEMBER


def scope(request, view_kwargs: dict) -> Scope | None:
    teams = getattr(request, "teams", None)
    if teams is None:
        return None
    if "team_id" in view_kwargs:
        found = teams.get(view_kwargs["team_id"])
        if found is None:
            return None  # not a member: the team middleware answers 404
        return Scope(on=found.team.high_security, roles=frozenset({role_key(found)}))
    on = [found for found in teams if found.team.high_security]
    return Scope(on=bool(on), roles=frozenset(role_key(found) for found in on))
