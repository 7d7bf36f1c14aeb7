"""A user's memberships and their permission sets, resolved in one query.

``load(user)`` returns ``{team_id: TeamAccess}`` with one query (the memberships joined to
their team, their role and the role's permission codes, one row per code). The request's
``TeamContext`` (teams.middleware) calls it at most once per request and keeps the result
on the user, where the permission backend (teams.backends) finds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F

from .models import Membership, Team

CACHE_ATTR = "_team_access_cache"


@dataclass(frozen=True)
class TeamAccess:
    team: Team
    membership: Membership
    permissions: frozenset[str]

    @property
    def role(self):
        return self.membership.role

    @property
    def is_owner(self) -> bool:
        return self.membership.role.is_owner

    def has(self, permission: str) -> bool:
        return self.is_owner or permission in self.permissions


def load(user) -> dict[int, TeamAccess]:
    """Every membership of ``user`` with its permission set: one query, cached on the user."""
    cached = getattr(user, CACHE_ATTR, None)
    if cached is not None:
        return cached
    found: dict[int, tuple[Membership, set[str]]] = {}
    if getattr(user, "pk", None):
        rows = (
            Membership.objects.filter(user_id=user.pk)
            .select_related("team", "role")
            .annotate(permission_code=F("role__permissions__code"))
            .order_by("team__name", "team_id")
        )
        for row in rows:
            membership, codes = found.setdefault(row.team_id, (row, set()))
            if row.permission_code:
                codes.add(row.permission_code)
    result = {
        team_id: TeamAccess(team=m.team, membership=m, permissions=frozenset(codes))
        for team_id, (m, codes) in found.items()
    }
    setattr(user, CACHE_ATTR, result)
    return result


def forget(user) -> None:
    """Drop the cached memberships (after a change made in this request)."""
    if hasattr(user, CACHE_ATTR):
        delattr(user, CACHE_ATTR)


def access_for(user, team_id) -> TeamAccess | None:
    try:
        return load(user).get(int(team_id))
    except (TypeError, ValueError):
        return None
