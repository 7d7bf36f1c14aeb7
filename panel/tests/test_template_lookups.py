"""The signed-in pages render without a failed template lookup: when ``{{ a.b }}`` finds no
``b``, Django's engine checks ``dir(a)`` before answering "" (a ``dir()`` of the request,
about a tenth of a millisecond of the page's CPU here). The pages read values that are
always there instead (``request.high_security`` on every view, every key of the 2FA
state)."""

from __future__ import annotations

import sys
from collections import Counter

import pytest
from django.template import base as template_base

from security.tests.helpers import enroll

from .access import browser, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_lookups(monkeypatch):
    """The variables whose lookup failed (the engine's ``dir()`` call), counted."""
    failed = Counter()
    real_dir = dir

    def spy(*args):
        caller = sys._getframe(1)
        if caller.f_code is template_base.Variable._resolve_lookup.__code__:
            failed[caller.f_locals["self"].var] += 1
        return real_dir(*args)

    monkeypatch.setattr(template_base, "dir", spy, raising=False)
    return failed


@pytest.mark.parametrize("with_2fa", [False, True])
def test_the_signed_in_pages_fail_no_lookup(failed_lookups, user_factory, password, with_2fa):
    user = user_factory("una", full_name="Una Lookup")
    enrolled = enroll(user) if with_2fa else None
    client = browser("203.0.113.9")
    sign_in(client, user, password, enrolled)
    for path in ("/dashboard/", "/settings/security/", "/settings/sessions/"):
        assert client.get(path).status_code == 200, path
    assert failed_lookups == Counter()


def test_a_failed_lookup_is_seen(failed_lookups, rf):
    """The spy above sees what it looks for (a page that fails a lookup)."""
    from django.template import engines

    request = rf.get("/")
    engines["django"].from_string("{{ request.nothing_here }}").render({}, request)
    assert failed_lookups == Counter({"request.nothing_here": 1})
