"""The team's audit log (``events.read``): the team's own events, filtered, paginated and
exported as CSV, through the same selector, rows and CSV writer as the operations log
(``security.auditlog``). The team comes from the URL, checked by the team middleware
(an outsider gets 404); nothing in the query string can name another team."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from security.auditlog.views import export_response, log_context
from teams.decorators import team_permission

from .common import team_page


@team_permission("events.read")
@require_GET
def event_log(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    context, status = log_context(
        request,
        team_id=team.pk,
        export_url=reverse("teams:events_csv", kwargs={"team_id": team.pk}),
    )
    return team_page(request, "teams/events.html", "events", context, status=status)


@team_permission("events.read")
@require_GET
def event_export(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    return export_response(request, team_id=team.pk, filename=f"team-{team.pk}-audit-log")
