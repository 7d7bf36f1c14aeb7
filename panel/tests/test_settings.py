"""Settings come from the environment; malformed values stop the start-up clearly.

Each case runs Python in a subprocess with a minimal environment, so that the settings
module is imported fresh, exactly as a deployment would import it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The production environment documented in the README, and nothing else.
PROD_ENV = {
    "SECRET_KEY": "k" * 20 + "-production-secret-of-fifty-or-more-chars-x9",
    "ALLOWED_HOSTS": "panel.example.com",
    "SITE_URL": "https://panel.example.com",
    "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}


def minimal_env(**extra: str) -> dict[str, str]:
    """PATH and HOME only: no DATABASE_URL, REDIS_URL or EMAIL_URL leak in from CI."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    env["PANEL_DOTENV"] = "0"
    env.update(extra)
    return env


SHOW = """
import django, json
django.setup()
from django.conf import settings as s
print(json.dumps({
    "db_engine": s.DATABASES["default"]["ENGINE"],
    "db_name": str(s.DATABASES["default"]["NAME"]),
    "db_host": s.DATABASES["default"].get("HOST", ""),
    "db_port": str(s.DATABASES["default"].get("PORT", "")),
    "conn_max_age": s.DATABASES["default"].get("CONN_MAX_AGE", 0),
    "cache": s.CACHES["default"]["BACKEND"],
    "cache_location": s.CACHES["default"]["LOCATION"],
    "broker": s.CELERY_BROKER_URL,
    "result_backend": s.CELERY_RESULT_BACKEND,
    "eager": s.CELERY_TASK_ALWAYS_EAGER,
    "email_backend": s.EMAIL_BACKEND,
    "email_host": s.EMAIL_HOST,
    "email_port": s.EMAIL_PORT,
    "email_user": s.EMAIL_HOST_USER,
    "email_tls": s.EMAIL_USE_TLS,
    "email_file_path": str(getattr(s, "EMAIL_FILE_PATH", "")),
    "secret_key": s.SECRET_KEY,
    "allowed_hosts": s.ALLOWED_HOSTS,
    "encryption_keys": s.ENCRYPTION_KEYS,
    "debug": s.DEBUG,
}))
"""


def settings_of(module: str = "panel.settings.dev", **env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=BASE_DIR,
        env=minimal_env(DJANGO_SETTINGS_MODULE=module, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def startup_error(module: str = "panel.settings.dev", **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=minimal_env(DJANGO_SETTINGS_MODULE=module, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0, "the start-up should have been refused"
    # One line, no traceback: the variable at fault and what to do.
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Configuration error: "), result.stderr[-2000:]
    return lines[0].removeprefix("Configuration error: ")


def test_with_nothing_set_the_panel_uses_the_embedded_default():
    s = settings_of()
    assert s["db_engine"] == "django.db.backends.sqlite3"
    assert s["db_name"] == str(BASE_DIR / "var" / "panel.sqlite3")
    assert s["cache"] == "django.core.cache.backends.db.DatabaseCache"
    assert s["eager"] is True
    assert s["broker"] == "memory://"
    assert s["email_backend"] == "django.core.mail.backends.console.EmailBackend"


def test_database_url_selects_postgresql_through_psycopg():
    s = settings_of(DATABASE_URL="postgres://panel:pw@db.internal:6543/panel_prod")
    # Django's backend, with a health check that asks the server only when needed.
    assert s["db_engine"] == "panel.db.postgresql"
    assert (s["db_name"], s["db_host"], s["db_port"]) == ("panel_prod", "db.internal", "6543")
    import psycopg  # Django's postgresql backend picks psycopg 3 when it is installed

    assert psycopg.__version__.startswith("3.")


def test_the_development_server_on_postgresql_keeps_no_persistent_connections():
    # Django's documentation: no persistent connections with the development server
    # (each request thread would keep its own, and runserver exhausted max_connections).
    s = settings_of(DATABASE_URL="postgres://panel:pw@db.internal:6543/panel_dev")
    assert s["conn_max_age"] == 0


def test_production_on_postgresql_keeps_its_connections_for_a_minute():
    s = settings_of(
        "panel.settings.prod", DATABASE_URL="postgres://panel:pw@db.internal/panel", **PROD_ENV
    )
    assert s["conn_max_age"] == 60


def test_redis_url_is_the_cache_the_broker_and_the_result_backend():
    s = settings_of(REDIS_URL="redis://cache.internal:6380/2")
    assert s["cache"] == "panel.cache.RedisCache"  # Django's, with one client per pool
    assert s["cache_location"] == "redis://cache.internal:6380/2"
    assert s["broker"] == "redis://cache.internal:6380/2"
    assert s["result_backend"] == "redis://cache.internal:6380/2"
    assert s["eager"] is False


def test_celery_task_always_eager_can_be_forced():
    s = settings_of(REDIS_URL="redis://cache.internal:6380/2", CELERY_TASK_ALWAYS_EAGER="true")
    assert s["eager"] is True


@pytest.mark.parametrize(
    ("url", "backend", "host", "port", "user", "tls"),
    [
        ("smtp://mail.internal:2525", "smtp", "mail.internal", 2525, "", False),
        ("smtp://postman:pw@mail.internal", "smtp", "mail.internal", 25, "postman", False),
        ("smtp+tls://mail.internal:587", "smtp", "mail.internal", 587, "", True),
        ("console", "console", "localhost", 25, "", False),
        ("console://", "console", "localhost", 25, "", False),
    ],
)
def test_email_url_is_honoured(url, backend, host, port, user, tls):
    s = settings_of(EMAIL_URL=url)
    assert s["email_backend"] == f"django.core.mail.backends.{backend}.EmailBackend"
    assert (s["email_host"], s["email_port"], s["email_user"], s["email_tls"]) == (
        host,
        port,
        user,
        tls,
    )


def test_email_url_file_writes_messages_to_a_directory(tmp_path):
    s = settings_of(EMAIL_URL=f"file://{tmp_path}")
    assert s["email_backend"] == "django.core.mail.backends.filebased.EmailBackend"
    assert s["email_file_path"] == str(tmp_path)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://db/panel"}, "DATABASE_URL must look like postgres://"),
        ({"DATABASE_URL": "postgres://u:hunter2@db:port/panel"}, "DATABASE_URL has a port"),
        ({"DATABASE_URL": "postgres://db:5432/"}, "DATABASE_URL names no database"),
        ({"REDIS_URL": "http://cache:6379/0"}, "REDIS_URL must look like redis://"),
        ({"REDIS_URL": "redis://cache:6379/zero"}, "REDIS_URL's database must be a number"),
        ({"EMAIL_URL": "smtp://mail:twenty-five"}, "EMAIL_URL has a port that is not a number"),
        ({"EMAIL_URL": "carrier-pigeon://loft"}, "EMAIL_URL must look like smtp://"),
        ({"EMAIL_URL": "smtp://"}, "EMAIL_URL names no SMTP host"),
        ({"PASSWORD_MIN_LENGTH": "twelve"}, "PASSWORD_MIN_LENGTH is malformed"),
        ({"TRUSTED_PROXY_COUNT": "1.5"}, "TRUSTED_PROXY_COUNT is malformed"),
        ({"CELERY_TASK_ALWAYS_EAGER": "perhaps"}, "CELERY_TASK_ALWAYS_EAGER is malformed"),
    ],
)
def test_a_malformed_value_stops_the_start_up_with_a_clear_error(env, message):
    error = startup_error(**env)
    assert message in error
    assert "hunter2" not in error  # a password in a URL is never echoed


def test_production_requires_its_documented_settings():
    for missing in ("SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "ENCRYPTION_KEYS"):
        env = {k: v for k, v in PROD_ENV.items() if k != missing}
        error = startup_error("panel.settings.prod", **env)
        assert missing in error


def test_production_refuses_a_short_secret_key():
    error = startup_error("panel.settings.prod", **{**PROD_ENV, "SECRET_KEY": "short"})
    assert "at least 50 characters" in error


def test_production_passes_check_deploy_with_only_the_documented_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=minimal_env(DJANGO_SETTINGS_MODULE="panel.settings.prod", **PROD_ENV),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "check_id"),
    [
        ({"SITE_URL": "http://panel.example.com"}, "panel.W001"),
        ({"ENCRYPTION_KEYS": "not-a-fernet-key"}, "panel.E002"),
        ({"SITE_URL": "panel.example.com"}, "panel.E004"),
    ],
)
def test_check_deploy_refuses_unsafe_production_settings(override, check_id):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=minimal_env(DJANGO_SETTINGS_MODULE="panel.settings.prod", **{**PROD_ENV, **override}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert check_id in result.stdout + result.stderr


def test_production_settings_harden_cookies_and_transport():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SECURE_SSL_REDIRECT, "
            "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS]))",
        ],
        cwd=BASE_DIR,
        env=minimal_env(DJANGO_SETTINGS_MODULE="panel.settings.prod", **PROD_ENV),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == [
        True,
        True,
        "__Host-sessionid",
        "__Host-csrftoken",
        True,
        31536000,
        True,
        "DENY",
    ]
