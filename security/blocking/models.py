"""The manual block list: IP addresses or networks (IPv4 and IPv6 CIDR) refused at every
sign-in path, with a reason and an expiry."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["BlockedNetwork"]


class BlockedNetworkQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class BlockedNetwork(models.Model):
    """One blocked address (stored as a /32 or /128) or network, canonical CIDR text."""

    network = models.CharField(max_length=49, help_text="CIDR, e.g. 203.0.113.0/24.")
    reason = models.CharField(max_length=200)
    expires_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Empty: until lifted by an operator."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = BlockedNetworkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.network

    @property
    def is_active(self) -> bool:
        return self.expires_at is None or self.expires_at > timezone.now()
