"""`make bench`: what a refused locked-out sign-in and a backup-code sign-in cost.

One process, a throwaway SQLite database, the real hashers (bcrypt-SHA256 at cost 12
first, as in production) and the real backup-code hash (scrypt N=2**14). Each figure is
the median of N runs timed with time.perf_counter, after a warm-up run.

(a) one bcrypt check vs a refused sign-in attempt of a locked-out (IP, username) pair,
    through the test client (target: under 2% of the bcrypt check: the lock is checked
    before any password hash is computed);
(b) a sign-in with password + backup code vs a sign-in with the password alone
    (target: within 1.5x: a backup code costs one slow hash, not ten).

Writes bench/results/latest.json; exits 1 if a target is missed.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

_tmp = tempfile.TemporaryDirectory(prefix="panel-bench-")
os.environ["DJANGO_SETTINGS_MODULE"] = "panel.settings.test"
os.environ["DATABASE_URL"] = f"sqlite:///{_tmp.name}/bench.sqlite3"
os.environ["PANEL_DOTENV"] = "0"
for name in ("REDIS_URL", "EMAIL_URL"):
    os.environ.pop(name, None)

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
# Audit and axes log lines would drown the table (and cost time in the runs).
logging.disable(logging.WARNING)

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import check_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

PASSWORD = "correct horse battery staple 42"  # noqa: S105 - a throwaway bench account
WRONG = "not the password at all"
RESULTS = BASE_DIR / "bench" / "results" / "latest.json"

HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def median_ms(fn, runs: int, *, warmup: int = 1) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), samples


def make_user(username: str):
    from accounts.models import User

    user = User(
        username=username,
        email=f"{username}@example.com",
        full_name=username.title(),
        email_verified_at=timezone.now(),
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def login_post(client: Client, username: str, password: str):
    return client.post("/auth/login/", {"username": username, "password": password})


def main() -> int:
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)

    # --- (a) bcrypt check vs a refused locked-out attempt -----------------------------
    victim = make_user("victim")
    assert victim.password.startswith("bcrypt_sha256$"), victim.password
    bcrypt_ms, bcrypt_runs = median_ms(lambda: check_password(PASSWORD, victim.password), 10)

    attacker = Client()
    for _ in range(6):
        login_post(attacker, "victim", WRONG)

    def locked_attempt():
        response = login_post(attacker, "victim", PASSWORD)
        assert response.status_code == 429, response.status_code

    locked_ms, locked_runs = median_ms(locked_attempt, 50)

    # --- (b) password sign-in vs password + backup code ---------------------------------
    from security.models import EncryptedTOTPDevice
    from security.services.backup_codes import issue_new_set

    make_user("plain")
    plain_client = Client()

    def password_signin():
        response = login_post(plain_client, "plain", PASSWORD)
        assert response.status_code == 302 and response["Location"] == "/dashboard/", response
        plain_client.post("/auth/logout/")

    password_ms, password_runs = median_ms(password_signin, 10)

    second = make_user("second")
    device = EncryptedTOTPDevice(user=second, name="Authenticator app", confirmed=True)
    device.set_key(os.urandom(20))
    device.save()
    codes: list[str] = []
    second_client = Client()

    def backup_signin():
        if not codes:
            codes.extend(issue_new_set(user=second))  # not timed: happens between runs
        code = codes.pop()
        start = time.perf_counter()
        first = login_post(second_client, "second", PASSWORD)
        assert first.status_code == 302 and first["Location"] == "/auth/2fa/", first
        response = second_client.post(
            "/auth/2fa/?method=backup", {"method": "backup", "code": code}
        )
        assert response.status_code == 302 and response["Location"] == "/dashboard/", response
        elapsed = time.perf_counter() - start
        second_client.post("/auth/logout/")
        return elapsed

    backup_samples = []
    backup_signin()  # warm-up
    for _ in range(10):
        backup_samples.append(backup_signin() * 1000)
    backup_ms = statistics.median(backup_samples)

    locked_ratio = locked_ms / bcrypt_ms
    backup_ratio = backup_ms / password_ms
    results = {
        "when": timezone.now().isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "hasher": HASHERS[0],
        "backup_code_hash": f"scrypt N={settings.BACKUP_CODE_SCRYPT_N} r=8 p=1",
        "median_ms": {
            "bcrypt_check": round(bcrypt_ms, 3),
            "locked_out_attempt": round(locked_ms, 3),
            "password_signin": round(password_ms, 3),
            "backup_code_signin": round(backup_ms, 3),
        },
        "runs": {
            "bcrypt_check": len(bcrypt_runs),
            "locked_out_attempt": len(locked_runs),
            "password_signin": len(password_runs),
            "backup_code_signin": len(backup_samples),
        },
        "ratios": {
            "locked_out_vs_bcrypt": round(locked_ratio, 4),
            "backup_code_vs_password_signin": round(backup_ratio, 3),
        },
        "targets": {
            "locked_out_vs_bcrypt": "< 0.02",
            "backup_code_vs_password_signin": "<= 1.5",
        },
        "met": {
            "locked_out_vs_bcrypt": locked_ratio < 0.02,
            "backup_code_vs_password_signin": backup_ratio <= 1.5,
        },
    }

    rows = [
        ("one bcrypt-SHA256 check (cost 12)", bcrypt_ms, "", ""),
        ("refused locked-out sign-in attempt", locked_ms, f"{locked_ratio:.2%}", "< 2%"),
        ("sign-in: password", password_ms, "", ""),
        ("sign-in: password + backup code", backup_ms, f"{backup_ratio:.2f}x", "<= 1.5x"),
    ]
    print(f"{'measurement':<38} {'median ms':>10} {'ratio':>8} {'target':>8}")
    for label, ms, ratio, target in rows:
        print(f"{label:<38} {ms:>10.2f} {ratio:>8} {target:>8}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(BASE_DIR)}")
    ok = all(results["met"].values())
    if not ok:
        print("a target was missed", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    with override_settings(
        PASSWORD_HASHERS=HASHERS,
        # Rate limits would cut the runs short: the bench is one client hammering.
        SIGNIN_RATE_LIMIT="100000/m",
        TWO_FACTOR_RATE_LIMIT="100000/m",
        BACKUP_CODE_SCRYPT_N=2**14,
    ):
        code = main()
    _tmp.cleanup()
    sys.exit(code)
