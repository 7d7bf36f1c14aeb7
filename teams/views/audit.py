"""The permission audit: who holds which permission, on screen and as CSV."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from security.stepup.decorators import high_security
from teams import selectors
from teams.decorators import team_permission

from .common import team_page


@high_security("roles")
@team_permission("team.view")
@require_GET
def permission_matrix(request: HttpRequest, team_id: int) -> HttpResponse:
    perms, rows = selectors.permission_matrix(team=request.team_access.team)
    return team_page(request, "teams/permissions.html", "audit", {"perms": perms, "rows": rows})


def _cell(value: str) -> str:
    # A cell starting with = + - @ would be a formula in a spreadsheet (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@high_security("roles")
@team_permission("team.view")
@require_GET
def permission_matrix_csv(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    perms, rows = selectors.permission_matrix(team=team)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="team-{team.pk}-permissions.csv"'
    writer = csv.writer(response)
    writer.writerow(["name", "email", "role", *[p.code for p in perms]])
    for membership, cells in rows:
        user = membership.user
        writer.writerow(
            [
                _cell(user.get_full_name()),
                _cell(user.email),
                _cell(membership.role.name),
                *["yes" if held else "" for held in cells],
            ]
        )
    return response
