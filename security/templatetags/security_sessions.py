"""Template helpers for the Sessions tab and the Security tab's devices and activity."""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from html import escape
from typing import NamedTuple

from django import template
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import mark_safe

from audit.models import AuditEvent
from panel.csrf import token_input
from panel.prepared import IEXACT, PreparedLookup
from panel.templatetags.cached_url import cached_reverse_pattern
from security.client import geoip, useragent
from security.client.models import Place
from security.devices.models import TrustedDevice
from security.sessions.services import policy_for

register = template.Library()

# Sign-in activity shown on the Security tab: action -> (label on success, label on failure).
ACTIVITY = {
    "signin": ("Signed in", "Failed sign-in"),
    "2fa_failed": ("Wrong two-factor code", "Wrong two-factor code"),
    "lockout": ("Locked out", "Locked out"),
    "new_device_code_failed": ("Wrong emailed code", "Wrong emailed code"),
    "suspicious_signin_held": ("Sign-in held for approval", "Sign-in held for approval"),
    "suspicious_signin_approved": ("Held sign-in approved", "Held sign-in approved"),
    "suspicious_signin_denied": ("Sign-in denied", "Sign-in denied"),
    # An administrator acting as the user (security.impersonation): who, and the reason.
    "impersonation_started": ("{who} started acting as you", ""),
    "impersonation_ended": ("{who} stopped acting as you", ""),
}
IMPERSONATION = ("impersonation_started", "impersonation_ended")
ACTIVITY_LIMIT = 20
# A failed sign-in whose reason the owner can act on: (action, metadata reason) -> label.
FAILURE_REASONS = {
    ("signin", "unverified"): "Sign-in refused: email address not verified yet",
    ("signin", "locked"): "Sign-in refused: too many failed attempts",
    ("signin", "rate_limited"): "Sign-in refused: too many attempts from one address",
}


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def short_date(value: datetime, zone=None) -> str:
    """What ``{{ value|date:"j M Y" }}`` renders ("7 Mar 2026", in the current time zone),
    without the filter's format parsing: a dozen rows a page. ``zone``: the current time
    zone, when the caller has it already (a row builder looks it up once, not per row)."""
    local = value.astimezone(zone) if zone is not None else timezone.template_localtime(value)
    return _day(local)


def _day(local: datetime) -> str:
    """``local`` (in the zone it is to be read in) as "7 Mar 2026"."""
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}"


def _day_time(local: datetime) -> str:
    """``local`` (in the zone it is to be read in) as "7 Mar 2026, 14:05"."""
    return f"{_day(local)}, {local.hour:02d}:{local.minute:02d}"


@register.filter(name="date_time")
def date_time(value: datetime | None) -> str:
    """``{{ value|date_time }}``: what ``{{ value|date:"j M Y, H:i" }}`` renders ("7 Mar
    2026, 14:05", in the current time zone), without the date filter's format parsing
    and lazy month names: about 0.26M instructions a call, the Sessions tab's costliest
    piece with one session listed."""
    if value in (None, ""):
        return ""
    return _day_time(timezone.template_localtime(value))  # as |date (expects_localtime)


def _units(num: int, unit: str) -> str:
    """What ``timesince``'s English strings give through ``avoid_wrapping``: "1\xa0day",
    "3\xa0days" (a no-break space; the panel is in English only: USE_I18N is off)."""
    return f"{num:d}\xa0{unit}" if num == 1 else f"{num:d}\xa0{unit}s"


_CHUNKS = (("week", 7 * 24 * 3600), ("day", 24 * 3600), ("hour", 3600), ("minute", 60))


def since(value: datetime, now: datetime) -> str:
    """``timesince(value, now, depth=1)`` (Django's words, its calendar months and years),
    in plain Python: each call of Django's goes through the lazy translation strings,
    ``avoid_wrapping``'s lazy-text wrapper and a pivot date, a tenth of the Security
    tab's CPU with its dozen rows. ``test_activity_rows.py`` compares the two on generated
    dates."""
    if value.tzinfo is not None and now.tzinfo is not None:
        now = now.astimezone(value.tzinfo)  # compared in the same time zone, as Django's
    delta = now - value
    if delta.days * 24 * 3600 + delta.seconds <= 0:
        return _units(0, "minute")
    months = (now.year - value.year) * 12 + (now.month - value.month)
    if value.day > now.day or (value.day == now.day and value.time() > now.time()):
        months -= 1
    years, months = divmod(months, 12)
    if years:
        return _units(years, "year")
    if months:
        return _units(months, "month")
    seconds = delta.total_seconds()
    for unit, length in _CHUNKS:
        if seconds >= length:
            return _units(int(seconds // length), unit)
    return _units(0, "minute")


# What ``ago`` says of a moment less than 27 days back: one unit, the largest that fits
# (``since``'s words, as Django's ``timesince`` with depth 1 gives them; no calendar month
# fits in 27 days, even across a change of summer time). Each string made once, as text
# and as markup: a Security tab view says it of a dozen trusted browsers and twenty
# sign-ins, and ``since`` costs about three times a lookup here.
_RECENT = 27 * 24 * 3600
_BOUNDS = (3600, 24 * 3600, 7 * 24 * 3600, _RECENT)  # below each: minutes, hours, days, weeks
_LENGTHS = (60, 3600, 24 * 3600, 7 * 24 * 3600)
_UNITS = ("minute", "hour", "day", "week")


def _recent_words(html: bool) -> tuple[tuple[str, ...], ...]:
    space = "&nbsp;" if html else "\xa0"
    return tuple(
        tuple(
            f"{n}{space}{unit}{'' if n == 1 else 's'} ago" if n else ""
            for n in range(bound // length + 1)
        )
        for unit, bound, length in zip(_UNITS, _BOUNDS, _LENGTHS, strict=True)
    )


_RECENT_TEXT, _RECENT_HTML = _recent_words(html=False), _recent_words(html=True)


def _ago(value: datetime | None, now: datetime | None, recent: tuple) -> str:
    if not value:
        return ""
    now = now or timezone.now()
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < _RECENT:
        unit = bisect_right(_BOUNDS, seconds)
        return recent[unit][int(seconds // _LENGTHS[unit])]
    return f"{since(value, now)} ago"


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """ "just now", "5 minutes ago", "2 days ago" (Django's ``timesince``). ``now``: the
    time, when the caller has it already (a row builder reads the clock once)."""
    return _ago(value, now, _RECENT_TEXT)


def ago_html(value: datetime | None, now: datetime | None = None) -> str:
    """``ago`` as HTML: its words and numbers need no escaping, its no-break spaces are
    written ``&nbsp;``. The panel's markup is ASCII (``panel/tests/test_ascii_markup.py``):
    encoding an ASCII page is a copy, a page with one other character costs UTF-8's
    encoder about twelve instructions a character, a twentieth of the Security tab's CPU."""
    return _ago(value, now, _RECENT_HTML).replace("\xa0", "&nbsp;")  # since()'s words


@register.filter(name="ago")
def ago_markup(value: datetime | None, now: datetime | None = None) -> str:
    """``{{ value|ago }}``: ``ago_html``, marked safe."""
    return mark_safe(ago_html(value, now))  # noqa: S308 (fixed words and numbers)


# The device icons, as constants: an {% include %} per listed session or device cost a
# template render each.
_SVG = '<svg class="device-icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">{}</svg>'
HANDHELD_ICON = mark_safe(
    _SVG.format(
        '<rect x="6.5" y="2.5" width="11" height="19" rx="2" fill="none" stroke="currentColor" stroke-width="1.6"/>'
        '<line x1="10.5" y1="18.5" x2="13.5" y2="18.5" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>'
    )
)
DESKTOP_ICON = mark_safe(
    _SVG.format(
        '<rect x="2.5" y="4" width="19" height="12.5" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.6"/>'
        '<line x1="8" y1="20" x2="16" y2="20" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>'
        '<line x1="12" y1="16.5" x2="12" y2="20" stroke="currentColor" stroke-width="1.6"/>'
    )
)


@register.simple_tag
def device_icon(kind: str) -> str:
    """``{% device_icon s.device_type %}``: a phone for "mobile" and "tablet", else a screen."""
    return HANDHELD_ICON if kind in ("mobile", "tablet") else DESKTOP_ICON


# One trusted device of the Security tab's list. Built in Python, not a template loop:
# with a dozen browsers the loop's tags and filters were a third of the page's CPU; and
# an f-string, not ``str.format`` with keywords (which parses its format on each call).
def _trusted_row(d: DeviceRow, csrf: str, zone, now: datetime, head: str, tail: str) -> str:
    name = escape(d.name or d.device_label)
    return f"""<li class="session-item">
      <div class="session-icon">{device_icon(d.device_type)}</div>
      <div class="session-main">
        <p class="session-device"><strong>{name}</strong></p>
        <p class="session-meta muted small">{escape(d.location_label)} <span class="sep" aria-hidden="true">&middot;</span> First seen {short_date(d.created_at, zone)} <span class="sep" aria-hidden="true">&middot;</span> Last seen {ago_html(d.last_seen_at, now)}</p>
      </div>
      <div class="session-actions">
        <form method="post" action="{head}{d.pk:d}{tail}">{csrf}<button type="submit" class="btn btn-secondary btn-sm" aria-label="Forget {name}">Forget</button></form>
      </div>
    </li>
"""


class Clock(NamedTuple):
    """The current time zone and time, read once for a page's lists (the zone through
    asgiref's ``Local`` costs about 27,000 instructions when none is activated, as in
    the panel): every "5 minutes ago" of one page counts from the same moment."""

    zone: object
    now: datetime


def clock() -> Clock:
    return Clock(timezone.get_current_timezone(), timezone.now())


@register.simple_tag(takes_context=True)
def trusted_device_rows(context, devices, at: Clock | None = None) -> str:
    """``{% trusted_device_rows trusted overview.clock %}``: the list items of
    ``TRUSTED_DEVICES``' rows, each with its Forget form (the page's CSRF token, as
    ``{% csrf_token %}`` gives it), dated by ``at`` (a ``Clock``; read now without).
    Every text is escaped as ``format_html`` would (``html.escape``, which Django's
    ``escape`` is); the icon and the token are markup already."""
    csrf = token_input(context)  # what {% csrf_token %} renders, once
    zone, now = at or clock()  # once, not per row
    # Reversed once per process, not once a row (a reverse is the costliest part of one).
    head, _, tail = cached_reverse_pattern(
        "security:device_forget", getattr(context, "request", None)
    )
    head, tail = escape(head), escape(tail)
    return mark_safe(  # noqa: S308 (every text in a row is escaped)
        "".join([_trusted_row(d, csrf, zone, now, head, tail) for d in devices])
    )


# One row of the Security tab's sign-in activity, built in Python for the reason the
# trusted-device rows are: up to twenty rows of tags and filters.
_ACTIVITY_ROW = """<tr>
          <td data-label="Event">{event}</td>
          <td data-label="When"><time datetime="{iso}" title="{title} UTC">{ago}</time></td>
          <td data-label="Location">{location}</td>
          <td data-label="IP address" class="mono">{ip}</td>
          <td data-label="Device">{device}</td>
        </tr>
        """


def _activity_event(row: dict) -> str:
    label = escape(row["label"])
    if row["failed"]:
        return f'<span class="badge badge-danger">{label}</span>'
    if row["by_admin"]:
        reason = escape(row["reason"])
        return (
            f'<span class="badge badge-warn">{label}</span><br>'
            f'<span class="small">Reason: {reason}</span>'
        )
    return f'<span class="badge badge-success">{label}</span>'


@register.simple_tag
def activity_rows(rows: list[dict], at: Clock | None = None) -> str:
    """``{% activity_rows activity overview.clock %}``: the table rows of
    ``signin_activity``, as the template loop rendered them (``test_activity_rows.py``
    compares the two), dated by ``at`` (a ``Clock``; read now without). Every text is
    escaped (``html.escape``, which Django's ``escape`` is)."""
    parts = []
    zone, now = at or clock()  # once, not per row
    for row in rows:
        when = row["when"].astimezone(zone)  # template_localtime of an aware datetime
        parts.append(
            _ACTIVITY_ROW.format(
                event=_activity_event(row),
                iso=escape(when.isoformat()),
                title=_day_time(when),
                ago=ago_html(row["when"], now),
                location=escape(row["location"]),
                ip=escape(row["ip"]) if row["ip"] else "&mdash;",
                device=escape(row["device"]),
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)


@register.simple_tag
def session_policy(user):

    return policy_for(user)


class DeviceRow(NamedTuple):
    """What the Security tab shows of a trusted device (``TRUSTED_DEVICES``' rows): a
    dozen rows a page, built as tuples of the columns shown, not model instances."""

    pk: int
    name: str
    browser: str
    os: str
    device_type: str
    city: str
    country: str
    created_at: datetime
    last_seen_at: datetime

    device_label = Place.device_label
    location_label = Place.location_label


# The user's trusted devices, most recently seen first; compiled once (panel.prepared):
# the Security tab lists them on every view (security.overview).
TRUSTED_DEVICES = PreparedLookup(
    TrustedDevice,
    lambda user_id: TrustedDevice.objects.filter(user_id=user_id).order_by("-last_seen_at"),
    row=DeviceRow,
)


class EventRow(NamedTuple):
    """The columns of an audit event the sign-in activity shows (``ACTIVITY_EVENTS``)."""

    action: str
    outcome: str
    created_at: datetime
    ip: str | None
    user_agent: str
    metadata: dict
    impersonator_id: int | None


def _activity_events(user_id, *logins):
    """The user's events, and the failed sign-ins typed with one of ``logins``."""
    typed = Q()
    for login in logins:
        typed |= Q(metadata__login__iexact=login)
    mine = Q(user_id=user_id)
    if logins:
        # The shared conditions once, not once per login: a smaller query to compile.
        mine |= Q(user__isnull=True, action="signin") & typed
    # The impersonators' names are read apart (_administrators), for the rare rows that
    # need one: a join would read every row's administrator, password hash included.
    return AuditEvent.objects.filter(mine, action__in=list(ACTIVITY))


# Compiled once (panel.prepared): the Security tab's costliest query to compile.
ACTIVITY_EVENTS = PreparedLookup(
    AuditEvent,
    lambda user_id, username, email: _activity_events(user_id, username, email)[:ACTIVITY_LIMIT],
    kinds=(int, IEXACT, IEXACT),
    row=EventRow,
)


def _logins(user) -> list[str]:
    """What a failed sign-in of ``user`` may have typed: the username, the email."""
    return [login for login in (user.get_username(), user.email) if login]


def activity_lookup(user) -> tuple[PreparedLookup, tuple] | None:
    """``ACTIVITY_EVENTS`` and its values for ``user``, when they suit it (a username and
    an email to match the failed sign-ins by)."""
    names = _logins(user)
    return (ACTIVITY_EVENTS, (user.pk, *names)) if len(names) == 2 else None


def _administrators(events) -> dict[int, str]:
    """The full names of the administrators who acted as the user in ``events``: one
    query, and none when no listed event is an impersonation."""
    ids = {e.impersonator_id for e in events if e.action in IMPERSONATION and e.impersonator_id}
    if not ids:
        return {}
    return {u.pk: u.get_full_name() for u in get_user_model().objects.filter(pk__in=ids)}


@register.simple_tag
def signin_activity(user, limit: int = ACTIVITY_LIMIT, events=None) -> list[dict]:
    """Recent sign-in events of ``user`` from the audit trail, newest first. Failed
    passwords are recorded before anyone is known, so they are matched by the login typed.
    ``events``: ``activity_lookup``'s rows when read already."""
    if events is None:
        lookup = activity_lookup(user)
        if lookup is not None and limit == ACTIVITY_LIMIT:
            events = lookup[0].all(*lookup[1])
        else:
            queryset = _activity_events(user.pk, *_logins(user))[:limit]
            events = list(map(EventRow._make, queryset.values_list(*EventRow._fields)))
    # Rows repeat the same few browsers and addresses: each is parsed or located once.
    parsed: dict[str, str] = {}
    located: dict[str, str] = {}
    administrators = _administrators(events)
    rows = []
    for event in events:
        ok_label, failed_label = ACTIVITY[event.action]
        failed = event.outcome != AuditEvent.Outcome.SUCCESS
        by_admin = event.action in IMPERSONATION
        if by_admin:
            who = administrators.get(event.impersonator_id, "An administrator")
            ok_label = ok_label.format(who=f"{who} (administrator)")
        if event.user_agent not in parsed:
            parsed[event.user_agent] = (
                useragent.parse(event.user_agent).label if event.user_agent else "Unknown browser"
            )
        if event.ip and event.ip not in located:
            located[event.ip] = geoip.lookup(event.ip).label
        rows.append(
            {
                "when": event.created_at,
                "label": (
                    FAILURE_REASONS.get((event.action, (event.metadata or {}).get("reason")))
                    or failed_label
                )
                if failed
                else ok_label,
                "failed": failed
                or event.action in ("lockout", "2fa_failed", "new_device_code_failed"),
                "by_admin": by_admin,
                "reason": (event.metadata or {}).get("reason", "") if by_admin else "",
                "ip": event.ip or "",
                "location": located[event.ip] if event.ip else "Unknown",
                "device": parsed[event.user_agent],
            }
        )
    return rows
