"""What the team pages share: the tabs, and answering a refusal on the form."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse

from teams.access import TeamAccess
from teams.exceptions import NotAMember, TeamRefusal

TABS = [
    ("domains", "Domains", "teams:domains", ""),
    ("members", "Members", "teams:members", "team.view"),
    ("invitations", "Invitations", "teams:invitations", "team.invite"),
    ("roles", "Roles", "teams:roles", "team.view"),
    ("audit", "Permission audit", "teams:permissions", "team.view"),
    ("policy", "Security policy", "teams:policy", "*"),
    ("events", "Audit log", "teams:events", "events.read"),
    ("metrics", "Security metrics", "teams:metrics", "system.admin"),
    ("high_security", "High Security", "teams:high_security", "*"),
]


def team_tabs(found: TeamAccess, active: str) -> list[dict]:
    tabs = []
    for key, label, url_name, needed in TABS:
        if needed == "*" and not found.is_owner:
            continue
        if needed and needed != "*" and not found.has(needed):
            continue
        tabs.append(
            {
                "key": key,
                "label": label,
                "url": reverse(url_name, kwargs={"team_id": found.team.pk}),
                "active": key == active,
            }
        )
    return tabs


def team_page(request, template: str, tab: str, context: dict, status: int = 200):
    found = request.team_access
    context = {
        "team": found.team,
        "access": found,
        "team_tabs": team_tabs(found, tab),
        **context,
    }
    return render(request, template, context, status=status)


def submit(form, call):
    """Run ``call`` (the service behind a valid form). A team refusal becomes the form's
    error: returns ``(None, its status)``; otherwise ``(the result, None)``. ``NotAMember``
    is not caught: the team middleware answers it with a 404."""
    try:
        return call(), None
    except NotAMember:
        raise
    except TeamRefusal as refused:
        form.add_error(None, refused.message)
        return None, refused.status
