"""``@team_permission("site.edit")`` declares what a team page needs; the middleware
(teams.middleware.TeamMiddleware) enforces it, as Django's ``LoginRequiredMiddleware``
enforces what ``login_not_required`` declares. A team page's URL carries ``team_id``:
someone outside that team gets 404, a member without the permission 403 with an
explanation. ``@team_permission(None)`` declares a page every member may see.
``@team_owner`` declares an Owner-only page (the security policy)."""

from __future__ import annotations

MEMBER = ""  # any member of the team
OWNER = "*"  # an Owner of the team


def team_permission(permission: str | None):
    def mark(view):
        view.team_permission = permission or MEMBER
        return view

    return mark


def team_owner(view):
    view.team_permission = OWNER
    return view
