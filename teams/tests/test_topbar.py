"""The top bar is built in Python (panel.templatetags.chrome) for speed: it must give the
markup the template gave. Each case renders a real page through the real sign-in, then
the top bar's former template (panel/tests/templates/topbar_reference.html) for the same
request, and compares them. The CSRF tokens are masked afresh at each render: they are
compared by the secret they carry, which must be the request's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.middleware.csrf import _unmask_cipher_token
from django.template import engines

from panel.tests.access import browser, sign_in
from teams.models import Role

from .conftest import join

pytestmark = pytest.mark.django_db

REFERENCE = engines["django"].from_string(
    (Path(settings.BASE_DIR) / "panel/tests/templates/topbar_reference.html").read_text()
)
TOPBAR = re.compile(r'<header class="topbar">.*?</header>', re.S)
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def normalized(html: str, secret: str) -> str:
    def secret_of(match: re.Match) -> str:
        assert _unmask_cipher_token(match.group(1)) == secret  # a valid token of the request
        return 'name="csrfmiddlewaretoken" value="(the request\'s)"'

    html = TOKEN.sub(secret_of, html)
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def both(client, path: str = "/dashboard/") -> tuple[str, str]:
    response = client.get(path)
    assert response.status_code == 200
    request = response.wsgi_request
    ours = TOPBAR.search(response.content.decode()).group(0)
    reference = TOPBAR.search(REFERENCE.render({}, request)).group(0)
    secret = request.META["CSRF_COOKIE"]
    return normalized(ours, secret), normalized(reference, secret)


def test_signed_out_the_top_bar_has_the_brand_only():
    from django.template import RequestContext, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    ours = Template("{% load chrome %}{% topbar %}").render(RequestContext(request, {}))
    reference = TOPBAR.search(REFERENCE.render({}, request)).group(0)
    assert normalized(ours, "") == normalized(reference, "")
    assert "usermenu" not in ours and 'class="brand"' in ours


def test_a_member_of_one_team(alice, acme, password):
    client = browser("203.0.113.7")
    sign_in(client, alice, password)
    ours, reference = both(client, "/settings/sessions/?page=2&x=<b>")
    assert ours == reference
    assert "Team <strong>Acme</strong>" in ours and "Operations" not in ours
    assert 'value="/settings/sessions/?page=2&amp;x=%3Cb%3E"' in ours  # the next path, escaped


def test_a_superuser_in_two_teams_with_markup_in_every_name(user_factory, acme, globex, password):
    root = user_factory(
        "root",
        full_name='<img src=x onerror="alert(1)">',
        email="o'brien+x@example.com",
        is_superuser=True,
        is_staff=True,
    )
    join(acme, root, Role.DEVELOPER)
    join(globex, root, Role.OWNER)
    globex.name = "Globex <script>alert(2)</script> & Co"
    globex.save()
    client = browser("203.0.113.8")
    sign_in(client, root, password)
    client.post("/teams/choose/", {"team": globex.pk})  # two teams: the choice first
    ours, reference = both(client)
    assert ours == reference
    assert "<script>" not in ours and "<img src=x" not in ours
    assert "Operations" in ours and "Administration" in ours
    assert f'<option value="{globex.pk}" selected>' in ours  # the active team
    assert f'href="/teams/{globex.pk}/"' in ours
