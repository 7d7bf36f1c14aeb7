from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from security.stepup.decorators import high_security
from teams import selectors, services
from teams.decorators import team_permission
from teams.exceptions import NotAMember, TeamRefusal
from teams.forms import RoleForm

from .common import submit, team_page


@high_security("roles")
@team_permission("team.view")
@require_GET
def role_list(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    return team_page(
        request,
        "teams/roles.html",
        "roles",
        {"roles": selectors.roles_for(team=team), "catalog": selectors.catalog()},
    )


def _role_form_page(request, form, role, status):
    return team_page(
        request,
        "teams/role_form.html",
        "roles",
        {"form": form, "role": role, "catalog": form.catalog},
        status,
    )


@high_security("roles")
@team_permission("team.manage")
@require_http_methods(["GET", "POST"])
def role_create(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    form = RoleForm(request.POST if request.method == "POST" else None)
    status = 400 if form.is_bound else 200
    if form.is_valid():
        role, refusal = submit(
            form,
            lambda: services.role_create(
                actor=request.user,
                team=team,
                name=form.cleaned_data["name"],
                permissions=form.cleaned_data["permissions"],
                request=request,
            ),
        )
        if refusal is None:
            messages.success(request, f"The role {role.name} was created.")
            return redirect("teams:roles", team_id=team.pk)
        status = refusal
    return _role_form_page(request, form, None, status)


@high_security("roles")
@team_permission("team.manage")
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, team_id: int, role_id: int) -> HttpResponse:
    team = request.team_access.team
    role = selectors.custom_role_of(team=team, role_id=role_id)
    if role is None:
        raise Http404("No such role.")
    initial = {"name": role.name, "permissions": [p.code for p in role.permissions.all()]}
    form = RoleForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 400 if form.is_bound else 200
    if form.is_valid():
        _, refusal = submit(
            form,
            lambda: services.role_update(
                actor=request.user,
                team=team,
                role=role,
                name=form.cleaned_data["name"],
                permissions=form.cleaned_data["permissions"],
                request=request,
            ),
        )
        if refusal is None:
            messages.success(request, f"The role {role.name} was saved.")
            return redirect("teams:roles", team_id=team.pk)
        status = refusal
    return _role_form_page(request, form, role, status)


@high_security("roles")
@team_permission("team.manage")
@require_POST
def role_delete(request: HttpRequest, team_id: int, role_id: int) -> HttpResponse:
    team = request.team_access.team
    role = selectors.custom_role_of(team=team, role_id=role_id)
    if role is None:
        raise Http404("No such role.")
    try:
        services.role_delete(actor=request.user, team=team, role=role, request=request)
    except NotAMember:
        raise
    except TeamRefusal as refused:
        return team_page(
            request,
            "teams/roles.html",
            "roles",
            {
                "roles": selectors.roles_for(team=team),
                "catalog": selectors.catalog(),
                "error": refused.message,
            },
            status=refused.status,
        )
    messages.success(request, f"The role {role.name} was deleted.")
    return redirect("teams:roles", team_id=team.pk)
