"""The WebAuthn relying party of the panel: its id and origin come from ``SITE_URL``,
read when a ceremony runs (never from the request's Host header).

``PanelWebAuthnHelper`` is django-otp-webauthn's helper (``OTP_WEBAUTHN_HELPER_CLASS``)
with the panel's rules: user verification required (every ceremony: a passkey is a whole
second factor, and passwordless sign-in rests on it alone), discoverable credentials
required (so every passkey also works passwordless).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django_otp_webauthn.helpers import WebAuthnHelper
from webauthn.helpers.structs import ResidentKeyRequirement, UserVerificationRequirement


def site_origin() -> str:
    parts = urlsplit(settings.SITE_URL)
    return f"{parts.scheme}://{parts.netloc}"


def rp_id() -> str:
    return (urlsplit(settings.SITE_URL).hostname or "").lower()


def available() -> bool:
    """Whether passkeys can work at all: an IP-address SITE_URL is not a valid relying
    party id (the browser refuses it), so the passkey buttons are hidden."""
    return _available_at(settings.SITE_URL)


@lru_cache(maxsize=8)
def _available_at(site_url: str) -> bool:
    """``available()`` for ``site_url``: decided once per setting (the Security tab and
    the sign-in page ask on every view), not once a request."""
    host = (urlsplit(site_url).hostname or "").lower()
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False


class PanelWebAuthnHelper(WebAuthnHelper):
    def get_relying_party_domain(self) -> str:
        return rp_id()

    def get_relying_party_name(self) -> str:
        return settings.SITE_NAME

    def get_allowed_origins(self) -> list[str]:
        return [site_origin()]

    def get_discoverable_credentials_preference(self) -> ResidentKeyRequirement:
        return ResidentKeyRequirement.REQUIRED

    def get_generate_registration_options_kwargs(self, *, user) -> dict:
        options = super().get_generate_registration_options_kwargs(user=user)
        options["authenticator_selection"].user_verification = UserVerificationRequirement.REQUIRED
        return options
