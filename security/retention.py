"""Retention: delete what the panel no longer needs, never the audit trail.

Run daily by ``security.tasks.purge_expired`` (Celery beat) and by hand with
``manage.py purge_expired [--dry-run]``. What goes (periods in ``settings.RETENTION_*``):

- new-device codes that were used or have expired (they can never be used again);
- held (suspicious) sign-ins that were decided or expired, older than 30 days;
- ended tracked sessions older than 90 days, except each user's latest completed
  sign-in: "has this account signed in before?" (new-device approval) and "where was the
  last sign-in?" (impossible travel) must not be forgotten by a purge;
- Django sessions past their expiry (what ``clearsessions`` does);
- sent outbox emails older than 30 days (pending and failed ones stay for the operator);
- django-axes failure counters older than the counting window plus a margin, and its
  failure log older than 90 days;
- IP blocks that expired more than ``RETENTION_EXPIRED_BLOCKS`` ago (7 days: the block
  list shows them as expired until then; blocks without an expiry stay until lifted);
- lockout rows whose lock has ended and whose escalation window (24 h) has passed.
  Per-account rows are kept while they count consecutive failures or hold a hard lock:
  deleting them would reset NIST's 100-failure ceiling.

``AuditEvent`` rows are append-only and are never touched here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import OutboxEmail
from audit.actions import Action
from audit.services import audit
from security.blocking.models import BlockedNetwork
from security.devices.models import NewDeviceChallenge
from security.lockout.models import Lockout
from security.lockout.policy import REPEAT_WINDOW
from security.sessions.models import TrackedSession
from security.suspicious.models import SuspiciousSignIn

# (key, label) in the order of the summary line.
KINDS = (
    ("device_codes", "new-device code"),
    ("held_signins", "held sign-in"),
    ("tracked_sessions", "ended session record"),
    ("django_sessions", "expired session"),
    ("sent_emails", "sent email"),
    ("access_attempts", "failure counter"),
    ("failure_logs", "failed-attempt log row"),
    ("lockouts", "lockout record"),
    ("ip_blocks", "expired IP block"),
)


@dataclass
class PurgeSummary:
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        """One line for the command and the log: "Purged 3 new-device codes, ..."."""
        parts = [
            f"{self.counts.get(key, 0)} {label}{'' if self.counts.get(key, 0) == 1 else 's'}"
            for key, label in KINDS
        ]
        verb = "Dry run: would purge" if self.dry_run else "Purged"
        return f"{verb} {', '.join(parts)}; audit events are kept."


def _querysets(now) -> dict:
    """What each kind would delete at ``now`` (Django sessions are handled apart)."""
    latest_signins = (
        TrackedSession.objects.exclude(method="").values("user").annotate(last=Max("pk"))
    ).values("last")
    cooloff = settings.AXES_COOLOFF_TIME
    return {
        "device_codes": NewDeviceChallenge.objects.filter(
            Q(used_at__isnull=False) | Q(code_expires_at__lte=now)
        ),
        "held_signins": SuspiciousSignIn.objects.filter(
            ~Q(status=SuspiciousSignIn.Status.PENDING) | Q(expires_at__lte=now),
            created_at__lt=now - settings.RETENTION_HELD_SIGNINS,
        ),
        "tracked_sessions": TrackedSession.objects.filter(
            ended_at__isnull=False, ended_at__lt=now - settings.RETENTION_ENDED_SESSIONS
        ).exclude(pk__in=latest_signins),
        "sent_emails": OutboxEmail.objects.filter(
            status=OutboxEmail.Status.SENT, created_at__lt=now - settings.RETENTION_SENT_EMAILS
        ),
        "access_attempts": AccessAttempt.objects.filter(
            attempt_time__lt=now - cooloff - settings.RETENTION_ACCESS_ATTEMPTS_MARGIN
        ),
        "failure_logs": AccessFailureLog.objects.filter(
            attempt_time__lt=now - settings.RETENTION_FAILURE_LOG
        ),
        "lockouts": Lockout.objects.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lte=now),
            Q(last_locked_at__isnull=True) | Q(last_locked_at__lt=now - REPEAT_WINDOW),
            updated_at__lt=now - REPEAT_WINDOW,
            hard_locked=False,
        ).exclude(ip__isnull=True, consecutive_failures__gt=0),
        "ip_blocks": BlockedNetwork.objects.filter(
            expires_at__isnull=False, expires_at__lte=now - settings.RETENTION_EXPIRED_BLOCKS
        ),
    }


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _expired_django_sessions(now) -> int | None:
    """How many stored sessions have expired (None for a store that cannot count)."""
    store = _session_store()
    if not hasattr(store, "get_model_class"):
        return None
    return store.get_model_class().objects.filter(expire_date__lt=now).count()


def purge_expired(*, dry_run: bool = False, source: str = "command", now=None) -> PurgeSummary:
    """Delete every expired record listed in the module docstring; one audit event.

    ``dry_run`` only counts. ``source`` ("command", "task") goes into the audit event.
    """
    now = now or timezone.now()
    summary = PurgeSummary(dry_run=dry_run)
    querysets = _querysets(now)
    if dry_run:
        summary.counts = {key: qs.count() for key, qs in querysets.items()}
        summary.counts["django_sessions"] = _expired_django_sessions(now) or 0
        return summary
    with transaction.atomic():
        for key, qs in querysets.items():
            # Counted by the model's own rows: cascades (axes' expirations) are not news.
            summary.counts[key] = qs.delete()[1].get(qs.model._meta.label, 0)
        summary.counts["django_sessions"] = _expired_django_sessions(now) or 0
        _session_store().clear_expired()
        audit(
            Action.RETENTION_PURGE,
            actor=None,
            metadata={"source": source, "counts": dict(summary.counts)},
        )
    return summary
