from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from teams import selectors, services
from teams.decorators import team_permission
from teams.forms import DomainForm

from .common import submit, team_page


@team_permission(None)
@require_GET
def team_home(request: HttpRequest, team_id: int) -> HttpResponse:
    return redirect("teams:domains", team_id=team_id)


@team_permission(None)
@require_GET
def domain_list(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    return team_page(
        request,
        "teams/domains.html",
        "domains",
        {"domains": selectors.domains_for(team=team), "form": DomainForm()},
    )


@team_permission("site.create")
@require_http_methods(["GET", "POST"])
def domain_create(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    form = DomainForm(request.POST if request.method == "POST" else None)
    status = 400 if form.is_bound else 200
    if form.is_valid():
        domain, refusal = submit(
            form,
            lambda: services.domain_create(
                actor=request.user,
                team=team,
                hostname=form.cleaned_data["hostname"],
                notes=form.cleaned_data["notes"],
                request=request,
            ),
        )
        if refusal is None:
            messages.success(request, f"{domain.hostname} was added.")
            return redirect("teams:domains", team_id=team.pk)
        status = refusal
    return team_page(
        request, "teams/domain_form.html", "domains", {"form": form, "domain": None}, status
    )


@team_permission("site.edit")
@require_http_methods(["GET", "POST"])
def domain_edit(request: HttpRequest, team_id: int, domain_id: int) -> HttpResponse:
    team = request.team_access.team
    domain = selectors.domain_of(team=team, domain_id=domain_id)
    if domain is None:
        raise Http404("No such domain.")
    initial = {"hostname": domain.hostname, "notes": domain.notes}
    form = DomainForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 400 if form.is_bound else 200
    if form.is_valid():
        _, refusal = submit(
            form,
            lambda: services.domain_update(
                actor=request.user,
                team=team,
                domain=domain,
                hostname=form.cleaned_data["hostname"],
                notes=form.cleaned_data["notes"],
                request=request,
            ),
        )
        if refusal is None:
            messages.success(request, f"{domain.hostname} was saved.")
            return redirect("teams:domains", team_id=team.pk)
        status = refusal
    return team_page(
        request, "teams/domain_form.html", "domains", {"form": form, "domain": domain}, status
    )


@team_permission("site.delete")
@require_POST
def domain_delete(request: HttpRequest, team_id: int, domain_id: int) -> HttpResponse:
    team = request.team_access.team
    domain = selectors.domain_of(team=team, domain_id=domain_id)
    if domain is None:
        raise Http404("No such domain.")
    services.domain_delete(actor=request.user, team=team, domain=domain, request=request)
    messages.success(request, f"{domain.hostname} was deleted.")
    return redirect("teams:domains", team_id=team.pk)
