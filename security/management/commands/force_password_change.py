"""manage.py force_password_change USER: require a new password at the user's next visit."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts import controls

from ._operator import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Require USER (username or email) to choose a new password: until they do, every "
        "page sends them to the change-password page. Nobody sees or sets the password; "
        "the user is emailed and the change is audited."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", help="The username or email address of the account.")
        super().add_arguments(parser)

    def handle(self, *args, **options) -> None:
        user = self.user_by_login(options["user"])
        if options["dry_run"]:
            self.summary(
                f"Dry run: would require a new password from {user.username}.", dry_run=True
            )
            return
        try:
            controls.force_password_change(actor=None, user=user, source="command")
        except controls.ControlRefused as refused:
            raise CommandError(refused.message) from None
        self.summary(
            f"{user.username} must choose a new password at their next visit; they have been emailed.",
            dry_run=False,
        )
