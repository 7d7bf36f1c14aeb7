"""The alert state of each watched metric, so that a crossing emails once and the next
email waits until the metric has cleared."""

from __future__ import annotations

from django.db import models

__all__ = ["MetricAlertState"]


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
