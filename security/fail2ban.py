"""The fail2ban log: one line per failed sign-in, failed code and lockout.

Every such event is an audit event, so one receiver (``post_save`` of ``AuditEvent``)
writes the line for every path (password, 2FA step, emailed device code, a code or
password on a signed-in page, lockouts), with nothing to forget in a new path.

Format (logger ``panel.fail2ban``, file ``FAIL2BAN_LOG``)::

    2026-03-10T08:30:00+0000 panel-auth signin_failed from 203.0.113.9 user="alice"

- the time is UTC; the event is one of ``EVENTS``' values; the address is the client's
  (``panel.net.client_ip``: behind trusted proxies, the forwarded one);
- ``user`` is the account's username, or ``#<keyed hash>`` for a name that is no account
  (it may be a password typed in the wrong field), or ``-``. It comes last and is
  quoted, with ``"`` and ``\\`` backslash-escaped and control characters written as
  ``\\xNN``, so no username can end the line or put a second address before it.
"""

from __future__ import annotations

import logging

from audit.actions import Action
from audit.models import AuditEvent
from audit.services import escape_for_log

logger = logging.getLogger("panel.fail2ban")

# (action, outcome) -> the event word of the line.
EVENTS = {
    (Action.SIGNIN, AuditEvent.Outcome.FAILURE): "signin_failed",
    (Action.TWO_FACTOR_FAILED, AuditEvent.Outcome.FAILURE): "2fa_failed",
    (Action.NEW_DEVICE_CODE_FAILED, AuditEvent.Outcome.FAILURE): "device_code_failed",
    (Action.REAUTH_FAILED, AuditEvent.Outcome.FAILURE): "reauth_failed",
    (Action.LOCKOUT, AuditEvent.Outcome.DENIED): "lockout",
}


def _quoted(value: str) -> str:
    return '"' + escape_for_log(value.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def line_for(event: AuditEvent) -> str | None:
    word = EVENTS.get((event.action, event.outcome))
    if word is None or not event.ip:
        return None
    if word == "signin_failed" and (event.metadata or {}).get("reason") == "unverified":
        return None  # the password was right: nothing to ban
    metadata = event.metadata or {}
    if event.user_id is not None:
        user = _quoted(event.user.get_username())
    elif metadata.get("login_fingerprint"):
        user = _quoted("#" + str(metadata["login_fingerprint"]))
    else:
        user = "-"
    return f"panel-auth {word} from {escape_for_log(event.ip)} user={user}"


def write_line(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    """``post_save`` receiver of ``AuditEvent``."""
    if not created:
        return
    line = line_for(instance)
    if line is not None:
        logger.info(line)
