"""manage.py set_high_security: the operator's switch, for the panel or one team."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from security.models import PanelHighSecurity
from security.stepup import high_security
from teams.models import Team

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("set_high_security", *args, stdout=out)
    return out.getvalue()


def test_it_turns_the_panel_mode_on_audited_with_the_operator(operator):
    assert run("on", "--by", "operator") == "High Security Mode is on for the whole panel.\n"
    assert PanelHighSecurity.objects.get(pk=1).enabled and high_security.panel_enabled()
    event = AuditEvent.objects.get(action="high_security_enabled")
    assert event.actor == operator
    assert event.metadata == {"scope": "panel", "source": "command"}
    assert run("on") == "High Security Mode was already on for the whole panel.\n"
    assert AuditEvent.objects.filter(action="high_security_enabled").count() == 1


def test_it_turns_a_teams_mode_on_and_off_by_id_or_name(alice):
    team = Team.objects.create(name="Acme")
    assert (
        run("on", "--team", "acme") == f"High Security Mode is on for team Acme (id {team.pk}).\n"
    )
    assert Team.objects.get(pk=team.pk).high_security
    run("off", "--team", str(team.pk))
    assert not Team.objects.get(pk=team.pk).high_security
    events = AuditEvent.objects.filter(team_id=team.pk).order_by("pk")
    assert [e.action for e in events] == ["high_security_enabled", "high_security_disabled"]
    assert events[0].metadata == {"scope": "team", "source": "command"}


def test_a_dry_run_changes_nothing():
    team = Team.objects.create(name="Acme")
    out = run("on", "--team", "Acme", "--dry-run")
    assert out.startswith("Dry run: would turn High Security Mode on for team Acme")
    assert not Team.objects.get(pk=team.pk).high_security
    assert not AuditEvent.objects.exists()


def test_an_unknown_team_or_user_is_a_clear_error():
    with pytest.raises(CommandError, match="No team with the id or name 'Nope'"):
        run("on", "--team", "Nope")
    with pytest.raises(CommandError, match="No user with the username or email 'ghost'"):
        run("on", "--by", "ghost")
    assert not AuditEvent.objects.exists()


def test_two_teams_of_the_same_name_need_the_id():
    Team.objects.create(name="Acme")
    Team.objects.create(name="acme")
    with pytest.raises(CommandError, match="give the team's id"):
        run("on", "--team", "Acme")


def test_help_says_what_it_does():
    from teams.management.commands.set_high_security import Command

    parser = Command().create_parser("manage.py", "set_high_security")
    text = parser.format_help()
    assert "Turn High Security Mode on or off" in text and "--team" in text and "--by" in text
