"""API fixtures: the team personas of teams/tests (Acme: alice Owner, mia Manager, dave
Developer; charlie outside), keys made through the service, a JSON client."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client

from api import keys
from security.stepup import state as stepup_state
from teams.tests.conftest import acme, dave, globex, join, mia, olga, role  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    """A client with no cookies: the API authenticates with the Authorization header."""
    return Client(REMOTE_ADDR="198.51.100.20")


@pytest.fixture
def make_key(db):
    def make(user, team, scopes=("domains:read",), expiry_days=None, name="Script"):
        return keys.create_key(
            user=user, team=team, name=name, scopes=list(scopes), expiry_days=expiry_days
        )

    return make


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def stepped_up(client) -> None:
    session = client.session
    session[stepup_state.STEPUP_KEY] = time.time()
    session.save()


def access_token_for(user, **session_fields) -> str:
    """An access token of a tracked session made directly (the sign-in flow has its
    own tests in test_auth.py)."""
    return token_pair_for(user, **session_fields).access


def token_pair_for(user, **session_fields):
    import secrets

    from api import tokens
    from security.sessions.models import TrackedSession
    from security.sessions.services import hash_key

    session = TrackedSession.objects.create(
        user=user,
        session_key_hash=hash_key(secrets.token_hex(16)),
        method="password",
        **session_fields,
    )
    return tokens.issue(session=session)
