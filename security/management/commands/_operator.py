"""What the panel's operator commands share: ``--dry-run``, the user lookup by username or
email, and the one-line summary (plain for a dry run, success-styled otherwise).

Not a command itself (Django skips modules whose name starts with an underscore).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class OperatorCommand(BaseCommand):
    dry_run_help = "Say what would happen; change nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help=self.dry_run_help)

    def user_by_login(self, login: str, *, error: str | None = None):
        """The user with this username or email (case-insensitive), or ``CommandError``."""
        User = get_user_model()
        try:
            return User.objects.get_by_login(login)
        except (User.DoesNotExist, User.MultipleObjectsReturned):
            raise CommandError(error or f"No user with the username or email {login!r}.") from None

    def summary(self, line: str, *, dry_run: bool) -> None:
        self.stdout.write(line if dry_run else self.style.SUCCESS(line))
