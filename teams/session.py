"""The active team of a signed-in session, kept server-side in the session."""

from __future__ import annotations

from django.http import HttpRequest

ACTIVE_KEY = "_active_team"


def active_id(request: HttpRequest) -> int | None:
    value = request.session.get(ACTIVE_KEY)
    return value if isinstance(value, int) else None


def set_active(request: HttpRequest, team_id: int | None) -> None:
    if team_id is None:
        request.session.pop(ACTIVE_KEY, None)
    else:
        request.session[ACTIVE_KEY] = int(team_id)
