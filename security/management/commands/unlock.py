"""manage.py unlock USER_OR_IP: lift sign-in lockouts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from security.services.lockout import parse_ip, unlock


class Command(BaseCommand):
    help = (
        "Lift the sign-in lockout of an account (USER: username or email; every address) "
        "or of an IP address (every username): clears failure counters, escalation "
        "history and the per-account hard lock, and writes an audit event."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("target", help="A username, an email address or an IP address.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be cleared; change nothing."
        )

    def handle(self, *args, **options) -> None:
        target = options["target"].strip()
        ip = parse_ip(target)
        user = None
        if ip is None:
            User = get_user_model()
            try:
                user = User.objects.get_by_login(target)
            except (User.DoesNotExist, User.MultipleObjectsReturned):
                raise CommandError(
                    f"{target!r} is neither an IP address nor the username or email of a user."
                ) from None
        summary = unlock(ip=ip, user=user, dry_run=options["dry_run"])
        what = f"IP address {summary.target}" if summary.kind == "ip" else summary.target
        counts = (
            f"{summary.attempts} failure counter{'s' if summary.attempts != 1 else ''} and "
            f"{summary.locks} active lock{'s' if summary.locks != 1 else ''}"
        )
        if options["dry_run"]:
            self.stdout.write(f"Dry run: would unlock {what}, clearing {counts}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Unlocked {what}: cleared {counts}."))
