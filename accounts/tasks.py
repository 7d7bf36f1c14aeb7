"""Celery tasks that deliver the outbox.

Delivery is at least once: a row is claimed with one conditional UPDATE (no lock is held
while the SMTP server is talked to, which on SQLite would block every writer), sent, then
marked sent. A worker that dies between the SMTP server's "250 OK" and the mark sends
that email again after the lease; that is the price of never losing one.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.utils import timezone

from .models import OutboxEmail

logger = logging.getLogger(__name__)

# Longest wait between two attempts of the task's own retries.
MAX_BACKOFF = 600


def lease() -> timedelta:
    """How long a claimed row belongs to the worker that claimed it (EMAIL_SEND_LEASE,
    5 minutes). Longer than any single SMTP conversation (EMAIL_TIMEOUT bounds each
    socket operation); a row still pending after it is fair game for a redelivered task
    (a worker killed mid-send) and for the periodic re-send."""
    return settings.EMAIL_SEND_LEASE


def backoff(attempts: int) -> int:
    """Seconds before the retry that follows attempt ``attempts``: 10, 20, 40, ... <= 10 min
    (EMAIL_RETRY_BACKOFF is the first wait)."""
    return min(settings.EMAIL_RETRY_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def next_attempt_at(email: OutboxEmail):
    """When a pending email that failed is tried again: its retry's backoff after the
    last attempt (the periodic re-send catches it then, if the retry was lost). None
    when it is not waiting for a retry."""
    if (
        email.status != OutboxEmail.Status.PENDING
        or not email.attempts
        or not email.last_attempt_at
    ):
        return None
    return email.last_attempt_at + timedelta(seconds=backoff(email.attempts))


def _claim(outbox_id: int, after_attempt: int | None) -> int | None:
    """Take the row for one attempt; return the attempt number, or None if not ours.

    The row is ours when it is pending and nobody is sending it: never tried, its lease
    ran out, put back by an operator (attempts reset to 0), or this is the retry that
    the attempt ``after_attempt`` scheduled (and no one else has tried since). The UPDATE's WHERE makes the claim atomic on PostgreSQL
    and SQLite alike: of two concurrent claimers, one updates the row, the other none.
    """
    now = timezone.now()
    # attempts == 0 with an old last_attempt_at: an operator put a failed row back.
    free = Q(attempts=0) | Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=now - lease())
    if after_attempt is not None:
        free |= Q(attempts=after_attempt)
    claimed = (
        OutboxEmail.objects.filter(pk=outbox_id, status=OutboxEmail.Status.PENDING)
        .filter(free)
        .update(attempts=F("attempts") + 1, last_attempt_at=now)
    )
    if not claimed:
        return None
    return OutboxEmail.objects.values_list("attempts", flat=True).get(pk=outbox_id)


def message_id(email: OutboxEmail) -> str:
    """The Message-ID of an outbox row: the same on every attempt, so that in the one case
    a second copy can leave (a worker killed between the SMTP server's "250 OK" and the
    mark) the receiving side sees the same message twice, never two messages."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<outbox-{email.pk}-{int(email.created_at.timestamp())}@{host}>"


def _message(email: OutboxEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.recipient],
        headers={"Message-ID": message_id(email)},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


@shared_task(bind=True, max_retries=None, acks_late=True, ignore_result=True)
def send_outbox_email(self, outbox_id: int, after_attempt: int | None = None) -> str:
    """Send one outbox email; on an SMTP error retry with exponential backoff.

    Returns "sent", "retrying", "pending" (eager mode: left for the periodic re-send),
    "failed" (EMAIL_MAX_ATTEMPTS reached) or "skipped" (already sent, failed, gone, or
    being sent by someone else).
    """
    attempt = _claim(outbox_id, after_attempt)
    if attempt is None:
        return "skipped"
    email = OutboxEmail.objects.get(pk=outbox_id)
    try:
        _message(email).send()
    except Exception as exc:  # SMTP, socket and DNS errors alike
        # Only the exception's type and text: never the message body, which may carry a
        # one-time link.
        error = f"{type(exc).__name__}: {exc}"[:1000]
        exhausted = attempt >= settings.EMAIL_MAX_ATTEMPTS
        OutboxEmail.objects.filter(pk=outbox_id, attempts=attempt).update(
            last_error=error,
            status=OutboxEmail.Status.FAILED if exhausted else OutboxEmail.Status.PENDING,
        )
        logger.warning(
            "email %s (%s) attempt %s/%s failed: %s",
            outbox_id,
            email.template,
            attempt,
            settings.EMAIL_MAX_ATTEMPTS,
            type(exc).__name__,
        )
        if exhausted:
            return "failed"
        if self.request.is_eager:
            # Eager mode runs inside a web request: no sleeping there and no recursive
            # retry. The row stays pending; the periodic re-send picks it up.
            return "pending"
        raise self.retry(
            countdown=backoff(attempt),
            args=(outbox_id,),
            kwargs={"after_attempt": attempt},
        ) from None
    # The rendered text may hold a one-time link: keep it only until it is sent.
    OutboxEmail.objects.filter(pk=outbox_id, attempts=attempt).update(
        status=OutboxEmail.Status.SENT,
        sent_at=timezone.now(),
        last_error="",
        body_text="",
        body_html="",
    )
    logger.info("email %s (%s) sent on attempt %s", outbox_id, email.template, attempt)
    return "sent"


@shared_task(ignore_result=True)
def resend_pending_emails() -> int:
    """Re-queue pending emails that nobody is working on (Celery beat, every minute).

    That is a row whose enqueue never reached the broker (never tried, older than a
    minute) or whose last attempt's lease has run out (a lost retry or a dead worker).
    """
    now = timezone.now()
    ids = list(
        OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING)
        .filter(
            Q(last_attempt_at__isnull=True, created_at__lt=now - timedelta(minutes=1))
            | Q(last_attempt_at__lt=now - lease())
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    queued = 0
    for pk in ids:
        try:
            send_outbox_email.delay(pk)
        except Exception as exc:  # the broker went away again: the next run retries
            logger.warning(
                "re-send stopped after %s: broker unavailable (%s)", queued, type(exc).__name__
            )
            break
        queued += 1
    return queued
