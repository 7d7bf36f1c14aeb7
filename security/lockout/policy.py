"""The lockout policy: escalating locks per (client IP, normalized username).

django-axes records failures (its ``AccessAttempt`` rows, keyed by the pair through
``AXES_LOCKOUT_PARAMETERS`` and ``AXES_USERNAME_CALLABLE``), and the pair's ``Lockout``
row counts them. Failed passwords arrive through ``authenticate()``; failed
second-factor codes through ``record_failure()``, which sends the same
``user_login_failed`` signal. When a pair reaches ``AXES_FAILURE_LIMIT`` (6) within the
counting window (``AXES_COOLOFF_TIME``, 10 min since the previous attempt), the panel's
axes handler (``security.lockout.axes``) calls
``register_lockout()``: the pair is locked for 60 s, a repeat lockout within a day for
5 min, then for 1 h, and the counter starts again from zero.

The count-and-lock is atomic. Each password check first reserves an attempt on the
pair's row (``reserve()``: one conditional ``UPDATE ... SET attempts = attempts + 1 WHERE
attempts < limit``, atomic on PostgreSQL and SQLite alike), and only then is the password
hashed; a right password gives its reservation back (``release()``), a wrong one stays
counted. So a burst of parallel sign-ins cannot slip password checks in past the limit
while the first ones are still hashing: at most ``AXES_FAILURE_LIMIT`` passwords of a pair
are ever checked in one counting window. Failed codes count on the same row
(``count_failure()``), and the pair locks when the row's failures reach the limit
(django-axes's own count, read without a lock, records but no longer decides).

A success clears that pair only. Independently, 100 consecutive failures for one
account from any address hard-lock the account until an operator unlocks it or the
user sets a new password (a completed reset); NIST SP 800-63B's ceiling.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db import IntegrityError, transaction
from django.db.models import Case, F, PositiveSmallIntegerField, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.backends import normalize_login
from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from panel.net import client_ip
from security.lockout.models import Lockout
from security.signin import pending

DURATIONS = (timedelta(seconds=60), timedelta(minutes=5), timedelta(hours=1))
# A lockout within this time after the previous one escalates to the next duration.
REPEAT_WINDOW = timedelta(hours=24)


# The counter of passwordless passkey attempts that name no account (an unknown
# credential, an expired or replayed challenge, a malformed answer): one per address,
# as a typed name that is not an account has its own. A space and parentheses make it a
# name no account can have (usernames are letters, digits and @.+-_), so it never
# counts on, or locks, a real account.
UNKNOWN_PASSKEY = "(unknown passkey)"


def hard_limit() -> int:
    return int(getattr(settings, "LOCKOUT_ACCOUNT_HARD_LIMIT", 100))


@dataclass(frozen=True)
class LockStatus:
    locked: bool
    # Seconds left; None when the account is hard-locked (no end until an unlock).
    seconds: int | None = None


UNLOCKED = LockStatus(False)


def pair_for(request: HttpRequest, login: str | None) -> tuple[str, str]:
    return client_ip(request), normalize_login(login)


def failure_limit() -> int:
    return int(settings.AXES_FAILURE_LIMIT)


def _window_cutoff(now):
    """Attempts older than this (AXES_COOLOFF_TIME since the pair's latest attempt, as
    axes counts failures) no longer count."""
    return now - settings.AXES_COOLOFF_TIME


# The request attribute that remembers the pair whose slot this request reserved.
_RESERVED = "_panel_lockout_reserved"


def _create_pair_row(*, ip: str, username: str, **fields) -> bool:
    """Insert the pair's row; False if it exists already (a parallel request made it)."""
    try:
        with transaction.atomic():
            Lockout.objects.create(ip=ip, username=username, **fields)
    except IntegrityError:
        return False
    return True


def _if_stale(stale: Q, fresh_value: int, otherwise):
    """``fresh_value`` on a row whose window has ended, else ``otherwise``."""
    return Case(
        When(stale, then=Value(fresh_value)),
        default=otherwise,
        output_field=PositiveSmallIntegerField(),
    )


def reserve(request: HttpRequest, *, ip: str, username: str) -> bool:
    """Take one of the pair's attempt slots before the password is hashed; False when
    none is left (the pair is locked, or ``AXES_FAILURE_LIMIT`` attempts of this window
    are counted or still in flight). One conditional UPDATE, atomic on every backend:
    parallel requests cannot all pass it (the row lock serialises them on PostgreSQL,
    and each re-checks ``attempts < limit`` against the row the previous one wrote).
    """
    if not username:
        return True
    now = timezone.now()
    stale = Q(attempted_at__isnull=True) | Q(attempted_at__lt=_window_cutoff(now))
    for _ in range(2):
        taken = (
            Lockout.objects.filter(ip=ip, username=username)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
            .filter(stale | Q(attempts__lt=failure_limit()))
            .update(
                attempts=_if_stale(stale, 1, F("attempts") + 1),
                failures=_if_stale(stale, 0, F("failures")),
                attempted_at=now,
                updated_at=now,
            )
        )
        if taken or _create_pair_row(ip=ip, username=username, attempts=1, attempted_at=now):
            setattr(request, _RESERVED, (ip, username))
            return True
        # The row exists: either it has no slot left, or a parallel request created it
        # between our UPDATE and INSERT (then the UPDATE is tried once more).
    return False


def acquire(request: HttpRequest, *, ip: str, username: str) -> LockStatus:
    """The lock check and the slot of one attempt, before any secret is checked:
    ``UNLOCKED`` when this request holds one of the pair's slots, else the lock to show
    (when the last slots are still in flight, a lock is imminent: the first duration)."""
    lock = status(ip=ip, username=username)
    if lock.locked:
        return lock
    if reserve(request, ip=ip, username=username):
        return UNLOCKED
    lock = status(ip=ip, username=username)
    return lock if lock.locked else LockStatus(True, int(DURATIONS[0].total_seconds()))


def release(request: HttpRequest) -> None:
    """A right password: give this request's reserved slot back."""
    pair = getattr(request, _RESERVED, None)
    if pair is None:
        return
    setattr(request, _RESERVED, None)
    ip, username = pair
    Lockout.objects.filter(ip=ip, username=username, attempts__gt=0).update(
        attempts=F("attempts") - 1
    )


def count_failure(request: HttpRequest | None, *, ip: str, username: str) -> bool:
    """Count a failure on the pair's row (a wrong password uses the slot it reserved; a
    wrong code takes one more). True when the pair's failures have reached the limit. The
    increment and the read are one transaction (the UPDATE holds the row lock until the
    read is done), so of parallel failures only the one that reached it sees it.
    """
    if not username:
        return False
    pair = Lockout.objects.filter(ip=ip, username=username)
    reserved = request is not None and getattr(request, _RESERVED, None) == (ip, username)
    if reserved:
        setattr(request, _RESERVED, None)
    now = timezone.now()
    stale = Q(attempted_at__isnull=True) | Q(attempted_at__lt=_window_cutoff(now))
    with transaction.atomic():
        counted = pair.update(failures=F("failures") + 1) if reserved else 0
        if not counted:
            counted = pair.update(
                attempts=_if_stale(stale, 1, F("attempts") + 1),
                failures=_if_stale(stale, 1, F("failures") + 1),
                attempted_at=now,
                updated_at=now,
            )
        if not counted and not _create_pair_row(
            ip=ip, username=username, attempts=1, failures=1, attempted_at=now
        ):
            pair.update(
                attempts=F("attempts") + 1,
                failures=F("failures") + 1,
                attempted_at=now,
                updated_at=now,
            )
        failures = pair.values_list("failures", flat=True).first() or 0
    return failures >= failure_limit()


def status(*, ip: str, username: str) -> LockStatus:
    """Whether the pair (or the whole account) is locked. One indexed query."""
    if not username:
        return UNLOCKED
    now = timezone.now()
    rows = (
        Lockout.objects.filter(username=username)
        .filter(Q(ip=ip) | Q(ip__isnull=True))
        .filter(Q(locked_until__gt=now) | Q(hard_locked=True))
        .values_list("pk", "locked_until", "hard_locked", "password_fingerprint")
    )
    longest = 0
    for pk, locked_until, hard, fingerprint in rows:
        if hard:
            if _password_changed_since(username, fingerprint):
                # A completed password reset (or change) lifts the account's hard lock.
                Lockout.objects.filter(pk=pk).delete()
                continue
            return LockStatus(True, None)
        if locked_until is not None and locked_until > now:
            longest = max(longest, int((locked_until - now).total_seconds() + 0.999))
    return LockStatus(True, max(longest, 1)) if longest else UNLOCKED


def _fingerprint(encoded_password: str) -> str:
    return hashlib.sha256(encoded_password.encode()).hexdigest()


def _password_changed_since(username: str, fingerprint: str) -> bool:
    user = _user_for(username)
    if user is None or not fingerprint:
        return False
    return _fingerprint(user.password) != fingerprint


def status_for(request: HttpRequest, login: str | None) -> LockStatus:
    ip, username = pair_for(request, login)
    return status(ip=ip, username=username)


def record_failure(request: HttpRequest, *, login: str) -> LockStatus:
    """Count a failed second-factor code (or device code) on the pair's counter.

    Sends ``user_login_failed`` as ``authenticate()`` does for a wrong password, so
    django-axes counts both on one counter. Returns the lock status afterwards.
    """
    user_login_failed.send(sender=__name__, credentials={"username": login}, request=request)
    if getattr(request, "axes_locked_out", False):
        return status_for(request, login)
    return UNLOCKED


def reauth_failed(
    request: HttpRequest, *, page: str, factor: str, reason: str = "invalid"
) -> LockStatus:
    """A wrong code (or password) typed by a signed-in user on a settings page that asks
    for one: 2FA setup, disabling 2FA, new backup codes, enabling 2FA (the password),
    the Sessions step-up. Audited, and counted on the same (IP, username) counter as
    failed sign-ins, so a stolen session cannot guess codes any faster than a sign-in
    form could. Returns the lock status afterwards.

    A lockout here does not sign the session out: it is a full session already, and
    the lock is about guessing. The locked pair refuses further code and password
    attempts on these pages (``security.lockout.decorators.lockout_guarded``) and new
    sign-ins from that address, until the lock ends. Ending the session as well would
    only turn the owner's typos into a sign-out.
    """
    user = request.user
    audit(
        Action.REAUTH_FAILED,
        request=request,
        outcome=AuditEvent.Outcome.FAILURE,
        user=user,
        metadata={"page": page, "factor": factor, "reason": reason},
    )
    return record_failure(request, login=user.get_username())


def _user_for(username: str):
    return get_user_model().objects.with_username(username).first()


def account_named(login: str | None):
    """The account a typed login (username or email, any case) names, or None."""
    value = (login or "").strip()[:254]
    if not value:
        return None
    User = get_user_model()
    try:
        return User.objects.get_by_login(value)
    except (User.DoesNotExist, User.MultipleObjectsReturned):
        return None


def login_fingerprint(login: str | None) -> str:
    """A keyed hash (HMAC-SHA256 with SECRET_KEY) of a typed login that names no account:
    the same text always gives the same value, and nothing reads it back."""
    value = (login or "").strip()[:254].lower()
    return salted_hmac("panel.signin.unknown-login", value, algorithm="sha256").hexdigest()[:32]


def login_for_audit(login: str | None, account=None) -> dict:
    """What an audit event may say of a typed login: the account's username when the
    login names one, else only the keyed hash (it may be a password typed in the wrong
    field)."""
    if account is not None:
        return {"login": account.get_username()}
    return {"login_fingerprint": login_fingerprint(login)}


def register_lockout(*, request: HttpRequest | None, ip: str, username: str) -> LockStatus:
    """Lock the pair that just reached the failure limit (called by the axes handler)."""
    now = timezone.now()
    with transaction.atomic():
        try:
            row, _ = Lockout.objects.select_for_update().get_or_create(ip=ip, username=username)
        except IntegrityError:  # a parallel request created it first
            row = Lockout.objects.select_for_update().get(ip=ip, username=username)
        if row.locked_until and row.locked_until > now:
            return status(ip=ip, username=username)
        repeat = row.last_locked_at is not None and now - row.last_locked_at < REPEAT_WINDOW
        row.level = min(row.level + 1, len(DURATIONS)) if repeat else 1
        duration = DURATIONS[row.level - 1]
        row.locked_until = now + duration
        row.last_locked_at = now
        # Every slot of the window is spent: the next window starts when the lock ends.
        row.attempts = row.failures = 0
        row.attempted_at = None
        row.save()
        # The counter starts afresh once the lock ends: six more failures for the next.
        AccessAttempt.objects.filter(ip_address=ip, username=username).delete()
        audit(
            Action.LOCKOUT,
            request=request,
            outcome=AuditEvent.Outcome.DENIED,
            user=(account := _user_for(username)),
            metadata={
                **login_for_audit(username, account),
                "locked_ip": ip,
                "seconds": int(duration.total_seconds()),
                "level": row.level,
            },
        )
    if request is not None and hasattr(request, "session"):
        # A lockout destroys a half-finished sign-in: the attacker starts from scratch.
        pending.clear(request)
    return LockStatus(True, int(duration.total_seconds()))


def note_account_failure(*, request: HttpRequest | None, username: str) -> None:
    """Count toward the per-account hard limit (existing accounts only, so a flood of
    made-up names cannot fill the table)."""
    user = _user_for(username) if username else None
    if user is None:
        return
    with transaction.atomic():
        try:
            row, _ = Lockout.objects.select_for_update().get_or_create(ip=None, username=username)
        except IntegrityError:
            row = Lockout.objects.select_for_update().get(ip=None, username=username)
        Lockout.objects.filter(pk=row.pk).update(consecutive_failures=F("consecutive_failures") + 1)
        row.refresh_from_db(fields=["consecutive_failures", "hard_locked"])
        if row.consecutive_failures >= hard_limit() and not row.hard_locked:
            row.hard_locked = True
            row.last_locked_at = timezone.now()
            row.password_fingerprint = _fingerprint(user.password)
            row.save(update_fields=["hard_locked", "last_locked_at", "password_fingerprint"])
            audit(
                Action.LOCKOUT,
                request=request,
                outcome=AuditEvent.Outcome.DENIED,
                user=user,
                metadata={"login": user.get_username(), "hard_limit": hard_limit()},
            )


def clear_pair(*, ip: str, username: str) -> None:
    """A completed sign-in: forget this pair's lock history and the account's run of
    failures. Other pairs (other addresses) keep their counters."""
    Lockout.objects.filter(ip=ip, username=username).delete()
    Lockout.objects.filter(ip__isnull=True, username=username, hard_locked=False).update(
        consecutive_failures=0
    )


def clear_account(*, user) -> None:
    """Lift the per-account hard lock (e.g. after a completed password reset)."""
    Lockout.objects.filter(ip__isnull=True, username=normalize_login(user.get_username())).delete()


@dataclass
class UnlockSummary:
    target: str
    kind: str  # "ip" or "user"
    attempts: int = 0
    locks: int = 0


def parse_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def unlock(
    *,
    ip: str | None = None,
    user=None,
    actor=None,
    request: HttpRequest | None = None,
    dry_run: bool = False,
) -> UnlockSummary:
    """Lift every lock and counter of one address or one account (operator action)."""
    if (ip is None) == (user is None):
        raise ValueError("unlock needs exactly one of ip or user")
    if ip is not None:
        summary = UnlockSummary(target=ip, kind="ip")
        attempts = AccessAttempt.objects.filter(ip_address=ip)
        locks = Lockout.objects.filter(ip=ip)
    else:
        username = normalize_login(user.get_username())
        summary = UnlockSummary(target=user.get_username(), kind="user")
        attempts = AccessAttempt.objects.filter(username=username)
        locks = Lockout.objects.filter(username=username)
    now = timezone.now()
    summary.attempts = attempts.count()
    summary.locks = locks.filter(Q(locked_until__gt=now) | Q(hard_locked=True)).count()
    if dry_run:
        return summary
    with transaction.atomic():
        attempts.delete()
        locks.delete()
        audit(
            Action.UNLOCK,
            request=request,
            actor=actor,
            user=user,
            metadata={
                "target_kind": summary.kind,
                "target_ip": ip,
                "attempts_cleared": summary.attempts,
                "locks_cleared": summary.locks,
            },
        )
    return summary
