"""Environment reading for the settings modules.

Every setting that an operator may change is read here through django-environ. A
malformed value (a non-integer number, an unknown URL scheme, a port that is not a
number) stops the process at start-up with an ``ImproperlyConfigured`` error that names
the variable -- never the value, which may hold a password -- rather than failing at the
first request that needs it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


class SettingsError(ImproperlyConfigured):
    """A setting the operator must fix in the environment. Uncaught, it is printed as one
    line naming the variable (no traceback: nothing in it would help)."""


# What each variable production requires should be set to, for the one-line error.
REQUIRED = {
    "SECRET_KEY": "a random string of at least 50 characters, e.g. the output of "
    "python -c 'import secrets; print(secrets.token_urlsafe(50))'",
    "ALLOWED_HOSTS": "the host names the panel answers to, comma-separated "
    "(e.g. panel.example.com)",
    "SITE_URL": "the https address the panel is served at (e.g. https://panel.example.com)",
    "ENCRYPTION_KEYS": "one or more Fernet keys, comma-separated, from "
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
}


def not_set(var: str) -> SettingsError:
    hint = REQUIRED.get(var, "a value (see the configuration table in README.md)")
    return SettingsError(f"{var} is not set: set it to {hint}.")


def _print_settings_error(exc_type, exc, tb, _previous=sys.excepthook):
    if isinstance(exc, SettingsError):
        sys.stderr.write(f"Configuration error: {exc}\n")
    else:
        _previous(exc_type, exc, tb)


# Installed when the settings are first read: a process that dies of a SettingsError
# (manage.py, python -c) prints one line instead of a long traceback.
if getattr(sys.excepthook, "__name__", "") != _print_settings_error.__name__:
    sys.excepthook = _print_settings_error


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env(environ.Env):
    """django-environ, with errors that name the variable at fault and strict booleans."""

    @classmethod
    def parse_value(cls, value, cast):
        if cast is bool and isinstance(value, str):
            # django-environ reads any unknown word as False: a typo must not turn a
            # safety switch off silently.
            word = value.strip().lower()
            if word not in _TRUE | _FALSE:
                raise ValueError(f"not a boolean (use one of {', '.join(sorted(_TRUE))} or false)")
            return word in _TRUE
        return super().parse_value(value, cast)

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        if default is environ.Env.NOTSET and f"{self.prefix}{var}" not in self.ENVIRON:
            raise not_set(var)
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:
            kind = getattr(cast, "__name__", None) or "value"
            raise SettingsError(
                f"The environment variable {var} is malformed: expected {kind} ({exc.__class__.__name__})."
            ) from None


env = Env()
# A .env file in the project root is read when present (see .env.example); real
# environment variables always win over it. PANEL_DOTENV=0 turns it off (`make test`
# does, so that a developer's .env never changes which database the suite uses).
_dotenv = BASE_DIR / ".env"
if _dotenv.is_file() and os.environ.get("PANEL_DOTENV", "1") != "0":
    environ.Env.read_env(str(_dotenv), overwrite=False)


def _scheme(var: str, raw: str, allowed: set[str], example: str) -> str:
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in allowed:
        raise SettingsError(
            f"{var} must look like {example} (schemes: {', '.join(sorted(allowed))})."
        )
    return scheme


def _port(var: str, raw: str) -> int | None:
    try:
        return urlsplit(raw).port
    except ValueError:
        raise SettingsError(f"{var} has a port that is not a number.") from None


_DB_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql"}


def database_url(default: str) -> dict[str, Any]:
    """DATABASES['default'] from DATABASE_URL: PostgreSQL (psycopg 3) or SQLite."""
    raw = env.str("DATABASE_URL", default="") or default
    scheme = _scheme("DATABASE_URL", raw, _DB_SCHEMES, "postgres://user:password@host:5432/name")
    _port("DATABASE_URL", raw)
    config = environ.Env.db_url_config(raw)
    if scheme != "sqlite" and not config.get("NAME"):
        raise SettingsError("DATABASE_URL names no database (postgres://host:5432/NAME).")
    if scheme != "sqlite" and not config.get("HOST"):
        raise SettingsError("DATABASE_URL names no host (postgres://HOST:5432/name).")
    return config


_REDIS_SCHEMES = {"redis", "rediss", "unix"}


def redis_url() -> str:
    """REDIS_URL, validated; empty when Redis is not used (the embedded default)."""
    raw = env.str("REDIS_URL", default="").strip()
    if not raw:
        return ""
    scheme = _scheme("REDIS_URL", raw, _REDIS_SCHEMES, "redis://host:6379/0")
    _port("REDIS_URL", raw)
    if scheme != "unix" and not urlsplit(raw).hostname:
        raise SettingsError("REDIS_URL names no host (redis://HOST:6379/0).")
    db = urlsplit(raw).path.strip("/")
    if db and not db.isdigit():
        raise SettingsError("REDIS_URL's database must be a number (redis://host:6379/0).")
    return raw


_EMAIL_ALIASES = {"console": "consolemail", "file": "filemail", "memory": "memorymail"}
_EMAIL_SCHEMES = {
    "smtp",
    "smtps",
    "smtp+tls",
    "smtp+ssl",
    "consolemail",
    "filemail",
    "memorymail",
    "dummymail",
}


def email_url(default: str = "console://") -> dict[str, Any]:
    """EMAIL_* settings from EMAIL_URL.

    ``smtp://user:password@host:port`` (``smtps://`` or ``smtp+tls://`` for STARTTLS,
    ``smtp+ssl://`` for implicit TLS), ``console`` (print to the terminal) or
    ``file:///absolute/dir`` (one file per message).
    """
    raw = env.str("EMAIL_URL", default="").strip() or default
    if "://" not in raw:
        raw = f"{raw}://"
    scheme = raw.split("://", 1)[0].lower()
    scheme = _EMAIL_ALIASES.get(scheme, scheme)
    raw = f"{scheme}://{raw.split('://', 1)[1]}"
    _scheme(
        "EMAIL_URL",
        raw,
        _EMAIL_SCHEMES | set(_EMAIL_ALIASES),
        "smtp://host:25, console or file:///path/to/dir",
    )
    port = _port("EMAIL_URL", raw)
    config = environ.Env.email_url_config(raw)
    if scheme.startswith("smtp"):
        if not config.get("EMAIL_HOST"):
            raise SettingsError("EMAIL_URL names no SMTP host (smtp://HOST:25).")
        config["EMAIL_PORT"] = port or (465 if scheme == "smtp+ssl" else 25)
    elif scheme == "filemail":
        path = urlsplit(raw).path
        if not path:
            raise SettingsError("EMAIL_URL file:// needs a directory (file:///path/dir).")
        config["EMAIL_FILE_PATH"] = str(BASE_DIR / path) if not path.startswith("/") else path
    # Django's own names for what the URL left out, so that nothing stays None.
    config["EMAIL_HOST"] = config.get("EMAIL_HOST") or "localhost"
    config["EMAIL_PORT"] = config.get("EMAIL_PORT") or 25
    config["EMAIL_HOST_USER"] = config.get("EMAIL_HOST_USER") or ""
    config["EMAIL_HOST_PASSWORD"] = config.get("EMAIL_HOST_PASSWORD") or ""
    config.pop("OPTIONS", None)
    return config
