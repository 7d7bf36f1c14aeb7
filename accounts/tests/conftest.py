"""Fixtures for the account flows: sending on commit, reading links out of emails."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache

STRONG = "velvet orbit canyon 7 lantern"
STRONG_2 = "copper meadow whistle 42 harbor"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    # django-ratelimit counts in the database cache; the browser test commits rows
    # that a rollback would not remove.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def strong_password() -> str:
    return STRONG


@pytest.fixture
def other_strong_password() -> str:
    return STRONG_2


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """``with send(): client.post(...)`` runs the on-commit email queueing (Celery eager)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def links_in(message) -> list[str]:
    return re.findall(r"https?://[^\s<>\"']+", message.body)


def link_path(message, contains: str) -> str:
    """The path of the one link in ``message`` whose path contains ``contains``.

    Asserts that the link is built from settings.SITE_URL.
    """
    found = [link for link in links_in(message) if contains in link]
    assert len(found) == 1, found
    assert found[0].startswith(settings.SITE_URL + "/"), found[0]
    return urlsplit(found[0]).path


@pytest.fixture
def signup_data() -> dict:
    return {
        "email": "Dana.Reyes@Example.com",
        "full_name": "Dana Reyes",
        "password1": STRONG,
        "password2": STRONG,
    }


@pytest.fixture
def client_factory(db):
    """Another browser: ``client_factory()`` is a fresh Client with its own cookies."""
    from django.test import Client

    return Client
