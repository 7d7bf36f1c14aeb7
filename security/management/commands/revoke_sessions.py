"""manage.py revoke_sessions USER | --all: sign users out everywhere."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from security.sessions.services import revoke_all_for

from ._operator import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Sign out every session of one user (USER: username or email) or, with --all, of "
        "every user. Each browser is signed out on its next request; one audit event per "
        "affected user."
    )
    dry_run_help = "Count the sessions; sign nobody out."

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", nargs="?", help="A username or an email address.")
        parser.add_argument("--all", action="store_true", help="Every user's sessions.")
        super().add_arguments(parser)

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        if options["all"] == bool(options["user"]):
            raise CommandError("Give either a USER or --all (not both).")
        if options["all"]:
            users = User.objects.filter(tracked_sessions__ended_at__isnull=True).distinct()
            what = "all users"
        else:
            user = self.user_by_login(options["user"])
            users = User.objects.filter(pk=user.pk)
            what = user.get_username()
        count = revoke_all_for(users=users, source="command", dry_run=options["dry_run"])
        noun = f"{count} session{'s' if count != 1 else ''}"
        if options["dry_run"]:
            self.summary(f"Dry run: would revoke {noun} of {what}.", dry_run=True)
        else:
            self.summary(f"Revoked {noun} of {what}.", dry_run=False)
