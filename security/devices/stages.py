"""New-device approval in the sign-in pipeline (``security.signin.stages``).

The stage: a sign-in from a browser the account has not trusted yet (and not its first
sign-in ever) waits for the code emailed to the owner. The after-login hook: the browser
is trusted (or its last use noted), and a sign-in from a new browser is announced by
email with a "This wasn't me" link.
"""

from __future__ import annotations

import logging

from accounts.emails import send_email
from panel.links import absolute_reverse
from security.devices import services as devices
from security.sessions.models import TrackedSession
from security.sessions.services import policy_for, report_token
from security.signin import pending, stages
from security.signin.outcomes import DeviceCodeRequired

logger = logging.getLogger(__name__)


def ask_for_the_emailed_code(attempt: stages.Attempt) -> DeviceCodeRequired | None:
    request, user = attempt.request, attempt.user
    token = devices.ensure_token(request)
    if devices.trusted_device(user, token) is not None:
        return None
    if not policy_for(user).new_device_approval or devices.is_first_signin(user):
        return None
    pending.start(request, user, stage="device", method=attempt.method, next_url=attempt.next_url)
    devices.start_challenge(request=request, user=user, token=token, otp_device=attempt.otp_device)
    return DeviceCodeRequired(user_id=user.pk)


def trust_this_browser(attempt: stages.Attempt, record: TrackedSession) -> tuple[str, ...]:
    request, user = attempt.request, attempt.user
    token = devices.ensure_token(request)
    device = devices.trusted_device(user, token)
    first = devices.is_first_signin(user, exclude_session=record.pk)
    if device is None:
        new_device = True
        if first or not policy_for(user).new_device_approval:
            devices.trust(
                request=request, user=user, token=token, via="first_signin" if first else "signin"
            )
        else:  # pragma: no cover - every pipeline path asks for the code first
            logger.warning(
                "sign-in completed on an unapproved device without a code (user id %s)", user.pk
            )
    else:
        # Trusted in this very request (the emailed code, an approval): still new.
        new_device = getattr(request, "_device_newly_trusted", None) is not None
        devices.seen(device, request)
    if new_device and not first:
        send_email(
            to=user.email,
            template="new_signin",
            context={
                "user": user,
                "session": record,
                "when": record.created_at,
                "not_me_link": absolute_reverse("security:not_me", report_token(record)),
                "sessions_link": absolute_reverse("security:sessions"),
            },
        )
    return ()


stages.register("device", ask_for_the_emailed_code, order=20, url_name="security:device_code")
stages.register_after_login("device", trust_this_browser, order=20)
