"""A team's ``user.manage`` holders act on their members' accounts: require a new
password, disable and enable the account, send a password reset link.

The work is done by the same services as the admin and the commands
(``accounts.controls``: one transaction, one audit event stamped with the team, the
owner emailed); this module decides who may do it to whom, with the rules of role
changes (``teams.services``): never to oneself, never to a member whose role is above
one's own (only an Owner acts on an Owner), never to the panel's operators (staff and
superusers are managed by operators only), and only after a fresh step-up.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from accounts import controls
from accounts.models import User
from security.stepup import state as stepup_state

from .exceptions import Escalation, NotAMember, TeamRefusal
from .models import Membership, Team
from .services import _covers, require

PERMISSION = "user.manage"

# The controls a member page offers, by the name its form posts: (service, what was done).
CONTROLS = {
    "force_password_change": (
        controls.force_password_change,
        "{name} must choose a new password at their next visit.",
    ),
    "disable": (controls.disable_account, "{name}'s account is disabled and signed out."),
    "enable": (controls.enable_account, "{name}'s account is enabled again."),
    "send_reset": (controls.send_password_reset, "A password reset link was sent to {name}."),
}


class ControlRefusedHere(TeamRefusal):
    """An account control refused by ``accounts.controls`` (already done, disabled)."""

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        super().__init__(message)


def member_account_control(
    *,
    actor: User,
    team: Team,
    membership: Membership,
    control: str,
    request: HttpRequest | None = None,
) -> str:
    """Apply ``control`` (a key of ``CONTROLS``) to the account of ``membership``.
    Returns the message for the actor; raises a ``TeamRefusal`` (or ``StepUpRequired``
    when the request's step-up is not fresh)."""
    if control not in CONTROLS:
        raise TeamRefusal("Choose what to do with the account.")
    if request is not None:
        stepup_state.require_recent(request)
    service, done = CONTROLS[control]
    with transaction.atomic():
        mine = require(user=actor, team=team, permission=PERMISSION)
        target = (
            Membership.objects.select_related("role", "user")
            .filter(pk=membership.pk, team=team)
            .first()
        )
        if target is None:
            raise NotAMember()
        if target.user_id == actor.pk:
            raise Escalation("You cannot use these controls on your own account.")
        if not _covers(mine.role, target.role):
            raise Escalation("You cannot manage the account of a member whose role is above yours.")
        if target.user.is_staff or target.user.is_superuser:
            raise Escalation("This account is managed by the panel's operators, not by the team.")
        try:
            service(actor=actor, user=target.user, request=request, team_id=team.pk, source="team")
        except controls.ControlRefused as refused:
            raise ControlRefusedHere(refused.message, refused.status) from None
    return done.format(name=target.user.get_full_name())
