"""One-time tokens for links sent by email.

Password reset uses Django's ``default_token_generator`` (1 hour, dies once the password
changes or the user signs in). Email verification has its own generator: another salt,
so a reset token can never verify an address and the other way round, and its own
timeout (``settings.EMAIL_VERIFICATION_TIMEOUT``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

__all__ = [
    "default_token_generator",
    "email_verification_token",
    "make_verification_token",
    "read_verification_token",
    "uid_for",
    "user_for_uid",
]


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Signed, timestamped token tied to the address and its verification state.

    The hash covers ``email_verified_at``: once the address is verified the value
    changes, so the link cannot be used a second time. It also covers the email, so a
    link sent to an old address does not verify a new one.
    """

    key_salt = "accounts.tokens.EmailVerificationTokenGenerator"

    @property
    def timeout(self) -> int:
        return int(settings.EMAIL_VERIFICATION_TIMEOUT)

    def _make_hash_value(self, user, timestamp: int) -> str:
        verified = (
            ""
            if user.email_verified_at is None
            else user.email_verified_at.replace(microsecond=0, tzinfo=None)
        )
        return f"{user.pk}{user.email}{verified}{timestamp}"

    def check_token(self, user, token: str | None) -> bool:
        # Django's check_token reads PASSWORD_RESET_TIMEOUT; this one uses its own.
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= self.timeout


email_verification_token = EmailVerificationTokenGenerator()


def uid_for(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_for_uid(uidb64: str):
    """The user an encoded id names, or None for anything malformed or unknown."""
    User = get_user_model()
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
        return User._default_manager.get(pk=pk)
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError, User.DoesNotExist):
        return None


def make_verification_token(user) -> str:
    """``<uidb64>-<timestamp>-<hash>``: one path segment for /auth/verify/<token>/."""
    return f"{uid_for(user)}-{email_verification_token.make_token(user)}"


def read_verification_token(token: str):
    """The user a verification token is valid for, or None (bad, expired or used)."""
    parts = (token or "").rsplit("-", 2)
    if len(parts) != 3:
        return None
    uidb64, ts_b36, digest = parts
    user = user_for_uid(uidb64)
    if user is None or not email_verification_token.check_token(user, f"{ts_b36}-{digest}"):
        return None
    return user
