"""Invitations: the team's page (send, resend, revoke) and the emailed link (Door B)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.forms import SignupForm
from panel import ratelimits
from security.signin import pipeline as signin
from security.signin.views import respond
from security.stepup.decorators import high_security
from teams import selectors, services, session
from teams.decorators import team_permission
from teams.exceptions import InvitationUnusable, NotAMember, TeamRefusal, WrongAccount
from teams.forms import InvitationForm

from .common import submit, team_page


def _invitations_page(request, form, status=200, error=""):
    team = request.team_access.team
    found = request.team_access
    roles = [r for r in selectors.roles_for(team=team) if found.is_owner or not r.is_owner]
    return team_page(
        request,
        "teams/invitations.html",
        "invitations",
        {
            "form": form,
            "roles": roles,
            "invitations": selectors.invitations_for(team=team),
            "error": error,
        },
        status,
    )


@high_security("members")
@team_permission("team.invite")
@require_http_methods(["GET", "POST"])
def invitation_list(request: HttpRequest, team_id: int) -> HttpResponse:
    team = request.team_access.team
    form = InvitationForm(request.POST if request.method == "POST" else None)
    status = 400 if form.is_bound else 200
    if form.is_valid():

        def invite():
            role = services.role_for(team=team, role_id=form.cleaned_data["role"])
            invited = services.invitation_create(
                actor=request.user,
                team=team,
                email=form.cleaned_data["email"],
                role=role,
                request=request,
            )
            return role, invited

        sent, refusal = submit(form, invite)
        if refusal is None:
            role, invited = sent
            messages.success(
                request, f"An invitation was sent to {invited.invitation.email} as {role.name}."
            )
            return redirect("teams:invitations", team_id=team.pk)
        status = refusal
    return _invitations_page(request, form, status)


def _act(request, team_id, action, done: str) -> HttpResponse:
    try:
        invited = action(
            actor=request.user,
            team=request.team_access.team,
            invitation_id=request.resolver_match.kwargs["invitation_id"],
            request=request,
        )
    except NotAMember:
        raise
    except TeamRefusal as refused:
        return _invitations_page(request, InvitationForm(), refused.status, refused.message)
    email = getattr(invited, "invitation", invited).email
    messages.success(request, done.format(email=email))
    return redirect("teams:invitations", team_id=team_id)


@high_security("members")
@team_permission("team.invite")
@require_POST
def invitation_resend(request: HttpRequest, team_id: int, invitation_id: int) -> HttpResponse:
    return _act(request, team_id, services.invitation_resend, "A new link was sent to {email}.")


@high_security("members")
@team_permission("team.invite")
@require_POST
def invitation_revoke(request: HttpRequest, team_id: int, invitation_id: int) -> HttpResponse:
    return _act(
        request, team_id, services.invitation_revoke, "The invitation to {email} was revoked."
    )


# --- The emailed link ------------------------------------------------------------------


def _unusable(request, refused: InvitationUnusable) -> HttpResponse:
    return render(
        request,
        "teams/invitation_unusable.html",
        {"title": refused.title, "message": refused.message, "reason": refused.reason},
        status=refused.status,
    )


def _joined(request, membership) -> HttpResponse:
    session.set_active(request, membership.team_id)
    messages.success(request, "Welcome to the team.")
    return redirect("teams:domains", team_id=membership.team_id)


@login_not_required
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
@ratelimit(
    group="teams:invitation:ip", key=ratelimits.ip_key, rate=ratelimits.SIGNUP_PER_IP, method="POST"
)
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """Door B. A newcomer creates the account (address fixed to the invited one) and is
    signed in; an existing user signs in first and comes back; someone signed in as
    another account is told so and offered to sign out."""
    try:
        invitation = services.invitation_by_token(token)
    except InvitationUnusable as refused:
        return _unusable(request, refused)
    context = {"invitation": invitation, "team": invitation.team, "role": invitation.role}
    user = request.user
    if user.is_authenticated:
        if not services.User.objects.with_email(invitation.email).filter(pk=user.pk).exists():
            context["message"] = WrongAccount.default_message
            return render(request, "teams/invitation_wrong_account.html", context, status=403)
        if request.method == "POST":
            try:
                membership = services.invitation_accept(token=token, user=user, request=request)
            except InvitationUnusable as refused:
                return _unusable(request, refused)
            except TeamRefusal as refused:
                context["error"] = refused.message
                return render(request, "teams/invitation.html", context, status=refused.status)
            return _joined(request, membership)
        return render(request, "teams/invitation.html", context)

    if services.User.objects.with_email(invitation.email).exists():
        # An existing account signs in (with 2FA if on) and comes back here to join.
        login = reverse("security:login") + "?" + urlencode({"next": request.path})
        context["login_url"] = login
        return render(request, "teams/invitation_sign_in.html", context)

    data = None
    if request.method == "POST":
        data = request.POST.copy()
        data["email"] = invitation.email  # fixed: the link proves this address
    form = SignupForm(data, initial={"email": invitation.email}, extra_fields=False)
    form.fields["email"].disabled = True
    form.fields["email"].help_text = "The invitation was sent to this address."
    context["form"] = form
    minimum = invitation.team.min_password_length
    if (
        data is not None
        and form.is_valid()
        and minimum
        and len(form.cleaned_data["password1"]) < minimum
    ):
        # The account is not in the team yet, so the validator cannot see the team's rule.
        form.add_error(
            "password1",
            f"{invitation.team.name} requires passwords of at least {minimum} characters.",
        )
    if data is not None and form.is_valid():
        try:
            membership = services.invitation_signup(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        except InvitationUnusable as refused:
            return _unusable(request, refused)
        except TeamRefusal as refused:
            form.add_error(None, refused.message)
            return render(request, "teams/invitation_signup.html", context, status=refused.status)
        next_url = reverse("teams:domains", kwargs={"team_id": membership.team_id})
        outcome = signin.password_verified(request, membership.user, next_url=next_url)
        session.set_active(request, membership.team_id)
        return respond(request, outcome)
    status = 400 if data is not None else 200
    return render(request, "teams/invitation_signup.html", context, status=status)
