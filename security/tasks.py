"""Celery tasks of the security app (scheduled in ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

import logging

from celery import shared_task

from security import retention
from security.metrics import alerts

logger = logging.getLogger(__name__)


@shared_task(name="security.tasks.purge_expired")
def purge_expired() -> dict[str, int]:
    """Daily retention run: see ``security.retention``. Audited; returns the
    counts per kind."""
    summary = retention.purge_expired(source="task")
    logger.info("%s", summary.line())
    return summary.counts


@shared_task(name="security.tasks.check_metric_thresholds")
def check_metric_thresholds() -> dict[str, str]:
    """Every 5 minutes: email the superusers once per threshold crossing and once when it
    clears (``security.metrics.alerts``)."""
    return alerts.check_thresholds()
