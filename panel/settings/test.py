"""Test settings: fast hashing, a fixed key, mail kept in memory unless EMAIL_URL says otherwise."""

from .base import *  # noqa: F403
from .env import env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
ENCRYPTION_KEYS = ["dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0wMDA="]
# bcrypt costs ~235 ms here: tests about hashing itself override this.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    *PASSWORD_HASHERS,  # noqa: F405
]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Plain static storage: the live server of the browser tests serves files straight from
# the app and static/ folders, and no test depends on a prior collectstatic. The
# manifest storage of production is exercised by `make run` and the deploy check.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
