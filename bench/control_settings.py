"""Settings of the bare-Django control that `make bench-http` (bench/http_bench.py) serves beside
the panel: the panel's own database, apps and session engine (so one session cookie signs
in to both), but Django's default middleware only and one page of the same shape as the
panel's dashboard: a template with the user's name and a few rows."""

from bench.load_settings import *  # noqa: F403

ROOT_URLCONF = "bench.control_urls"
# Django's own PostgreSQL backend, with its health check (a SELECT 1 per request), as a
# bare Django site with persistent connections runs; the panel's backend
# (panel.db.postgresql) is part of what is measured.
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"  # noqa: F405
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
