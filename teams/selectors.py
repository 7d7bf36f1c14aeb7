"""Reads, scoped to one team. Each returns a fixed number of queries however many rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q
from django_otp_webauthn.models import WebAuthnCredential

from security.twofactor.models import EncryptedTOTPDevice

from .models import Domain, Invitation, Membership, Permission, Role, Team

MEMBERS_PER_PAGE = 50


def domains_for(*, team: Team):
    return Domain.objects.filter(team=team).order_by("hostname", "id")


def domain_of(*, team: Team, domain_id) -> Domain | None:
    return Domain.objects.filter(team=team, pk=domain_id).first()


def members_page(*, team: Team, page=1):
    """One page of members (50 a page) with their role, 2FA state and last sign-in:
    two queries (the count and the rows)."""
    # 2FA is on with the authenticator app or a passkey (security.twofactor.totp.has_2fa).
    app = EncryptedTOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True)
    passkey = WebAuthnCredential.objects.filter(user=OuterRef("user_id"), confirmed=True)
    rows = (
        Membership.objects.filter(team=team)
        .select_related("user", "role")
        .annotate(has_2fa=Exists(app) | Exists(passkey))
        .order_by("user__full_name", "user__username", "id")
    )
    return Paginator(rows, MEMBERS_PER_PAGE).get_page(page)


def membership_of(*, team: Team, membership_id) -> Membership | None:
    return (
        Membership.objects.filter(team=team, pk=membership_id)
        .select_related("user", "role")
        .first()
    )


def roles_for(*, team: Team) -> list[Role]:
    """The predefined roles, then the team's own, each with its permissions (2 queries)."""
    return list(
        Role.objects.filter(Q(team__isnull=True) | Q(team=team))
        .prefetch_related(Prefetch("permissions", queryset=Permission.objects.order_by("code")))
        .order_by("team_id", "id")
    )


def custom_role_of(*, team: Team, role_id) -> Role | None:
    return Role.objects.filter(team=team, pk=role_id).prefetch_related("permissions").first()


def catalog() -> list[Permission]:
    return list(Permission.objects.order_by("code"))


def permission_matrix(*, team: Team):
    """(catalog, rows): each row is (membership, [bool per catalog entry]). Four queries:
    the catalog, the memberships with user and role, the roles' permissions."""
    perms = catalog()
    memberships = list(
        Membership.objects.filter(team=team)
        .select_related("user", "role")
        .prefetch_related("role__permissions")
        .order_by("user__full_name", "user__username", "id")
    )
    rows = []
    for membership in memberships:
        held = {p.code for p in membership.role.permissions.all()}
        rows.append((membership, [membership.role.is_owner or p.code in held for p in perms]))
    return perms, rows


def invitations_for(*, team: Team):
    return (
        Invitation.objects.filter(team=team)
        .select_related("role", "invited_by")
        .order_by("-created_at", "-id")
    )


# --- For the security app's team-scoped pages and alerts (it must not import teams) ----


def member_ids(*, team_id: int):
    """The team's members as a queryset of user ids (a subquery, never a list)."""
    return Membership.objects.filter(team_id=team_id).values("user_id")


def holders_of(*, team_id: int, permission: str):
    """Active accounts of the team whose role grants ``permission`` (Owners hold all)."""
    from django.contrib.auth import get_user_model

    granted = Membership.objects.filter(team_id=team_id).filter(
        Q(role__is_owner=True) | Q(role__permissions__code=permission)
    )
    return get_user_model().objects.filter(is_active=True, pk__in=granted.values("user_id"))


def team_names(ids: set[int]) -> dict[int, str]:
    """{team id: name} for the audit log's team column (one query)."""
    return dict(Team.objects.filter(pk__in=ids).values_list("pk", "name"))


def alert_scopes():
    """Each team that has someone to tell, as the metric alerts see it
    (``security.metrics.alerts.TeamScope``): one query for the teams."""
    from django.urls import reverse

    from security.metrics.alerts import TeamScope

    # One filter() call: the active account and the role are the same membership's.
    teams = (
        Team.objects.filter(
            Q(memberships__role__is_owner=True)
            | Q(memberships__role__permissions__code="system.admin"),
            memberships__user__is_active=True,
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", "name")
    )
    for team_id, name in teams:
        yield TeamScope(
            team_id=team_id,
            name=name,
            users=member_ids(team_id=team_id),
            recipients=holders_of(team_id=team_id, permission="system.admin"),
            path=reverse("teams:metrics", kwargs={"team_id": team_id}),
        )
