"""The append-only audit trail: one row per security-relevant event."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One security-relevant event. Append-only: no update or delete path exists.

    On PostgreSQL a trigger (``security`` migration 0002, which created the table before
    this app existed; the table keeps its name) also refuses UPDATE and DELETE, so not even
    raw SQL from the application role can rewrite history. For the same reason the user
    links PROTECT: deleting a user would have to blank their events (an UPDATE), so
    accounts with history are deactivated, never deleted.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        DENIED = "denied", "Denied"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # One of audit.actions.Action (audit() refuses any other name).
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events_as_actor",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
        help_text="The affected user.",
    )
    impersonator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events_as_impersonator",
    )
    # The team, once teams exist (ROADMAP); kept as a plain id so this app has no
    # dependency on teams.
    team_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        # The table was created by the security app; moving the model moved no table.
        db_table = "security_auditevent"
        ordering = ["-created_at", "-id"]
        # The audit log filters by any of these with the newest first, the failed-attempts
        # page and the metrics read failures by action and time (1,000,000 events: the
        # filtered page stays an index range scan; ``make bench``).
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["actor", "-created_at", "-id"], name="audit_actor_time"),
            models.Index(fields=["action", "-created_at", "-id"], name="audit_action_time"),
            models.Index(fields=["ip", "-created_at", "-id"], name="audit_ip_time"),
            models.Index(fields=["team_id", "-created_at", "-id"], name="audit_team_time"),
            models.Index(
                fields=["-created_at"],
                condition=~models.Q(outcome="success"),
                name="audit_not_success_time",
            ),
            # Failed sign-ins, 2FA codes and device codes with their address and account:
            # the metrics' failures by address and hour (panel-wide, and a team's by its
            # members) read this small index alone (an index-only scan), not the table.
            # The actions are security.metrics.compute.FAILED_ACTIONS (kept equal by a
            # test; this app cannot import security).
            models.Index(
                # Key columns rather than INCLUDE: SQLite has no covering indexes.
                fields=["created_at", "ip", "user"],
                condition=models.Q(
                    outcome="failure",
                    action__in=["signin", "2fa_failed", "new_device_code_failed"],
                ),
                name="audit_failures_time_ip",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")
