"""Whose events the Security tab's sign-in activity lists: the account's own, and failed
passwords typed for its username or email (recorded before anyone is known), never
another account's."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from security.templatetags.security_sessions import signin_activity

pytestmark = pytest.mark.django_db


def failed_password(login: str, ip: str) -> None:
    AuditEvent.objects.create(action="signin", outcome="failure", ip=ip, metadata={"login": login})


def test_failed_passwords_for_the_username_or_email_are_listed_and_no_one_elses(alice, bob):
    failed_password(alice.username.upper(), "198.51.100.1")
    failed_password(alice.email.upper(), "198.51.100.2")
    failed_password(bob.username, "198.51.100.3")
    failed_password(bob.email, "198.51.100.4")
    # Not a sign-in: an anonymous event of another kind with alice's login is not hers.
    AuditEvent.objects.create(
        action="lockout", outcome="failure", ip="198.51.100.5", metadata={"login": alice.username}
    )
    AuditEvent.objects.create(action="signin", outcome="success", user=bob, ip="198.51.100.6")
    AuditEvent.objects.create(action="signin", outcome="success", user=alice, ip="198.51.100.7")

    ips = {row["ip"] for row in signin_activity(alice)}

    assert ips == {"198.51.100.1", "198.51.100.2", "198.51.100.7"}


# The rows as the template loop rendered them before activity_rows was built in Python
# (its dash written as an entity since the markup is ASCII).
FORMER_LOOP = """{% load security_sessions %}{% for a in activity %}
        <tr>
          <td data-label="Event">{% if a.failed %}<span class="badge badge-danger">{{ a.label }}</span>{% elif a.by_admin %}<span class="badge badge-warn">{{ a.label }}</span><br><span class="small">Reason: {{ a.reason }}</span>{% else %}<span class="badge badge-success">{{ a.label }}</span>{% endif %}</td>
          <td data-label="When"><time datetime="{{ a.when|date:'c' }}" title="{{ a.when|date:'j M Y, H:i' }} UTC">{{ a.when|ago }}</time></td>
          <td data-label="Location">{{ a.location }}</td>
          <td data-label="IP address" class="mono">{{ a.ip|default:"&mdash;" }}</td>
          <td data-label="Device">{{ a.device }}</td>
        </tr>
        {% endfor %}"""


def test_the_rows_built_in_python_are_what_the_template_loop_rendered():
    import re
    from datetime import UTC, datetime, timedelta

    from django.template import engines
    from django.utils import timezone

    from security.templatetags.security_sessions import activity_rows

    now = timezone.now()
    base = {"failed": False, "by_admin": False, "reason": "", "location": "Paris, France"}
    rows = [
        {
            **base,
            "when": now - timedelta(seconds=5),
            "label": "Signed in",
            "ip": "198.51.100.7",
            "device": "Firefox 128 on Linux",
        },
        {
            **base,
            "when": now - timedelta(days=3, hours=2),
            "label": "Failed sign-in",
            "failed": True,
            "ip": "",
            "location": "Unknown",
            "device": "Unknown browser",
        },
        {
            **base,
            "when": datetime(2025, 2, 3, 4, 5, 6, 789, tzinfo=UTC),
            "label": "<b>Root</b> (administrator) started acting as you",
            "by_admin": True,
            "reason": 'Ticket "#42" <script>x</script> & more',
            "ip": "2001:db8::1",
            "device": "Chrome 130 on <Windows>",
        },
    ]
    former = engines["django"].from_string(FORMER_LOOP).render({"activity": rows})

    def normalized(html: str) -> str:
        return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()

    ours = activity_rows(rows)
    assert normalized(ours) == normalized(former)
    assert "<script>" not in ours and "&lt;b&gt;Root&lt;/b&gt;" in ours


@pytest.mark.parametrize(
    "before",
    [
        {"seconds": 59},
        {"seconds": 61},
        {"minutes": 59, "seconds": 59},
        {"hours": 1},
        {"hours": 23},
        {"days": 1},
        {"days": 6},
        {"days": 13},
        {"days": 40},
        {"days": 400},
        {"days": 1200},
    ],
)
def test_ago_says_what_djangos_timesince_says(before):
    from datetime import timedelta

    from django.utils import timezone
    from django.utils.timesince import timesince

    from security.templatetags.security_sessions import ago

    now = timezone.now()
    value = now - timedelta(**before)
    expected = "just now" if before == {"seconds": 59} else f"{timesince(value, now, depth=1)} ago"
    import time_machine

    with time_machine.travel(now, tick=False):
        assert ago(value) == expected


def test_since_says_what_djangos_timesince_says_for_any_two_moments():
    """``since`` re-states ``timesince(depth=1)`` in plain Python: the same words for any
    two moments, in any zones, calendar months and leap days included."""
    from datetime import UTC, datetime, timedelta, timezone

    from django.utils.timesince import timesince
    from hypothesis import given, settings as hypothesis_settings, strategies as st

    from security.templatetags.security_sessions import since

    zones = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=13))])
    moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31))

    @hypothesis_settings(max_examples=600, deadline=None)
    @given(value=moments, zone=zones, later=st.timedeltas(timedelta(0), timedelta(days=9000)))
    def check(value, zone, later):
        value = value.replace(tzinfo=zone)
        for now in (value + later, value - later):
            assert since(value, now.astimezone(UTC)) == timesince(value, now, depth=1)

    check()


def test_ago_says_what_djangos_timesince_says_in_its_first_weeks():
    """``ago`` answers moments less than 27 days back from words made once (a unit and a
    count); around that bound and in zones with odd offsets it says what ``timesince``
    says, as text and as markup (``ago_html``: the no-break space as ``&nbsp;``)."""
    from datetime import UTC, datetime, timedelta, timezone

    from django.utils.timesince import timesince
    from hypothesis import example, given, settings as hypothesis_settings, strategies as st

    from security.templatetags.security_sessions import ago, ago_html

    zones = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=13))])
    moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31))
    back = st.timedeltas(timedelta(0), timedelta(days=60))

    @hypothesis_settings(max_examples=600, deadline=None)
    @given(now=moments, zone=zones, before=back)
    @example(now=datetime(2026, 3, 1), zone=UTC, before=timedelta(days=27, seconds=-1))
    @example(now=datetime(2026, 3, 1), zone=UTC, before=timedelta(days=28))
    @example(now=datetime(2026, 3, 1), zone=UTC, before=timedelta(minutes=59, seconds=59))
    @example(now=datetime(2026, 3, 1), zone=UTC, before=timedelta(seconds=60))
    def check(now, zone, before):
        now = now.replace(tzinfo=UTC)
        value = (now - before).astimezone(zone)
        if before.total_seconds() < 60:
            expected = "just now"
        else:
            expected = f"{timesince(value, now, depth=1)} ago"
        assert ago(value, now) == expected
        assert ago_html(value, now) == expected.replace("\xa0", "&nbsp;")

    check()


def test_date_time_says_what_djangos_date_filter_says():
    """``|date_time`` is ``|date:"j M Y, H:i"`` (the current time zone, naive values as
    they are, nothing for None or "")."""
    from datetime import UTC, datetime, timedelta, timezone

    from django.template.defaultfilters import date as django_date
    from django.utils import timezone as django_timezone
    from hypothesis import given, settings as hypothesis_settings, strategies as st

    from security.templatetags.security_sessions import date_time

    zones = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=13))])
    moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31))

    @hypothesis_settings(max_examples=300, deadline=None)
    @given(moment=moments, zone=zones, current=zones, aware=st.booleans())
    def check(moment, zone, current, aware):
        value = moment.replace(tzinfo=zone) if aware else moment
        with django_timezone.override(current):
            expected = django_date(django_timezone.template_localtime(value), "j M Y, H:i")
            assert date_time(value) == expected

    check()
    assert date_time(None) == django_date(None, "j M Y, H:i") == ""
    assert date_time("") == django_date("", "j M Y, H:i") == ""
