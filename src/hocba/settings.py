"""Project settings, read from environment variables.

A fresh clone runs with no configuration: SQLite in ``HOCBA_DATA_DIR`` (default ``./var``).
``DATABASE_URL`` switches to PostgreSQL. With ``DEBUG`` off the process refuses to start
unless ``SECRET_KEY`` and ``ALLOWED_HOSTS`` are set (STYLE §8).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from hocba.common.dbconfig import database_settings


def env_bool(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("HOCBA_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG")
TESTING = env_bool("HOCBA_TESTING")


def _secret_key() -> str:
    """Production must supply SECRET_KEY; embedded mode keeps a generated one in the data dir."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY phải được đặt khi DEBUG tắt (SECRET_KEY is required)."
        )
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG or TESTING else "")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS phải được đặt khi DEBUG tắt (ALLOWED_HOSTS is required)."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "hocba.audit",
    "hocba.schools",
    "hocba.assessment",
    "hocba.records",
    "hocba.signing",
    "hocba.ledger",
    "hocba.verification",
    "hocba.jobs",
    "hocba.exchange",
    "hocba.monitoring",
    "hocba.web",
    "hocba.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hocba.common.security.IdleTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "hocba.web.views_twofactor.SecondFactorMiddleware",
    "hocba.common.security.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "hocba.urls"
WSGI_APPLICATION = "hocba.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# DATABASE_URL; on PostgreSQL persistent connections (DB_CONN_MAX_AGE, default 60 s) or a psycopg
# pool (HOCBA_DB_POOL_MAX_SIZE), an optional statement timeout for the web processes
# (HOCBA_DB_STATEMENT_TIMEOUT): hocba.common.dbconfig, docs/deployment.md.
DATABASES = {
    "default": database_settings(os.environ, default_url=f"sqlite:///{DATA_DIR / 'hocba.sqlite3'}")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background jobs (ARCHITECTURE §2, §10): Django's task API on the database queue, worked by
# ``hocba worker`` (``hocba demo`` starts one). ``HOCBA_TASKS_BACKEND=immediate`` runs each task
# inside ``enqueue()`` instead, without a worker (handy for a quick look, never in production).
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
_tasks_backend = os.environ.get("HOCBA_TASKS_BACKEND", "database").strip().lower()
if _tasks_backend not in TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"HOCBA_TASKS_BACKEND phải là một trong {sorted(TASK_BACKENDS)} (got {_tasks_backend!r})."
    )
TASKS = {"default": {"BACKEND": TASK_BACKENDS[_tasks_backend]}}
# A RUNNING job whose heartbeat is older than this is taken as abandoned and queued again.
HOCBA_JOB_STALE_SECONDS = int(os.environ.get("HOCBA_JOB_STALE_SECONDS", "300"))
# The queue's lease (hocba.jobs): each ``hocba worker`` beats every HEARTBEAT seconds; a task
# whose worker missed its beats for LEASE seconds (or whose process is gone, on the same host)
# runs again, at most MAX_ATTEMPTS times in all.
HOCBA_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("HOCBA_WORKER_HEARTBEAT_SECONDS", "10"))
HOCBA_WORKER_LEASE_SECONDS = float(os.environ.get("HOCBA_WORKER_LEASE_SECONDS", "60"))
HOCBA_TASK_MAX_ATTEMPTS = int(os.environ.get("HOCBA_TASK_MAX_ATTEMPTS", "5"))
if HOCBA_WORKER_LEASE_SECONDS < 2 * HOCBA_WORKER_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "HOCBA_WORKER_LEASE_SECONDS phải ít nhất gấp đôi HOCBA_WORKER_HEARTBEAT_SECONDS."
    )

# Signing (issue 5, ARCHITECTURE §6). Trust roots (NEAC, VGCA, the CAs' roots and intermediates)
# and CRLs are files an administrator puts in HOCBA_TRUST_DIR; nothing is downloaded at run time.
# ``hocba pki init-demo`` adds the demo root there, named NOT-FOR-PRODUCTION. Every signature
# gets an RFC 3161 timestamp from HOCBA_TSA_URL (``hocba demo`` serves its own at /pki/tsa).
TRUST_DIR = Path(os.environ.get("HOCBA_TRUST_DIR", str(DATA_DIR / "pki" / "trust"))).resolve()
TSA_URL = os.environ.get("HOCBA_TSA_URL", "")
TSA_TIMEOUT = int(os.environ.get("HOCBA_TSA_TIMEOUT", "10"))
# Serve the demo PKI's CRL and timestamp authority at /pki/ (only ``hocba demo`` turns it on).
DEMO_PKI_SERVICES = env_bool("HOCBA_DEMO_PKI_SERVICES", "0")
# PKCS#11 modules (tokens and HSMs attached to this server) staff may register keys from; a
# module is a shared library the server loads, so only the administrator lists them.
PKCS11_MODULES = env_list("HOCBA_PKCS11_MODULES", "")
# How long a PIN given for a signing batch is kept (encrypted) for the worker to use it.
SIGNING_AUTHORISATION_SECONDS = int(os.environ.get("HOCBA_SIGNING_AUTHORISATION_SECONDS", "900"))

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Login throttling (hocba.web.throttle): failures allowed per username and per IP in a window.
LOGIN_FAILURE_LIMIT = int(os.environ.get("HOCBA_LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("HOCBA_LOGIN_FAILURE_WINDOW", "900"))

# The cache holds the rate-limit counters and the look-up sessions' short-lived state. The
# database cache needs nothing more (embedded mode, small deployments); a Department under load
# sets HOCBA_CACHE_URL=redis://host:6379/0 (each counted hit is then one Redis round trip instead
# of several database queries and a write transaction; docs/deployment.md).
_cache_url = os.environ.get("HOCBA_CACHE_URL", "").strip()
if _cache_url and not _cache_url.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        "HOCBA_CACHE_URL phải là địa chỉ Redis redis://, rediss:// hoặc unix:// "
        f"(HOCBA_CACHE_URL must be a Redis URL; got {_cache_url!r})."
    )
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "hocba_cache"}
    )
}


def _rate_limits(text: str) -> dict[str, tuple[int, int]]:
    """``HOCBA_RATE_LIMITS="verify_factor=10/900,api_key=0/60"``: count per seconds (0 = off)."""
    limits = {}
    for item in text.split(","):
        scope, _eq, rate = item.strip().partition("=")
        count, _slash, seconds = rate.partition("/")
        if not scope or not count.strip().isdigit() or not seconds.strip().isdigit():
            if item.strip():
                raise ImproperlyConfigured(f"HOCBA_RATE_LIMITS: cannot read {item.strip()!r}.")
            continue
        limits[scope.strip()] = (int(count), int(seconds))
    return limits


# Rate limits of the public portal and the verification API (hocba.common.ratelimit), over the
# module's defaults. How long a correct access code or date of birth unlocks a record's details
# (and a parent's look-up) in the visitor's session.
HOCBA_RATE_LIMITS = _rate_limits(os.environ.get("HOCBA_RATE_LIMITS", ""))
HOCBA_VERIFY_UNLOCK_SECONDS = int(os.environ.get("HOCBA_VERIFY_UNLOCK_SECONDS", "1800"))
# File verification: the largest upload accepted, and the most PDF objects parsed.
HOCBA_VERIFY_MAX_BYTES = int(os.environ.get("HOCBA_VERIFY_MAX_BYTES", str(20 * 1024 * 1024)))
HOCBA_VERIFY_MAX_OBJECTS = int(os.environ.get("HOCBA_VERIFY_MAX_OBJECTS", "100000"))

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]

# Public address printed in QR codes: where anyone verifies a record (issue 4, 7).
HOCBA_VERIFY_BASE_URL = os.environ.get("HOCBA_VERIFY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "media"

# --- File storage (issue 8 §2) ---------------------------------------------------------------
# Signed PDFs, long-term validation PDFs and render-job zips go through Django's storage API
# (``default_storage``). ``HOCBA_STORAGE=local`` (the default) keeps them under MEDIA_ROOT;
# ``HOCBA_STORAGE=s3`` puts them in a bucket of an S3-compatible object store (AWS S3, MinIO,
# Ceph RGW, Viettel or VNPT object storage) through django-storages, so every web process and
# worker machine sees the same files. Objects stay private: no ACL is sent (the bucket's own
# policy applies, private unless you change it) and any URL is a short-lived signed one;
# downloads are served by our views after their permission checks, never from a public URL.
# Static files stay on the local file system, served by WhiteNoise.
STORAGE_BACKENDS = {
    "local": "django.core.files.storage.FileSystemStorage",
    "s3": "storages.backends.s3.S3Storage",
}
HOCBA_STORAGE = os.environ.get("HOCBA_STORAGE", "local").strip().lower() or "local"
if HOCBA_STORAGE not in STORAGE_BACKENDS:
    raise ImproperlyConfigured(
        f"HOCBA_STORAGE phải là một trong {sorted(STORAGE_BACKENDS)} (got {HOCBA_STORAGE!r})."
    )


def _s3_options() -> dict[str, object]:
    """The S3Storage options from ``HOCBA_S3_*`` (see docs/deployment.md)."""
    from botocore.config import Config

    bucket = os.environ.get("HOCBA_S3_BUCKET", "").strip()
    if not bucket:
        raise ImproperlyConfigured(
            "HOCBA_STORAGE=s3 cần tên bucket trong HOCBA_S3_BUCKET (HOCBA_S3_BUCKET is required)."
        )
    endpoint = os.environ.get("HOCBA_S3_ENDPOINT_URL", "").strip() or None
    # Path style (https://host/bucket/key) is what MinIO and most on-premises stores expect.
    style = os.environ.get("HOCBA_S3_ADDRESSING_STYLE", "path" if endpoint else "auto")
    style = style.strip().lower()
    if style not in {"path", "virtual", "auto"}:
        raise ImproperlyConfigured(
            "HOCBA_S3_ADDRESSING_STYLE phải là path, virtual hoặc auto "
            f"(HOCBA_S3_ADDRESSING_STYLE must be path, virtual or auto; got {style!r})."
        )
    access_key = os.environ.get("HOCBA_S3_ACCESS_KEY_ID", "").strip() or None
    secret_key = os.environ.get("HOCBA_S3_SECRET_ACCESS_KEY", "").strip() or None
    if (access_key is None) != (secret_key is None):
        raise ImproperlyConfigured(
            "Cần đặt cả HOCBA_S3_ACCESS_KEY_ID và HOCBA_S3_SECRET_ACCESS_KEY, hoặc không đặt cả "
            "hai (set both the S3 access key and its secret, or neither)."
        )
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": os.environ.get("HOCBA_S3_REGION", "").strip() or None,
        # Without keys here, boto3's usual chain applies (AWS_* variables, instance role).
        "access_key": access_key,
        "secret_key": secret_key,
        "location": os.environ.get("HOCBA_S3_PREFIX", "").strip().strip("/"),
        "verify": os.environ.get("HOCBA_S3_CA_BUNDLE", "").strip() or None,
        "default_acl": None,  # private: the bucket's policy, never public-read
        "querystring_auth": True,  # url() only ever gives a signed, expiring address
        "querystring_expire": 300,
        "file_overwrite": False,  # as on the local file system: never replace a file silently
        # A download is spooled to a temporary file past this size, not held in memory.
        "max_memory_size": 2 * 1024 * 1024,
        "client_config": Config(
            s3={"addressing_style": None if style == "auto" else style},
            signature_version="s3v4",
            connect_timeout=int(os.environ.get("HOCBA_S3_CONNECT_TIMEOUT", "5")),
            read_timeout=int(os.environ.get("HOCBA_S3_READ_TIMEOUT", "60")),
            retries={"mode": "standard", "max_attempts": 3},
            # Checksums only where S3 requires them: many S3-compatible stores reject the
            # CRC headers that newer boto3 versions send by default.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    }


STORAGES = {
    "default": {
        "BACKEND": STORAGE_BACKENDS[HOCBA_STORAGE],
        **({"OPTIONS": _s3_options()} if HOCBA_STORAGE == "s3" else {}),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# --- end of file storage ---------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("HOCBA_SESSION_SECONDS", str(8 * 3600)))
SESSION_COOKIE_SECURE = not DEBUG and not TESTING and env_bool("HOCBA_HTTPS", "1")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind TLS (issue 10 §2): HSTS and a redirect to https; the probes stay reachable over plain
# HTTP for the orchestrator. Set HOCBA_PROXY_SSL_HEADER=1 behind a proxy that sets
# X-Forwarded-Proto (and only then: a client could send it).
SECURE_HSTS_SECONDS = (
    int(os.environ.get("HOCBA_HSTS_SECONDS", "31536000")) if SESSION_COOKIE_SECURE else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SESSION_COOKIE_SECURE
SECURE_HSTS_PRELOAD = SESSION_COOKIE_SECURE and env_bool("HOCBA_HSTS_PRELOAD", "1")
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE and env_bool(
    "HOCBA_SSL_REDIRECT", "1" if env_bool("HOCBA_PROXY_SSL_HEADER") else "0"
)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env_bool("HOCBA_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (hocba.common.security): no inline script, no eval, nothing framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Idle sessions end (issue 10 §2): after HOCBA_IDLE_SECONDS without a request (0 = never).
HOCBA_IDLE_SECONDS = int(os.environ.get("HOCBA_IDLE_SECONDS", "3600"))

# Upward sync and the receiving store (hocba.exchange, docs/interchange.md).
HOCBA_EXCHANGE_TIMEOUT = float(os.environ.get("HOCBA_EXCHANGE_TIMEOUT", "30"))
HOCBA_EXCHANGE_MAX_ATTEMPTS = int(os.environ.get("HOCBA_EXCHANGE_MAX_ATTEMPTS", "5"))
HOCBA_EXCHANGE_BACKOFF_SECONDS = float(os.environ.get("HOCBA_EXCHANGE_BACKOFF_SECONDS", "1.0"))
HOCBA_EXCHANGE_MAX_BATCH = int(os.environ.get("HOCBA_EXCHANGE_MAX_BATCH", "200"))
# Senders' log keys besides those registered with ``hocba transfer trust-peer`` (C2SP vkeys,
# separated by ";"), and whether a sender must be known for its record sets to be stored.
HOCBA_EXCHANGE_TRUSTED_LOGS = [
    key.strip()
    for key in os.environ.get("HOCBA_EXCHANGE_TRUSTED_LOGS", "").split(";")
    if key.strip()
]
HOCBA_EXCHANGE_REQUIRE_TRUSTED_LOG = env_bool("HOCBA_EXCHANGE_REQUIRE_TRUSTED_LOG")

# Two-factor authentication (hocba.common.twofactor): "required" makes principals, school
# administrators, district, Department and system staff set up an authenticator app;
# "optional" asks the code only of those who set one up (the demo and the tests).
HOCBA_2FA = os.environ.get("HOCBA_2FA", "optional" if DEBUG or TESTING else "required")
if HOCBA_2FA not in {"required", "optional"}:
    raise ImproperlyConfigured("HOCBA_2FA phải là required hoặc optional.")
OTP_TOTP_ISSUER = os.environ.get("HOCBA_OTP_ISSUER", "Học bạ số")

# Logs go to stderr; ``HOCBA_LOG_FORMAT=json`` writes one JSON object per line (production).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "hocba.common.logjson.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **(
                {"formatter": "json"}
                if os.environ.get("HOCBA_LOG_FORMAT", "").strip().lower() == "json"
                else {}
            ),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # pyHanko's validator reports every path it checks at INFO: one line per certificate.
    "loggers": {
        name: {"level": os.environ.get("HOCBA_PYHANKO_LOG_LEVEL", "WARNING")}
        for name in ("pyhanko", "pyhanko_certvalidator")
    },
}
