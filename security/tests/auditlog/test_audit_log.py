"""The global audit log: filters, pagination and the CSV export against hand-computed
answers; formula and line-break injection; who may read it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from security.auditlog.rows import csv_cell
from security.auditlog.views import PAGE_SIZE
from security.tests.helpers import browser

pytestmark = pytest.mark.django_db

LOG = "/operations/audit/"
EXPORT = "/operations/audit/export.csv"


class Req:
    """A request stand-in for audit(): only the address and the agent matter here."""

    def __init__(self, ip: str, ua: str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"):
        from django.test import RequestFactory

        self.request = RequestFactory().get("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=ua)


def event(action=Action.SIGNIN, *, ip="203.0.113.5", when=None, **kwargs) -> AuditEvent:
    request = Req(ip).request
    if when is None:
        return audit(action, request=request, **kwargs)
    with time_machine.travel(when, tick=False):
        return audit(action, request=request, **kwargs)


def ids_on(response) -> list[int]:
    return [row.event_id for row in response.context["rows"]]


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_the_audit_log_is_for_superusers_only(client, alice, operator):
    client.force_login(alice)
    assert client.get(LOG).status_code == 403
    assert client.get(EXPORT).status_code == 403
    client.force_login(operator)
    assert client.get(LOG).status_code == 200


def test_the_log_lists_every_event_newest_first(operator_client, alice, bob):
    first = event(user=alice)
    second = event(Action.PASSWORD_CHANGED, user=bob)
    response = operator_client.get(LOG)
    assert ids_on(response)[:2] == [second.pk, first.pk]


def test_filtering_by_action_and_outcome_keeps_exactly_the_matching_events(operator_client, alice):
    wanted = [
        event(user=alice, outcome=AuditEvent.Outcome.FAILURE),
        event(user=alice, outcome=AuditEvent.Outcome.FAILURE),
    ]
    event(user=alice)  # a success
    event(Action.TWO_FACTOR_FAILED, user=alice, outcome=AuditEvent.Outcome.FAILURE)
    response = operator_client.get(LOG, {"action": "signin", "outcome": "failure"})
    assert response.status_code == 200
    assert ids_on(response) == [wanted[1].pk, wanted[0].pk]


def test_filtering_by_user_finds_what_they_did_and_what_happened_to_them(
    operator_client, alice, bob, operator
):
    as_user = event(user=alice)
    as_actor = event(Action.UNLOCK, actor=alice, user=bob)
    event(user=bob)
    for login in ("alice", "ALICE@example.com"):
        response = operator_client.get(LOG, {"user": login})
        assert set(ids_on(response)) == {as_user.pk, as_actor.pk}
    assert ids_on(operator_client.get(LOG, {"user": "nobody"})) == []


def test_filtering_by_address_takes_one_ip_or_a_whole_network(operator_client):
    a = event(ip="203.0.113.5")
    b = event(ip="203.0.113.200")
    c = event(ip="198.51.100.1")
    d = event(ip="2001:db8::1")
    e = event(ip="2001:db8:1::9")
    assert ids_on(operator_client.get(LOG, {"ip": "203.0.113.5"})) == [a.pk]
    assert ids_on(operator_client.get(LOG, {"ip": "203.0.113.0/24"})) == [b.pk, a.pk]
    assert ids_on(operator_client.get(LOG, {"ip": "198.51.100.0/24"})) == [c.pk]
    assert ids_on(operator_client.get(LOG, {"ip": "2001:db8::/48"})) == [d.pk]
    assert ids_on(operator_client.get(LOG, {"ip": "2001:db8::/32"})) == [e.pk, d.pk]


def test_the_date_range_includes_both_whole_days(operator_client):
    before = event(when=datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC))
    start = event(when=datetime(2026, 3, 10, 0, 0, 0, tzinfo=UTC))
    end = event(when=datetime(2026, 3, 11, 23, 59, 59, tzinfo=UTC))
    after = event(when=datetime(2026, 3, 12, 0, 0, 0, tzinfo=UTC))
    response = operator_client.get(LOG, {"since": "2026-03-10", "until": "2026-03-11"})
    assert ids_on(response) == [end.pk, start.pk]
    assert ids_on(operator_client.get(LOG, {"since": "2026-03-12"}))[-1] == after.pk
    assert before.pk in ids_on(operator_client.get(LOG, {"until": "2026-03-09"}))


@pytest.mark.parametrize(
    "query",
    [
        {"ip": "not-an-address"},
        {"ip": "203.0.113.0/33"},
        {"since": "2026-02-31"},
        {"until": "yesterday"},
        {"action": "no_such_action"},
        {"outcome": "maybe"},
    ],
)
def test_a_filter_that_makes_no_sense_is_a_400_that_lists_nothing(operator_client, query):
    event()
    response = operator_client.get(LOG, query)
    assert response.status_code == 400
    assert response.context["rows"] == []
    assert operator_client.get(EXPORT, query).status_code == 400


def test_pages_hold_fifty_events_each_and_the_last_one_the_rest(operator_client, alice):
    made = [event(user=alice).pk for _ in range(PAGE_SIZE * 2 + 7)]
    newest_first = made[::-1]
    page1 = operator_client.get(LOG, {"user": "alice"})
    page3 = operator_client.get(LOG, {"user": "alice", "page": 3})
    assert ids_on(page1) == newest_first[:PAGE_SIZE]
    assert ids_on(page3) == newest_first[2 * PAGE_SIZE :]
    assert len(ids_on(page3)) == 7
    # The next link keeps the filters.
    assert 'href="?user=alice&amp;page=2"' in page1.content.decode()
    # A page past the end (or not a number) shows the last (or the first) page.
    assert ids_on(operator_client.get(LOG, {"user": "alice", "page": 99})) == ids_on(page3)
    assert ids_on(operator_client.get(LOG, {"user": "alice", "page": "x"})) == ids_on(page1)


def test_the_export_is_streamed_and_holds_exactly_the_filtered_events(operator_client, alice, bob):
    kept = event(
        Action.PASSWORD_CHANGED,
        user=alice,
        ip="198.51.100.7",
        when=datetime(2026, 3, 10, 8, 30, 0, tzinfo=UTC),
        metadata={"via": "settings"},
    )
    event(Action.PASSWORD_CHANGED, user=bob, ip="203.0.113.1")
    event(Action.SIGNIN, user=alice, ip="198.51.100.8")
    response = operator_client.get(EXPORT, {"action": "password_changed", "ip": "198.51.100.0/24"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = csv_rows(response)
    assert rows[0] == [
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
        "details",
    ]
    assert rows[1:] == [
        [
            "2026-03-10 08:30:00",
            "",
            "",
            "alice",
            "",
            "password_changed",
            "success",
            "198.51.100.7",
            "Unknown",
            "Firefox 130 on Linux",
            "via=settings",
        ]
    ]
    assert kept.pk


def test_the_page_links_to_the_export_of_the_same_filters(operator_client):
    event()
    response = operator_client.get(LOG, {"action": "signin", "ip": "203.0.113.0/24"})
    assert (
        'href="/operations/audit/export.csv?action=signin&amp;ip=203.0.113.0%2F24"'
        in response.content.decode()
    )


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\\x09=1"),
        ("\r=1", "'\\x0d=1"),
        ("plain", "plain"),
        ("two\r\nlines", "two\\x0d\\x0alines"),
        ("a\u2028b", "a\\x2028b"),
    ],
)
def test_a_csv_cell_can_neither_be_a_formula_nor_start_a_row(value, cell):
    assert csv_cell(value) == cell


def test_a_hostile_username_and_metadata_stay_one_text_row_in_the_export(
    operator_client, user_factory
):
    evil = user_factory("=cmd|' /C calc'!A0", email="evil@example.com")
    audit(
        Action.PASSWORD_CHANGED,
        request=Req("203.0.113.5").request,
        user=evil,
        metadata={"note": "ok\r\n2026-01-01,forged,row"},
    )
    rows = csv_rows(operator_client.get(EXPORT))
    assert len(rows) == 2  # the header and one event: the line break forged nothing
    assert rows[1][3] == "'=cmd|' /C calc'!A0"
    assert rows[1][10] == "note=ok\\x0d\\x0a2026-01-01,forged,row"
    page = operator_client.get(LOG).content.decode()
    assert "=cmd|&#x27; /C calc&#x27;!A0" in page  # escaped on screen too


def test_a_failed_sign_in_with_an_unknown_login_stores_only_its_keyed_hash(alice, password):
    client = browser()
    typed = "My-Secret-Passw0rd!"
    client.post(reverse("security:login"), {"username": typed, "password": "x" * 12})
    client.post(reverse("security:login"), {"username": typed, "password": "y" * 12})
    first, second = AuditEvent.objects.filter(action="signin").order_by("pk")
    assert "login" not in first.metadata
    assert typed.lower() not in str(first.metadata).lower()
    assert first.metadata["login_fingerprint"] == second.metadata["login_fingerprint"]
    assert len(first.metadata["login_fingerprint"]) == 32
    assert first.user is None


def test_a_failed_sign_in_with_an_account_name_records_that_account(alice):
    client = browser()
    client.post(reverse("security:login"), {"username": "ALICE@example.com", "password": "x" * 12})
    failed = AuditEvent.objects.get(action="signin", outcome="failure")
    assert failed.user == alice
    assert failed.metadata == {"login": "alice", "reason": "bad_credentials"}


def test_a_lockout_of_a_made_up_name_records_its_hash_not_the_name(settings):
    client = browser()
    typed = "hunter2-typed-here"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("security:login"), {"username": typed, "password": "x" * 12})
    lock = AuditEvent.objects.get(action="lockout")
    assert typed not in str(lock.metadata)
    assert "login_fingerprint" in lock.metadata


def test_the_export_sends_its_first_rows_before_reading_the_whole_set(alice):
    from security.auditlog.rows import csv_lines

    for _ in range(3):
        event(user=alice)
    template = list(AuditEvent.objects.select_related("actor", "user", "impersonator"))
    read = []

    def events():
        for n in range(10_000):
            read.append(n)
            yield template[n % 3]

    lines = csv_lines(events(), chunk=2000, first=50)
    next(lines)  # the header
    next(lines)  # the first event
    assert len(read) == 50


def test_the_export_reads_in_batches_and_loses_no_event_between_them(alice):
    from security.auditlog.views import newest_first_in_batches

    same_second = datetime(2026, 3, 10, 8, 0, 0, tzinfo=UTC)
    made = [event(user=alice, when=same_second).pk for _ in range(7)]
    made += [event(user=alice).pk for _ in range(5)]
    read = [e.pk for e in newest_first_in_batches(AuditEvent.objects.all(), first=2, size=3)]
    assert read == sorted(made, key=lambda pk: (pk not in made[7:], -pk))
    assert len(read) == len(set(read)) == 12
