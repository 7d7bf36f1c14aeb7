"""Celery tasks of the security app (scheduled in ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

import logging

from celery import shared_task

from security import retention

logger = logging.getLogger(__name__)


@shared_task(name="security.tasks.purge_expired")
def purge_expired() -> dict[str, int]:
    """Daily retention run: see ``security.retention``. Audited; returns the
    counts per kind."""
    summary = retention.purge_expired(source="task")
    logger.info("%s", summary.line())
    return summary.counts
