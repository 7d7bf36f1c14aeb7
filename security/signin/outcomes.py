"""What a step of the sign-in pipeline answers: plain values, no HTTP.

The page views turn an outcome into a redirect and a message
(``security.signin.views.respond``); the JSON API will turn the same outcomes into JSON,
so both share one copy of every rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXPIRED_MESSAGE = "Your sign-in expired. Please sign in again."


@dataclass(frozen=True)
class Outcome:
    """Base of every outcome; ``done`` is True only once the user is signed in."""

    done = False


@dataclass(frozen=True)
class SecondFactorRequired(Outcome):
    """The password was right; a TOTP or backup code is next (pending stage "2fa")."""

    user_id: int


@dataclass(frozen=True)
class DeviceCodeRequired(Outcome):
    """An unrecognised browser: the code emailed to the owner is next (stage "device")."""

    user_id: int


@dataclass(frozen=True)
class Held(Outcome):
    """A suspicious sign-in waits for the owner's approval (new country, impossible
    travel, failure burst)."""

    user_id: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class StepRequired(Outcome):
    """A stage registered by a feature (team selection, a team's 2FA rule, ...) needs its
    page: ``stage`` names it; the page is the one registered for it."""

    user_id: int
    stage: str


@dataclass(frozen=True)
class PasswordRefused(Outcome):
    """Unknown account, wrong password or an unverified address: one answer for all;
    ``disabled`` when the right password of a disabled account was given (only then may
    the answer say the account is disabled)."""

    disabled: bool = False


@dataclass(frozen=True)
class LockedOut(Outcome):
    """The (address, account) pair is locked (``lock``: a ``LockStatus``)."""

    lock: object = None


@dataclass(frozen=True)
class Restart(Outcome):
    """The sign-in cannot finish (it expired, or the account changed under it): start
    again from the password."""

    message: str = EXPIRED_MESSAGE


@dataclass(frozen=True)
class SignedIn(Outcome):
    """Signed in. ``next_url`` is already checked (same host); ``notices`` are for the
    user (e.g. failed attempts since the last visit)."""

    user_id: int
    method: str
    next_url: str | None = None
    notices: tuple[str, ...] = field(default=())
    done = True
