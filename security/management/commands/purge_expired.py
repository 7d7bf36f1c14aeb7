"""manage.py purge_expired: the retention run, by hand."""

from __future__ import annotations

from security.retention import purge_expired

from ._operator import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Delete expired and old records: used or expired new-device codes, finished held "
        "sign-ins, ended session records, expired sessions, sent emails, old lockout "
        "counters and logs (periods: settings RETENTION_*). Audit events are never "
        "deleted. Celery beat runs the same purge daily; the run is audited."
    )
    dry_run_help = "Count what would be deleted; delete nothing."

    def handle(self, *args, **options) -> None:
        summary = purge_expired(dry_run=options["dry_run"], source="command")
        self.summary(summary.line(), dry_run=options["dry_run"])
