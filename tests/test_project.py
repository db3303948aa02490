import os
import re
import subprocess
import sys
import tomllib
from io import StringIO

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from skarholmen.settings import database_from_url, env_bool, env_int, env_log_level


def _python_with(name, value, code):
    """`code` run by a new Python in the project, with the environment variable `name` set to `value`."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**os.environ, name: value},
        capture_output=True,
        text=True,
    )


def test_models_and_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def test_settings_refuse_an_unknown_boolean(monkeypatch):

    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("DEBUG")
    monkeypatch.setenv("DEBUG", "true")
    assert env_bool("DEBUG") is True


def test_an_empty_variable_keeps_the_default(monkeypatch):
    # `SECURE_COOKIES=` in an env file must not turn a production protection off.
    monkeypatch.setenv("SECURE_COOKIES", "")
    assert env_bool("SECURE_COOKIES", default=True) is True
    monkeypatch.setenv("SESSION_COOKIE_AGE", " ")
    assert env_int("SESSION_COOKIE_AGE", 28800) == 28800


def test_a_number_below_its_meaning_is_an_error(monkeypatch):
    monkeypatch.setenv("PDF_SAMTIDIGA", "0")
    with pytest.raises(ImproperlyConfigured, match="PDF_SAMTIDIGA='0' must be at least 1"):
        env_int("PDF_SAMTIDIGA", 2, minimum=1)


@pytest.mark.parametrize(
    "name, value",
    [
        ("TRUSTED_PROXY_COUNT", "-1"),
        ("LOGIN_FAILURE_LIMIT", "0"),
        ("SESSION_COOKIE_AGE", "-5"),
        ("PDF_MAX_UPLOAD_MB", "0"),
    ],
)
def test_the_settings_refuse_a_number_that_means_nothing(name, value):
    # TRUSTED_PROXY_COUNT=-1 believed a client's own X-Forwarded-Proto, and a session of -5
    # seconds ended every login at once: a typo must stop the server, not start it so.
    result = _python_with(name, value, "import skarholmen.settings")
    assert result.returncode != 0
    assert f"{name}={value!r} must be at least" in result.stderr


def test_the_log_level_is_checked_and_named(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert env_log_level("LOG_LEVEL", "INFO") == "DEBUG"
    monkeypatch.setenv("LOG_LEVEL", "pratsam")
    with pytest.raises(ImproperlyConfigured, match="LOG_LEVEL='pratsam' is not a log level"):
        env_log_level("LOG_LEVEL", "INFO")


def test_database_url_selects_postgresql():
    db = database_from_url("postgres://u:p%40ss@db.example:5433/arenden")
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql",
        "arenden",
        "u",
        "p@ss",
        "db.example",
        "5433",
    )
    assert database_from_url("")["ENGINE"] == "django.db.backends.sqlite3"


def test_database_url_keeps_its_connection_parameters(monkeypatch):
    # pg_dump and psql read the whole URL; the app must not quietly connect without the TLS
    # check or the primary-only rule that the same URL asks for.
    db = database_from_url("postgres://u@db.example/arenden?sslmode=verify-full&target_session_attrs=read-write")
    assert db["OPTIONS"]["sslmode"] == "verify-full"
    assert db["OPTIONS"]["target_session_attrs"] == "read-write"
    monkeypatch.setenv("DATABASE_PARALLEL_WORKERS", "1")
    db = database_from_url("postgres://u@h/n?options=-c%20statement_timeout%3D5000")
    assert db["OPTIONS"]["options"] == "-c statement_timeout=5000 -c max_parallel_workers_per_gather=1"
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL.*sslmod"):
        database_from_url("postgres://u@h/n?sslmod=require")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL.*sslmode"):
        database_from_url("postgres://u@h/n?sslmode=require&sslmode=disable")
    with pytest.raises(ImproperlyConfigured, match="not name=value pairs"):
        database_from_url("postgres://u@h/n?sslmode")


def test_the_apps_postgresql_connections_run_no_parallel_query_unless_told(monkeypatch, db):
    assert database_from_url("postgres://u@h/n")["OPTIONS"] == {"options": "-c max_parallel_workers_per_gather=0"}
    monkeypatch.setenv("DATABASE_PARALLEL_WORKERS", "2")
    assert database_from_url("postgres://u@h/n")["OPTIONS"] == {"options": "-c max_parallel_workers_per_gather=2"}
    monkeypatch.setenv("DATABASE_PARALLEL_WORKERS", "")
    assert database_from_url("postgres://u@h/n")["OPTIONS"] == {}
    monkeypatch.setenv("DATABASE_PARALLEL_WORKERS", "två")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_PARALLEL_WORKERS='två' is not an integer"):
        database_from_url("postgres://u@h/n")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            assert cursor.fetchone()[0] == "0"


def test_gunicorn_names_a_setting_that_is_not_a_number():
    result = _python_with("GUNICORN_WORKERS", "många", "import runpy; runpy.run_path('gunicorn.conf.py')")
    assert result.returncode != 0
    assert "GUNICORN_WORKERS='många' is not an integer." in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("GUNICORN_LOGLEVEL", "pratsam", "GUNICORN_LOGLEVEL='pratsam' is not a log level"),
        ("GUNICORN_WORKERS", "0", "GUNICORN_WORKERS='0' must be at least 1"),
    ],
)
def test_gunicorn_names_a_setting_it_cannot_use(name, value, message):
    # gunicorn itself logs at info for a level it does not know, and starts no worker for 0.
    result = _python_with(name, value, "import runpy; runpy.run_path('gunicorn.conf.py')")
    assert result.returncode != 0
    assert message in result.stderr


def test_gunicorn_keeps_the_default_for_an_empty_value():
    result = _python_with("GUNICORN_TIMEOUT", " ", "import runpy; print(runpy.run_path('gunicorn.conf.py')['timeout'])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "60"


def test_deploy_check_is_clean_under_production_settings(tmp_path):

    env = {
        **os.environ,
        "PRODUCTION": "true",
        "DEBUG": "false",
        "SECRET_KEY": "x7#Qv2!pL9m@Zr4$Tn8&Wc1^Hb6*Yd3(Ks5)Fg0-Jh2+Ue7=Ra9",
        "ALLOWED_HOSTS": "arenden.example.se",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("secret_key", [None, "django-insecure-skarholmen-local-development-key"])
def test_production_refuses_to_start_without_its_own_secret_key(secret_key):

    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"PRODUCTION": "true", "DEBUG": "false"})
    if secret_key:
        env["SECRET_KEY"] = secret_key
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_browser_asking_for_english_gets_swedish(client, db):
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert response.status_code == 200
    assert "Logga in" in response.text and "Log in" not in response.text
    assert '<html lang="sv"' in client.get("/logga-in/", HTTP_ACCEPT_LANGUAGE="en").text


# The lock files `make lock` writes: pip and the build backend, the app, the app and the tests, the app and bench.
LOCKS = ["requirements-build.lock", "requirements.lock", "requirements-test.lock", "requirements-bench.lock"]


def _lock(name):
    """{package: (version, {sha256, ...})} of one lock file, each package pinned to one version."""
    text = (settings.BASE_DIR / name).read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split()
        package, pinned, version = requirement.partition("==")
        assert pinned and version, f"{name}: {requirement} is not pinned to one version"
        hashes = {option.removeprefix("--hash=sha256:") for option in options}
        assert all(len(h) == 64 and set(h) <= set("0123456789abcdef") for h in hashes), f"{name}: {line}"
        pins[canonicalize_name(package)] = (version, hashes)
    return pins


def _pyproject():
    with open(settings.BASE_DIR / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


@pytest.mark.parametrize("name", [*LOCKS, "requirements-uv.lock"])
def test_every_locked_package_has_a_hash(name):
    pins = _lock(name)
    assert pins
    assert [package for package, (_, hashes) in pins.items() if not hashes] == []


def test_the_locks_pin_a_package_alike_and_each_holds_the_apps():
    locks = {name: _lock(name) for name in LOCKS}
    seen = {}
    for name, pins in locks.items():
        for package, pin in pins.items():
            first = seen.setdefault(package, (name, pin))
            assert pin == first[1], f"{package}: {name} and {first[0]} pin it differently"
    app = locks["requirements.lock"].items()
    assert app <= locks["requirements-test.lock"].items()
    assert app <= locks["requirements-bench.lock"].items()


def test_the_locks_pin_what_pyproject_and_the_makefile_pin():
    pyproject = _pyproject()
    groups = {
        "requirements.lock": pyproject["project"]["dependencies"],
        "requirements-test.lock": pyproject["project"]["optional-dependencies"]["test"],
        "requirements-bench.lock": pyproject["project"]["optional-dependencies"]["bench"],
        "requirements-build.lock": pyproject["build-system"]["requires"],
    }
    for name, requirements in groups.items():
        pins = _lock(name)
        for requirement in map(Requirement, requirements):
            package = canonicalize_name(requirement.name)
            assert package in pins, f"{name} lacks {requirement}"
            version = pins[package][0]
            assert version in requirement.specifier, f"{name}: {package}=={version}, not {requirement}"
    makefile = (settings.BASE_DIR / "Makefile").read_text()
    pip_version = re.search(r"^PIP_VERSION := (\S+)$", makefile, re.MULTILINE).group(1)
    assert _lock("requirements-build.lock")["pip"][0] == pip_version
