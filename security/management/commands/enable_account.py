"""manage.py enable_account USER: let a disabled account sign in again."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts import controls

from ._operator import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Enable USER (username or email) again after disable_account: they sign in with "
        "their unchanged password. The user is emailed and the change is audited."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", help="The username or email address of the account.")
        super().add_arguments(parser)

    def handle(self, *args, **options) -> None:
        user = self.user_by_login(options["user"])
        if options["dry_run"]:
            self.summary(f"Dry run: would enable {user.username}.", dry_run=True)
            return
        try:
            controls.enable_account(actor=None, user=user, source="command")
        except controls.ControlRefused as refused:
            raise CommandError(refused.message) from None
        self.summary(f"Enabled {user.username}; they have been emailed.", dry_run=False)
