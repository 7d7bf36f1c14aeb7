"""The team choice after sign-in, for a member of several teams."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from panel.links import safe_next
from teams import services
from teams.stages import CHOOSE_KEY


@require_http_methods(["GET", "POST"])
def choose_team(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(CHOOSE_KEY)
    if request.method == "POST":
        team = services.team_switch(
            user=request.user, team_id=request.POST.get("team", ""), request=request
        )
        request.session.pop(CHOOSE_KEY, None)
        next_url = safe_next(request, (pending or {}).get("next"))
        return redirect(next_url or "teams:domains", **({} if next_url else {"team_id": team.pk}))
    return render(request, "teams/choose.html", {"memberships": list(request.teams)})
