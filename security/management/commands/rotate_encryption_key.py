"""manage.py rotate_encryption_key: re-encrypt secrets with the first ENCRYPTION_KEYS key."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError

from security.twofactor.totp import rotate_encryption_key

from ._operator import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Re-encrypt every stored two-factor secret with the first key in ENCRYPTION_KEYS. "
        "To rotate: put the new key first (keep the old one after it), run this, then "
        "remove the old key. Secrets no key can read are reported and left as they are."
    )

    dry_run_help = "Count what would be re-encrypted; change nothing."

    def handle(self, *args, **options) -> None:
        if not settings.ENCRYPTION_KEYS:
            raise CommandError("ENCRYPTION_KEYS is empty: set at least one Fernet key.")
        summary = rotate_encryption_key(dry_run=options["dry_run"])
        line = (
            f"{summary.rotated} of {summary.total} two-factor secrets "
            f"{'would be ' if options['dry_run'] else ''}re-encrypted with the first key; "
            f"{summary.unreadable} unreadable."
        )
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {line}")
        elif summary.unreadable:
            self.stdout.write(
                self.style.WARNING(f"{line} See the error log for the affected user ids.")
            )
        else:
            self.stdout.write(self.style.SUCCESS(line))
