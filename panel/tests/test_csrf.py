"""panel.csrf: Django's CSRF strings from one random read, accepted by Django's checks."""

from __future__ import annotations

from collections import Counter

import pytest
from django.middleware import csrf as django_csrf

from panel import csrf


def test_it_is_what_django_uses():
    assert django_csrf._get_new_csrf_string is csrf.csrf_string
    assert django_csrf._mask_cipher_secret is csrf.mask_cipher_secret


def test_the_mask_is_djangos_arithmetic():
    """Each character: (secret + mask) modulo the alphabet, as Django's own masking,
    whose inverse (``_unmask_cipher_token``) gives the secret back."""
    chars = django_csrf.CSRF_ALLOWED_CHARS
    for _ in range(200):
        secret = csrf.csrf_string()
        token = csrf.mask_cipher_secret(secret)
        mask, cipher = token[:32], token[32:]
        assert cipher == "".join(
            chars[(chars.index(s) + chars.index(m)) % len(chars)]
            for s, m in zip(secret, mask, strict=True)
        )
        django_csrf._check_token_format(token)
        assert django_csrf._unmask_cipher_token(token) == secret


def test_strings_have_djangos_length_and_alphabet_and_do_not_repeat():
    strings = [csrf.csrf_string() for _ in range(2000)]
    assert len(set(strings)) == len(strings)
    for value in strings:
        assert len(value) == django_csrf.CSRF_SECRET_LENGTH
        django_csrf._check_token_format(value)  # raises InvalidTokenFormat otherwise


def test_every_character_is_drawn_about_equally():
    # 64,000 characters over 62: about 1,032 each (sigma about 32). A modulo bias (bytes
    # 248-255 kept) would give the first eight characters about 1,250 and the others
    # 1,000; 880-1,180 is over 4.5 sigma from the fair count.
    counts = Counter("".join(csrf.csrf_string() for _ in range(2000)))
    assert set(counts) == set(django_csrf.CSRF_ALLOWED_CHARS)
    assert all(880 <= n <= 1180 for n in counts.values()), counts.most_common(3)


def test_a_masked_token_still_unmasks_to_the_secret_and_masks_differ():
    secret = csrf.csrf_string()
    first, second = django_csrf._mask_cipher_secret(secret), django_csrf._mask_cipher_secret(secret)
    assert first != second
    assert (
        django_csrf._unmask_cipher_token(first)
        == django_csrf._unmask_cipher_token(second)
        == secret
    )


def test_a_strict_client_posts_with_the_token_of_the_page_and_not_without(alice, password):
    import re

    from django.test import Client

    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR="127.0.0.1")
    page = strict.get("/auth/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    refused = strict.post("/auth/login/", {"username": "alice", "password": password})
    assert refused.status_code == 403
    accepted = strict.post(
        "/auth/login/", {"username": "alice", "password": password, "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302


@pytest.mark.parametrize("secret", ["a" * 31, "a" * 33, "a" * 31 + "-", "a" * 31 + "\u00e9", ""])
def test_masking_refuses_what_is_not_a_secret_of_the_alphabet(secret):
    with pytest.raises(ValueError):
        csrf.mask_cipher_secret(secret)


# Django's node warns that format_html("") without arguments is deprecated (NOTPROVIDED).
@pytest.mark.filterwarnings("ignore:Calling format_html:DeprecationWarning")
@pytest.mark.parametrize("token", ["masked", "NOTPROVIDED", "", None, "<b>&"])
def test_the_token_input_is_what_djangos_csrf_token_tag_renders(token):
    from django.template import Context
    from django.template.defaulttags import CsrfTokenNode

    if token == "masked":
        token = csrf.mask_cipher_secret(csrf.csrf_string())
    context = Context({} if token is None else {"csrf_token": token})
    assert csrf.token_input(context) == CsrfTokenNode().render(context)
