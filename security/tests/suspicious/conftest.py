"""Fixtures of the suspicious-sign-in tests."""

from __future__ import annotations

import pytest

from security.tests.helpers import LONDON, browser, sign_in


@pytest.fixture
def suspicious_checks_on(settings):
    """Both sign-in risk checks on: suspicious-sign-in holds and new-device approval."""
    settings.SUSPICIOUS_SIGNIN_CHECKS = True
    settings.NEW_DEVICE_APPROVAL = True


@pytest.fixture
def london_laptop(alice, password):
    """Alice signs in from London first: her history is one sign-in in Great Britain."""
    client = browser(LONDON)
    assert sign_in(client, alice, password)["Location"] == "/dashboard/"
    return client
