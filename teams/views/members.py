from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from security.stepup import state as stepup_state
from security.stepup.decorators import high_security
from teams import account_controls, impersonation, selectors, services
from teams.decorators import team_permission
from teams.exceptions import NotAMember, TeamRefusal
from teams.forms import RoleChoiceForm

from .common import team_page


@high_security("members")
@team_permission("team.view")
@require_GET
def member_list(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    page = selectors.members_page(team=team, page=request.GET.get("page") or 1)
    roles = selectors.roles_for(team=team)
    return team_page(
        request,
        "teams/members.html",
        "members",
        {
            "page": page,
            "roles": roles,
            "impersonable": impersonation.impersonable(
                viewer=request.user, access=request.team_access, members=page, roles=roles
            ),
        },
    )


def _target(request: HttpRequest, membership_id: int):
    membership = selectors.membership_of(team=request.team_access.team, membership_id=membership_id)
    if membership is None:
        raise Http404("No such member.")
    return membership


def _refused(request, team_id, refused: TeamRefusal) -> HttpResponse:
    """The members page again, with the refusal said on it and its status (4xx)."""
    if isinstance(refused, NotAMember):
        raise refused
    team = request.team_access.team
    return team_page(
        request,
        "teams/members.html",
        "members",
        {
            "page": selectors.members_page(team=team, page=1),
            "roles": selectors.roles_for(team=team),
            "error": refused.message,
        },
        status=refused.status,
    )


@high_security("members")
@team_permission("team.manage")
@require_POST
def member_change_role(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    team = request.team_access.team
    membership = _target(request, membership_id)
    form = RoleChoiceForm(request.POST)
    if not form.is_valid():
        return _refused(request, team.pk, TeamRefusal("Choose a role."))
    try:
        role = services.role_for(team=team, role_id=form.cleaned_data["role"])
        services.membership_change_role(
            actor=request.user, team=team, membership=membership, role=role, request=request
        )
    except TeamRefusal as refused:
        return _refused(request, team.pk, refused)
    messages.success(request, f"{membership.user.get_full_name()} is now {role.name}.")
    return redirect("teams:members", team_id=team.pk)


@high_security("members")
@team_permission("team.manage")
@require_POST
def member_remove(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    team = request.team_access.team
    membership = _target(request, membership_id)
    try:
        services.membership_remove(
            actor=request.user, team=team, membership=membership, request=request
        )
    except TeamRefusal as refused:
        return _refused(request, team.pk, refused)
    messages.success(request, f"{membership.user.get_full_name()} was removed from {team.name}.")
    if membership.user_id == request.user.pk:
        return redirect("dashboard")
    return redirect("teams:members", team_id=team.pk)


@team_permission(None)
@require_POST
def member_leave(request: HttpRequest, team_id: int) -> HttpResponse:
    """Any member leaves the team (the last Owner cannot)."""
    team = request.team_access.team
    try:
        services.membership_remove(
            actor=request.user,
            team=team,
            membership=request.team_access.membership,
            request=request,
        )
    except TeamRefusal as refused:
        return _refused(request, team.pk, refused)
    messages.success(request, f"You left {team.name}.")
    return redirect("dashboard")


@high_security("members")
@team_permission(account_controls.PERMISSION)
@require_POST
def member_account(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    """Require a new password, disable, enable, or send a reset link (``control``).

    Needs a fresh step-up, checked here rather than with ``@stepup_required``: the
    policy middleware runs before the team middleware, and an outsider must get the
    team's 404, not a "Confirm it's you" page. Without one the user confirms and comes
    back to the members page (the POST is not replayed)."""
    team = request.team_access.team
    membership = _target(request, membership_id)
    if not stepup_state.is_recent(request):
        back = reverse("teams:members", kwargs={"team_id": team.pk})
        return redirect(f"{reverse('security:stepup')}?{urlencode({'next': back})}")
    try:
        done = account_controls.member_account_control(
            actor=request.user,
            team=team,
            membership=membership,
            control=request.POST.get("control", ""),
            request=request,
        )
    except TeamRefusal as refused:
        return _refused(request, team.pk, refused)
    messages.success(request, done)
    return redirect("teams:members", team_id=team.pk)
