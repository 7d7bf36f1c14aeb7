"""Fixtures of the passkey tests: the relying party at http://localhost:8000, a browser
with a software authenticator, and a user who added a passkey through the pages."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from security.tests.helpers import browser, sign_in
from security.tests.passkeys.authenticator import SoftAuthenticator

SITE = "http://localhost:8000"


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.SITE_URL = SITE
    settings.SUSPICIOUS_SIGNIN_CHECKS = False


@dataclass
class WithPasskey:
    user: object
    client: Client
    authenticator: SoftAuthenticator


def options(client: Client, url: str, **data) -> dict:
    response = client.post(url, data)
    assert response.status_code == 200, response.content
    return response.json()


def add_passkey(client: Client, password: str, authenticator: SoftAuthenticator, name="Laptop"):
    """Through the pages: step up, ask for options, answer, post the answer."""
    client.post("/settings/sessions/confirm/", {"password": password, "next": "/"})
    created = authenticator.create(
        options(client, "/settings/security/passkeys/add/options/", name=name)
    )
    return client.post("/settings/security/passkeys/add/", {"credential": json.dumps(created)})


def passkey_at_2fa(client: Client, authenticator: SoftAuthenticator, **lie) -> object:
    answer = authenticator.get(options(client, "/auth/2fa/passkey/options/"), **lie)
    return client.post("/auth/2fa/", {"method": "passkey", "credential": json.dumps(answer)})


def passwordless(client: Client, authenticator: SoftAuthenticator, **lie) -> object:
    answer = authenticator.get(options(client, "/auth/passkey/options/"), **lie)
    return client.post("/auth/passkey/", {"credential": json.dumps(answer)})


@pytest.fixture
def with_passkey(alice, password) -> WithPasskey:
    """Alice signed in once with her password (this browser is trusted), added a passkey
    and signed out."""
    client = browser()
    assert sign_in(client, alice, password)["Location"] == "/dashboard/"
    authenticator = SoftAuthenticator(origin=SITE)
    response = add_passkey(client, password, authenticator)
    assert response.status_code == 302, response.content
    client.post("/auth/logout/")
    return WithPasskey(alice, client, authenticator)
