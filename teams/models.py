"""Teams, memberships, roles and the permission catalog, invitations, domains.

A user belongs to teams through ``Membership``; each membership has one ``Role``. The
predefined roles (Owner, Manager, Developer) have no team and are shared; a custom role
belongs to one team. Owner holds every permission (``is_owner``, the ``*`` of the product
document); the other roles hold rows of the ``Permission`` catalog, which a data migration
seeds with descriptions shown on screen.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

INVITATION_LIFETIME = timedelta(days=7)


class Permission(models.Model):
    """One entry of the catalog (``site.edit``), seeded by migration 0002."""

    code = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Team(models.Model):
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    # The team security policy (Owner only). None / False means "the global default".
    require_2fa = models.BooleanField(default=False)
    min_password_length = models.PositiveSmallIntegerField(null=True, blank=True)
    idle_timeout = models.PositiveIntegerField(null=True, blank=True, help_text="seconds")
    single_session = models.BooleanField(default=False)
    new_device_approval = models.BooleanField(default=False)
    # High Security Mode for the team's pages (Owner, with 2FA on their own account).
    high_security = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A predefined role (``team`` is None) or a team's custom role."""

    OWNER = "Owner"
    MANAGER = "Manager"
    DEVELOPER = "Developer"

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="roles"
    )
    name = models.CharField(max_length=60)
    is_owner = models.BooleanField(default=False, help_text="Holds every permission (*).")
    permissions = models.ManyToManyField(Permission, blank=True, related_name="roles")

    class Meta:
        ordering = ["team_id", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "team", name="teams_role_unique_name_per_team"),
            models.UniqueConstraint(
                Lower("name"),
                condition=models.Q(team__isnull=True),
                name="teams_role_unique_predefined_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_predefined(self) -> bool:
        return self.team_id is None


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="teams_one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.team_id} ({self.role_id})"


class Invitation(models.Model):
    """An emailed, single-use invitation. Only the SHA-256 of its token is stored."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} -> {self.team_id}"

    def status(self, now=None) -> str:
        now = now or timezone.now()
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.PENDING


class Domain(models.Model):
    """The small team resource that makes the permissions real."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="domains")
    hostname = models.CharField(max_length=253)
    notes = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["hostname", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "hostname"], name="teams_domain_unique")
        ]

    def __str__(self) -> str:
        return self.hostname
