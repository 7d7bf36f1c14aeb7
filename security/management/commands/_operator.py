"""What the panel's operator commands share: ``--dry-run``, the user lookup by username or
email, and the one-line summary (plain for a dry run, success-styled otherwise); and the
shape of the account-control commands (one USER, one ``accounts.controls`` service).

Not a command itself (Django skips modules whose name starts with an underscore).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import controls


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


class AccountControlCommand(OperatorCommand):
    """``manage.py <control> USER``: calls ``accounts.controls.<control>`` as the operator
    at the console (audited, the user emailed, like the admin's and the team page's
    buttons). Subclasses name the service and the two sentences (``{username}`` in each)."""

    control: str = ""
    would: str = ""
    done: str = ""

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", help="The username or email address of the account.")
        super().add_arguments(parser)

    def handle(self, *args, **options) -> None:
        user = self.user_by_login(options["user"])
        if options["dry_run"]:
            self.summary(self.would.format(username=user.username), dry_run=True)
            return
        try:
            getattr(controls, self.control)(actor=None, user=user, source="command")
        except controls.ControlRefused as refused:
            raise CommandError(refused.message) from None
        self.summary(self.done.format(username=user.username), dry_run=False)
