"""SalesMonk settings: one module, every value from the environment (see `.env.example`).

Values come from real environment variables first, then from the env file
(`SALESMONK_ENV_FILE`, default `<project>/.env`; set it to `none` to read no file).
Development defaults are safe to run locally; a deployment with `DEBUG=false` must
provide a real `SECRET_KEY`, encryption key and `ALLOWED_HOSTS` or it refuses to start.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_env_file = os.environ.get("SALESMONK_ENV_FILE", str(BASE_DIR / ".env"))
if _env_file.lower() != "none" and Path(_env_file).is_file():
    env.read_env(_env_file)

DEBUG: bool = env.bool("DEBUG", default=False)

# --- Secrets -------------------------------------------------------------------------------

_INSECURE_PREFIX = "django-insecure-"
SECRET_KEY: str = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set a long random SECRET_KEY in the environment "
            "(or DEBUG=true for local development)."
        )
    SECRET_KEY = _INSECURE_PREFIX + "local-development-only-key"
elif not DEBUG and (SECRET_KEY.startswith(_INSECURE_PREFIX) or len(SECRET_KEY) < 40):
    raise ImproperlyConfigured(
        "SECRET_KEY looks like a development key; production needs 40+ random characters."
    )

# Fernet keys for secrets at rest (OAuth tokens, webhook URLs). Comma-separated: the first
# encrypts, all decrypt, so keys can be rotated without losing data.
SALESMONK_ENCRYPTION_KEYS: list[str] = env.list("SALESMONK_ENCRYPTION_KEYS", default=[])
if not SALESMONK_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SALESMONK_ENCRYPTION_KEYS is not set. Generate one with "
            '`python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`.'
        )
    SALESMONK_ENCRYPTION_KEYS = ["c2FsZXNtb25rLWxvY2FsLWRldmVsb3BtZW50LWtleSE="]
for _key in SALESMONK_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "SALESMONK_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from exc

# --- Hosts and URLs ------------------------------------------------------------------------

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)
if not DEBUG and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the real host names when DEBUG=false.")
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Base of the links SalesMonk writes into Salesforce, e.g. `<base>/accounts/<id>`.
SALESMONK_BASE_URL: str = env.str("SALESMONK_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Salesforce ----------------------------------------------------------------------------

# Salesforce REST API version used for every call.
SALESFORCE_API_VERSION: str = env.str("SALESFORCE_API_VERSION", default="59.0")
# When set, Salesforce's hosts are routed to this Salesforce emulator (development, tests,
# benchmarks). Empty in production: the same code then talks to the real Salesforce.
SALESFORCE_EMULATOR_URL: str = env.str("SALESFORCE_EMULATOR_URL", default="")
if SALESFORCE_EMULATOR_URL and not DEBUG:
    raise ImproperlyConfigured("SALESFORCE_EMULATOR_URL is for development only (DEBUG=true).")
# SalesMonk's connected app (OAuth consumer key and secret).
SALESFORCE_CLIENT_ID: str = env.str("SALESFORCE_CLIENT_ID", default="")
SALESFORCE_CLIENT_SECRET: str = env.str("SALESFORCE_CLIENT_SECRET", default="")
# First retry delay after a 5xx or network error; doubles on each further attempt.
SALESFORCE_RETRY_BACKOFF_SECONDS: float = env.float("SALESFORCE_RETRY_BACKOFF_SECONDS", default=1.0)

# --- Slack alerts --------------------------------------------------------------------------

# Hosts a Slack incoming webhook URL may point at. A webhook URL is typed by a customer and
# called by our workers, so nothing else is ever called. Development and tests add a loopback
# address (plain http is accepted only there) for a local receiver; production must not.
SLACK_WEBHOOK_HOSTS: list[str] = env.list("SLACK_WEBHOOK_HOSTS", default=["hooks.slack.com"])
if not DEBUG and {"127.0.0.1", "localhost", "::1"} & {h.lower() for h in SLACK_WEBHOOK_HOSTS}:
    raise ImproperlyConfigured("SLACK_WEBHOOK_HOSTS may name loopback only when DEBUG=true.")

# --- Applications --------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "django_q",
    "ninja",  # the unified CRM API; its docs page serves ninja's bundled swagger-ui assets
    "salesmonk.tenants",
    "crm",
    "visitors",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "visitors.middleware.TrackingEndpointsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

# Called from customers' sites on every page view, answered without the middleware below
# the tracking middleware (no sessions, users or messages): see visitors/middleware.py.
TRACKING_URL_NAMES = ["visitors_ingest", "visitors_snippet"]

ROOT_URLCONF = "salesmonk.urls"
WSGI_APPLICATION = "salesmonk.wsgi.application"

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
                "salesmonk.tenants.context_processors.current_tenant",
                "integrations.context_processors.salesforce",
            ],
            # Libraries of packages that are not installed apps.
            "libraries": {"plain_errors": "salesmonk.templatetags.plain_errors"},
        },
    },
]

# --- Database ------------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _name = DATABASES["default"]["NAME"]
    if _name and _name != ":memory:" and not Path(_name).is_absolute():
        DATABASES["default"]["NAME"] = str(BASE_DIR / _name)  # relative to the project
    # WAL and IMMEDIATE transactions let the web server and the job cluster share the file
    # without "database is locked" errors under normal development load.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Ingest group commit (PostgreSQL only): each web process writes the page views queued
# while its previous write committed in one transaction, and answers each request after
# that COMMIT. Off: every request commits on its own.
INGEST_GROUP_COMMIT: bool = env.bool("INGEST_GROUP_COMMIT", default=True)

# --- Authentication (django-allauth: the email address is the login) ----------------------

AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_SIGNUP_FORM_CLASS = "salesmonk.tenants.forms.SignupForm"
ACCOUNT_ADAPTER = "salesmonk.tenants.adapter.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SalesMonk <no-reply@salesmonk.local>")

# --- Jobs (django-q2) ----------------------------------------------------------------------

REDIS_URL: str = env.str("REDIS_URL", default="")
Q_CLUSTER: dict[str, object] = {
    "name": "salesmonk",
    "workers": env.int("Q_WORKERS", default=2),
    # Delivery is at least once: a task still running after `retry` seconds is handed out
    # again, so `timeout` must stay below `retry`.
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Jobs",
}
# Identified visitors reach Salesforce within seconds: recording write intents queues a
# drain of the tenant, at most once per this many seconds per process.
WRITE_DRAIN_DEBOUNCE_SECONDS: float = env.float("WRITE_DRAIN_DEBOUNCE_SECONDS", default=5.0)
# A write drain's claim outlives its last heartbeat by this much: after a crash the tenant's
# next drain can start this long after the worker died.
WRITE_CLAIM_TTL_SECONDS: float = env.float("WRITE_CLAIM_TTL_SECONDS", default=60.0)
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Cache and the unified CRM API ---------------------------------------------------------

# The API's per-key rate limit counts in the cache: Redis shares it between processes;
# without Redis each process counts on its own (fine for one development server).
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
# Requests per API key and window (`/api/crm/v1/`); more get 429 with Retry-After.
CRM_API_RATE_LIMIT: int = env.int("CRM_API_RATE_LIMIT", default=600)
CRM_API_RATE_WINDOW_SECONDS: int = env.int("CRM_API_RATE_WINDOW_SECONDS", default=60)

# --- Internationalisation, static files ----------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Development serves straight from the source folders; production from `collectstatic`.
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security ------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
# Proxies in front of the app that append the client's address to X-Forwarded-For (a load
# balancer, a CDN...). 0: the header is ignored and the peer address is the client's.
TRUSTED_PROXY_COUNT: int = env.int("TRUSTED_PROXY_COUNT", default=0)
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
