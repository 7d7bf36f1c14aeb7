"""Password policy, SECURITY.md item 4: the username and the product name are rejected.

A password built around a context word (the site name, the username, the email's local
part, a word of the full name; leetspeak folded) is refused when what is left without the
word is easy to guess; a long passphrase that merely contains the word is accepted.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.validators import ContextWordValidator

pytestmark = pytest.mark.django_db

SITE = "Don't build your password around the name of this site"
USERNAME = "Don't build your password around your username"
EMAIL = "Don't build your password around your email address"
NAME = "Don't build your password around your name"


def _errors(password: str, user=None) -> list[str]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


def _refused_for(password: str, user, reason: str) -> bool:
    return any(e.startswith(reason) for e in _errors(password, user))


@pytest.fixture
def dana() -> User:
    return User(username="dreyes", email="dana.reyes@example.com", full_name="Dana Reyes")


def test_the_site_name_with_a_guessable_tail_is_refused_with_the_reason():
    assert _errors("paneladmin2024!!") == [
        "Don't build your password around the name of this site: without it, what is left "
        "is easy to guess. Add a few unrelated words instead."
    ]


@pytest.mark.parametrize("password", ["P4n3l-admin-2024", "PANEL2024summer!", "p@nelsecure2024"])
def test_the_site_name_in_capitals_or_leetspeak_is_refused(password):
    assert _refused_for(password, None, SITE)


def test_the_site_name_comes_from_the_settings(settings):
    settings.SITE_NAME = "Orbitdesk"
    assert _refused_for("0rb1tdesk2024!!", None, SITE)
    assert _errors("paneladmin2024!!") == []  # "panel" is no longer the site's name


def test_the_username_is_refused(dana):
    assert _refused_for("dr3y3s-summer-2024", dana, USERNAME)


def test_the_email_local_part_is_refused(dana):
    assert _refused_for("Dana.Reyes!2024xy", dana, EMAIL)
    user = User(username="k9x", email="marguerite@example.com", full_name="")
    assert _refused_for("Marguer1te2024!!", user, EMAIL)


def test_a_word_of_the_full_name_is_refused():
    user = User(username="k9x", email="k9x@example.com", full_name="Dana Reyes")
    assert _refused_for("r3yes-letmein-2024", user, NAME)
    assert _refused_for("DANA-summer-2024", user, NAME)


def test_words_shorter_than_four_characters_are_not_context_words():
    user = User(username="ann", email="ann@example.com", full_name="Ann Li")
    validator = ContextWordValidator()
    validator.validate("ann-li-summer-2024", user)  # refused by nothing here


@pytest.mark.parametrize(
    ("password", "user"),
    [
        ("solar panel cleaning on tuesday mornings", None),
        ("quiet harbor lights and a dana copper kettle", "dana"),
        ("maple cloud ferry reyes lantern", "dana"),
    ],
)
def test_a_long_passphrase_that_merely_contains_the_word_is_accepted(password, user, dana):
    assert _errors(password, dana if user else None) == []


def test_the_strength_endpoint_explains_the_refusal(client):
    response = client.post(
        "/auth/password-strength/",
        json.dumps({"password": "paneladmin2024!!"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    data = response.json()
    assert data["label"] == "weak"
    assert data["message"].startswith(SITE)


def test_sign_up_refuses_a_password_built_around_the_username(client):
    password = "d4na.reyes-2024!!"
    response = client.post(
        "/auth/signup/",
        {
            "email": "dana.reyes@example.com",
            "full_name": "Dana Reyes",
            "password1": password,
            "password2": password,
        },
    )
    assert response.status_code == 400
    assert "build your password around" in response.content.decode().replace("&#x27;", "'")
    assert not User.objects.filter(email__iexact="dana.reyes@example.com").exists()
