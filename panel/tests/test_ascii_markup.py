"""The panel's own markup is ASCII: typographic characters are written as entities
(``&middot;``, ``&mdash;``, ``&nbsp;``), so that a page shows only its users' data outside
ASCII.

Why: Django encodes every page to UTF-8 before it is sent. An ASCII page is copied;
one character outside ASCII anywhere (a "·" in a row, the brand's triangle) sends the
whole page through the encoder's character loop, about twelve instructions a character
(measured with cachegrind), and a character outside Latin-1 doubles the size of every
string the template engine joins. On the Security tab, nineteen thousand characters
with a dozen trusted browsers, that was about a twentieth of the page's CPU.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from .access import browser, sign_in
from .test_query_counts import activity, held_signins, other_sessions, trusted_devices

pytestmark = pytest.mark.django_db


def test_every_html_template_is_ascii():
    found = {}
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in Path(directory).rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            others = sorted({c for c in text if not c.isascii()})
            if others:
                found[str(path.relative_to(directory))] = others
    assert found == {}, "write these as entities (&middot;, &mdash;, ...)"


@pytest.fixture
def ada_browser(user_factory, password):
    """A signed-in account with a little of everything the signed-in pages list, all
    of it ASCII, at ages that "ago" writes with a no-break space ("20 minutes ago")."""
    user = user_factory("ada", full_name="Ada Plain")
    client = browser("203.0.113.9")
    sign_in(client, user, password)  # before its trusted browsers: no emailed code
    with time_machine.travel(timezone.now() - timedelta(minutes=20), tick=False):
        trusted_devices(user, 3)
        other_sessions(user, 2)
        activity(user, 4)
        held_signins(user, 1)
    return client


@pytest.mark.parametrize("path", ["/dashboard/", "/settings/sessions/", "/settings/security/"])
def test_the_signed_in_pages_are_ascii(ada_browser, path):
    response = ada_browser.get(path)

    assert response.status_code == 200
    body = response.content
    assert sorted({c for c in body.decode() if not c.isascii()}) == []
    if path != "/dashboard/":
        # The lists' times are there, with their no-break space as an entity.
        assert b"20&nbsp;minutes ago" in body
