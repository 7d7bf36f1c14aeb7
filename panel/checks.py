"""System checks that refuse unsafe or malformed settings.

``manage.py check`` runs the plain checks; ``check --deploy`` adds the deployment ones
(CI runs the production settings through ``check --deploy --fail-level WARNING``).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security)
def check_encryption_keys_are_valid(app_configs, **kwargs):
    """A key that is set must be a Fernet key, in every environment."""
    errors = []
    for index, key in enumerate(settings.ENCRYPTION_KEYS):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"ENCRYPTION_KEYS[{index}] is not a valid Fernet key.",
                    hint="Generate one with: python -c 'from cryptography.fernet import "
                    "Fernet; print(Fernet.generate_key().decode())'",
                    id="panel.E002",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def check_encryption_keys_are_set(app_configs, **kwargs):
    if not settings.ENCRYPTION_KEYS:
        return [
            Error(
                "ENCRYPTION_KEYS is empty: two-factor secrets cannot be encrypted.",
                hint="Set ENCRYPTION_KEYS to one or more Fernet keys (the first encrypts).",
                id="panel.E001",
            )
        ]
    return []


@register(Tags.security)
def check_site_url_is_an_address(app_configs, **kwargs):
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return [
            Error(
                "SITE_URL must be an absolute http(s) address such as https://panel.example.com.",
                id="panel.E004",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs):
    if not settings.SITE_URL.startswith("https://"):
        return [
            Warning(
                "SITE_URL does not use https: links in emails would travel in clear text.",
                id="panel.W001",
            )
        ]
    return []


@register(Tags.security)
def check_trusted_proxies(app_configs, **kwargs):
    if settings.TRUSTED_PROXY_COUNT < 0:
        return [Error("TRUSTED_PROXY_COUNT cannot be negative.", id="panel.E003")]
    return []


@register(Tags.security, deploy=True)
def check_debug_is_off(app_configs, **kwargs):
    """Django's W018 says the same; this one names the settings module to use."""
    if settings.DEBUG:
        return [
            Error(
                "DEBUG is on: use DJANGO_SETTINGS_MODULE=panel.settings.prod in production.",
                id="panel.E005",
            )
        ]
    return []


CACHE_TABLE_MIGRATION = ("accounts", "0002_create_cache_table")


@register(Tags.caches)
def check_database_cache_table(app_configs, **kwargs):
    """A database cache (the embedded default) needs its table: without it every form
    answers 500. The migrations create it; this names the command when it is missing
    anyway (the cache was switched to the database after the migrations ran).

    Says nothing when the database cannot be reached or does not exist yet (checks run
    before `migrate` and in image builds), or when the migration that creates the table
    has not run (`migrate` will create it; runserver already reports unapplied ones).
    """
    from django.core.cache.backends.db import DatabaseCache
    from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
    from django.db.migrations.recorder import MigrationRecorder
    from django.utils.module_loading import import_string

    tables = set()
    for config in settings.CACHES.values():
        try:
            backend = import_string(config["BACKEND"])
        except ImportError:
            continue
        if issubclass(backend, DatabaseCache):
            tables.add(config["LOCATION"])
    if not tables:
        return []
    connection = connections[DEFAULT_DB_ALIAS]
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor == "sqlite" and not (connection.is_in_memory_db() or Path(name).is_file()):
        return []  # connecting would create the file
    try:
        applied = MigrationRecorder(connection).applied_migrations()
        if CACHE_TABLE_MIGRATION not in applied:
            return []
        existing = set(connection.introspection.table_names())
    except DatabaseError:
        return []
    return [
        Error(
            f"The database cache table {table!r} does not exist: every form would answer 500.",
            hint="Create it with: python manage.py createcachetable",
            id="panel.E006",
        )
        for table in sorted(tables - existing)
    ]


@register(Tags.security)
def check_site_url_can_host_passkeys(app_configs, **kwargs):
    """An IP address is not a valid WebAuthn relying party id: with one as SITE_URL the
    passkey buttons are hidden (security.passkeys.ceremony.available)."""
    host = urlsplit(settings.SITE_URL).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return []
    return [
        Warning(
            f"SITE_URL is an IP address ({host}): passkeys cannot work and are hidden.",
            hint="Serve the panel at a host name (e.g. http://localhost:8000 for development, "
            "https://panel.example.com in production) and set SITE_URL to it.",
            id="panel.W010",
        )
    ]
