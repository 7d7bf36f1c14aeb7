"""manage.py disable_2fa USER: operator recovery for a user who lost both factors."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from security.models import BackupCodeSet, EncryptedTOTPDevice
from security.services.totp import totp_disable_by_operator


class Command(BaseCommand):
    help = (
        "Turn off two-factor authentication for USER (username or email) who lost both "
        "the authenticator and the backup codes: deletes the TOTP secret and every backup "
        "code, emails the user and writes an audit event. Verify who they are first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", help="The username or email address of the account.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would happen; change nothing."
        )

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        login = options["user"]
        try:
            user = User.objects.get_by_login(login)
        except (User.DoesNotExist, User.MultipleObjectsReturned):
            raise CommandError(f"No user with the username or email {login!r}.") from None
        has_factors = (
            EncryptedTOTPDevice.objects.filter(user=user).exists()
            or BackupCodeSet.objects.filter(user=user).exists()
        )
        if not has_factors:
            self.stdout.write(f"{user.username} has no two-factor authentication; nothing to do.")
            return
        if options["dry_run"]:
            self.stdout.write(
                f"Dry run: would disable two-factor authentication for {user.username} "
                "(secret and backup codes deleted, user emailed, audited)."
            )
            return
        totp_disable_by_operator(user=user, via="command")
        self.stdout.write(
            self.style.SUCCESS(
                f"Disabled two-factor authentication for {user.username}; "
                "the user has been emailed."
            )
        )
