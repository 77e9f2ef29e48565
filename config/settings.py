"""CertHub settings: one module, driven by environment variables (read by the helpers of ``config.env``).

With no environment set, CertHub runs on its embedded default: SQLite and a
filesystem Celery broker under ``var/``. Production sets ``DATABASE_URL``
(PostgreSQL), ``REDIS_URL`` or ``CELERY_BROKER_URL``, ``SECRET_KEY``,
``ALLOWED_HOSTS`` and ``DEBUG=false``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.access import (  # noqa: F401  (the login limits, sessions, the second factor, API keys)
    ACCESS_APPS,
    ACCESS_MIDDLEWARE,
    ADMIN_LOGIN_LOCKOUT_SECONDS,
    ADMIN_LOGIN_MAX_ATTEMPTS,
    ADMIN_SESSION_IDLE_MINUTES,
    API_AUTHENTICATION,
    API_LEGACY_TOKENS,
    STAFF_MFA,
)
from config.env import deployment, embedded_secret_key, env_bool, env_list, var_dir
from config.observability import LOG_FORMAT, LOGGING, METRICS_DIR, METRICS_OPEN_ON_LOOPBACK, METRICS_TOKEN  # noqa: F401
from config.renewals import PUBLIC_BASE_URL, RENEWAL_EVIDENCE_MAX_BYTES, RENEWAL_EVIDENCE_STORAGE, RENEWAL_LINK  # noqa: F401
from config.retention import RETENTION  # noqa: F401

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = var_dir()

# A production deployment says so with CERTHUB_ENV=production (DJANGO_ENV=production
# is read too): DEBUG then defaults to off, and the "Security" block below refuses
# to start with DEBUG on or without a strong SECRET_KEY.
CERTHUB_ENV = deployment()
IS_PRODUCTION = CERTHUB_ENV == "production"
DEBUG = env_bool("DEBUG", not IS_PRODUCTION)
# Production is served over HTTPS by a TLS-terminating proxy unless it says otherwise:
# BEHIND_TLS_PROXY defaults to on there. A deployment that really serves plain HTTP
# sets BEHIND_TLS_PROXY=false explicitly (and `check --deploy` then says what that costs).
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", IS_PRODUCTION)

# The key the embedded default used before it made one per installation. It is published in
# the repository, so it is refused as SECRET_KEY; events.sealing opens (and migration
# events 0003 seals again) the webhook secrets that were sealed with it.
PUBLISHED_DEV_SECRET_KEY = "certhub-insecure-development-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG or IS_PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off and in production.")
    # Like the admin's password, the key is made once and kept under var/ (bin/run's first
    # command makes it): every process of this installation shares it, and no other has it.
    SECRET_KEY = embedded_secret_key(VAR_DIR / "secret-key.txt")
if SECRET_KEY == PUBLISHED_DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development key published in the repository: set a random one, "
        "or leave it unset to use the one kept in var/secret-key.txt."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "certhub.apps.CertHubAdminConfig",  # django.contrib.admin with the dashboard site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "certhub",
    "certifications",
    "certifications.totals",
    "events",
    "notifications",
    *ACCESS_APPS,
    "benchmarks",  # benchmark commands only; its bare views are routed by benchmarks.settings alone
]

MIDDLEWARE = [
    "certhub.requestids.RequestIdMiddleware",  # first: every log line of the request carries its id
    "certhub.metrics.series.RequestMetricsMiddleware",
    "certhub.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    *ACCESS_MIDDLEWARE,
    "certhub.login_limits.AdminLoginLimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# SQLite (embedded default) runs in WAL mode with a busy timeout and IMMEDIATE
# transactions so that concurrent writers queue instead of failing with
# "database is locked".
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "certhub.sqlite3",
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"

# --- REST API -----------------------------------------------------------------
# Reads are public by the contract; API_PUBLIC_READS=false closes them.
API_PUBLIC_READS = env_bool("API_PUBLIC_READS", True)
# Imports (POST /api/v1/certifications/import, the admin's import): at most this many
# data rows, and this many bytes of upload (refused from Content-Length before reading).
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "50000"))
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(32 * 1024 * 1024)))
# The admin's import keeps the uploaded file between preview and confirm where every
# worker finds it: the cache when it is Redis, otherwise the media storage (var/media).
MEDIA_ROOT = VAR_DIR / "media"
API_THROTTLE_ANON = os.environ.get("API_THROTTLE_ANON", "120/min")
API_THROTTLE_USER = os.environ.get("API_THROTTLE_USER", "600/min")
# Idempotency-Key rows (certhub.idempotency) are remembered this long; a row
# left in progress by a request that died is taken over after the timeout.
IDEMPOTENCY_KEY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "24"))
IDEMPOTENCY_IN_PROGRESS_TIMEOUT_SECONDS = int(os.environ.get("IDEMPOTENCY_IN_PROGRESS_TIMEOUT_SECONDS", "600"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": API_AUTHENTICATION,
    "DEFAULT_PERMISSION_CLASSES": ["certhub.api.permissions.ModelPermissionsOrPublicRead"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["certhub.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "certhub.api.pagination.EnvelopePagination",
    "DEFAULT_FILTER_BACKENDS": ["certhub.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "certhub.api.schema.CertHubAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "certhub.api.throttling.AnonRateThrottle",
        "certhub.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_ANON, "user": API_THROTTLE_USER},
    "EXCEPTION_HANDLER": "certhub.api.errors.exception_handler",
    # Forwarded addresses are trusted only from the TLS proxy, as for the admin's login
    # limits: behind it the client is the last X-Forwarded-For entry; otherwise the
    # header is ignored (REMOTE_ADDR), so a client cannot pick its own throttle bucket.
    "NUM_PROXIES": 1 if BEHIND_TLS_PROXY else 0,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "PAGE_SIZE": 20,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CertHub API",
    "DESCRIPTION": (
        "Certification records of the peer-mentoring program, and the expiry job "
        "that pauses mentors whose certification lapsed."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"EventTypeEnum": "events.models.FEED_TYPES"},
    "PREPROCESSING_HOOKS": ["certhub.api.schema.exclude_contract_aliases"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "certhub.api.schema.describe_query_filters",
        "certhub.api.schema.describe_input_ranges",
        "certifications.api.schema.describe_certification_types",
        "certhub.api.schema.document_common_errors",
    ],
}

# --- Caches -------------------------------------------------------------------
# Throttle counters live in the cache: Redis when it is configured (shared by every
# process and machine; per process while Redis is unreachable); otherwise each process
# keeps its own in memory. Admin login limits are counted in the database.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Short socket timeouts: a Redis that is gone or silent costs one request half a second,
    # then the cache answers from process memory for a while (certhub.cache).
    CACHES = {
        "default": {
            "BACKEND": "certhub.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "certhub.cache.LocalCache", "LOCATION": "certhub"}}
IMPORT_EXPORT_TMP_STORAGE_CLASS = (
    "import_export.tmp_storages.CacheStorage" if REDIS_URL else "import_export.tmp_storages.MediaStorage"
)

# --- Celery -------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("in", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # How often an idle worker looks for a new message file (kombu's default, 1 s, let a worker
        # send about one message a second); a listing of the folder every 0.1 s costs nothing here.
        "polling_interval": float(os.environ.get("CELERY_FILESYSTEM_POLLING_INTERVAL", "0.1")),
    }
else:
    # Redis redelivers an unacknowledged message after the visibility timeout. It is
    # far longer than the hard time limit below, so a run still in progress is never
    # handed to a second worker (the single-run lock would refuse it anyway).
    # The socket timeouts keep a broker that accepts connections but never answers
    # from hanging a web request: the async trigger answers 503 within seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 4 * 60 * 60,
        "socket_connect_timeout": float(os.environ.get("CELERY_BROKER_SOCKET_TIMEOUT", "3")),
        "socket_timeout": float(os.environ.get("CELERY_BROKER_SOCKET_TIMEOUT", "3")),
    }
CELERY_BROKER_CONNECTION_TIMEOUT = float(os.environ.get("CELERY_BROKER_SOCKET_TIMEOUT", "3"))
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Late acks are safe only because the expiry job is idempotent: a message whose
# worker died is delivered again, and a second run at any time changes only what
# the first one left undone.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# With late acks a message is redelivered when the broker connection drops, so the
# worker stops the task it was running instead of letting two copies run.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# The job stops cleanly at the soft limit (its committed batches stay; the rest
# waits for the next run); the hard limit kills a stuck worker process.
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 60
CELERY_TASK_TIME_LIMIT = 60 * 60 + 300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DJANGO_CELERY_BEAT_TZ_AWARE = True
# Catch-up bound: a daily run that beat missed (beat was down at 01:00) is sent when
# beat comes back within this many seconds, and skipped after that.
CELERY_BEAT_CRON_STARTING_DEADLINE = 3 * 60 * 60

# --- The expiry job -----------------------------------------------------------
# Due records per transaction: 2,000 ran as fast as 5,000 at 1M records (docs/benchmarks.md)
# while holding each batch's row and mentor locks about 0.3 s instead of 0.7 s.
EXPIRY_JOB_BATCH_SIZE = int(os.environ.get("EXPIRY_JOB_BATCH_SIZE", "2000"))
# A run's lock is a lease renewed at every batch; a worker that dies leaves it
# for at most this long before the next run may take over.
EXPIRY_JOB_LOCK_TTL_SECONDS = int(os.environ.get("EXPIRY_JOB_LOCK_TTL_SECONDS", "300"))
# A synchronous API run answers within about this long (well inside gunicorn's 30 s
# worker timeout): past it the answer is a 202 with the run in state "running", and
# the remaining batches go on in a background thread of the web process.
EXPIRY_JOB_SYNC_WAIT_SECONDS = float(os.environ.get("EXPIRY_JOB_SYNC_WAIT_SECONDS", "20"))

# --- Webhooks -----------------------------------------------------------------
# A delivery that fails is tried again after each of these delays (seconds), then it
# is failed: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (DESIGN). Tests shorten it.
WEBHOOK_RETRY_SCHEDULE = [
    float(delay) for delay in env_list("WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000")
]
# One attempt, connection to the last byte read, is cut off after this long.
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# A worker's claim on the delivery it sends; a worker that dies leaves it for this long.
WEBHOOK_SEND_LEASE_SECONDS = float(os.environ.get("WEBHOOK_SEND_LEASE_SECONDS", "60"))
# A dispatcher's claim on a delivery it enqueued; a lost message is sent again after it.
WEBHOOK_QUEUE_LEASE_SECONDS = float(os.environ.get("WEBHOOK_QUEUE_LEASE_SECONDS", "300"))
# POSTs to one endpoint at once from one sending task (a small receiver is not flooded).
WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT = int(os.environ.get("WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT", "4"))
# Receivers on loopback, private, link-local or reserved addresses are refused unless
# this is on (by default only with DEBUG); production also requires https:// URLs.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", DEBUG)
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", IS_PRODUCTION)
# After a rotation the previous secret still signs deliveries for this long.
WEBHOOK_SECRET_OVERLAP_HOURS = float(os.environ.get("WEBHOOK_SECRET_OVERLAP_HOURS", "24"))
# Deliveries are enqueued when their transaction commits (the sweep finds them otherwise).
WEBHOOK_DISPATCH_ON_COMMIT = env_bool("WEBHOOK_DISPATCH_ON_COMMIT", True)

# --- Mail ---------------------------------------------------------------------
# With EMAIL_HOST set, mail goes out over SMTP with Django's own settings; without it
# (the embedded default) each message is written as a file under var/mail/ (bin/run
# says where). EMAIL_BACKEND overrides both.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.filebased.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "certhub@localhost")
# Where mentors write to renew (named in every message); DEFAULT_FROM_EMAIL when unset.
PROGRAM_CONTACT_EMAIL = os.environ.get("PROGRAM_CONTACT_EMAIL", "")
# Seconds before each retry of a message that could not be sent; after the last, it is failed.
NOTIFICATION_RETRY_DELAYS = [int(delay) for delay in env_list("NOTIFICATION_RETRY_DELAYS", "60,600,3600")]

# --- Security -----------------------------------------------------------------
# Production (CERTHUB_ENV=production) refuses to start with DEBUG on or without a
# SECRET_KEY of at least 50 characters. Headers that are safe everywhere are always
# on. Behind a TLS-terminating proxy (BEHIND_TLS_PROXY=true) the proxy's
# X-Forwarded-Proto is trusted, plain HTTP is redirected to HTTPS (except the health
# check), cookies are Secure and HSTS is sent (SECURE_HSTS_SECONDS, default one year;
# SECURE_HSTS_INCLUDE_SUBDOMAINS and SECURE_HSTS_PRELOAD, default true). The login
# limits and session hygiene are in config/access.py.
if IS_PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production (CERTHUB_ENV=production): set DEBUG=false.")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("Production needs SECRET_KEY set to a random value of at least 50 characters.")

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # probes and scrapes from inside
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 60 * 60)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# --- end of Security -------------------------------------------------------------
# --- Logging and metrics: config/observability.py (LOGGING, LOG_FORMAT, METRICS_*); retention: config/retention.py
