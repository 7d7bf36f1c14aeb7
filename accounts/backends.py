"""Sign in with email or username, ignoring case."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

# The signed-in user's row, read by security.sessions.middleware in the same query as the
# tracked session (a join): get_user() below hands it to Django's own session check
# instead of reading the row again. Set and reset around one request only.
prefetched_user: ContextVar[Any] = ContextVar("prefetched_user", default=None)


class EmailOrUsernameBackend(ModelBackend):
    """ModelBackend that accepts the email or the username, case-insensitively.

    Unknown users still cost one password hash (ModelBackend's dummy hash), so response
    time does not reveal whether an account exists.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ):
        if username is None or password is None:
            return None
        User = get_user_model()
        try:
            user = User.objects.get_by_login(username)
        except (User.DoesNotExist, User.MultipleObjectsReturned):
            User().set_password(password)
            return None
        if not user.check_password(password):
            return None
        if self.user_can_authenticate(user):
            return user
        # The right password for a disabled account: still no user (authenticate() counts
        # a failure, so the lockout holds whether the password is right or wrong), but the
        # sign-in page may now say that the account is disabled. Only the right password
        # reveals it, so a guesser learns nothing new.
        if request is not None:
            setattr(request, DISABLED_ACCOUNT_ATTR, user)
        return None

    def get_user(self, user_id):
        """The user of a session (Django's session check then compares its password hash).
        When the session middleware has just read this very user's row with the tracked
        session, that row is used, under the same rule as ModelBackend (an inactive
        account is nobody); otherwise it is read."""
        user = prefetched_user.get()
        if user is not None:
            try:
                same = user.pk == user._meta.pk.to_python(user_id)
            except Exception:  # a malformed id in the session: ModelBackend's answer
                same = False
            if same:
                return user if self.user_can_authenticate(user) else None
        return super().get_user(user_id)


# Set on the request by ``authenticate()`` when the password was right but the account is
# disabled; read it with ``disabled_account(request)``.
DISABLED_ACCOUNT_ATTR = "_panel_disabled_account"
DISABLED_MESSAGE = "This account is disabled. Contact your administrator."


def disabled_account(request: HttpRequest | None):
    """The disabled account whose right password this request gave, or None."""
    return getattr(request, DISABLED_ACCOUNT_ATTR, None) if request is not None else None


def normalize_login(login: str | None) -> str:
    """One key per account for counters: ``Bob``, ``bob`` and bob's email are one user.

    A login that names an account maps to that account's lower-cased username; anything
    else is lower-cased as typed, so unknown names still get counted (and locked).

    "Names an account" is decided by the very lookup ``authenticate()`` uses
    (``get_by_login``, the unique constraints' LOWER() rule), so every spelling that can
    sign in as an account counts on that account's counter.
    """
    value = (login or "").strip()[:254]
    if not value:
        return ""
    User = get_user_model()
    try:
        match = User.objects.get_by_login(value).get_username()
    except (User.DoesNotExist, User.MultipleObjectsReturned):
        match = None
    return (match or value).lower()


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    """AXES_USERNAME_CALLABLE: the normalized login of this attempt."""
    login = (credentials or {}).get("username")
    if login is None and request is not None:
        login = request.POST.get("username")
    return normalize_login(login)
