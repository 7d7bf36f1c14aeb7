"""A team's High Security Mode (Owners): the switch for the team's pages. The policy table
itself is the panel's (Operations > High Security)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from accounts.decorators import not_while_impersonating
from security.exceptions import SecondFactorNeeded
from security.stepup import pages, services as stepup_services
from security.stepup.decorators import high_security
from security.twofactor.totp import has_2fa
from teams import services
from teams.decorators import team_owner

from .common import team_page


@not_while_impersonating
@high_security("high_security")
@team_owner
@require_http_methods(["GET", "POST"])
def team_high_security(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    if request.method == "POST":
        enabled = request.POST.get("enabled") == "on"
        try:
            changed = services.team_set_high_security(
                actor=request.user, team=team, enabled=enabled, request=request
            )
        except SecondFactorNeeded as refused:
            messages.error(request, refused.message)
            return redirect("teams:high_security", team_id=team.pk)
        if changed:
            messages.success(
                request, f"High Security Mode is {'on' if enabled else 'off'} for {team.name}."
            )
        return redirect("teams:high_security", team_id=team.pk)
    return team_page(
        request,
        "teams/high_security.html",
        "high_security",
        {
            "has_2fa": has_2fa(request.user),
            "protected": [
                page
                for key, page in pages.PAGES.items()
                if key in ("members", "roles", "team_policy", "high_security", "sessions")
            ],
            "minutes": stepup_services.STEPUP_SECONDS // 60,
        },
    )
