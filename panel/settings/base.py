"""Settings shared by every environment.

Everything is switched by environment variables (see panel/settings/env.py and the
README's configuration table). With nothing set, the panel runs on the embedded
default: SQLite under var/, Celery eager, email to the console, the database cache.
"""

from __future__ import annotations

from datetime import timedelta

from .env import BASE_DIR, database_url, email_url, env, redis_url

VAR_DIR = BASE_DIR / "var"

SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The address the panel is reached at. Links in emails (verification, password reset)
# are built from it, never from the request's Host header.
# The default is a host name, not 127.0.0.1: passkeys need one (an IP address is not a
# valid WebAuthn relying party id). `make run` still binds to 127.0.0.1 only.
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="Panel")
# The issuer shown in authenticator apps.
OTP_ISSUER = env.str("OTP_ISSUER", default=SITE_NAME)

INSTALLED_APPS = [
    "panel.apps.PanelAdminConfig",  # django.contrib.admin: superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",  # passkeys and security keys (security/passkeys/)
    "axes",
    # Impersonation's permission hook and signals (security/impersonation/; its views,
    # middleware and banner are not used: docs/decisions.md).
    "hijack",
    "panel.apps.PanelConfig",
    "audit",
    "accounts",
    "security",
    "teams",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc as our own static files (no CDN)
    "api",
]

MIDDLEWARE = [
    # The security headers come first, so that they wrap everything: the early 400 pages
    # of RequestLimitsMiddleware, CSRF's 403 and the 500 made of an exception get them.
    "panel.middleware.SecurityHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # /api/: a key or token in the query string is refused before anything reads or logs
    # it, and every error under /api/ (the 400 of RequestLimitsMiddleware, a 404, a 429,
    # a 500) answers the JSON error body instead of an HTML page. Inside the header
    # middleware above, so those answers get the security headers too.
    "api.middleware.ApiErrorMiddleware",
    # Path, headers, cookies, query string and body are checked here, before anything
    # stores or looks up a request-derived value.
    "panel.middleware.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A half-finished sign-in (password right, 2FA pending) reaches only its next step.
    "security.signin.middleware.PendingSignInMiddleware",
    # Deny by default: a view is public only when marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Tracked sessions: revoked, timed-out or replaced sessions are signed out here.
    "security.sessions.middleware.SessionTrackingMiddleware",
    # An administrator acting as another user: request.user becomes that user,
    # request.impersonator the administrator; @not_while_impersonating pages answer 403.
    "security.impersonation.middleware.ImpersonationMiddleware",
    # An administrator forced a password change: the change-password page until it's done.
    "accounts.middleware.ForcedPasswordChangeMiddleware",
    # Enforces what views declare (@lockout_guarded, blocked addresses) and turns the typed
    # refusals of security.exceptions into pages.
    "security.middleware.PolicyMiddleware",
    # request.teams (the active team, resolved lazily) and @team_permission's 404/403.
    "teams.middleware.TeamMiddleware",
    # High Security Mode and the step-up: enforces @high_security and @stepup_required
    # (after the team middleware, so an outsider gets the team's 404 first).
    "security.stepup.middleware.HighSecurityMiddleware",
    "axes.middleware.AxesMiddleware",
    # Turns django-ratelimit's Ratelimited into the 429 page (RATELIMIT_VIEW) instead
    # of a 403.
    "django_ratelimit.middleware.RatelimitMiddleware",
    # A view that meets a Redis outage answers 503 ("Sign-in is unavailable for a moment").
    "panel.middleware.OutageMiddleware",
]

ROOT_URLCONF = "panel.urls"
WSGI_APPLICATION = "panel.wsgi.application"
ASGI_APPLICATION = "panel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "panel.context_processors.site",
                "teams.context_processors.teams",
            ],
            # {% url %} keeps the answers of constant names (panel/templatetags/cached_url.py),
            # {% extends %} the root template's blocks (panel/templatetags/kept_extends.py).
            "builtins": ["panel.templatetags.cached_url", "panel.templatetags.kept_extends"],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": database_url(default=f"sqlite:///{VAR_DIR / 'panel.sqlite3'}")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server, a Celery eager task and a test's live
    # server share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with a health check that asks the server only when the connection's
    # socket says something happened (panel/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "panel.db.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ----------------------------------------------------------------------
REDIS_URL = redis_url()
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, with one client object per pool (panel/cache.py).
            "BACKEND": "panel.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # Keeps the cache's keys apart from Celery's queues in the same database.
            "KEY_PREFIX": "panel",
        }
    }
else:
    # django-ratelimit needs a cache shared by all processes and refuses LocMemCache:
    # the database cache is shared and needs no extra service.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "panel_cache",
        }
    }
# A user's teams, roles and permissions (read on every signed-in page for the session
# policy) kept in the cache, replaced on any team change (teams.access). With the
# database cache it would trade one query for another: on with Redis only.
TEAM_ACCESS_CACHE_SECONDS = env.int("TEAM_ACCESS_CACHE_SECONDS", default=300 if REDIS_URL else 0)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
if REDIS_URL:
    # A task taken by a worker that died (SIGKILL, OOM, a lost machine) is never acked
    # (acks late): Redis hands it to another worker after the visibility timeout. It
    # must stay longer than the longest retry countdown (10 minutes), or a waiting retry
    # is delivered twice (harmless: the outbox claim refuses the second, but wasteful).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": max(1, env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)),
        # How often a worker looks for such tasks (seconds; kombu's default is 100).
        "unacked_restore_interval": max(1, env.int("CELERY_RESTORE_INTERVAL", default=60)),
        "unacked_restore_throttle": 1,
    }
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE = {
    "resend-pending-emails": {
        "task": "accounts.tasks.resend_pending_emails",
        "schedule": 60.0,
    },
    # Security metrics: email the superusers once per threshold crossing, once when it
    # clears (security/metrics/alerts.py).
    "check-metric-thresholds": {
        "task": "security.tasks.check_metric_thresholds",
        "schedule": 300.0,
    },
    # Retention: delete expired codes, old held sign-ins, sessions, sent emails and
    # lockout records (security/services/retention.py). Audit events are never deleted.
    "purge-expired": {
        "task": "security.tasks.purge_expired",
        "schedule": timedelta(days=1),
    },
}

# --- Email ----------------------------------------------------------------------------
# smtp://host:port, console or file:///dir (see env.email_url); the console by default.
vars().update(email_url(default="console://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10
# How many times the send task retries an SMTP failure before the outbox row is
# left for the periodic re-send.
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=5)
# The first wait before a retry, doubled each attempt up to 10 minutes (10, 20, 40 s ...).
EMAIL_RETRY_BACKOFF = max(1, env.int("EMAIL_RETRY_BACKOFF_SECONDS", default=10))
# How long a claimed outbox row belongs to the worker sending it: after it, a task
# redelivered from a dead worker, or the periodic re-send, may send it (accounts/tasks.py).
EMAIL_SEND_LEASE = timedelta(seconds=max(1, env.int("EMAIL_SEND_LEASE_SECONDS", default=300)))

# --- Authentication -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # axes first: a locked (IP, user) pair is refused before any password hash is computed.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailOrUsernameBackend",
    # user.has_perm("site.edit", team): answers for Team objects only.
    "teams.backends.TeamPermissionBackend",
]
LOGIN_URL = "security:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "security:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=12)
PASSWORD_MAX_LENGTH = 128
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "email")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {
        "NAME": "accounts.validators.MaximumLengthValidator",
        "OPTIONS": {"max_length": PASSWORD_MAX_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # A team's security policy may ask for longer passwords (the longest of the user's teams).
    {"NAME": "teams.policy.TeamPasswordLengthValidator"},
    # Nothing built around the site name, the username, the email or the name (SECURITY.md 4).
    {"NAME": "accounts.validators.ContextWordValidator"},
    {"NAME": "accounts.validators.StrengthValidator", "OPTIONS": {"min_score": 3}},
]
PASSWORD_RESET_TIMEOUT = 3600
EMAIL_VERIFICATION_TIMEOUT = 24 * 3600
# Changing one's email address (accounts.controls): the confirmation link sent to the new
# address, and the undo link sent to the old one (it also works after the change).
EMAIL_CHANGE_TIMEOUT = 24 * 3600
EMAIL_CHANGE_UNDO_TIMEOUT = 7 * 24 * 3600

# --- Sessions, cookies ----------------------------------------------------------------
SESSION_ENGINE = "panel.session_store"
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "panel.views.csrf_failure"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Client IP, lockout, rate limits --------------------------------------------------
# How many reverse proxies in front of the panel append to X-Forwarded-For. 0 (the
# default) means the header is ignored and REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

AXES_ENABLED = True
AXES_FAILURE_LIMIT = 6
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_CLIENT_IP_CALLABLE = "panel.net.client_ip"
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "security.lockout.axes.lockout_response"
AXES_COOLOFF_TIME = timedelta(minutes=10)
AXES_VERBOSE = False
# axes keeps the GET and POST data of a failed attempt; these fields are masked there
# (it masks AXES_PASSWORD_FORM_FIELD itself). A typed code must never be stored.
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "code",
    "otp_token",
    "token",
    "backup_code",
    "credential",  # a passkey's signed answer (single use, but no log needs it)
    "password1",
    "password2",
    "old_password",
    "new_password1",
    "new_password2",
]

# --- Two-factor authentication and the escalating lockout (issue 3) ---------------------
# axes counts failures per (IP, username) within AXES_COOLOFF_TIME (the counting window);
# the panel's handler decides the lock: 60 s, then 5 min, then 1 h (security.lockout.axes).
AXES_HANDLER = "security.lockout.axes.PanelAxesHandler"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Per-account ceiling of consecutive failures from any address (NIST SP 800-63B).
LOCKOUT_ACCOUNT_HARD_LIMIT = env.int("LOCKOUT_ACCOUNT_HARD_LIMIT", default=100)
# Per-IP rate limits (django-ratelimit) on the sign-in and 2FA POSTs.
SIGNIN_RATE_LIMIT = env.str("SIGNIN_RATE_LIMIT", default="30/m")
TWO_FACTOR_RATE_LIMIT = env.str("TWO_FACTOR_RATE_LIMIT", default="30/m")
# django-otp throttling of one device: 1 s, 2 s, 4 s, ... after failures, capped.
OTP_THROTTLE_FACTOR = 1
OTP_THROTTLE_MAX_SECONDS = 15 * 60
# Backup codes: scrypt cost (N; r=8, p=1), about 40 ms a check here.
BACKUP_CODE_SCRYPT_N = 2**14

# --- The JSON API (api/) ----------------------------------------------------------------
# API keys are hashed with HMAC-SHA256 under a key derived from SECRET_KEY (purpose
# "api.keys"), or from API_KEY_HASH_SECRET when set (rotating SECRET_KEY then keeps the
# keys working).
API_KEY_HASH_SECRET = env.str("API_KEY_HASH_SECRET", default="")
API_KEY_RATE_LIMIT = env.str("API_KEY_RATE_LIMIT", default="600/m")
API_AUTH_FAILURE_RATE_LIMIT = env.str("API_AUTH_FAILURE_RATE_LIMIT", default="30/m")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "api.authentication.SessionTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "ALGORITHM": "HS256",
    "UPDATE_LAST_LOGIN": False,
    "USER_ID_CLAIM": "user_id",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Panel API",
    "DESCRIPTION": (
        "The panel's JSON API. Authenticate with an API key or an access token in "
        '`Authorization: Bearer`. Every error answers `{"error": {"code", "message"}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
}

RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "panel.views.ratelimited"
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# --- Secrets at rest ------------------------------------------------------------------
# Comma-separated Fernet keys: the first encrypts, all decrypt (MultiFernet).
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS", default=[])

# --- i18n, static ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The panel is in English only: Django's translation machinery stays off (with it on,
# every date, "5 minutes ago" and month name went through a catalogue look-up: a tenth
# of the Security tab's CPU). Turning it on is the first step of a translated panel.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Request limits -------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# --- Security headers -----------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'"
)

# --- Sessions, devices, suspicious sign-ins (security/services/sessions.py) ----------
# Read when code runs (security.sessions.services.policy_for), so tests can override.
# GeoIP: the GeoLite2 City database shipped by maxminddb-geolite2 (2018, CC BY-SA 3.0,
# attribution in the footer) unless GEOIP_PATH points at a current one. A missing or
# unreadable file means "Unknown" locations, one warning, and no location checks.
try:
    from _maxminddb_geolite2 import geolite2_database as _geolite2_database

    _GEOIP_DEFAULT = _geolite2_database()
except ImportError:  # pragma: no cover - the package is a pinned requirement
    _GEOIP_DEFAULT = ""
GEOIP_PATH = env.str("GEOIP_PATH", default=_GEOIP_DEFAULT)
# New-device approval: a sign-in from an unrecognised browser needs an emailed code.
# A user's very first sign-in trusts its browser without a code (approval is for
# additional devices).
NEW_DEVICE_APPROVAL = env.bool("NEW_DEVICE_APPROVAL", default=True)
# One active session per user: a new sign-in ends the older ones.
SINGLE_SESSION = env.bool("SINGLE_SESSION", default=False)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=3600)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=43200)
# Hold sign-ins from a new country, impossible travel or after a burst of failures.
SUSPICIOUS_SIGNIN_CHECKS = env.bool("SUSPICIOUS_SIGNIN_CHECKS", default=True)

# --- Impersonation (security/impersonation/) --------------------------------------------
# Who may act as whom: superusers over non-superusers, plus the rules other apps register
# (teams: a user.manage holder over a lower role in their team).
HIJACK_PERMISSION_CHECK = "security.impersonation.rules.may_impersonate"
# Email the user when an administrator starts acting as them.
PANEL_IMPERSONATION_NOTICE = env.bool("PANEL_IMPERSONATION_NOTICE", default=True)

# --- Retention (security.tasks.purge_expired, daily; manage.py purge_expired) -----------
# How long finished records are kept before the daily purge deletes them. Expired or used
# new-device codes, expired Django sessions and lockout rows whose escalation window
# (24 h) has passed go at once. Audit events are never purged.
RETENTION_HELD_SIGNINS = timedelta(days=max(1, env.int("RETENTION_HELD_SIGNINS_DAYS", default=30)))
RETENTION_ENDED_SESSIONS = timedelta(
    days=max(1, env.int("RETENTION_ENDED_SESSIONS_DAYS", default=90))
)
RETENTION_SENT_EMAILS = timedelta(days=max(1, env.int("RETENTION_SENT_EMAILS_DAYS", default=30)))
RETENTION_FAILURE_LOG = timedelta(days=max(1, env.int("RETENTION_FAILURE_LOG_DAYS", default=90)))
# axes failure counters outlive their counting window (AXES_COOLOFF_TIME) by this much.
RETENTION_ACCESS_ATTEMPTS_MARGIN = timedelta(hours=1)
# An expired IP block stays listed (under "Expired blocks") this long, then is deleted;
# blocking and lifting stay in the audit trail.
RETENTION_EXPIRED_BLOCKS = timedelta(
    days=max(1, env.int("RETENTION_EXPIRED_BLOCKS_DAYS", default=7))
)

# --- Monitoring -----------------------------------------------------------------------
# /metrics (Prometheus text format) answers only "Authorization: Bearer <this>"; unset,
# the endpoint does not exist (404). /health/ is always on (database, cache, broker).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Logging --------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# fail2ban: one line per failed sign-in, failed code and lockout (security.fail2ban,
# format in docs/security.md; filter and jail in deploy/fail2ban/). Empty: not written.
FAIL2BAN_LOG = env.str("FAIL2BAN_LOG", default=str(VAR_DIR / "auth-failures.log"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "fail2ban": {"()": "panel.logs.UTCFormatter", "format": "%(asctime)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "fail2ban": (
            {
                "class": "logging.handlers.WatchedFileHandler",
                "filename": FAIL2BAN_LOG,
                "formatter": "fail2ban",
                "delay": True,
            }
            if FAIL2BAN_LOG
            else {"class": "logging.NullHandler"}
        ),
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "panel.fail2ban": {"handlers": ["fail2ban"], "level": "INFO", "propagate": False},
    },
}

# Passkeys (django-otp-webauthn): the relying party id and origin are read from SITE_URL
# when a ceremony runs (security.passkeys.ceremony.PanelWebAuthnHelper), never from the
# request's Host. The package's own checks of OTP_WEBAUTHN_RP_ID and
# OTP_WEBAUTHN_ALLOWED_ORIGINS are replaced by panel.W010 (an IP-address SITE_URL).
OTP_WEBAUTHN_HELPER_CLASS = "security.passkeys.ceremony.PanelWebAuthnHelper"
OTP_WEBAUTHN_RP_NAME = SITE_NAME
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = True
OTP_WEBAUTHN_TIMEOUT_SECONDS = 2 * 60
SILENCED_SYSTEM_CHECKS = [
    *SILENCED_SYSTEM_CHECKS,
    "otp_webauthn.E010",
    "otp_webauthn.E030",
    "otp_webauthn.E031",
]
