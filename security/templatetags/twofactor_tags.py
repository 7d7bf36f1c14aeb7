"""``{% twofactor_state user as tf %}``: what the Security tab shows about 2FA."""

from __future__ import annotations

from django import template

from security.passkeys.services import has_passkey
from security.twofactor import totp
from security.twofactor.backup_codes import COUNT, LOW_WATERMARK, remaining

register = template.Library()


@register.simple_tag
def twofactor_state(user, passkey_rows=None) -> dict:
    """``passkey_rows``: the user's passkeys when the page has read them already (the
    Security tab lists them), which saves asking the database whether one exists."""
    device = totp.confirmed_device(user)
    if device is None:
        # A passkey alone is a second factor too: 2FA is on, without the app.
        by_passkey = bool(passkey_rows) if passkey_rows is not None else has_passkey(user)
        return {"enabled": False, "by_passkey": by_passkey, "count": COUNT}
    left = remaining(user)
    return {
        "enabled": True,
        "unreadable": not totp.secret_readable(device),
        "unreadable_message": totp.UNREADABLE_MESSAGE,
        "remaining": left,
        "count": COUNT,
        "low": left <= LOW_WATERMARK,
    }
