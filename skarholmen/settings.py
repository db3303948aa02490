"""Settings for the Skärholmen case system.

Every setting that differs between a laptop and production is read from the environment
through the strict helpers below; the README's table documents each variable once.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env(name, default=None):
    """A variable's value, or `default` when it is unset or empty: an empty line in an env file
    (`SECURE_COOKIES=`) keeps the default, it never silently turns a protection off."""
    raw = os.environ.get(name, "").strip()
    return raw or default


def env_bool(name, default=False):
    """A boolean variable; an unknown spelling is an error, never silently False."""
    raw = env(name)
    if raw is None:
        return default
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false, 1/0).")


def env_list(name, default=()):
    raw = env(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name, default, minimum=None):
    """An integer variable; one that is no integer, or below the least value that means
    something (a negative proxy count, a session of no seconds), is an error naming it."""
    raw = env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_log_level(name, default):
    """A logging level by name (debug, INFO, …); an unknown one is an error naming the variable."""
    raw = env(name, default)
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a log level (use DEBUG, INFO, WARNING, ERROR or CRITICAL).")
    return level


def database_from_url(url):
    """Unset means the embedded SQLite file; postgres://user:pw@host:port/name means PostgreSQL."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # Writers wait for each other instead of failing with "database is locked";
            # select_for_update is a no-op on SQLite, so this is what serialises them.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": unquote(parts.path[1:]) if parts.path.startswith("//") else unquote(parts.path),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL has an unsupported scheme {parts.scheme!r}.")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": _postgresql_options(parts.query),
    }


def _url_parameters(query):
    """The URL's query (`?sslmode=verify-full&target_session_attrs=read-write`) as libpq
    connection parameters, the ones pg_dump and psql read from the same URL. A name libpq does
    not know, or one given twice, is an error: a misspelt `sslmode` must not leave the app
    connecting without the certificate check that the operator asked for."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ImproperlyConfigured(f"DATABASE_URL's parameters {query!r} are not name=value pairs.") from None
    names = [name for name, _ in pairs]
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise ImproperlyConfigured(f"DATABASE_URL gives {', '.join(twice)} more than once.")
    parameters = dict(pairs)
    if parameters:
        from psycopg import ProgrammingError
        from psycopg.conninfo import make_conninfo

        try:
            make_conninfo("", **parameters)
        except ProgrammingError as error:
            raise ImproperlyConfigured(f"DATABASE_URL: {error}.") from None
    return parameters


def _postgresql_options(query=""):
    """No parallel query for the app's own connections unless DATABASE_PARALLEL_WORKERS says so:
    a page's query that PostgreSQL splits over worker processes waits for their start and
    competes with the other requests for the same cores (the drogscen page took 13-22 ms with
    two workers, 11 ms with none, at 200,000 ärenden). Empty leaves the server's setting, for
    a pooler that passes no startup options (then set it on the database's role)."""
    options = _url_parameters(query)
    if not os.environ.get("DATABASE_PARALLEL_WORKERS", "0").strip():
        return options
    parallel = f"-c max_parallel_workers_per_gather={env_int('DATABASE_PARALLEL_WORKERS', 0, minimum=0)}"
    options["options"] = f"{options['options']} {parallel}" if options.get("options") else parallel
    return options


DEBUG = env_bool("DEBUG", default=False)

# Unset gives a laptop key: fine for `make run`, never for a server (check --deploy says so).
DEVELOPMENT_SECRET_KEY = "django-insecure-skarholmen-local-development-key"
SECRET_KEY = env("SECRET_KEY") or DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "skarholmen.apps.AdministrationConfig",  # django.contrib.admin on the project's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "csp",
    "skarholmen.apps.InloggningsskyddConfig",  # django-axes, named in Swedish
    "django_tasks",
    "skarholmen.apps.BakgrundsjobbConfig",  # django-tasks-db, named in Swedish
    "arenden",
    "atgarder",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "skarholmen.urls"

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

WSGI_APPLICATION = "skarholmen.wsgi.application"

DATABASES = {"default": database_from_url(env("DATABASE_URL", ""))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Tests on SQLite use a file, not shared memory, so that threads in the concurrency
    # tests get real connections that wait for each other's write lock.
    DATABASES["default"]["TEST"] = {"NAME": BASE_DIR / ".test-db.sqlite3"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# One language, whatever the browser asks for: no LocaleMiddleware to choose among one.
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", "Svenska")]
# Swedish for the packages that ship none (django-axes, django-tasks-db): their admin pages.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True
# ISO dates everywhere (2024-05-23), as the förvaltning's documents print them.
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
# A time as the admin's time widget writes it (18:00), shown so too; the seconds are still read
# from a page rendered before they were left out.
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S"]
FORMAT_MODULE_PATH = ["skarholmen.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", BASE_DIR / "media"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "arenden:start"
LOGOUT_REDIRECT_URL = "login"

# Background jobs (the meeting packet) are rows in the database, run by `manage.py db_worker`:
# no broker to install, and the same tables work on SQLite and PostgreSQL.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Documents of a meeting rendered side by side (each render uses one core, in its own worker).
PDF_SAMTIDIGA = env_int("PDF_SAMTIDIGA", min(2, os.cpu_count() or 1), minimum=1)
# PDF rendering (arenden/pdf.py): seconds a render may take before its worker is killed, and
# the address space a render worker may use.
PDF_RENDER_TIMEOUT = env_int("PDF_RENDER_TIMEOUT", 30, minimum=1)
PDF_WORKER_MEMORY_MB = env_int("PDF_WORKER_MEMORY_MB", 2048, minimum=0)
# Largest PDF (skrivelse, bilaga) that may be uploaded, in MB.
PDF_MAX_UPLOAD_MB = env_int("PDF_MAX_UPLOAD_MB", 20, minimum=1)
# A file past that size is not stored while it arrives (skarholmen/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "skarholmen.uploads.StorlekUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "arenden": {"handlers": ["console"], "level": env_log_level("LOG_LEVEL", "INFO")},
    },
}

# Production: one switch turns on the secure defaults; each stays configurable on its own
# (SSL redirect off, for example, when a proxy in front already redirects).
PRODUCTION = env_bool("PRODUCTION", default=False)
if PRODUCTION and (DEBUG or SECRET_KEY == DEVELOPMENT_SECRET_KEY):
    # The development key is in this repository: sessions and password-reset links signed with
    # it could be forged by anyone, so it is refused in production even when set explicitly.
    raise ImproperlyConfigured("PRODUCTION=true needs its own SECRET_KEY and DEBUG off.")
# Static files are served by the app (WhiteNoise); in production from `collectstatic`'s
# compressed, hashed copies with far-future cache headers. Tests and `make run` need no collectstatic.
STORAGES = {
    # Media: the file system under MEDIA_ROOT, without the files of rolled-back transactions.
    "default": {"BACKEND": "skarholmen.storage.Arkiv"},
    "staticfiles": {
        "BACKEND": (
            "skarholmen.storage.StaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
# Outside production the files are found as they are asked for: `make run` and the tests have no
# collected STATIC_ROOT for WhiteNoise to index at start (it warned "No directory at" for it).
WHITENOISE_AUTOREFRESH = not PRODUCTION
# X-Forwarded-Proto says a request came over https only when a proxy of ours wrote it; with no
# proxy in front (TRUSTED_PROXY_COUNT 0) a client could send it itself.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
# A working day, and never past closing the browser: shared computers at the förvaltning.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Django's database sessions, read with SQL written once per process (skarholmen/sessions.py).
SESSION_ENGINE = "skarholmen.sessions"

# Content-Security-Policy (django-csp): scripts, styles, fonts and images come only from the
# app's own static files, with no inline script, style or event handler anywhere, so markup
# that slips into a page (a pasted text, a crafted name) cannot run or restyle it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

# Login throttling (django-axes), on the officers' login and the admin's alike: five wrong
# passwords for one user name from one address lock that pair for 15 minutes (a Swedish 429
# page). Behind a reverse proxy the address is read from X-Forwarded-For, trusting exactly
# TRUSTED_PROXY_COUNT proxies (skarholmen/security.py); 0 means no proxy, and the header is ignored.
# The second is ModelBackend reading the user with their profile and roles (skarholmen/auth.py).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "skarholmen.auth.ProfilBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "skarholmen.security.lockout"
AXES_CLIENT_IP_CALLABLE = "skarholmen.security.client_ip"
AXES_USERNAME_CALLABLE = "skarholmen.security.username"
