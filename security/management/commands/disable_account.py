"""manage.py disable_account USER: disable an account and end its sessions at once."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts import controls

from ._operator import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Disable USER (username or email): every session and token ends at once, and "
        "sign-in says the account is disabled (only after the right password). The user is "
        "emailed and the change is audited. Undo with enable_account."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", help="The username or email address of the account.")
        super().add_arguments(parser)

    def handle(self, *args, **options) -> None:
        user = self.user_by_login(options["user"])
        if options["dry_run"]:
            self.summary(
                f"Dry run: would disable (and sign out everywhere) {user.username}.", dry_run=True
            )
            return
        try:
            controls.disable_account(actor=None, user=user, source="command")
        except controls.ControlRefused as refused:
            raise CommandError(refused.message) from None
        self.summary(
            f"Disabled {user.username} and ended their sessions; they have been emailed.",
            dry_run=False,
        )
