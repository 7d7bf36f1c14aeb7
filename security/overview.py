"""What the Security tab shows of the account's second factors, trusted browsers and
sign-in activity, read in one database round trip: each list's prepared lookup
(``panel.prepared``) sent together by ``all_together``. Each section read its own before,
four or five queries a view."""

from __future__ import annotations

from dataclasses import dataclass

from panel.prepared import PreparedLookup, all_together
from security.passkeys import ceremony, services as passkeys
from security.templatetags import security_sessions
from security.twofactor import backup_codes, totp
from security.twofactor.backup_codes import COUNT, LOW_WATERMARK


@dataclass(frozen=True)
class Overview:
    two_factor: dict  # twofactor_state's
    passkeys: dict  # the passkeys' rows and whether passkeys can work on this site
    trusted: list  # trusted_devices_for's rows (security_sessions.DeviceRow)
    activity: list[dict]  # signin_activity's rows


def twofactor_state(device, unused_codes: int, by_passkey: bool) -> dict:
    """``device``: the confirmed TOTP device or None; ``unused_codes``: the backup codes
    left; ``by_passkey``: whether the account has a passkey (a second factor on its own:
    2FA is on without the app)."""
    if device is None:
        return {"enabled": False, "by_passkey": by_passkey, "count": COUNT}
    return {
        "enabled": True,
        "unreadable": not totp.secret_readable(device),
        "unreadable_message": totp.UNREADABLE_MESSAGE,
        "remaining": unused_codes,
        "count": COUNT,
        "low": unused_codes <= LOW_WATERMARK,
    }


def lookups(user) -> list[tuple[PreparedLookup, tuple]]:
    """The prepared lookups of the tab's lists for ``user``: passkeys, 2FA device, unused
    backup codes, trusted devices, and the sign-in activity when it suits the account."""
    found = [
        (passkeys.CONFIRMED_PASSKEYS, (user.pk,)),
        (totp.CONFIRMED_DEVICE, (user.pk,)),
        (backup_codes.UNUSED_CODES, (user.pk,)),
        (security_sessions.TRUSTED_DEVICES, (user.pk,)),
    ]
    activity = security_sessions.activity_lookup(user)
    if activity is not None:
        found.append(activity)
    return found


def read(user) -> Overview:
    credentials, devices, unused, trusted, *events = all_together(*lookups(user))
    passkey_rows = passkeys.rows_for(user, credentials)
    return Overview(
        two_factor=twofactor_state(
            devices[0] if devices else None, len(unused), bool(passkey_rows)
        ),
        passkeys={"rows": passkey_rows, "available": ceremony.available()},
        trusted=security_sessions.trusted_devices_for(user, trusted),
        # Without a username and an email to match by: the ORM's query, on its own.
        activity=security_sessions.signin_activity(user, events=events[0] if events else None),
    )
