"""The team rule of impersonation, registered with ``security.impersonation.rules``: a
holder of ``user.manage`` may act as a member of their own team whose role is lower (the
escalation rule of role changes, ``services.outranks``). Superusers need no rule."""

from __future__ import annotations

from collections.abc import Iterable

from .models import Membership, Role
from .services import outranks

PERMISSION = "user.manage"


def _codes_by_role(role_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    through = Role.permissions.through
    found: dict[int, set[str]] = {role_id: set() for role_id in role_ids}
    for role_id, code in through.objects.filter(role_id__in=list(found)).values_list(
        "role_id", "permission__code"
    ):
        found[role_id].add(code)
    return {role_id: frozenset(codes) for role_id, codes in found.items()}


def role_codes(role: Role, codes_by_role: dict[int, frozenset[str]]) -> frozenset[str] | None:
    return None if role.is_owner else codes_by_role.get(role.pk, frozenset())


def may_act_as(*, hijacker, hijacked) -> bool:
    """Whether ``hijacker`` holds ``user.manage`` in a team where ``hijacked`` is a
    member with a lower role (three queries at most)."""
    mine = {
        m.team_id: m.role
        for m in Membership.objects.filter(user_id=hijacker.pk).select_related("role")
    }
    if not mine:
        return False
    theirs = {
        m.team_id: m.role
        for m in Membership.objects.filter(
            user_id=hijacked.pk, team_id__in=list(mine)
        ).select_related("role")
    }
    if not theirs:
        return False
    codes = _codes_by_role({r.pk for r in [*mine.values(), *theirs.values()] if not r.is_owner})
    for team_id, their_role in theirs.items():
        my_codes = role_codes(mine[team_id], codes)
        if (my_codes is None or PERMISSION in my_codes) and outranks(
            my_codes, role_codes(their_role, codes)
        ):
            return True
    return False


def impersonable(
    *, viewer, access, members: Iterable[Membership], roles: Iterable[Role]
) -> set[int]:
    """The membership ids of ``members`` (one page of the team) that ``viewer``, a member
    with ``access``, may act as: no query, the roles come with their permissions."""
    viewer_is_super = viewer.is_superuser
    if not viewer_is_super and not access.has(PERMISSION):
        return set()
    codes = {r.pk: frozenset(p.code for p in r.permissions.all()) for r in roles}
    mine = None if access.is_owner else frozenset(access.permissions)
    allowed = set()
    for member in members:
        user = member.user
        if user.pk == viewer.pk or not user.is_active or user.is_superuser:
            continue
        if viewer_is_super or outranks(mine, role_codes(member.role, codes)):
            allowed.add(member.pk)
    return allowed
