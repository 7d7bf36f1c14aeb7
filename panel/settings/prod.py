"""Production: every secret from the environment, HTTPS assumed, no defaults that leak."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .env import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS")
# Links in emails are built from SITE_URL: production must say where it lives.
SITE_URL = env.str("SITE_URL").rstrip("/")
# The panel's own origin is trusted for CSRF even when a proxy terminates TLS.
CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, SITE_URL]

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None  # noqa: F405
)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
