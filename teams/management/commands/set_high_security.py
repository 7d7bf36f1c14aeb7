"""manage.py set_high_security on|off [--team TEAM] [--by USER]: the operator's switch of
High Security Mode, for the whole panel or for one team."""

from __future__ import annotations

from django.core.management.base import CommandError

from security.management.commands._operator import OperatorCommand
from security.stepup import services
from teams import services as team_services
from teams.models import Team


class Command(OperatorCommand):
    help = (
        "Turn High Security Mode on or off for the whole panel, or with --team for one "
        "team's pages. While it is on, the sensitive pages need a fresh step-up with a "
        "second factor, as the policy table says. Writes an audit event (source: command)."
    )
    dry_run_help = "Say what would change; change nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("state", choices=["on", "off"], help="on or off.")
        parser.add_argument(
            "--team", metavar="TEAM", help="The team's id or exact name (default: the panel)."
        )
        parser.add_argument(
            "--by",
            metavar="USER",
            help="The operator's account (username or email), recorded as the actor.",
        )
        super().add_arguments(parser)

    def team(self, value: str) -> Team:
        value = value.strip()
        found = Team.objects.filter(pk=int(value)) if value.isdigit() else Team.objects.none()
        if not found:
            found = Team.objects.filter(name__iexact=value)
        teams = list(found[:2])
        if not teams:
            raise CommandError(f"No team with the id or name {value!r}.")
        if len(teams) > 1:
            raise CommandError(f"Several teams are called {value!r}: give the team's id.")
        return teams[0]

    def handle(self, *args, **options) -> None:
        enabled = options["state"] == "on"
        actor = self.user_by_login(options["by"]) if options["by"] else None
        team = self.team(options["team"]) if options["team"] else None
        where = f"team {team.name} (id {team.pk})" if team else "the whole panel"
        if options["dry_run"]:
            self.summary(
                f"Dry run: would turn High Security Mode {options['state']} for {where}.",
                dry_run=True,
            )
            return
        if team is not None:
            changed = team_services.team_set_high_security(
                actor=actor, team=team, enabled=enabled, as_operator=True
            )
        else:
            changed = services.set_panel_high_security(enabled=enabled, actor=actor)
        if changed:
            self.summary(f"High Security Mode is {options['state']} for {where}.", dry_run=False)
        else:
            self.summary(
                f"High Security Mode was already {options['state']} for {where}.", dry_run=True
            )
