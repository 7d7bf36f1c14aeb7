"""The team's security metrics (``system.admin``): the operations dashboard's metrics
over the team's members (``security.metrics.views.dashboard_context(users=...)``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from security.metrics.compute import WINDOWS
from security.metrics.views import dashboard_context
from teams import selectors
from teams.decorators import team_permission

from .common import team_page


@team_permission("system.admin")
@require_GET
def metrics_dashboard(request: HttpRequest, team_id: int) -> HttpResponse:
    window = request.GET.get("window", "24h")
    if window not in WINDOWS:
        return render(
            request,
            "error.html",
            {"status": 400, "title": "Unknown period", "message": "Choose 24h, 7d or 30d."},
            status=400,
        )
    team = request.team_access.team
    context = dashboard_context(window, users=selectors.member_ids(team_id=team.pk))
    return team_page(request, "teams/metrics.html", "metrics", context)
