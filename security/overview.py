"""What the Security tab shows of the account's second factors, trusted browsers and
sign-in activity, read in one database round trip: each list's prepared lookup
(``panel.prepared``) sent together by ``all_together``. Each section read its own before,
four or five queries a view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from panel.prepared import PreparedLookup, all_together
from security.passkeys import ceremony, services as passkeys
from security.templatetags import security_sessions
from security.twofactor import backup_codes, totp
from security.twofactor.backup_codes import COUNT, LOW_WATERMARK
from security.twofactor.models import EncryptedTOTPDevice


@dataclass(frozen=True)
class Overview:
    two_factor: dict  # twofactor_state's
    passkeys: dict  # the passkeys' lines and whether passkeys can work on this site
    trusted: list  # TRUSTED_DEVICES' rows, most recently seen first (DeviceRow)
    activity: list[dict]  # signin_activity's rows
    clock: security_sessions.Clock  # the zone and the time every list's dates use


class PasskeyLine(NamedTuple):
    """A passkey as the tab lists it, its dates as text already: the card is kept per
    state (``include_pure``), and "Last used 5 minutes ago" is part of the state."""

    pk: int
    name: str
    kind: str
    added: str  # "7 Mar 2026", in the viewer's time zone
    last_used: str  # "5&nbsp;minutes ago" (markup), or "" when never used


def passkey_lines(
    rows: list[passkeys.PasskeyRow], at: security_sessions.Clock | None = None
) -> tuple[PasskeyLine, ...]:
    zone, now = at or security_sessions.clock()
    return tuple(
        PasskeyLine(
            row.pk,
            row.name,
            row.kind,
            security_sessions.short_date(row.created_at, zone),
            security_sessions.ago_markup(row.last_used_at, now),  # ASCII: "5&nbsp;minutes"
        )
        for row in rows
    )


class AppRow(NamedTuple):
    """The confirmed authenticator app of ``APP``, with its unused backup codes counted."""

    pk: int
    user_id: int
    encrypted_key: str
    unused_codes: int

    bin_key = EncryptedTOTPDevice.bin_key  # what secret_readable decrypts


def _app_with_codes(user_id: int):
    unused = (
        backup_codes.unused_codes(OuterRef("user_id"))
        .order_by()
        .values("code_set__user_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return (
        totp.confirmed_devices(user_id)
        .annotate(unused_codes=Coalesce(Subquery(unused, output_field=IntegerField()), 0))
        .order_by("pk")[:1]
    )


# The app and its codes' count in one statement (compiled once, panel.prepared): each
# statement of the tab's round trip costs its own result to read.
APP = PreparedLookup(EncryptedTOTPDevice, _app_with_codes, row=AppRow)


def twofactor_state(app: AppRow | None, by_passkey: bool) -> dict:
    """``app``: ``APP``'s row (the confirmed authenticator with its unused backup codes
    counted) or None; ``by_passkey``: whether the account has a passkey (a second factor
    on its own: 2FA is on without the app)."""
    if app is None:
        # Every key the section reads, each time: a missing one costs the template
        # engine a failed lookup (a dir() of the dict).
        return {
            "enabled": False,
            "by_passkey": by_passkey,
            "unreadable": False,
            "unreadable_message": "",
            "remaining": 0,
            "count": COUNT,
            "low": False,
        }
    return {
        "enabled": True,
        "unreadable": not totp.secret_readable(app),
        "unreadable_message": totp.UNREADABLE_MESSAGE,
        "remaining": app.unused_codes,
        "count": COUNT,
        "low": app.unused_codes <= LOW_WATERMARK,
    }


def lookups(user) -> list[tuple[PreparedLookup, tuple]]:
    """The prepared lookups of the tab's lists for ``user``: passkeys, the authenticator
    app with its unused backup codes, trusted devices, and the sign-in activity when it
    suits the account."""
    found = [
        (passkeys.CONFIRMED_PASSKEYS, (user.pk,)),
        (APP, (user.pk,)),
        (security_sessions.TRUSTED_DEVICES, (user.pk,)),
    ]
    activity = security_sessions.activity_lookup(user)
    if activity is not None:
        found.append(activity)
    return found


def read(user) -> Overview:
    credentials, apps, trusted, *events = all_together(*lookups(user))
    passkey_rows = passkeys.rows_for(user, credentials)
    at = security_sessions.clock()  # once for the page's lists
    return Overview(
        two_factor=twofactor_state(apps[0] if apps else None, bool(passkey_rows)),
        passkeys={"rows": passkey_lines(passkey_rows, at), "available": ceremony.available()},
        trusted=trusted,
        # Without a username and an email to match by: the ORM's query, on its own.
        activity=security_sessions.signin_activity(user, events=events[0] if events else None),
        clock=at,
    )
