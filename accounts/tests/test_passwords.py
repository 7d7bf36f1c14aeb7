"""Password policy: length, blocklist, strength, hashing (SECURITY.md rows 1-4, 9)."""

import pytest
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.test import override_settings

from accounts.models import User

pytestmark = pytest.mark.django_db

BCRYPT_FIRST = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LONG = (
    "amber falcon drifts over quiet harbor lights while seven copper kettles "
    "hum softly near the old mill 42"
)


def _errors(password, user=None) -> list[str]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


def test_eleven_characters_are_refused_with_the_minimum_named():
    assert _errors("zq8#Lw2!pX4") == [
        "This password is too short. It must contain at least 12 characters."
    ]


def test_a_lowercase_passphrase_of_20_characters_with_spaces_is_accepted():
    passphrase = "maple cloud ferry ox"
    assert len(passphrase) == 20
    assert _errors(passphrase) == []


def test_a_common_keyboard_walk_is_refused_with_a_reason():
    errors = _errors("qwerty123456789")
    assert "This password is too common." in errors
    assert any("too weak" in e and "common password" in e for e in errors)


def test_129_characters_are_refused_and_128_accepted():
    assert _errors((LONG * 2)[:129]) == ["This password is too long: use at most 128 characters."]
    assert _errors((LONG * 2)[:128]) == []


def test_a_password_close_to_the_username_is_refused():
    user = User(username="dana.reyes", email="dana.reyes@example.com", full_name="Dana Reyes")
    assert any("too similar" in e for e in _errors("dana.reyes.example", user))


def test_the_base_settings_hash_with_bcrypt_sha256_first():
    from panel.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.BCryptSHA256PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS


@override_settings(PASSWORD_HASHERS=BCRYPT_FIRST)
def test_a_100_character_password_signs_in_and_its_first_72_characters_do_not(client, user_factory):
    password = LONG[:100]
    assert len(password) == 100 and _errors(password) == []
    user = user_factory("longpw", password=password)
    assert user.password.startswith("bcrypt_sha256$")
    truncated = client.post("/auth/login/", {"username": "longpw", "password": password[:72]})
    assert truncated.status_code == 400
    assert "_auth_user_id" not in client.session
    full = client.post("/auth/login/", {"username": "longpw", "password": password})
    assert full.status_code == 302
    assert full["Location"] == "/dashboard/"


@override_settings(PASSWORD_HASHERS=BCRYPT_FIRST)
def test_a_pbkdf2_hash_is_upgraded_to_bcrypt_on_sign_in(client, user_factory, password):
    user = user_factory("legacy")
    User.objects.filter(pk=user.pk).update(password=make_password(password, hasher="pbkdf2_sha256"))
    response = client.post("/auth/login/", {"username": "legacy", "password": password})
    assert response["Location"] == "/dashboard/"
    user.refresh_from_db()
    assert user.password.startswith("bcrypt_sha256$")
    assert user.check_password(password)
