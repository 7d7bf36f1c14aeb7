"""The alert state of each watched metric, so that a crossing emails once and the next
email waits until the metric has cleared."""

from __future__ import annotations

from django.db import models

__all__ = ["AuditHourlyCount", "MetricAlertState"]


class MetricAlertState(models.Model):
    metric = models.CharField(max_length=64)
    # Team scoping (ROADMAP): one state per (metric, team); None is the whole panel.
    team_id = models.BigIntegerField(null=True, blank=True)
    level = models.CharField(max_length=16, default="ok")
    value = models.FloatField(null=True, blank=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric"],
                condition=models.Q(team_id__isnull=True),
                name="security_metricalert_global_unique",
            ),
            models.UniqueConstraint(
                fields=["metric", "team_id"], name="security_metricalert_team_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric}: {self.level}"


class AuditHourlyCount(models.Model):
    """Audit events counted per hour, action, outcome (and, for trusted browsers, how),
    so that a 30-day dashboard reads at most 720 hours of counts instead of every event.
    Written by ``security.metrics.rollup.refresh`` for whole past hours only; the current
    hour is always counted live."""

    hour = models.DateTimeField()
    action = models.CharField(max_length=64)
    outcome = models.CharField(max_length=10)
    via = models.CharField(max_length=32, blank=True, default="")
    # 0: an event of no team (teams arrive with the Teams issue).
    team_id = models.BigIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "action", "outcome", "via", "team_id"],
                name="security_audithourly_unique",
            )
        ]
        indexes = [models.Index(fields=["hour", "action"], name="audithourly_hour_action")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.action} {self.outcome} {self.count}"
