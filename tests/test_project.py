import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

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
