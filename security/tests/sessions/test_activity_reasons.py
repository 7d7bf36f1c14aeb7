"""The Security tab's sign-in activity says why a sign-in failed when the owner can act
on it: a right password refused because the address was not verified yet."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone


@pytest.fixture(autouse=True)
def _fresh(db, settings):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    cache.clear()
    yield
    cache.clear()


def _activity(client) -> str:
    page = client.get("/settings/security/").content.decode()
    return page.split('id="activity"', 1)[1].split("</section>", 1)[0]


def test_a_sign_in_refused_before_verifying_says_the_address_was_not_verified(
    user_factory, password
):
    dana = user_factory("dana", verified=False)
    early = Client()
    response = early.post("/auth/login/", {"username": "dana", "password": password})
    assert response.status_code != 302 or "/dashboard/" not in response.get("Location", "")

    dana.email_verified_at = timezone.now()
    dana.save(update_fields=["email_verified_at"])
    client = Client()
    assert (
        client.post("/auth/login/", {"username": "dana", "password": password})["Location"]
        == "/dashboard/"
    )
    rows = _activity(client)
    assert "Sign-in refused: email address not verified yet" in rows
    assert "Failed sign-in" not in rows


def test_a_wrong_password_is_still_a_failed_sign_in(user_factory, password):
    user_factory("erin")
    Client().post("/auth/login/", {"username": "erin", "password": "not the password at all"})
    client = Client()
    client.post("/auth/login/", {"username": "erin", "password": password})
    rows = _activity(client)
    assert "Failed sign-in" in rows
    assert "not verified" not in rows
