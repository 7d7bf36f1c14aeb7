"""Celery tasks that deliver the outbox."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from .models import OutboxEmail

logger = logging.getLogger(__name__)

# A pending email untouched for this long is re-queued by the periodic task.
RESEND_AFTER = timedelta(minutes=2)


def _backoff(attempts: int) -> int:
    """Seconds before retry number ``attempts``: 10, 20, 40, ... capped at 10 minutes."""
    return min(10 * 2 ** max(attempts - 1, 0), 600)


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_outbox_email(self, outbox_id: int) -> str:
    """Send one outbox email; on an SMTP error retry with exponential backoff.

    The row is locked while it is sent so that a retry and the periodic re-send never
    deliver the same email twice.
    """
    with transaction.atomic():
        email = OutboxEmail.objects.select_for_update().filter(pk=outbox_id).first()
        if email is None or email.status != OutboxEmail.Status.PENDING:
            return "skipped"
        email.attempts += 1
        email.last_attempt_at = timezone.now()
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.recipient],
        )
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        try:
            message.send()
        except Exception as exc:  # SMTP, socket and DNS errors alike
            # Only the exception's type and text: never the message body, which may
            # carry a one-time link.
            email.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            if email.attempts >= settings.EMAIL_MAX_ATTEMPTS:
                email.status = OutboxEmail.Status.FAILED
            email.save()
            logger.warning(
                "email %s (%s) attempt %s failed: %s",
                email.pk,
                email.template,
                email.attempts,
                type(exc).__name__,
            )
            retry = email.status == OutboxEmail.Status.PENDING
        else:
            email.status = OutboxEmail.Status.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
            # The rendered text may hold a one-time link: keep it only until it is sent.
            email.body_text = ""
            email.body_html = ""
            email.save()
            return "sent"
    if retry and not self.request.is_eager:
        raise self.retry(countdown=_backoff(email.attempts))
    return "failed"


@shared_task
def resend_pending_emails() -> int:
    """Re-queue pending emails that no worker has touched lately (beat, every minute)."""
    cutoff = timezone.now() - RESEND_AFTER
    ids = list(
        OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING, created_at__lt=cutoff)
        .exclude(last_attempt_at__gt=cutoff)
        .values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        send_outbox_email.delay(pk)
    return len(ids)
