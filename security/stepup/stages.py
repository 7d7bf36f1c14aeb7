"""A sign-in counts as a step-up: the factors it just proved are at least as fresh as a
step-up. A sign-in with a second factor (a TOTP or backup code, a passkey) makes the
session "high security verified"; a password-only sign-in (only possible for an account
without 2FA, its strongest factor) counts as a step-up with the password."""

from __future__ import annotations

from security.signin import stages
from security.stepup import state

SECOND_FACTOR_METHODS = {"totp", "backup_code", "passkey"}


def count_as_stepup(attempt: stages.Attempt, record) -> tuple[str, ...]:
    strong = attempt.otp_device is not None or attempt.method in SECOND_FACTOR_METHODS
    state.mark(attempt.request, second_factor=strong)
    return ()


stages.register_after_login("stepup", count_as_stepup, order=5)
