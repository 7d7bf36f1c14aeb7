from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from security.stepup.decorators import high_security
from teams import services
from teams.decorators import team_owner
from teams.forms import PolicyForm

from .common import team_page


@high_security("team_policy")
@team_owner
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    initial = {
        "require_2fa": team.require_2fa,
        "min_password_length": team.min_password_length,
        "idle_timeout": team.idle_timeout // 60 if team.idle_timeout else None,
        "single_session": team.single_session,
        "new_device_approval": team.new_device_approval,
    }
    form = PolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        values = dict(form.cleaned_data)
        if values["idle_timeout"]:
            values["idle_timeout"] *= 60
        services.policy_update(actor=request.user, team=team, request=request, **values)
        messages.success(request, f"The security policy of {team.name} was saved.")
        return redirect("teams:policy", team_id=team.pk)
    return team_page(
        request, "teams/policy.html", "policy", {"form": form}, 400 if form.is_bound else 200
    )
