"""System checks that refuse unsafe production settings."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_encryption_keys(app_configs, **kwargs):
    errors = []
    keys = settings.ENCRYPTION_KEYS
    if not keys:
        errors.append(
            Error(
                "ENCRYPTION_KEYS is empty: two-factor secrets cannot be encrypted.",
                hint="Set ENCRYPTION_KEYS to one or more Fernet keys (first encrypts).",
                id="panel.E001",
            )
        )
    for index, key in enumerate(keys):
        try:
            Fernet(key)
        except Exception:
            errors.append(Error(f"ENCRYPTION_KEYS[{index}] is not a valid Fernet key.", id="panel.E002"))
    return errors


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
