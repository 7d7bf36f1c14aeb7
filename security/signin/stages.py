"""The stages of the sign-in pipeline that come after the factors, and the hooks that run
once the user is signed in. Features register here; the pipeline never names them.

A stage is ``stage(attempt) -> Outcome | None``: None lets the sign-in go on, an outcome
stops it there (the feature has saved what its step needs, e.g. a pending state or a held
sign-in). Stages run in ``order``: suspicious sign-in holds (10), new-device approval (20);
team selection and a team's security policy (ROADMAP) come next.

An after-login hook is ``hook(attempt, tracked_session) -> Iterable[str]``: it runs right
after Django's ``login()`` and the new tracked session (device trust and the new sign-in
email 20, the failed-attempts notice 30, single-session 40) and returns notices for the
user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from security.signin.outcomes import Outcome


@dataclass(frozen=True)
class Attempt:
    """One sign-in past its factors. ``request`` carries the session (where pending state
    lives), the client's address and its device cookie; nothing else of HTTP is used."""

    request: HttpRequest
    user: Any
    method: str  # "password", "totp", "backup_code" or "passkey"
    next_url: str | None = None
    # The django-otp device that verified the second factor (its persistent id), if any:
    # a step that pauses the sign-in keeps it, so the finished session counts as verified.
    otp_device: str | None = None


Stage = Callable[[Attempt], Outcome | None]
AfterLogin = Callable[[Attempt, Any], Iterable[str] | None]

_stages: dict[str, tuple[int, Stage]] = {}
_after_login: dict[str, tuple[int, AfterLogin]] = {}
# The page that finishes each pending stage ("2fa", "device", ...), by URL name.
STAGE_URL_NAMES: dict[str, str] = {"2fa": "security:twofactor_signin"}


def register(name: str, stage: Stage, *, order: int, url_name: str | None = None) -> None:
    """Add (or replace) a stage; ``url_name`` is the page of the pending stage it starts."""
    _stages[name] = (order, stage)
    if url_name:
        STAGE_URL_NAMES[name] = url_name


def register_after_login(name: str, hook: AfterLogin, *, order: int) -> None:
    _after_login[name] = (order, hook)


def run(attempt: Attempt) -> Outcome | None:
    for _order, stage in sorted(_stages.values(), key=lambda item: item[0]):
        outcome = stage(attempt)
        if outcome is not None:
            return outcome
    return None


def run_after_login(attempt: Attempt, tracked_session) -> tuple[str, ...]:
    notices: list[str] = []
    for _order, hook in sorted(_after_login.values(), key=lambda item: item[0]):
        notices.extend(hook(attempt, tracked_session) or ())
    return tuple(notices)


def registered() -> list[str]:
    """The stage names, in the order they run (for tests and the docs)."""
    return [name for name, _ in sorted(_stages.items(), key=lambda item: item[1][0])]
