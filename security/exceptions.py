"""Every typed refusal of the security services and policies. A view catches the ones it
answers with a form error; any other reaches ``security.middleware.PolicyMiddleware``,
which answers with the right page (the ``process_exception`` pattern of django-allauth),
so a decorator or a service can refuse without knowing about pages."""

from __future__ import annotations


class Refusal(Exception):
    """Base of the typed refusals: ``message`` is for the user, ``status`` the HTTP
    status the page answers with when no view handled it."""

    status = 400
    title = "Not possible"
    default_message = "That cannot be done."

    def __init__(self, message: str = "") -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class Locked(Refusal):
    """The (address, account) pair is locked: the locked page, 429 and Retry-After."""

    status = 429
    title = "Too many attempts"

    def __init__(self, lock) -> None:
        self.lock = lock
        super().__init__("Too many failed attempts.")


class StepUpRequired(Refusal):
    """The page or action needs a fresh step-up: the "Confirm it's you" page, then back."""

    status = 403
    title = "Confirm it's you"
    default_message = "Confirm it's you first."


class HighSecurityRequired(StepUpRequired):
    """High Security Mode: the page or action needs a step-up with a second factor (a
    2FA code, a backup code or a passkey) in the last 15 minutes."""

    title = "Verify with two-factor authentication"
    default_message = "High Security Mode is on: verify with your second factor first."

    def __init__(self, message: str = "", *, page_key: str = "") -> None:
        self.page_key = page_key
        super().__init__(message)


class SecondFactorNeeded(Refusal):
    """High Security Mode can only be turned on from an account with 2FA."""

    status = 400
    title = "Two-factor authentication needed"
    default_message = (
        "Turn on two-factor authentication on your own account before you turn on "
        "High Security Mode."
    )


class CodeRefused(Refusal):
    """The confirming code was wrong, replayed or throttled.

    ``reason`` is the check's outcome (``invalid``, ``throttled``, ``unreadable``,
    ``no_device``) and ``method`` the factor typed (``totp`` or ``backup_code``): the
    settings pages count every refusal but ``unreadable`` on the sign-in lockout.
    """

    def __init__(
        self, message: str, *, retry_after: int = 0, reason: str = "invalid", method: str = "totp"
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.reason = reason
        self.method = method

    @classmethod
    def from_result(cls, result, *, method: str = "totp") -> CodeRefused:
        return cls(
            result.message, retry_after=result.retry_after, reason=result.reason, method=method
        )


class AlreadyEnabled(Refusal):
    """The user already has a confirmed authenticator."""

    default_message = "Two-factor authentication is already on."


class DecisionRefused(Refusal):
    """A held sign-in can no longer be decided (decided already, or expired)."""

    title = "Link expired"
    default_message = "This sign-in was already decided, or the request expired."


class ResendRefused(Refusal):
    """No new emailed code can be sent for this sign-in: it has to start again."""


class PasskeyRefused(Refusal):
    """A WebAuthn ceremony was refused. ``reason``: ``no_challenge`` (none pending, used
    already or expired), ``malformed``, ``unknown_credential``, ``other_user`` (a
    credential of another account), ``invalid`` (signature, origin, challenge or relying
    party wrong), ``counter`` (the signature counter went backwards: a cloned
    authenticator), ``user_handle`` (the user handle is not the credential's owner),
    ``cancelled`` (the browser reported the prompt was dismissed)."""

    default_message = "That passkey could not be used. Try again, or use another way."

    def __init__(self, reason: str, message: str = "", *, user=None) -> None:
        super().__init__(message)
        self.reason = reason
        self.user = user


class ImpersonationRefused(Refusal):
    """Starting (or ending) an impersonation is not possible: not allowed, already acting
    as someone, no reason given, nothing to end."""

    status = 403
    title = "Impersonation not possible"
    default_message = "You cannot act as this user."

    def __init__(self, message: str = "", *, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


class NotWhileImpersonating(Refusal):
    """A page ``@not_while_impersonating`` declares out of reach while an administrator
    acts as the user."""

    status = 403
    title = "Not while acting as someone else"
    default_message = (
        "While you act as another user, their password, email address, two-factor "
        "authentication, passkeys, API keys, sessions and High Security settings are out of "
        "reach. End the impersonation to manage your own account."
    )
