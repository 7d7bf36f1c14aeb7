"""The operations pages of IP blocking: "Failed attempts" (failures grouped by address
and by name, current lockouts with the time left, unlock) and the manual block list."""

from __future__ import annotations

import logging
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.actions import Action
from audit.models import AuditEvent
from audit.services import escape_for_log
from panel.humanize import humanize_seconds
from panel.net import client_ip
from security.auditlog.access import superuser_required
from security.blocking import services
from security.blocking.models import BlockedNetwork
from security.lockout import policy as lockout
from security.lockout.models import Lockout
from security.stepup.decorators import high_security

logger = logging.getLogger("panel.security")

BLOCKED_TITLE = "Access from your network is blocked"
BLOCKED_MESSAGE = (
    "Signing in from your network is not possible at the moment. If you think this is a "
    "mistake, contact support."
)

# Failed attempts that the page (and the metrics) count.
FAILURE_ACTIONS = (
    Action.SIGNIN,
    Action.TWO_FACTOR_FAILED,
    Action.NEW_DEVICE_CODE_FAILED,
    Action.REAUTH_FAILED,
)
WINDOW = timedelta(hours=24)
TOP = 25


def blocked_response(request: HttpRequest) -> HttpResponse:
    """The refusal of a blocked address: 403, the same words whatever the reason."""
    logger.warning(
        "blocked address refused ip=%s path=%s",
        escape_for_log(client_ip(request)),
        escape_for_log(request.path),
    )
    return render(
        request,
        "error.html",
        {"status": 403, "title": BLOCKED_TITLE, "message": BLOCKED_MESSAGE},
        status=403,
    )


def _failures(since):
    # A refused passwordless passkey is a failed sign-in too (at the 2FA step the
    # refusal is also a 2fa_failed event, counted once above).
    return AuditEvent.objects.filter(
        Q(action__in=FAILURE_ACTIONS)
        | Q(
            action__in=(Action.PASSKEY_FAILED, Action.PASSKEY_COUNTER_REGRESSED),
            metadata__ceremony="passwordless",
        ),
        outcome=AuditEvent.Outcome.FAILURE,
        created_at__gte=since,
    )


def failures_by_ip(since, limit: int = TOP) -> list[dict]:
    return list(
        _failures(since)
        .exclude(ip__isnull=True)
        .values("ip")
        .annotate(failures=Count("id"), last=Max("created_at"))
        .order_by("-failures", "-last")[:limit]
    )


def failures_by_name(since, limit: int = TOP) -> list[dict]:
    """Failures per account (by name), and per unknown name (by its keyed hash)."""
    return list(
        _failures(since)
        .annotate(fingerprint=KT("metadata__login_fingerprint"))
        .filter(Q(user__isnull=False) | Q(fingerprint__isnull=False))
        .values("user__username", "fingerprint")
        .annotate(failures=Count("id"), last=Max("created_at"))
        .order_by("-failures", "-last")[:limit]
    )


def current_lockouts(now=None) -> list[dict]:
    """Locked pairs and hard-locked accounts, with the time left. A name that is not an
    account is not shown (it may be a password typed in the wrong field)."""
    now = now or timezone.now()
    locks = list(
        Lockout.objects.filter(Q(locked_until__gt=now) | Q(hard_locked=True)).order_by(
            "-locked_until"
        )[:100]
    )
    names = {lock.username for lock in locks}
    accounts = {
        u.lower_name: u
        for u in get_user_model()
        .objects.annotate(lower_name=Lower("username"))
        .filter(lower_name__in=names)
    }
    rows = []
    for lock in locks:
        account = accounts.get(lock.username)
        seconds = (
            None if lock.hard_locked else int((lock.locked_until - now).total_seconds() + 0.999)
        )
        rows.append(
            {
                "ip": lock.ip,
                "account": account,
                "hard": lock.hard_locked,
                "level": lock.level,
                "left": "until unlocked" if seconds is None else humanize_seconds(seconds),
            }
        )
    return rows


@high_security("panel_settings")
@require_GET
@superuser_required
def failed_attempts(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - WINDOW
    return render(
        request,
        "security/blocking/failed_attempts.html",
        {
            "ops_tab": "failed",
            "by_ip": failures_by_ip(since),
            "by_name": failures_by_name(since),
            "lockouts": current_lockouts(),
        },
    )


class UnlockForm(forms.Form):
    ip = forms.GenericIPAddressField(required=False)
    username = forms.CharField(required=False, max_length=150)

    def clean(self):
        data = super().clean()
        if bool(data.get("ip")) == bool(data.get("username")):
            raise forms.ValidationError("Unlock one address or one account.")
        if data.get("username"):
            user = get_user_model().objects.with_username(data["username"]).first()
            if user is None:
                raise forms.ValidationError("There is no such account.")
            data["user"] = user
        return data


@high_security("panel_settings")
@require_POST
@superuser_required
def unlock(request: HttpRequest) -> HttpResponse:
    form = UnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or "Nothing to unlock.")
        return redirect("security:failed_attempts", permanent=False)
    summary = lockout.unlock(
        ip=form.cleaned_data.get("ip") or None,
        user=form.cleaned_data.get("user"),
        actor=request.user,
        request=request,
    )
    messages.success(
        request,
        f"Unlocked {summary.target}: {summary.locks} lock(s) and {summary.attempts} "
        "counted failure(s) cleared.",
    )
    return redirect("security:failed_attempts")


DURATIONS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "never": None,
}


class BlockForm(forms.Form):
    network = forms.CharField(
        label="IP address or network",
        max_length=49,
        help_text="203.0.113.7, 203.0.113.0/24 or 2001:db8::/48",
    )
    reason = forms.CharField(label="Reason", max_length=200)
    duration = forms.ChoiceField(
        label="Expires after",
        choices=[
            ("1h", "1 hour"),
            ("24h", "24 hours"),
            ("7d", "7 days"),
            ("30d", "30 days"),
            ("never", "Never (until lifted)"),
        ],
        initial="24h",
    )

    def clean_network(self):
        try:
            return str(services.parse_block(self.cleaned_data["network"]))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


@high_security("panel_settings")
@require_http_methods(["GET", "POST"])
@superuser_required
def ip_blocks(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = BlockForm(request.POST)
    else:
        form = BlockForm(initial={"network": request.GET.get("network", "")[:49]})
    if request.method == "POST" and form.is_valid():
        row = services.block(
            network=form.cleaned_data["network"],
            reason=form.cleaned_data["reason"],
            duration=DURATIONS[form.cleaned_data["duration"]],
            actor=request.user,
            request=request,
        )
        messages.success(request, f"Blocked {row.network}.")
        return redirect("security:ip_blocks")
    now = timezone.now()
    rows = list(BlockedNetwork.objects.select_related("created_by")[:200])
    return render(
        request,
        "security/blocking/ip_blocks.html",
        {
            "ops_tab": "blocks",
            "form": form,
            "active": [r for r in rows if r.expires_at is None or r.expires_at > now],
            "expired": [r for r in rows if r.expires_at is not None and r.expires_at <= now],
            "your_ip": client_ip(request),
        },
        status=400 if form.is_bound else 200,
    )


@high_security("panel_settings")
@require_POST
@superuser_required
def ip_block_remove(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(BlockedNetwork, pk=pk)
    services.unblock(row=row, actor=request.user, request=request)
    messages.success(request, f"Lifted the block of {row.network}.")
    return redirect("security:ip_blocks")
