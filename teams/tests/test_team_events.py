"""The team audit log (``events.read``): the team's own events only, filtered, paginated
and exported as CSV against hand-computed answers; other teams' events never appear,
whatever the query string says; a fixed number of queries whatever the rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from security.auditlog.selectors import filtered_events
from security.auditlog.views import PAGE_SIZE
from teams.models import Team

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def event(action, *, team, when=DAY, ip="203.0.113.5", outcome="success", **kwargs):
    request = RequestFactory().get(
        "/", REMOTE_ADDR=ip, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"
    )
    with time_machine.travel(when, tick=False):
        return audit(
            action,
            request=request,
            team_id=team.pk if team else None,
            outcome=outcome,
            **kwargs,
        )


def url(team, name="teams:events") -> str:
    return reverse(name, kwargs={"team_id": team.pk})


def ids_on(response) -> list[int]:
    return [row.event_id for row in response.context["rows"]]


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def history(acme, globex, alice, mia, dave, olga, charlie):
    """Acme (6 events) and Globex (3 events, one by olga, who is in both), and one event
    of no team:

    a1 04 May 10:00 domain_created   alice  203.0.113.5   success
    a2 04 May 11:00 member_role_changed alice -> dave 203.0.113.6 success
    a3 05 May 09:00 invitation_sent  mia    198.51.100.7  success
    a4 05 May 12:00 role_updated     mia    198.51.100.8  denied
    a5 06 May 08:00 domain_created   olga   2001:db8::5   success
    a6 06 May 09:00 team_renamed     alice  203.0.113.5   success
    g1..g3 Globex: domain_created by olga (05 May), team_renamed (05 May), denied
    role_updated from 198.51.100.7 (05 May); n1 no team: a sign-in of mia.
    """
    e = {}
    e["a1"] = event(Action.DOMAIN_CREATED, team=acme, actor=alice)
    e["a2"] = event(
        Action.MEMBER_ROLE_CHANGED,
        team=acme,
        actor=alice,
        user=dave,
        when=DAY + timedelta(hours=1),
        ip="203.0.113.6",
    )
    e["a3"] = event(
        Action.INVITATION_SENT,
        team=acme,
        actor=mia,
        when=DAY + timedelta(hours=23),
        ip="198.51.100.7",
    )
    e["a4"] = event(
        Action.ROLE_UPDATED,
        team=acme,
        actor=mia,
        when=DAY + timedelta(hours=26),
        ip="198.51.100.8",
        outcome="denied",
    )
    e["a5"] = event(
        Action.DOMAIN_CREATED,
        team=acme,
        actor=olga,
        when=DAY + timedelta(hours=46),
        ip="2001:db8::5",
    )
    e["a6"] = event(Action.TEAM_RENAMED, team=acme, actor=alice, when=DAY + timedelta(hours=47))
    e["g1"] = event(
        Action.DOMAIN_CREATED,
        team=globex,
        actor=olga,
        when=DAY + timedelta(hours=24),
        metadata={"hostname": "globex-secret.example"},
    )
    e["g2"] = event(Action.TEAM_RENAMED, team=globex, actor=olga, when=DAY + timedelta(hours=25))
    e["g3"] = event(
        Action.ROLE_UPDATED,
        team=globex,
        actor=charlie,
        when=DAY + timedelta(hours=26),
        ip="198.51.100.7",
        outcome="denied",
    )
    e["n1"] = event(Action.SIGNIN, team=None, actor=mia, when=DAY + timedelta(hours=2))
    return {k: v.pk for k, v in e.items()}


def ids(history, *names) -> list[int]:
    return [history[n] for n in names]


def test_a_manager_sees_the_team_events_newest_first_and_no_other_team_s(
    client, mia, acme, history
):
    client.force_login(mia)
    response = client.get(url(acme))
    assert response.status_code == 200
    assert ids_on(response) == ids(history, "a6", "a5", "a4", "a3", "a2", "a1")
    body = response.content.decode()
    assert "globex-secret" not in body and "Globex" not in body
    # Each row: time, actor (and impersonator), affected user, team, action, outcome, IP,
    # location, device.
    first = response.context["rows"][-1]
    assert (first.actor, first.user, first.team, first.action, first.outcome, first.ip) == (
        "alice",
        "alice",
        "Acme",
        "domain_created",
        "success",
        "203.0.113.5",
    )
    assert first.device.startswith("Firefox")


def test_an_impersonated_change_shows_both_people(client, mia, dave, acme, operator):
    event(Action.DOMAIN_DELETED, team=acme, actor=dave, impersonator=operator)
    client.force_login(mia)
    response = client.get(url(acme))
    row = response.context["rows"][0]
    assert (row.actor, row.impersonator) == ("dave", operator.username)
    assert f"impersonated by {operator.username}" in response.content.decode()
    export = csv_rows(client.get(url(acme, "teams:events_csv")))
    assert export[1][1:3] == ["dave", operator.username]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "domain_created"}, ["a5", "a1"]),
        ({"outcome": "denied"}, ["a4"]),
        ({"user": "mia"}, ["a4", "a3"]),
        ({"user": "DAVE@example.com"}, ["a2"]),  # affected, by email, any case
        ({"user": "olga"}, ["a5"]),  # not her Globex events
        ({"user": "charlie"}, []),  # an outsider's Globex event stays out
        ({"ip": "198.51.100.0/24"}, ["a4", "a3"]),
        ({"ip": "203.0.113.5"}, ["a6", "a1"]),
        ({"ip": "2001:db8::/32"}, ["a5"]),
        ({"since": "2026-05-05", "until": "2026-05-05"}, ["a4", "a3"]),
        ({"since": "2026-05-06"}, ["a6", "a5"]),
        ({"until": "2026-05-04", "action": "member_role_changed"}, ["a2"]),
    ],
)
def test_each_filter_gives_the_hand_computed_events(client, mia, acme, history, query, expected):
    client.force_login(mia)
    response = client.get(url(acme), query)
    assert response.status_code == 200
    assert ids_on(response) == ids(history, *expected)


@pytest.mark.parametrize(
    "forged",
    [
        {"team_id": "GLOBEX"},
        {"team": "GLOBEX"},
        {"team_id__in": "GLOBEX"},
        {"ip": "198.51.100.7", "team_id": "GLOBEX"},
        {"outcome": "denied", "team": "GLOBEX"},
    ],
)
def test_a_forged_team_in_the_query_string_changes_nothing(
    client, mia, acme, globex, history, forged
):
    client.force_login(mia)
    query = {k: (str(globex.pk) if v == "GLOBEX" else v) for k, v in forged.items()}
    response = client.get(url(acme), query)
    assert response.status_code == 200
    shown = set(ids_on(response))
    assert shown and not shown & set(ids(history, "g1", "g2", "g3", "n1"))
    export = client.get(url(acme, "teams:events_csv"), query)
    assert "globex-secret" not in b"".join(export.streaming_content).decode()


def test_another_team_s_log_is_a_404_to_a_manager_and_a_403_to_a_developer(
    client, mia, dave, olga, acme, globex, history
):
    client.force_login(mia)
    assert client.get(url(globex)).status_code == 404
    assert client.get(url(globex, "teams:events_csv")).status_code == 404
    client.force_login(dave)
    assert client.get(url(acme)).status_code == 403
    assert client.get(url(acme, "teams:events_csv")).status_code == 403
    # Olga owns Globex and is a Developer in Acme: Globex's log, and only Globex's.
    client.force_login(olga)
    response = client.get(url(globex))
    assert ids_on(response) == ids(history, "g3", "g2", "g1")
    assert client.get(url(acme)).status_code == 403


def test_an_invalid_filter_answers_400_with_the_reason_and_no_events(client, mia, acme, history):
    client.force_login(mia)
    response = client.get(url(acme), {"ip": "not-an-address", "action": "nope"})
    assert response.status_code == 400
    assert response.context["rows"] == []
    body = response.content.decode()
    assert "Enter an IP address" in body
    export = client.get(url(acme, "teams:events_csv"), {"since": "yesterday"})
    assert export.status_code == 400
    assert export.content.decode().startswith("Invalid filter: since")


def test_the_log_is_paginated_fifty_a_page_newest_first(client, mia, acme, globex, history):
    base = DAY + timedelta(days=5)
    made = [
        event(Action.DOMAIN_UPDATED, team=acme, actor=mia, when=base + timedelta(minutes=n)).pk
        for n in range(114)
    ]
    for n in range(30):
        event(Action.DOMAIN_UPDATED, team=globex, when=base + timedelta(minutes=n, seconds=30))
    newest_first = list(reversed(made)) + ids(history, "a6", "a5", "a4", "a3", "a2", "a1")
    client.force_login(mia)
    pages = [client.get(url(acme), {"page": n}) for n in (1, 2, 3)]
    assert [ids_on(p) for p in pages] == [
        newest_first[:50],
        newest_first[50:100],
        newest_first[100:],
    ]
    assert PAGE_SIZE == 50 and len(newest_first[100:]) == 20
    assert pages[2].context["page"].paginator.num_pages == 3
    # Out of range or not a number: the last page or the first, never a 500.
    assert ids_on(client.get(url(acme), {"page": 99})) == newest_first[100:]
    assert ids_on(client.get(url(acme), {"page": "x"})) == newest_first[:50]
    # The pager keeps the filters.
    filtered = client.get(url(acme), {"action": "domain_updated", "page": 2})
    assert ids_on(filtered) == list(reversed(made))[50:100]
    assert "action=domain_updated&amp;page=3" in filtered.content.decode()


def test_the_export_holds_exactly_the_filtered_team_events_escaped(
    client, mia, acme, user_factory, history
):
    sly = user_factory("=HYPERLINK(1)")
    Team.objects.filter(pk=acme.pk).update(name="@Acme")
    event(
        Action.DOMAIN_UPDATED,
        team=acme,
        actor=sly,
        when=DAY + timedelta(days=3),
        metadata={"hostname": "x.example\r\nforged,row"},
    )
    client.force_login(mia)
    response = client.get(url(acme, "teams:events_csv"), {"user": "=HYPERLINK(1)"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="team-{acme.pk}-')
    rows = csv_rows(response)
    assert rows[0][:10] == [
        "time (UTC)",
        "actor",
        "impersonator",
        "user",
        "team",
        "action",
        "outcome",
        "ip",
        "location",
        "device",
    ]
    assert len(rows) == 2  # the header and the one event: no forged row
    row = rows[1]
    assert row[0] == "2026-05-07 10:00:00"
    assert row[1] == "'=HYPERLINK(1)" and row[3] == "'=HYPERLINK(1)"
    assert row[4] == "'@Acme"
    assert row[10] == "hostname=x.example\\x0d\\x0aforged,row"
    # The whole export of the team: its six events and this one, none of Globex's.
    everything = csv_rows(client.get(url(acme, "teams:events_csv")))
    assert len(everything) == 1 + 7
    assert all(r[4] == "'@Acme" for r in everything[1:])


def test_the_team_scoped_query_is_one_function_for_pages_and_the_api(acme, globex, history):
    filterset, events = filtered_events({"outcome": "denied"}, team_id=acme.pk)
    assert [e.pk for e in events] == ids(history, "a4")
    filterset, events = filtered_events({}, team_id=globex.pk)
    assert [e.pk for e in events] == ids(history, "g3", "g2", "g1")
    filterset, events = filtered_events({"ip": "bad"}, team_id=acme.pk)
    assert events is None and "ip" in filterset.errors


def _queries(client, path, query=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, query or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_log_and_its_export_take_a_fixed_number_of_queries_whatever_the_rows(
    settings, client, mia, acme, user_factory
):
    """A signed-in team page's 2 (the session with its tracked session and user in one
    query, the memberships: see test_team_query_counts), then the count, the page of
    events with their actor, user and impersonator joined, and the team names: 5;
    filtering by user adds the lookup of the account. The export: the 2, the batch of
    events and the team names of the batch."""
    settings.TEAM_ACCESS_CACHE_SECONDS = 0  # the teams from the database on both legs
    client.force_login(mia)
    helper = user_factory("helper")
    for n in range(3):
        event(Action.DOMAIN_UPDATED, team=acme, actor=helper, user=mia, when=DAY + timedelta(n))
    client.get(url(acme))  # the first request starts tracking the session (writes)
    few = _queries(client, url(acme))
    few_user = _queries(client, url(acme), {"user": "helper"})
    few_csv = _queries(client, url(acme, "teams:events_csv"))
    for n in range(45):
        other = user_factory(f"actor{n}")
        event(Action.DOMAIN_UPDATED, team=acme, actor=other, user=helper, when=DAY + timedelta(n))
    assert _queries(client, url(acme)) == few
    assert _queries(client, url(acme), {"user": "helper"}) == few_user == few + 1
    assert _queries(client, url(acme, "teams:events_csv")) == few_csv
    assert few == 5, few
    assert few_csv == 4, few_csv


def test_the_audit_log_tab_shows_to_holders_of_events_read_only(client, mia, dave, acme):
    client.force_login(mia)
    tabs = [t["key"] for t in client.get(url(acme)).context["team_tabs"]]
    assert "events" in tabs and "metrics" not in tabs
    client.force_login(dave)
    page = client.get(reverse("teams:members", kwargs={"team_id": acme.pk}))
    assert "events" not in [t["key"] for t in page.context["team_tabs"]]


def test_an_audit_event_of_no_team_never_appears_on_a_team_log(client, alice, acme, history):
    client.force_login(alice)
    shown = ids_on(client.get(url(acme), {"user": "mia"}))
    assert history["n1"] not in shown
    assert AuditEvent.objects.filter(pk=history["n1"], team_id__isnull=True).exists()
