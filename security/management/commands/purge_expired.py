"""manage.py purge_expired: the retention run, by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from security.services.retention import purge_expired


class Command(BaseCommand):
    help = (
        "Delete expired and old records: used or expired new-device codes, finished held "
        "sign-ins, ended session records, expired sessions, sent emails, old lockout "
        "counters and logs (periods: settings RETENTION_*). Audit events are never "
        "deleted. Celery beat runs the same purge daily; the run is audited."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, **options) -> None:
        summary = purge_expired(dry_run=options["dry_run"], source="command")
        if options["dry_run"]:
            self.stdout.write(summary.line())
        else:
            self.stdout.write(self.style.SUCCESS(summary.line()))
