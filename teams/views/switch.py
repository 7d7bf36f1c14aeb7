from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from panel.links import safe_next
from teams import services


@require_POST
def switch_team(request: HttpRequest) -> HttpResponse:
    """The top bar's switcher: make another of the user's teams the active one (a team
    the user is not in is a 404)."""
    team = services.team_switch(
        user=request.user, team_id=request.POST.get("team", ""), request=request
    )
    messages.success(request, f"You are now working in {team.name}.")
    default = reverse("teams:domains", kwargs={"team_id": team.pk})
    next_url = safe_next(request, request.POST.get("next"), default)
    # A page of the previous team would be a 404 now: go to the new team's pages instead.
    if next_url.startswith("/teams/"):
        next_url = default
    return redirect(next_url)
