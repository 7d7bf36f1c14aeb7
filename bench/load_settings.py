"""Settings of the server that `make bench-load` (bench/load.py) starts with gunicorn.

Production's settings (bcrypt, DEBUG off, lockout, rate limits, session tracking, new-device
approval, suspicious sign-in checks), on plain HTTP at a loopback address. bench/load.py
provides what prod.py requires (a random SECRET_KEY, a fresh ENCRYPTION_KEYS, SITE_URL
and ALLOWED_HOSTS for 127.0.0.1) and a throwaway DATABASE_URL.
"""

import os

from panel.settings.prod import *  # noqa: F403

# Plain HTTP on loopback: no TLS proxy in front, no redirect to https.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
# Static files are not part of the measurement: no collectstatic into the working tree.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The counterfactual server of the "attack without lockout" phase: the same code with
# the lockout and rate-limit thresholds out of reach, and the suspicious-sign-in hold
# off (it would hold the legitimate users' sign-ins after the attacker's failures).
# Every wrong password then costs a bcrypt check.
if os.environ.get("BENCH_LOCKOUT") == "off":
    AXES_FAILURE_LIMIT = 10**9
    LOCKOUT_ACCOUNT_HARD_LIMIT = 10**9
    SIGNIN_RATE_LIMIT = "1000000/m"
    SUSPICIOUS_SIGNIN_CHECKS = False

# A key prefix of the run's own in a shared Redis (bench/load.py sets it).
if os.environ.get("BENCH_CACHE_PREFIX") and "KEY_PREFIX" in CACHES["default"]:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = os.environ["BENCH_CACHE_PREFIX"]  # noqa: F405
