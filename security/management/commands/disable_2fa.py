"""manage.py disable_2fa USER: operator recovery for a user who lost both factors."""

from __future__ import annotations

from security.passkeys.services import has_passkey
from security.twofactor.models import BackupCodeSet, EncryptedTOTPDevice
from security.twofactor.totp import totp_disable_by_operator

from ._operator import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Turn off two-factor authentication for USER (username or email) who lost both "
        "the authenticator and the backup codes: deletes the TOTP secret, every backup "
        "code and every passkey, emails the user and writes an audit event. Verify who they are first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", help="The username or email address of the account.")
        super().add_arguments(parser)

    def handle(self, *args, **options) -> None:
        user = self.user_by_login(options["user"])
        has_factors = (
            EncryptedTOTPDevice.objects.filter(user=user).exists()
            or BackupCodeSet.objects.filter(user=user).exists()
            or has_passkey(user)
        )
        if not has_factors:
            self.stdout.write(f"{user.username} has no two-factor authentication; nothing to do.")
            return
        if options["dry_run"]:
            self.summary(
                f"Dry run: would disable two-factor authentication for {user.username} "
                "(secret, backup codes and passkeys deleted, user emailed, audited).",
                dry_run=True,
            )
            return
        totp_disable_by_operator(user=user, via="command")
        self.summary(
            f"Disabled two-factor authentication for {user.username}; the user has been emailed.",
            dry_run=False,
        )
