"""Exact query counts of the API-keys page and of authenticated API GETs, and no count
that grows with the rows.

- The API-keys page, signed in through the real pipeline: the 2 of every signed-in page
  (session, tracked session with its user), the user's teams (1, the top bar), the keys
  with their team (1): 4.
The API's counts leave out the rate-limit counters (a key's request rate): they live in
the cache, which is Redis in production and the database cache only in this SQLite leg.

- A GET of /api/v1/domains with a key: the key with its owner and team (1), the owner's
  memberships with their permission codes (1), the page's count and rows (2): 4; the
  last-used write is at most once a minute (the first request of the minute adds 1).
- With an access token: the tracked session with its user (1), the memberships (1), the
  count and rows (2): 4 (plus the session's once-a-minute last-active write).
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from api.models import ApiKey
from panel.tests.access import browser, sign_in
from teams.models import Domain

from .conftest import bearer, token_pair_for

pytestmark = pytest.mark.django_db


class database_queries(CaptureQueriesContext):  # noqa: N801 (used like the fixture)
    """The queries of the block, without the cache's (Redis in production)."""

    def __init__(self, expected: int) -> None:
        super().__init__(connection)
        self.expected = expected

    def __exit__(self, *exc):
        super().__exit__(*exc)
        if exc[0] is None:
            mine = [
                q["sql"]
                for q in self.captured_queries
                if "panel_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]
            ]
            assert len(mine) == self.expected, "\n".join(mine)


@pytest.fixture(autouse=True)
def _fresh(settings):
    # The memberships read from the database on both legs (with Redis they come from the
    # cache until a team changes: panel/tests/test_query_counts.py pins that saving).
    settings.TEAM_ACCESS_CACHE_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


def test_the_api_keys_page_takes_three_queries_for_one_or_ten_keys(
    alice, acme, password, make_key, django_assert_num_queries
):
    client = browser("203.0.113.5")
    sign_in(client, alice, password)
    make_key(alice, acme)
    with django_assert_num_queries(3):
        assert client.get(reverse("api:keys")).status_code == 200
    for n in range(9):
        make_key(alice, acme, name=f"Key {n}")
    with django_assert_num_queries(3):
        assert client.get(reverse("api:keys")).status_code == 200


def test_an_api_get_with_a_key_takes_four_queries(api, alice, acme, make_key):
    new = make_key(alice, acme)
    for n in range(3):
        Domain.objects.create(team=acme, hostname=f"d{n}.example")
    api.get("/api/v1/domains", **bearer(new.raw))  # the minute's last-used write
    assert ApiKey.objects.get().last_used_at is not None
    with database_queries(4):
        response = api.get("/api/v1/domains", **bearer(new.raw))
    assert response.status_code == 200 and response.json()["count"] == 3
    for n in range(3, 20):
        Domain.objects.create(team=acme, hostname=f"d{n}.example")
    with database_queries(4):
        assert api.get("/api/v1/domains", **bearer(new.raw)).json()["count"] == 20


def test_an_api_get_with_an_access_token_takes_four_queries(api, alice, acme):
    pair = token_pair_for(alice)
    Domain.objects.create(team=acme, hostname="one.example")
    with database_queries(4):
        response = api.get("/api/v1/domains", **bearer(pair.access))
    assert response.status_code == 200
