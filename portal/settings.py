"""Settings, all taken from the environment (see the README's configuration table)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from portal.env import database_from_url, env_bool, env_int, env_list, env_str, secret_key_from
from portal.queues import DEFAULT, task_routes

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = secret_key_from(VAR_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_TZ = True
LANGUAGE_CODE = "en"
FORMAT_MODULE_PATH = ["portal.formats"]
USE_I18N = True

INSTALLED_APPS = [
    "portal.two_factor.apps.PortalAdminConfig",  # django.contrib.admin with the portal's admin site (two-factor)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "django_htmx",
    "template_partials",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal",
    "contacts",
    "campaigns",
]

MIDDLEWARE = [
    "portal.request_context.RequestContextMiddleware",
    "portal.ops.metrics.RequestMetricsMiddleware",  # request latency for /metrics: near the top, times the rest
    "portal.middleware.CredentialFreeRedirectMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.csp.ContentSecurityPolicyMiddleware",
    "portal.middleware.ClientIpMiddleware",
    "portal.middleware.MethodOverrideMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.session_expiry.SessionExpiryMiddleware",
    "portal.two_factor.middleware.StaffTwoFactorMiddleware",
    "portal.middleware.CurrentAccountMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.portal",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# PostgreSQL: at most DB_POOL connections per process (psycopg's pool), whatever the server's threads; with
# DB_POOL=0, a connection per thread, closed after each request unless DB_CONN_MAX_AGE keeps it.
DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
        pool=env_int("DB_POOL", 10),
        pool_timeout=env_int("DB_POOL_TIMEOUT", 5),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL.startswith("redis")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Brute force (portal/brute_force.py): failed logins, API tokens and inbound tokens per client address and scope
# (counted in the cache: Redis shares the count across processes), answered 429; a user is locked out after
# BRUTE_FORCE_USER_FAILURES wrong passwords within the window, until the lock-out ends by itself. 0 turns one off.
BRUTE_FORCE_ADDRESS_LIMIT = env_int("BRUTE_FORCE_ADDRESS_LIMIT", 20)
BRUTE_FORCE_ADDRESS_WINDOW_MINUTES = env_int("BRUTE_FORCE_ADDRESS_WINDOW_MINUTES", 5)
BRUTE_FORCE_USER_FAILURES = env_int("BRUTE_FORCE_USER_FAILURES", 10)
BRUTE_FORCE_USER_WINDOW_MINUTES = env_int("BRUTE_FORCE_USER_WINDOW_MINUTES", 15)
BRUTE_FORCE_LOCKOUT_MINUTES = env_int("BRUTE_FORCE_LOCKOUT_MINUTES", 15)

# Two-factor (portal/two_factor/): optional TOTP apps with backup codes; the code step counts wrong codes like wrong
# passwords. OTP_REQUIRED_FOR_STAFF: staff must enrol before any page, and /admin/ needs a verified session.
OTP_REQUIRED_FOR_STAFF = env_bool("OTP_REQUIRED_FOR_STAFF", False)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "CPaaS Portal")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Sessions (portal/session_expiry.py): logged out SESSION_IDLE_SECONDS after the last activity (HTMX polling does
# not count) or SESSION_AGE_SECONDS after login; 0 turns either off.
SESSION_AGE_SECONDS = env_int("SESSION_AGE_SECONDS", 8 * 3600)
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_COOKIE_AGE = SESSION_AGE_SECONDS or 14 * 24 * 3600
# Content-Security-Policy (portal/csp.py); CSP_REPORT_ONLY=1 reports violations without enforcing the policy.
CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIR / "media"
# STATIC_MANIFEST (bin/serve): files collected by `collectstatic` under hashed names, which whitenoise serves with a
# year's cache lifetime; otherwise (make run) served straight from static/.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage."
        + ("CompressedManifestStaticFilesStorage" if STATIC_MANIFEST else "CompressedStaticFilesStorage")
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
# Exports (portal/exports): files under MEDIA_ROOT/exports, deleted with their export this many days after.
EXPORT_KEEP_DAYS = env_int("EXPORT_KEEP_DAYS", 7)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portal@localhost")
# SMTP (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend): password resets, member invitations, alarms.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)

# Security: strict when DEBUG is off (`manage.py check --deploy` is clean).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG and env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = not DEBUG and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]  # load balancers and Prometheus probe over plain HTTP
# Checks an operator knowingly silences, e.g. security.W008 when the proxy in front redirects to HTTPS itself.
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", [])

# Proxies: client IPs and the HTTPS flag come from headers only when TRUST_PROXY_HEADERS says so.
TRUST_PROXY_HEADERS = env_bool("TRUST_PROXY_HEADERS", False)
if TRUST_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# Secrets at rest (webhook signing secrets, connector passwords): comma-separated Fernet keys, the first encrypts,
# every one decrypts (rotation: portal/secrets_at_rest.py). Unset: one key derived from SECRET_KEY — production
# must set it.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])

# API
API_TOKEN_PEPPER = env_str("API_TOKEN_PEPPER", "") or SECRET_KEY
API_READ_RATE_PER_MINUTE = env_int("API_READ_RATE_PER_MINUTE", 1000)
API_WRITE_RATE_PER_SECOND = env_int("API_WRITE_RATE_PER_SECOND", 30)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.BearerTokenAuthentication",
        "portal.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.permissions.AccountRolePermission"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.EnvelopePagination",
    "DEFAULT_FILTER_BACKENDS": ["portal.api.filters.BracketFilterBackend", "portal.api.filters.SortFilter"],
    "DEFAULT_THROTTLE_CLASSES": ["portal.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "portal.api.exceptions.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "portal.api.openapi.EnvelopeAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "PAGE_SIZE": 25,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CPaaS Portal API",
    "DESCRIPTION": "REST API v2 of the CPaaS portal: contacts, compliance, campaigns, sends and webhooks.",
    "VERSION": "2.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v2",
    "COMPONENT_SPLIT_REQUEST": True,
    "COMPONENT_NO_READ_ONLY_REQUIRED": False,
    "ENUM_NAME_OVERRIDES": {
        "ActiveStatusEnum": [(1, "Active"), (0, "Inactive")],
        "MessageTypeEnum": "campaigns.states.MessageType",
        "TemplateTypeEnum": "campaigns.models.templates.TemplateType",
        "TagOperatorEnum": "contacts.models.contacts.TagOperator",
        "ImportKindEnum": "contacts.models.imports.ImportKind",
        "ImportModeEnum": "contacts.models.imports.ImportMode",
        "ImportStateEnum": "contacts.models.imports.ImportState",
        "TokenStateEnum": ["active", "expired", "revoked"],
        "ErrorStatusEnum": ["error"],
        "VerifyChannelEnum": "campaigns.models.verify.VerifyChannel",
        "ExportKindEnum": "portal.models_exports.ExportKind",
        "ExportFormatEnum": "portal.models_exports.ExportFormat",
        "ExportStateEnum": "portal.models_exports.ExportState",
    },
}

# Celery: an embedded broker (files under var/) unless CELERY_BROKER_URL names Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": 3600}
)
if CELERY_BROKER_URL.startswith("filesystem"):
    (VAR_DIR / "broker").mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = (
    env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "") or None
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queues (portal/queues.py): sending, webhooks, imports and default; bin/serve runs a worker per queue.
CELERY_TASK_DEFAULT_QUEUE = DEFAULT
CELERY_TASK_ROUTES = task_routes()
# SIGTERM: a worker stops taking tasks and finishes the ones it runs (warm shutdown); a task cut off by SIGKILL is
# redelivered (acks late) and its leases expire (campaigns.release_expired_leases).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True

# Celery logs through LOGGING (JSON under bin/serve) rather than its own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Operations (portal/ops): /readyz fails when the beat heartbeat (beat -> a `default` worker) is older than this,
# or more outbox messages / webhook deliveries than these wait; READY_CHECKS_SKIP leaves checks out by name.
READY_BEAT_MAX_AGE_SECONDS = env_int("READY_BEAT_MAX_AGE_SECONDS", 120)
READY_OUTBOX_BACKLOG_MAX = env_int("READY_OUTBOX_BACKLOG_MAX", 100000)
READY_WEBHOOK_BACKLOG_MAX = env_int("READY_WEBHOOK_BACKLOG_MAX", 50000)
READY_CHECKS_SKIP = env_list("READY_CHECKS_SKIP", [])
# /metrics answers `Authorization: Bearer METRICS_TOKEN` or a client in METRICS_ALLOWED_IPS (CIDRs); with neither
# set, loopback only; anyone else gets a 404. LOW_BALANCE_ALARM: portal_accounts_low_balance counts the active
# accounts whose balance is at or below it (in their currency).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])
LOW_BALANCE_ALARM = env_int("LOW_BALANCE_ALARM", 0)

# Logs: LOG_FORMAT=json (bin/serve's default) writes one JSON object per line with the request id and account;
# ACCESS_LOG writes one line per request on `portal.access` (off under runserver, which logs its own).
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
ACCESS_LOG = env_bool("ACCESS_LOG", not DEBUG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "portal.logging.RedactAccessTokenFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "portal.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "portal.access": {"handlers": ["console"], "level": "INFO" if ACCESS_LOG else "WARNING", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"
