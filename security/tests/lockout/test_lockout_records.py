"""What django-axes keeps about a failed attempt must hold no password and no code."""

from __future__ import annotations

import time

from axes.models import AccessAttempt, AccessFailureLog

from security.tests.helpers import enroll, sign_in_password, start_two_factor, submit_code

WRONG_PASSWORD = "Wrong-Password-Typed-9931"


def _a_wrong_code(enrolled) -> str:
    now = time.time()
    valid = {enrolled.code(now + step * 30) for step in (-2, -1, 0, 1, 2)}
    return next(c for c in ("918273", "564738", "102938") if c not in valid)


def test_axes_records_keep_neither_the_typed_password_nor_the_typed_code(client, alice, password):
    enrolled = enroll(alice)
    sign_in_password(client, "alice", WRONG_PASSWORD)
    start_two_factor(client, alice, password)
    wrong_code = _a_wrong_code(enrolled)
    backup_guess = "abcd-efgh-jkmn-pqrs"
    submit_code(client, wrong_code)
    submit_code(client, backup_guess, backup=True)

    stored = [
        str(value)
        for row in [*AccessAttempt.objects.values(), *AccessFailureLog.objects.values()]
        for value in row.values()
    ]
    assert AccessAttempt.objects.exists()
    assert stored, "axes recorded nothing: the test would prove nothing"
    for secret in (WRONG_PASSWORD, password, wrong_code, backup_guess):
        assert not any(secret in value for value in stored), secret
