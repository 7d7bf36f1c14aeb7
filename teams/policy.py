"""The team security policy in force for a user: the strictest across their teams.

- ``session_policy`` is registered with ``security.sessions.services`` as a policy
  provider (security does not import teams): shorter idle timeout, single session and
  new-device approval when any of the user's teams asks for them.
- ``requiring_2fa`` names the teams that require 2FA; ``TeamMiddleware`` sends a member
  without a verified second factor to enrollment.
- ``min_password_length`` feeds ``TeamPasswordLengthValidator``.
Everything reads ``teams.access.load`` (one query, cached on the user for the request).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from security.sessions.services import SessionPolicy

from . import access
from .models import Team


def teams_of(user) -> list[Team]:
    return [found.team for found in access.load(user).values()]


def session_policy(user, policy: SessionPolicy) -> SessionPolicy:
    teams = teams_of(user)
    if not teams:
        return policy
    idle = [t.idle_timeout for t in teams if t.idle_timeout]
    return SessionPolicy(
        idle_timeout=min(idle) if idle else policy.idle_timeout,
        absolute_timeout=policy.absolute_timeout,
        single_session=any(t.single_session for t in teams),
        new_device_approval=any(t.new_device_approval for t in teams),
        suspicious_checks=policy.suspicious_checks,
    )


def requiring_2fa(user) -> list[Team]:
    return [t for t in teams_of(user) if t.require_2fa]


def min_password_length(user) -> tuple[int, Team | None]:
    best: tuple[int, Team | None] = (0, None)
    for team in teams_of(user):
        if team.min_password_length and team.min_password_length > best[0]:
            best = (team.min_password_length, team)
    return best


def in_force(user) -> list[dict]:
    """For the Security tab: each rule a team sets, and which team sets it."""
    teams = teams_of(user)
    rules = []
    for team in teams:
        parts = []
        if team.require_2fa:
            parts.append("two-factor authentication required")
        if team.min_password_length:
            parts.append(f"passwords of at least {team.min_password_length} characters")
        if team.idle_timeout:
            parts.append(f"sign-out after {team.idle_timeout // 60} idle minutes")
        if team.single_session:
            parts.append("one session at a time")
        if team.new_device_approval:
            parts.append("an emailed code for new browsers")
        if parts:
            rules.append({"team": team, "rules": parts})
    return rules


class TeamPasswordLengthValidator:
    """AUTH_PASSWORD_VALIDATORS entry: the longest minimum among the user's teams."""

    def validate(self, password: str, user=None) -> None:
        if user is None or not getattr(user, "pk", None):
            return
        length, team = min_password_length(user)
        if length and len(password or "") < length:
            raise ValidationError(
                f"{team.name} requires passwords of at least {length} characters.",
                code="team_password_too_short",
            )

    def get_help_text(self) -> str:
        return "Your team may require a longer password."
