"""High Security Mode's stored state: the panel-wide switch and the policy table.

A team's switch is ``teams.Team.high_security`` (the teams app owns teams)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from security.stepup import pages

__all__ = ["HighSecurityRule", "PanelHighSecurity"]


class PanelHighSecurity(models.Model):
    """The panel-wide switch: one row (pk 1), made on first change. Superusers turn it on
    (with 2FA on their own account) on the High Security settings page, or an operator
    with ``manage.py set_high_security``."""

    enabled = models.BooleanField(default=False)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "panel High Security Mode"
        verbose_name_plural = "panel High Security Mode"

    def __str__(self) -> str:
        return "on" if self.enabled else "off"


class HighSecurityRule(models.Model):
    """One cell of the policy table: what ``role`` meets on pages of ``page_key`` while
    High Security Mode is on. A missing cell is the catalogue's default (pages.py)."""

    page_key = models.CharField(max_length=40)
    role = models.CharField(max_length=20, choices=list(pages.ROLES.items()))
    action = models.CharField(max_length=10, choices=list(pages.ACTIONS.items()))
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["page_key", "role"]
        constraints = [
            models.UniqueConstraint(fields=["page_key", "role"], name="stepup_rule_unique_cell")
        ]

    def __str__(self) -> str:
        return f"{self.page_key}/{self.role}: {self.action}"
