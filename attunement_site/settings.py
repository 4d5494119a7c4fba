"""Settings for Attunement, read from the environment.

With no environment this is the embedded default: DEBUG on, SQLite under var/, the in-memory
channel layer, email saved under var/mail/, and Celery on a broker
that is a SQLite file. DATABASE_URL and REDIS_URL switch the same code to PostgreSQL and Redis.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core.env import Env

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

DEBUG = env.bool("DEBUG", True)
VAR_DIR = Path(env.str("VAR_DIR", str(BASE_DIR / "var")))

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", "insecure-embedded-default-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
else:
    SECRET_KEY = env.str("SECRET_KEY")
    if not SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("insecure-"):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off."
        )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", required=True)

# The public address of the site, for links in emails and calendar files sent without a request.
# In the embedded default it follows HOST and PORT, so links point at the server `make run` started.
SITE_URL = env.url("SITE_URL", {"http", "https"}, env.local_url() if DEBUG else None)
if SITE_URL is None:
    raise ImproperlyConfigured("SITE_URL must be set (for example https://attune.example.org) when DEBUG is off.")
SITE_URL = SITE_URL.rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "attunement_site",
    "core",
    "accounts",
    "groups",
    "sharing",
    "moderation",
    "journey",
]

MIDDLEWARE = [
    "core.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.TimeZoneMiddleware",
    "accounts.middleware.RequireTwoFactorMiddleware",
]

ROOT_URLCONF = "attunement_site.urls"
ASGI_APPLICATION = "attunement_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "attunement_site.context_processors.site",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names PostgreSQL.
DATABASE_URL = env.url("DATABASE_URL", {"postgres", "postgresql", "sqlite"}, f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # Writers queue for the lock instead of failing, which is what row locks do on PostgreSQL.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    # A pool of connections per process: socket messages run in worker threads, and opening a
    # connection for each one would cost more than the work. DATABASE_POOL_MAX_SIZE=0 turns it off.
    _pool_max = env.int("DATABASE_POOL_MAX_SIZE", 10, minimum=0)
    if _pool_max:
        DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 1, "max_size": _pool_max, "timeout": 10}}
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Behind PgBouncer in transaction pooling mode a server-side cursor (QuerySet.iterator()) cannot
    # outlive its transaction's server connection: DATABASE_DISABLE_SERVER_SIDE_CURSORS turns them off.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the channel layer, the cache and the Celery broker. Without it, in-process equivalents.
REDIS_URL = env.url("REDIS_URL", {"redis", "rediss"})
CHANNEL_LAYER_PREFIX = env.str("CHANNEL_LAYER_PREFIX", "attunement")
# CHANNEL_REDIS_HOSTS shards the channel layer across several Redis servers (each channel and group
# lives on one of them); the cache and Celery stay on REDIS_URL. Unset, the layer uses REDIS_URL.
CHANNEL_REDIS_HOSTS = [
    Env({"CHANNEL_REDIS_HOSTS": url}).url("CHANNEL_REDIS_HOSTS", {"redis", "rediss"})
    for url in env.list("CHANNEL_REDIS_HOSTS")
]
if CHANNEL_REDIS_HOSTS and not REDIS_URL:
    raise ImproperlyConfigured("CHANNEL_REDIS_HOSTS needs REDIS_URL too (for the cache and Celery).")
# CHANNEL_LAYER_KIND: "lists", channels-redis's RedisChannelLayer (a list per channel, with a
# capacity and an expiry), or "pubsub", its RedisPubSubChannelLayer (Redis publish/subscribe).
CHANNEL_LAYER_KIND = env.choice("CHANNEL_LAYER_KIND", {"lists", "pubsub"}, "lists")
if REDIS_URL:
    _channel_hosts = [
        {
            "address": address,
            # redis-py times out reads after 5 s by default, as long as the layer's blocking read
            # waits for a message: an idle process would lose its consumers every 5 seconds.
            "socket_timeout": 30,
            "socket_connect_timeout": 5,
            # Connections idle this long are checked before use: after a Redis restart a dead
            # connection is replaced instead of failing (or hanging) a command.
            "health_check_interval": 10,
        }
        for address in CHANNEL_REDIS_HOSTS or [REDIS_URL]
    ]
    if CHANNEL_LAYER_KIND == "pubsub":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": _channel_hosts, "prefix": CHANNEL_LAYER_PREFIX},
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                # channels-redis's layer with a pool of at most 100 connections per process, where
                # an operation waits for a free one and idle ones close (attunement_site.channel_layers).
                "BACKEND": "attunement_site.channel_layers.RedisChannelLayer",
                "CONFIG": {"hosts": _channel_hosts, "prefix": CHANNEL_LAYER_PREFIX, "capacity": 500, "expiry": 30},
            }
        }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "attunement-cache",  # apart from the channel layer's and Celery's keys
            # One pool for the process, not one per socket (core/redis_pools.py).
            "OPTIONS": {"pool_class": "core.redis_pools.SharedConnectionPool"},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis when configured, otherwise kombu's SQLAlchemy transport on a SQLite file under
# var/celery/, so that the embedded default still delivers reminders with no server. A message is
# one row written in one transaction, and taking it is one IMMEDIATE transaction: no process can
# read a half-written message or take one twice.
CELERY_BROKER_URL = env.url(
    "CELERY_BROKER_URL",
    {"redis", "rediss", "amqp", "sqla+sqlite"},
    REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery' / 'broker.sqlite3'}",
)
if CELERY_BROKER_URL.startswith("sqla+sqlite://"):
    (VAR_DIR / "celery").mkdir(parents=True, exist_ok=True)
    # Passed to SQLAlchemy's create_engine: wait for another process's write instead of failing.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"connect_args": {"timeout": 30}}
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Reminders: how long before a call they are due, and how often the dispatcher looks for due rows.
REMINDER_DAY_HOURS = env.int("REMINDER_DAY_HOURS", 24, minimum=1, maximum=72)
REMINDER_SOON_MINUTES = env.int("REMINDER_SOON_MINUTES", 15, minimum=1, maximum=180)
NOTIFICATIONS_EVERY_SECONDS = env.int("NOTIFICATIONS_EVERY_SECONDS", 60, minimum=1, maximum=600)
CELERY_BEAT_SCHEDULE = {
    "dispatch-notifications": {
        "task": "groups.tasks.dispatch_notifications",
        "schedule": float(NOTIFICATIONS_EVERY_SECONDS),
    },
    "materialise-series": {"task": "groups.tasks.materialise_series", "schedule": 3600.0},
    "lift-suspensions": {"task": "moderation.tasks.lift_suspensions", "schedule": 300.0},
    "erase-accounts": {"task": "accounts.tasks.erase_due_accounts", "schedule": 3600.0},
}

# The room clock: every second, the sweep applies the deadlines and absences that have come due
# (sharing/web_clock.py). With the in-memory channel layer only the web process can reach its sockets, so
# the clock runs there; otherwise Celery beat schedules it and a worker runs it.
ROOM_CLOCK_IN_WEB = env.bool(
    "ROOM_CLOCK_IN_WEB", CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
)
if not ROOM_CLOCK_IN_WEB:
    # A sweep still queued after a few seconds is dropped: the next one does its work.
    CELERY_BEAT_SCHEDULE["sweep-rooms"] = {
        "task": "sharing.tasks.sweep_rooms",
        "schedule": 1.0,
        "options": {"expires": 5},
    }

# Email: SMTP when EMAIL_HOST is set, otherwise saved under var/mail/ (one log line each).
EMAIL_HOST = env.str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env.int("EMAIL_PORT", 587, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = 20
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
else:
    EMAIL_BACKEND = "attunement_site.mail.ConsoleAndFileBackend"
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "Attunement <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Accounts: email login through allauth, with mandatory verification.
AUTH_USER_MODEL = "accounts.User"
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
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupDetailsForm"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Attunement] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
ACCOUNT_RATE_LIMITS = {
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "send_email": "5/m/key",
    "confirm_email": "1/3m/key",
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
}

# Two-factor login (TOTP with recovery codes): open to everyone, required for staff and owners.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Attunement"

# Internationalisation and time: stored in UTC, shown in each person's own zone.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# Static files: plain CSS and ES modules, served by WhiteNoise in every mode.
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "attunement_site.storage.StaticStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Security. The defaults follow DEBUG; a proxy that terminates TLS sets SECURE_PROXY_SSL_HEADER.
SECURE_COOKIES = env.bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = False
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env.bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a decision for the operator, who must own every subdomain first.
    "security.W021",
]

# Content-Security-Policy: no inline scripts or styles anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Audio: STUN/TURN servers for WebRTC. ICE_SERVERS is JSON (as RTCPeerConnection takes it) or a
# comma-separated list of stun:/turn: URLs. TURN_SECRET mints short-lived TURN credentials for
# TURN_URLS (coturn's use-auth-secret). With none of them, host candidates work on one network.
_ice = env.str("ICE_SERVERS", "")
if _ice.startswith("["):
    ICE_SERVERS = env.json("ICE_SERVERS")
    if not isinstance(ICE_SERVERS, list) or not all(isinstance(s, dict) and "urls" in s for s in ICE_SERVERS):
        raise ImproperlyConfigured('ICE_SERVERS must be a JSON list of objects with "urls".')
else:
    ICE_SERVERS = [{"urls": url} for url in env.list("ICE_SERVERS", [])]
for _server in ICE_SERVERS:
    for _url in [_server["urls"]] if isinstance(_server["urls"], str) else _server["urls"]:
        if not str(_url).startswith(("stun:", "stuns:", "turn:", "turns:")):
            raise ImproperlyConfigured(f"ICE_SERVERS has {_url!r}, which is not a stun: or turn: URL.")
TURN_SECRET = env.str("TURN_SECRET", "")
TURN_URLS = env.list("TURN_URLS", [])
TURN_TTL_SECONDS = env.int("TURN_TTL_SECONDS", 600, minimum=180, maximum=3600)

# Logs: JSON lines with correlation ids in production, plain text while developing.
LOG_LEVEL = env.choice("LOG_LEVEL", {"DEBUG", "INFO", "WARNING", "ERROR"}, "INFO")
LOG_FORMAT = env.choice("LOG_FORMAT", {"json", "text"}, "text" if DEBUG else "json")
# Celery's own line for each task sent, received and done: several a second, since the room sweep
# runs every second. Off by default (our tasks log what they did); INFO turns them on.
CELERY_TASK_LOG_LEVEL = env.choice("CELERY_TASK_LOG_LEVEL", {"DEBUG", "INFO", "WARNING", "ERROR"}, "WARNING")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "correlation": {"()": "core.logs.CorrelationFilter"},
        "redact": {"()": "core.logs.RedactFilter"},
        "refusal": {"()": "core.logs.RefusalFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["correlation", "redact", "refusal"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's and uvicorn's lines (uvicorn's access log included) lose their own handlers and reach
    # the one above, so every line is redacted (core.logs.RedactFilter) and has the same format.
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "uvicorn": {"handlers": [], "propagate": True},
        "uvicorn.access": {"handlers": [], "propagate": True},
        "celery.beat": {"level": CELERY_TASK_LOG_LEVEL},
        "celery.app.trace": {"level": CELERY_TASK_LOG_LEVEL},
        "celery.worker.strategy": {"level": CELERY_TASK_LOG_LEVEL},
    },
}

# /metrics in Prometheus' text format, for a scraper that sends "Authorization: Bearer <token>".
# Without a token the endpoint answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", "")
