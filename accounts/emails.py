"""The one way the panel sends email: render, record in the outbox, queue on commit."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from accounts.tasks import send_outbox_email

from .models import OutboxEmail

logger = logging.getLogger(__name__)

# While an administrator acts as a user, notices about what the administrator does are
# not sent to that user (security.impersonation sets this for the request).
_withheld_from: ContextVar[str] = ContextVar("panel_notices_withheld_from", default="")


@contextmanager
def notices_withheld_from(address: str) -> Iterator[None]:
    """Within the block, ``send_email`` records and sends nothing to ``address`` (case
    ignored) unless called with ``always=True``."""
    token = _withheld_from.set((address or "").strip().lower())
    try:
        yield
    finally:
        _withheld_from.reset(token)


def is_withheld(address: str) -> bool:
    withheld = _withheld_from.get()
    return bool(withheld) and (address or "").strip().lower() == withheld


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Render ``emails/<template>_{subject.txt,body.txt,body.html}``.

    The subject is folded onto one line: a header never carries a line break.
    """
    ctx = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", ctx).split())
    text = render_to_string(f"emails/{template}_body.txt", ctx)
    html = render_to_string(f"emails/{template}_body.html", ctx)
    return subject, text, html


def send_email(
    *, to: str, template: str, context: dict[str, Any] | None = None, always: bool = False
) -> OutboxEmail:
    """Record an email in the outbox and hand it to Celery once the transaction commits.

    Called inside a service's ``transaction.atomic()``, nothing is queued if the
    transaction rolls back. If the broker is unreachable the row stays pending and the
    periodic re-send delivers it later: an email is never lost to an outage.
    """
    if not to or "\r" in to or "\n" in to:
        raise ValueError("send_email needs one recipient address without line breaks.")
    if not always and is_withheld(to):
        # An administrator is acting as this user: the notice would describe the
        # administrator's action as theirs. The unsaved row is returned so callers work.
        logger.info("email %s withheld: an administrator is acting as the recipient", template)
        return OutboxEmail(recipient=to, template=template, subject="")
    subject, text, html = render_email(template, context or {})
    email = OutboxEmail.objects.create(
        recipient=to, template=template, subject=subject[:255], body_text=text, body_html=html
    )
    transaction.on_commit(lambda: enqueue(email.pk))
    return email


def enqueue(outbox_id: int) -> None:
    """Hand one outbox row to the send task; a broker outage leaves it pending."""

    try:
        send_outbox_email.delay(outbox_id)
    except Exception as exc:  # the broker is down: beat will pick the row up
        logger.warning(
            "email %s left pending: broker unavailable (%s)", outbox_id, type(exc).__name__
        )
