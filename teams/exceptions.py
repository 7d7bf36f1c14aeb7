"""The typed refusals of the team services. They are ``security.exceptions.Refusal``s, so
one that no view catches becomes its page through ``security.middleware.PolicyMiddleware``
(with its status and message); a view that can say it better catches it first."""

from __future__ import annotations

from security.exceptions import Refusal


class TeamRefusal(Refusal):
    """Base of the team refusals (400 unless said otherwise)."""

    title = "Not possible"


class NotAMember(TeamRefusal):
    """The team does not exist for this user: outsiders learn nothing, not even that the
    team exists."""

    status = 404
    title = "Page not found"
    default_message = "There is nothing here."


class PermissionMissing(TeamRefusal):
    """A member without the permission the page or the action needs."""

    status = 403
    title = "Not allowed"

    def __init__(self, permission: str, *, team_name: str = "", message: str = "") -> None:
        self.permission = permission
        where = f" in {team_name}" if team_name else ""
        super().__init__(
            message
            or f"Your role{where} does not include the permission “{permission}”. "
            "Ask an Owner of the team if you need it."
        )


class Escalation(TeamRefusal):
    """Granting, inviting or assigning more than the actor holds, or changing one's own role."""

    status = 403
    title = "Not allowed"
    default_message = "You cannot give more access than you have."


class LastOwner(TeamRefusal):
    status = 409
    title = "The team needs an Owner"
    default_message = "This is the team's last Owner: make someone else an Owner first."


class InvalidName(TeamRefusal):
    default_message = "Enter a valid name."


class Duplicate(TeamRefusal):
    status = 409
    title = "Already exists"
    default_message = "That already exists in this team."


class AlreadyMember(TeamRefusal):
    status = 409
    title = "Already a member"
    default_message = "That address already belongs to a member of this team."


class InvitationUnusable(TeamRefusal):
    """The link cannot be used: ``reason`` is ``expired``, ``revoked``, ``used`` or
    ``invalid``; the message says which, plainly."""

    status = 410
    title = "Invitation link"
    MESSAGES = {
        "expired": "This invitation has expired. Ask the team to send a new one.",
        "revoked": "This invitation was withdrawn by the team.",
        "used": "This invitation has already been accepted. Sign in to reach the team.",
        "invalid": "This invitation link is not valid. Check that you copied all of it.",
    }

    def __init__(self, reason: str) -> None:
        self.reason = reason
        if reason == "invalid":
            self.status = 404
        super().__init__(self.MESSAGES[reason])


class WrongAccount(TeamRefusal):
    status = 403
    title = "Signed in as someone else"
    default_message = "This invitation was sent to another address."


class RateLimited(TeamRefusal):
    status = 429
    title = "Too many emails"
    default_message = "Too many invitations were sent again recently. Try again later."
