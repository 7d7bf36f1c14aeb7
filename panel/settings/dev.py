"""Local development: `make run`. DEBUG on, a throwaway secret key if none is set."""

from .base import *  # noqa: F403
from .env import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production"  # noqa: F405
if not ENCRYPTION_KEYS:  # noqa: F405
    # A fixed development key so that an enrolled TOTP secret survives restarts.
    ENCRYPTION_KEYS = ["ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM="]
# Django's documentation: no persistent connections with the development server. It
# serves each request in a new thread, and each thread would keep its own connection
# open for CONN_MAX_AGE (on PostgreSQL, two servers exhausted max_connections=100).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
