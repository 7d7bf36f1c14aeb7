"""Every state change of teams: keyword-only arguments, one transaction, one audit event
with the actor, the affected user and the team. Each service checks the permission again
(the page's decorator is not the only guard) and raises a typed refusal
(``teams.exceptions``); emails go through the outbox, queued on commit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.emails import send_email
from accounts.models import User
from accounts.services import unique_username
from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from panel import ratelimits
from panel.links import absolute_url
from security.stepup import high_security

from . import access, catalog, session
from .exceptions import (
    AlreadyMember,
    Duplicate,
    Escalation,
    InvalidName,
    InvitationUnusable,
    LastOwner,
    NotAMember,
    PermissionMissing,
    RateLimited,
    WrongAccount,
)
from .models import INVITATION_LIFETIME, Domain, Invitation, Membership, Permission, Role, Team
from .validation import (
    ROLE_NAME_MAX,
    TEAM_NAME_MAX,
    clean_hostname,
    clean_name,
    name_key,
)

TOKEN_BYTES = 32
TOKEN_LENGTH = 43  # base64url of 32 bytes, unpadded


def resends_per_team_per_hour() -> int:
    """The per-team budget of invitation resends (panel.ratelimits, "<n>/h")."""
    return int(ratelimits.INVITATION_RESEND_PER_TEAM.split("/")[0])


# --- Checks -----------------------------------------------------------------------------


def _membership(*, user, team: Team, lock: bool = False) -> Membership:
    """The actor's membership, read fresh from the database (not the request's cache):
    a service decides on the current state."""
    qs = Membership.objects.select_related("role").filter(team=team, user_id=user.pk)
    if lock:
        qs = qs.select_for_update()
    membership = qs.first()
    if membership is None:
        raise NotAMember()
    return membership


def _codes(role: Role) -> frozenset[str] | None:
    """A role's permission codes; None means every permission (Owner)."""
    if role.is_owner:
        return None
    return frozenset(role.permissions.values_list("code", flat=True))


def _holds(role: Role, permission: str) -> bool:
    codes = _codes(role)
    return codes is None or permission in codes


def require(*, user, team: Team, permission: str) -> Membership:
    """The actor's membership if it holds ``permission``; NotAMember or PermissionMissing."""
    membership = _membership(user=user, team=team)
    if not _holds(membership.role, permission):
        raise PermissionMissing(permission, team_name=team.name)
    return membership


def _covers(actor_role: Role, role: Role) -> bool:
    """True when ``actor_role`` holds every permission of ``role`` (an Owner covers all;
    only an Owner covers Owner)."""
    if actor_role.is_owner:
        return True
    if role.is_owner:
        return False
    return _codes(role) <= _codes(actor_role)


def codes_cover(actor_codes: frozenset[str] | None, codes: frozenset[str] | None) -> bool:
    """``_covers`` on permission sets already read (None is Owner: every permission)."""
    if actor_codes is None:
        return True
    if codes is None:
        return False
    return codes <= actor_codes


def outranks(actor_codes: frozenset[str] | None, codes: frozenset[str] | None) -> bool:
    """A role strictly lower than the actor's: the actor's covers it and not the reverse
    (the escalation rule of role changes; an Owner outranks every other role, no Owner
    outranks an Owner)."""
    return codes_cover(actor_codes, codes) and not codes_cover(codes, actor_codes)


def _role_of_team(*, team: Team, role_id) -> Role:
    """A role usable in ``team`` (predefined or the team's own); a forged id is NotAMember
    (a 404 that says nothing about other teams' roles)."""
    try:
        return Role.objects.filter(Q(team__isnull=True) | Q(team=team)).get(pk=int(role_id))
    except (Role.DoesNotExist, TypeError, ValueError):
        raise NotAMember() from None


def role_for(*, team: Team, role_id) -> Role:
    """The role ``role_id`` names if ``team`` may use it, else NotAMember (a forged id)."""
    return _role_of_team(team=team, role_id=role_id)


def _lock(team: Team) -> None:
    """Serialise the membership changes of one team (the row lock is held until the
    transaction ends): two Owners demoting each other at once cannot both pass the
    last-Owner check, and neither deadlocks on the other's rows."""
    Team.objects.select_for_update().filter(pk=team.pk).first()


def _owner_role() -> Role:
    catalog.ensure()
    return Role.objects.get(team__isnull=True, name=Role.OWNER)


# --- Teams ------------------------------------------------------------------------------


def team_create(*, name: str, owner: User, request: HttpRequest | None = None) -> Team:
    """A new team, ``owner`` its Owner (Door A, and the data migration's rule)."""
    name = clean_name(name, max_length=TEAM_NAME_MAX, what="team name")
    with transaction.atomic():
        team = Team.objects.create(name=name)
        Membership.objects.create(team=team, user=owner, role=_owner_role())
        audit(
            Action.TEAM_CREATED,
            request=request,
            actor=owner,
            user=owner,
            team_id=team.pk,
            metadata={"name": name},
        )
    access.forget(owner)
    return team


def default_team_name(user: User) -> str:
    name = (user.full_name or user.username).strip()[:70] or user.username[:70]
    try:
        return clean_name(f"{name}'s team", max_length=TEAM_NAME_MAX)
    except InvalidName:
        return "My team"


def team_rename(*, actor: User, team: Team, name: str, request: HttpRequest | None = None) -> Team:
    name = clean_name(name, max_length=TEAM_NAME_MAX, what="team name")
    with transaction.atomic():
        require(user=actor, team=team, permission="team.manage")
        old = team.name
        team.name = name
        team.save(update_fields=["name"])
        audit(
            Action.TEAM_RENAMED,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"from": old, "to": name},
        )
    return team


def team_switch(*, user: User, team_id, request: HttpRequest) -> Team:
    """Make ``team_id`` the active team of this session (teams.middleware reads it)."""
    found = access.access_for(user, team_id)
    if found is None:
        raise NotAMember()
    with transaction.atomic():
        session.set_active(request, found.team.pk)
        audit(Action.TEAM_SWITCHED, request=request, actor=user, team_id=found.team.pk)
    return found.team


# --- Roles ------------------------------------------------------------------------------


def _clean_role_name(*, team: Team, name: str, exclude: int | None = None) -> str:
    name = clean_name(name, max_length=ROLE_NAME_MAX, what="role name")
    key = name_key(name)
    taken = Role.objects.filter(team__isnull=True) | Role.objects.filter(team=team)
    for other_id, other in taken.values_list("id", "name"):
        if other_id != exclude and name_key(other) == key:
            raise Duplicate(f"This team already has a role called “{other}”.")
    return name


def _catalog(codes: Iterable[str]) -> list[Permission]:
    codes = set(codes)
    found = list(Permission.objects.filter(code__in=codes))
    if len(found) != len(codes):
        raise NotAMember()  # a forged permission code: nothing to say about it
    return found


def _grantable(*, actor_role: Role, codes: Iterable[str]) -> None:
    held = _codes(actor_role)
    if held is None:
        return
    missing = sorted(set(codes) - held)
    if missing:
        raise Escalation(
            "You cannot grant permissions you do not hold yourself: " + ", ".join(missing) + "."
        )


def role_create(
    *,
    actor: User,
    team: Team,
    name: str,
    permissions: Iterable[str],
    request: HttpRequest | None = None,
) -> Role:
    high_security.require(request, "roles", team_id=team.pk)  # checked again
    codes = sorted(set(permissions))
    with transaction.atomic():
        membership = require(user=actor, team=team, permission="team.manage")
        name = _clean_role_name(team=team, name=name)
        perms = _catalog(codes)
        _grantable(actor_role=membership.role, codes=codes)
        try:
            with transaction.atomic():
                role = Role.objects.create(team=team, name=name)
        except IntegrityError:
            raise Duplicate("This team already has a role with that name.") from None
        role.permissions.set(perms)
        audit(
            Action.ROLE_CREATED,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"role_id": role.pk, "name": name, "permissions": codes},
        )
    return role


def role_update(
    *,
    actor: User,
    team: Team,
    role: Role,
    name: str,
    permissions: Iterable[str],
    request: HttpRequest | None = None,
) -> Role:
    """Rename a custom role and set its permissions; members holding it get the new set on
    their next request. Predefined roles are not editable."""
    high_security.require(request, "roles", team_id=team.pk)  # checked again
    codes = sorted(set(permissions))
    with transaction.atomic():
        membership = require(user=actor, team=team, permission="team.manage")
        if role.team_id != team.pk:
            raise NotAMember()
        name = _clean_role_name(team=team, name=name, exclude=role.pk)
        perms = _catalog(codes)
        before = sorted(role.permissions.values_list("code", flat=True))
        # Adding needs the permission; removing one the actor lacks is also refused, so a
        # Manager cannot strip an Owner-made role of what the Manager could not give back.
        _grantable(actor_role=membership.role, codes=set(codes) ^ set(before))
        if membership.role_id == role.pk:
            raise Escalation("You cannot change the role you hold yourself.")
        role.name = name
        role.save(update_fields=["name"])
        role.permissions.set(perms)
        audit(
            Action.ROLE_UPDATED,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"role_id": role.pk, "name": name, "from": before, "to": codes},
        )
    return role


def role_delete(*, actor: User, team: Team, role: Role, request: HttpRequest | None = None) -> None:
    high_security.require(request, "roles", team_id=team.pk)  # checked again
    with transaction.atomic():
        membership = require(user=actor, team=team, permission="team.manage")
        if role.team_id != team.pk:
            raise NotAMember()
        _grantable(
            actor_role=membership.role, codes=role.permissions.values_list("code", flat=True)
        )
        if role.memberships.exists():
            raise Duplicate("Members still hold this role: give them another role first.")
        role_id, name = role.pk, role.name
        role.invitations.all().delete()
        role.delete()
        audit(
            Action.ROLE_DELETED,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"role_id": role_id, "name": name},
        )


# --- Members ----------------------------------------------------------------------------


def membership_change_role(
    *,
    actor: User,
    team: Team,
    membership: Membership,
    role: Role,
    request: HttpRequest | None = None,
) -> Membership:
    """Give a member another role. Nobody changes their own role, gives a role holding more
    than their own, changes the role of someone above them, or demotes the last Owner."""
    high_security.require(request, "members", team_id=team.pk)  # checked again
    with transaction.atomic():
        _lock(team)
        mine = require(user=actor, team=team, permission="team.manage")
        target = (
            Membership.objects.select_for_update()
            .select_related("role", "user")
            .filter(pk=membership.pk, team=team)
            .first()
        )
        if target is None or (role.team_id not in (None, team.pk)):
            raise NotAMember()
        if target.user_id == actor.pk:
            raise Escalation("You cannot change your own role.")
        if not _covers(mine.role, role) or not _covers(mine.role, target.role):
            raise Escalation("You cannot give or change a role above your own.")
        if target.role.is_owner and not role.is_owner:
            # Locks the team's Owner rows so two demotions cannot both pass.
            owners = list(
                Membership.objects.select_for_update().filter(team=team, role__is_owner=True)
            )
            if len(owners) <= 1:
                raise LastOwner()
        before = target.role
        target.role = role
        target.save(update_fields=["role"])
        audit(
            Action.MEMBER_ROLE_CHANGED,
            request=request,
            actor=actor,
            user=target.user,
            team_id=team.pk,
            metadata={"from": before.name, "to": role.name},
        )
        send_email(
            to=target.user.email,
            template="team_role_changed",
            context={"user": target.user, "team": team, "role": role, "before": before},
        )
    return target


def membership_remove(
    *, actor: User, team: Team, membership: Membership, request: HttpRequest | None = None
) -> None:
    """End a membership: the member loses access to the team on their next request.
    Removing someone else needs ``team.manage`` and a role covering theirs; anyone may
    leave (remove their own membership), except the last Owner."""
    if membership.user_id != actor.pk:  # leaving is never held back by High Security Mode
        high_security.require(request, "members", team_id=team.pk)  # checked again
    with transaction.atomic():
        _lock(team)
        if membership.user_id == actor.pk:
            mine = _membership(user=actor, team=team)
        else:
            mine = require(user=actor, team=team, permission="team.manage")
        target = (
            Membership.objects.select_for_update()
            .select_related("role", "user")
            .filter(pk=membership.pk, team=team)
            .first()
        )
        if target is None:
            raise NotAMember()
        if target.user_id != actor.pk and not _covers(mine.role, target.role):
            raise Escalation("You cannot remove a member whose role is above your own.")
        if target.role.is_owner:
            owners = list(
                Membership.objects.select_for_update().filter(team=team, role__is_owner=True)
            )
            if len(owners) <= 1:
                raise LastOwner("This is the team's last Owner: it cannot be removed.")
        user = target.user
        target.delete()
        audit(
            Action.MEMBER_REMOVED,
            request=request,
            actor=actor,
            user=user,
            team_id=team.pk,
            metadata={"role": target.role.name},
        )
        send_email(to=user.email, template="team_removed", context={"user": user, "team": team})


# --- Invitations ------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def token_shape_ok(token: str) -> bool:
    return (
        isinstance(token, str)
        and len(token) == TOKEN_LENGTH
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)
    )


def invitation_link(token: str) -> str:
    return absolute_url(reverse("teams:invitation", kwargs={"token": token}))


def _send_invitation(invitation: Invitation, token: str) -> None:
    send_email(
        to=invitation.email,
        template="team_invitation",
        context={
            "invitation": invitation,
            "team": invitation.team,
            "role": invitation.role,
            "inviter": invitation.invited_by,
            "link": invitation_link(token),
            "valid_days": INVITATION_LIFETIME.days,
        },
    )


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    token: str  # for the email only: never stored, never logged


def invitation_create(
    *, actor: User, team: Team, email: str, role: Role, request: HttpRequest | None = None
) -> Invited:
    high_security.require(request, "members", team_id=team.pk)  # checked again
    email = User.objects.normalize_email((email or "").strip())
    with transaction.atomic():
        mine = require(user=actor, team=team, permission="team.invite")
        if role.team_id not in (None, team.pk):
            raise NotAMember()
        if not _covers(mine.role, role):
            raise Escalation("You cannot invite someone with a role above your own.")
        if Membership.objects.filter(team=team, user__in=User.objects.with_email(email)).exists():
            raise AlreadyMember(f"{email} is already a member of {team.name}.")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = timezone.now()
        invitation = Invitation.objects.create(
            team=team,
            email=email,
            role=role,
            token_hash=hash_token(token),
            invited_by=actor,
            created_at=now,
            sent_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        audit(
            Action.INVITATION_SENT,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"invitation_id": invitation.pk, "email": email, "role": role.name},
        )
        _send_invitation(invitation, token)
    return Invited(invitation=invitation, token=token)


def _pending_invitation(*, team: Team, invitation_id) -> Invitation:
    try:
        invitation = Invitation.objects.select_for_update().get(pk=int(invitation_id), team=team)
    except (Invitation.DoesNotExist, TypeError, ValueError):
        raise NotAMember() from None
    status = invitation.status()
    if status != Invitation.Status.PENDING:
        raise InvitationUnusable({"accepted": "used"}.get(status, status))
    return invitation


def invitation_resend(
    *, actor: User, team: Team, invitation_id, request: HttpRequest | None = None
) -> Invited:
    """A new link (the old one dies: only the new token's hash is kept), valid 7 days
    again. At most ``INVITATION_RESEND_PER_TEAM`` (panel.ratelimits) per team an hour,
    counted from the audit trail, so the budget holds across processes."""
    high_security.require(request, "members", team_id=team.pk)  # checked again
    with transaction.atomic():
        require(user=actor, team=team, permission="team.invite")
        Team.objects.select_for_update().filter(pk=team.pk).first()  # serialises the count
        invitation = _pending_invitation(team=team, invitation_id=invitation_id)
        hour_ago = timezone.now() - timedelta(hours=1)
        recent = AuditEvent.objects.filter(
            action=Action.INVITATION_RESENT, team_id=team.pk, created_at__gte=hour_ago
        ).count()
        if recent >= resends_per_team_per_hour():
            raise RateLimited()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = timezone.now()
        invitation.token_hash = hash_token(token)
        invitation.sent_at = now
        invitation.expires_at = now + INVITATION_LIFETIME
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
        audit(
            Action.INVITATION_RESENT,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"invitation_id": invitation.pk, "email": invitation.email},
        )
        _send_invitation(invitation, token)
    return Invited(invitation=invitation, token=token)


def invitation_revoke(
    *, actor: User, team: Team, invitation_id, request: HttpRequest | None = None
) -> Invitation:
    high_security.require(request, "members", team_id=team.pk)  # checked again
    with transaction.atomic():
        require(user=actor, team=team, permission="team.invite")
        invitation = _pending_invitation(team=team, invitation_id=invitation_id)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit(
            Action.INVITATION_REVOKED,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"invitation_id": invitation.pk, "email": invitation.email},
        )
    return invitation


def invitation_by_token(token: str) -> Invitation:
    """The invitation a link names, if it can still be used; InvitationUnusable says why."""
    if not token_shape_ok(token):
        raise InvitationUnusable("invalid")
    invitation = (
        Invitation.objects.select_related("team", "role", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationUnusable("invalid")
    status = invitation.status()
    if status != Invitation.Status.PENDING:
        raise InvitationUnusable({"accepted": "used"}.get(status, status))
    return invitation


def invitation_accept(*, token: str, user: User, request: HttpRequest | None = None) -> Membership:
    """``user`` joins the invited team with the invited role. The invitation row is locked
    and marked used in the same transaction: of two concurrent acceptances exactly one
    wins; the other sees "already accepted"."""
    if not token_shape_ok(token):
        raise InvitationUnusable("invalid")
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().filter(token_hash=hash_token(token)).first()
        )
        if invitation is None:
            raise InvitationUnusable("invalid")
        status = invitation.status()
        if status != Invitation.Status.PENDING:
            raise InvitationUnusable({"accepted": "used"}.get(status, status))
        if not User.objects.with_email(invitation.email).filter(pk=user.pk).exists():
            raise WrongAccount(
                f"This invitation was sent to {invitation.email}, but you are signed in as "
                f"{user.email}."
            )
        # Marking it used first (conditionally) is what makes one of two racers lose.
        updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not updated:
            raise InvitationUnusable("used")
        if Membership.objects.filter(team_id=invitation.team_id, user=user).exists():
            raise AlreadyMember("You are already a member of this team.")
        membership = Membership.objects.create(
            team_id=invitation.team_id, user=user, role_id=invitation.role_id
        )
        audit(
            Action.INVITATION_ACCEPTED,
            request=request,
            actor=user,
            user=user,
            team_id=invitation.team_id,
            metadata={"invitation_id": invitation.pk, "role_id": invitation.role_id},
        )
    access.forget(user)
    return membership


# --- Team security policy ---------------------------------------------------------------


POLICY_FIELDS = (
    "require_2fa",
    "min_password_length",
    "idle_timeout",
    "single_session",
    "new_device_approval",
)


def policy_update(*, actor: User, team: Team, request: HttpRequest | None = None, **values) -> Team:
    """Owner only (not a permission a custom role can hold)."""
    high_security.require(request, "team_policy", team_id=team.pk)  # checked again
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    with transaction.atomic():
        mine = _membership(user=actor, team=team)
        if not mine.role.is_owner:
            raise PermissionMissing(
                "*", message="Only an Owner can change the team's security policy."
            )
        team = Team.objects.select_for_update().get(pk=team.pk)
        before = {f: getattr(team, f) for f in POLICY_FIELDS}
        for field, value in values.items():
            setattr(team, field, value)
        team.save(update_fields=list(values))
        audit(
            Action.TEAM_POLICY_CHANGED,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={
                "from": before,
                "to": {f: getattr(team, f) for f in POLICY_FIELDS},
            },
        )
    return team


def team_set_high_security(
    *,
    actor: User | None,
    team: Team,
    enabled: bool,
    request: HttpRequest | None = None,
    as_operator: bool = False,
) -> bool:
    """Turn High Security Mode on or off for the team's pages. An Owner only, and turning
    it on needs 2FA on the Owner's own account; ``as_operator`` (``manage.py
    set_high_security``) skips both, ``actor`` then being the operator's account, if
    named. One audit event; returns True if it changed."""
    from security.exceptions import SecondFactorNeeded
    from security.twofactor.totp import has_2fa

    if not as_operator:
        high_security.require(request, "high_security", team_id=team.pk)  # checked again
    with transaction.atomic():
        if not as_operator:
            mine = _membership(user=actor, team=team)
            if not mine.role.is_owner:
                raise PermissionMissing(
                    "*", message="Only an Owner can turn High Security Mode on or off."
                )
            if enabled and not has_2fa(actor):
                raise SecondFactorNeeded
        team = Team.objects.select_for_update().get(pk=team.pk)
        if team.high_security == enabled:
            return False
        team.high_security = enabled
        team.save(update_fields=["high_security"])
        audit(
            Action.HIGH_SECURITY_ENABLED if enabled else Action.HIGH_SECURITY_DISABLED,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"scope": "team", "source": "command" if as_operator else "page"},
        )
    if actor is not None:
        access.forget(actor)
    return True


# --- Domains ----------------------------------------------------------------------------


def domain_create(
    *, actor: User, team: Team, hostname: str, notes: str = "", request: HttpRequest | None = None
) -> Domain:
    hostname = clean_hostname(hostname)
    with transaction.atomic():
        require(user=actor, team=team, permission="site.create")
        try:
            with transaction.atomic():
                domain = Domain.objects.create(team=team, hostname=hostname, notes=notes.strip())
        except IntegrityError:
            raise Duplicate(f"{hostname} is already in this team's domains.") from None
        audit(
            Action.DOMAIN_CREATED,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"domain_id": domain.pk, "hostname": hostname},
        )
    return domain


def domain_update(
    *,
    actor: User,
    team: Team,
    domain: Domain,
    hostname: str,
    notes: str = "",
    request: HttpRequest | None = None,
) -> Domain:
    hostname = clean_hostname(hostname)
    with transaction.atomic():
        require(user=actor, team=team, permission="site.edit")
        if domain.team_id != team.pk:
            raise NotAMember()
        before = domain.hostname
        domain.hostname = hostname
        domain.notes = notes.strip()
        try:
            with transaction.atomic():
                domain.save(update_fields=["hostname", "notes"])
        except IntegrityError:
            raise Duplicate(f"{hostname} is already in this team's domains.") from None
        audit(
            Action.DOMAIN_UPDATED,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"domain_id": domain.pk, "from": before, "to": hostname},
        )
    return domain


def domain_delete(
    *, actor: User, team: Team, domain: Domain, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        require(user=actor, team=team, permission="site.delete")
        if domain.team_id != team.pk:
            raise NotAMember()
        domain_id, hostname = domain.pk, domain.hostname
        domain.delete()
        audit(
            Action.DOMAIN_DELETED,
            request=request,
            actor=actor,
            team_id=team.pk,
            metadata={"domain_id": domain_id, "hostname": hostname},
        )


def invitation_signup(
    *, token: str, full_name: str, password: str, request: HttpRequest | None = None
) -> Membership:
    """Door B for a newcomer: create the account for the invited address and join. The
    link proves the address (it was emailed there), so the account is verified at once
    and no second verification email is sent."""
    invitation = invitation_by_token(token)
    email = invitation.email
    with transaction.atomic():
        if User.objects.with_email(email).exists():
            raise AlreadyMember(
                f"An account with {email} exists already: sign in to accept the invitation."
            )
        user = User(
            email=email,
            full_name=full_name.strip(),
            username=unique_username(email),
            email_verified_at=timezone.now(),
        )
        user.set_password(password)
        user.save()
        audit(
            Action.SIGNUP,
            request=request,
            actor=user,
            user=user,
            metadata={"verified_by": "invitation", "team_id": invitation.team_id},
        )
        membership = invitation_accept(token=token, user=user, request=request)
    return membership
