"""manage.py unlock USER_OR_IP: lift sign-in lockouts."""

from __future__ import annotations

from security.lockout.policy import parse_ip, unlock

from ._operator import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Lift the sign-in lockout of an account (USER: username or email; every address) "
        "or of an IP address (every username): clears failure counters, escalation "
        "history and the per-account hard lock, and writes an audit event."
    )
    dry_run_help = "Say what would be cleared; change nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("target", help="A username, an email address or an IP address.")
        super().add_arguments(parser)

    def handle(self, *args, **options) -> None:
        target = options["target"].strip()
        ip = parse_ip(target)
        user = None
        if ip is None:
            user = self.user_by_login(
                target,
                error=f"{target!r} is neither an IP address nor the username or email of a user.",
            )
        summary = unlock(ip=ip, user=user, dry_run=options["dry_run"])
        what = f"IP address {summary.target}" if summary.kind == "ip" else summary.target
        counts = (
            f"{summary.attempts} failure counter{'s' if summary.attempts != 1 else ''} and "
            f"{summary.locks} active lock{'s' if summary.locks != 1 else ''}"
        )
        if options["dry_run"]:
            self.summary(f"Dry run: would unlock {what}, clearing {counts}.", dry_run=True)
        else:
            self.summary(f"Unlocked {what}: cleared {counts}.", dry_run=False)
