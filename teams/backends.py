"""The Django way of asking: ``user.has_perm("site.edit", team)``.

Listed in AUTHENTICATION_BACKENDS; it authenticates nobody (``authenticate`` returns
None) and answers only for a ``Team`` object. It reads the memberships the request
already resolved (teams.access), so asking costs no query after the first.

Note Django's own rule: ``User.has_perm`` answers True for an active superuser whatever
the backends say. The team pages therefore enforce with the membership itself
(teams.middleware), so an operator who is not a member still gets a 404.
"""

from __future__ import annotations

from . import access
from .models import Permission, Team


class TeamPermissionBackend:
    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if not isinstance(obj, Team) or not getattr(user_obj, "is_active", False):
            return False
        found = access.access_for(user_obj, obj.pk)
        return bool(found and found.has(perm))

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not isinstance(obj, Team):
            return set()
        found = access.access_for(user_obj, obj.pk)
        if found is None:
            return set()
        if found.is_owner:
            return set(Permission.objects.values_list("code", flat=True))
        return set(found.permissions)
