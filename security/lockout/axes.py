"""Glue between django-axes and the panel: the axes handler and the locked-out response.
The policy itself lives in ``security.lockout.policy``.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_credentials
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from panel import headers
from panel.humanize import humanize_seconds
from panel.net import client_ip
from security.lockout import policy

LOCKED_MESSAGE = "Too many failed attempts. Please wait before trying again."


def locked_message(seconds: int | None) -> str:
    if seconds is None:
        return (
            "Too many failed attempts. Sign-in is locked for this account: reset your "
            "password or contact support."
        )
    return f"Too many failed attempts. Please wait {humanize_seconds(seconds)} before trying again."


def locked_response(request: HttpRequest, lock: policy.LockStatus) -> HttpResponse:
    """The one locked-out page: generic text, the time left, 429 and Retry-After."""
    response = render(
        request,
        "security/lockout/locked.html",
        {"message": locked_message(lock.seconds)},
        status=429,
    )
    response["Retry-After"] = str(lock.seconds if lock.seconds is not None else 3600)
    return response


def refused_pending_response(request: HttpRequest, state) -> HttpResponse | None:
    """The locked page for a pending sign-in that ``Pending.user()`` refused while its
    pair is still locked (the lockout that ended it), else None: the caller starts over."""
    if state is None or not state.lock_key:
        return None
    lock = policy.status(ip=client_ip(request), username=state.lock_key)
    return locked_response(request, lock) if lock.locked else None


def lockout_response(
    request: HttpRequest, response=None, credentials=None, *args, **kwargs
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: axes flagged this request as locked out."""
    credentials = credentials or getattr(request, "axes_credentials", None)
    username = get_client_username(request, credentials)
    lock = policy.status(ip=client_ip(request), username=username)
    if not lock.locked:
        lock = policy.LockStatus(True, int(policy.DURATIONS[0].total_seconds()))
    return locked_response(request, lock)


def _clean_stored_request_text(request: HttpRequest) -> None:
    """What axes stores of the request (User-Agent, Accept, path), decoded, stripped of
    control characters and bounded as axes's columns are. The request-limits middleware
    already refuses such headers; this holds for any other way in."""
    for attribute, limit in (
        ("axes_user_agent", 255),
        ("axes_http_accept", 1025),
        ("axes_path_info", 255),
    ):
        value = getattr(request, attribute, None)
        if isinstance(value, str):
            setattr(request, attribute, headers.clean(headers.header_text(value))[:limit])


class PanelAxesHandler(AxesDatabaseHandler):
    """AXES_HANDLER: axes's database handler with the panel's escalating lock.

    axes still records every failure (``AccessAttempt``, ``AccessFailureLog``); when a
    pair reaches the limit, and whether it *is* locked and for how long, comes from
    ``security.models.Lockout``: its attempt slots (``policy.reserve`` before the hash,
    ``policy.count_failure`` after, one row-locked transaction each, so parallel
    failures cannot all see the limit) and its escalating lock (60 s, 5 min, 1 h). While a pair is locked, further attempts are
    not counted, so the lock time cannot be stretched.
    """

    def is_locked(self, request, credentials=None) -> bool:
        username = get_client_username(request, credentials)
        return policy.status(ip=request.axes_ip_address, username=username).locked

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        username = get_client_username(request, credentials)
        if policy.status(ip=request.axes_ip_address, username=username).locked:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            return None
        # Fail closed: the failure is counted on the pair's row (and the account's) first,
        # before anything that stores request text could go wrong. The pair's row decides,
        # not axes's own count: that one is read without a lock, so parallel failures
        # could each see the limit reached and report a lockout.
        locked = policy.count_failure(request, ip=request.axes_ip_address, username=username)
        policy.note_account_failure(request=request, username=username)
        _clean_stored_request_text(request)
        # axes records this failure (it skips a request already marked locked out).
        request.axes_locked_out = False
        super().user_login_failed(sender, credentials, request, **kwargs)
        request.axes_locked_out = locked
        request.axes_credentials = credentials
        if request.axes_locked_out:
            policy.register_lockout(request=request, ip=request.axes_ip_address, username=username)
        return None

    def user_logged_in(self, sender, request, user, **kwargs):
        _clean_stored_request_text(request)
        super().user_logged_in(sender, request, user, **kwargs)
        username = get_client_username(request, get_credentials(user.get_username()))
        policy.clear_pair(ip=request.axes_ip_address, username=username)
