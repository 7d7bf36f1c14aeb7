"""manage.py security_report [--days N] [--json]: the state of the panel's security over a
period, for operators: 2FA coverage, lockouts, suspicious sign-ins, impersonations and
the account controls used."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential

from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from security.lockout.models import Lockout
from security.suspicious.models import SuspiciousSignIn
from security.twofactor.models import EncryptedTOTPDevice

MAX_DAYS = 3660


def build_report(*, days: int, now=None) -> dict:
    """The report's figures (plain values, JSON-ready) for the ``days`` before ``now``."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    User = get_user_model()
    app = EncryptedTOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    passkey = WebAuthnCredential.objects.filter(user=OuterRef("pk"), confirmed=True)
    active = User.objects.filter(is_active=True).annotate(has_2fa=Exists(app) | Exists(passkey))
    coverage = active.aggregate(
        users=Count("pk"),
        with_2fa=Count("pk", filter=Q(has_2fa=True)),
        superusers=Count("pk", filter=Q(is_superuser=True)),
        superusers_with_2fa=Count("pk", filter=Q(is_superuser=True, has_2fa=True)),
    )
    coverage["percent"] = (
        round(100 * coverage["with_2fa"] / coverage["users"], 1) if coverage["users"] else 0.0
    )
    coverage["superusers_without_2fa"] = sorted(
        active.filter(is_superuser=True, has_2fa=False).values_list("username", flat=True)
    )

    events = AuditEvent.objects.filter(created_at__gte=since, created_at__lte=now)

    def count(action: str, **filters) -> int:
        return events.filter(action=action, **filters).count()

    failed = AuditEvent.Outcome.FAILURE
    suspicious = SuspiciousSignIn.objects.filter(created_at__gte=since, created_at__lte=now)
    by_status = dict(suspicious.values_list("status").annotate(n=Count("pk")).order_by())
    impersonations = events.filter(action=Action.IMPERSONATION_STARTED)
    by_impersonator = (
        impersonations.values("actor__username").annotate(n=Count("pk")).order_by("-n")
    )
    return {
        "period": {"days": days, "since": since.isoformat(), "until": now.isoformat()},
        "two_factor": coverage,
        "signins": {
            "succeeded": count(Action.SIGNIN, outcome=AuditEvent.Outcome.SUCCESS),
            "failed": count(Action.SIGNIN, outcome=failed),
            "second_factor_failed": count(Action.TWO_FACTOR_FAILED),
        },
        "lockouts": {
            "locked": count(Action.LOCKOUT),
            "unlocked_by_operator": count(Action.UNLOCK),
            "locked_now": Lockout.objects.filter(locked_until__gt=now).count(),
        },
        "suspicious_signins": {
            "held": suspicious.count(),
            "by_status": {str(k): v for k, v in sorted(by_status.items())},
        },
        "impersonations": {
            "started": impersonations.count(),
            "ended": count(Action.IMPERSONATION_ENDED),
            "by_impersonator": {
                (row["actor__username"] or "(deleted)"): row["n"] for row in by_impersonator
            },
        },
        "account_controls": {
            "disabled": count(Action.ACCOUNT_DISABLED),
            "enabled": count(Action.ACCOUNT_ENABLED),
            "password_change_forced": count(Action.PASSWORD_CHANGE_FORCED),
            "password_reset_sent_by_admin": count(Action.PASSWORD_RESET_SENT_BY_ADMIN),
            "disabled_now": User.objects.filter(is_active=False).count(),
            "must_change_password_now": User.objects.filter(
                is_active=True, must_change_password=True
            ).count(),
        },
    }


def as_text(report: dict) -> str:
    p, tf, si = report["period"], report["two_factor"], report["signins"]
    lo, ss, im = report["lockouts"], report["suspicious_signins"], report["impersonations"]
    ac = report["account_controls"]
    lines = [
        f"Security report: the last {p['days']} day(s), {p['since'][:16]} to {p['until'][:16]} UTC",
        "",
        "Two-factor authentication (active accounts, now)",
        f"  {tf['with_2fa']} of {tf['users']} accounts ({tf['percent']}%)",
        f"  superusers: {tf['superusers_with_2fa']} of {tf['superusers']}"
        + (
            f"; without 2FA: {', '.join(tf['superusers_without_2fa'])}"
            if tf["superusers_without_2fa"]
            else ""
        ),
        "Sign-ins",
        f"  succeeded {si['succeeded']}, failed {si['failed']}, "
        f"wrong second-factor codes {si['second_factor_failed']}",
        "Lockouts",
        f"  locked {lo['locked']}, lifted by an operator {lo['unlocked_by_operator']}, "
        f"locked now {lo['locked_now']}",
        "Suspicious sign-ins",
        f"  held {ss['held']}"
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in ss["by_status"].items()) + ")"
            if ss["by_status"]
            else ""
        ),
        "Impersonations",
        f"  started {im['started']}, ended {im['ended']}"
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in im["by_impersonator"].items()) + ")"
            if im["by_impersonator"]
            else ""
        ),
        "Account controls",
        f"  disabled {ac['disabled']}, enabled {ac['enabled']}, password changes required "
        f"{ac['password_change_forced']}, reset links sent {ac['password_reset_sent_by_admin']}",
        f"  now: {ac['disabled_now']} disabled, {ac['must_change_password_now']} must change "
        "their password",
    ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Print the panel's security over the last --days (default 7): 2FA coverage of active "
        "accounts (superusers without 2FA named), sign-ins, lockouts, suspicious sign-ins, "
        "impersonations and account controls. Text, or --json for machines. Read-only; "
        "the run itself is audited."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days", type=int, default=7, help="How many days back to count (default 7)."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options) -> None:
        days = options["days"]
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        report = build_report(days=days)
        audit(
            Action.SECURITY_REPORT,
            actor=None,
            user=None,
            metadata={"days": days, "format": "json" if options["json"] else "text"},
        )
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, sort_keys=True))
        else:
            self.stdout.write(as_text(report))
