from io import StringIO

from django.core.management import call_command


def test_models_and_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def test_settings_refuse_an_unknown_boolean(monkeypatch):
    import pytest
    from django.core.exceptions import ImproperlyConfigured

    from skarholmen.settings import env_bool

    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("DEBUG")
    monkeypatch.setenv("DEBUG", "true")
    assert env_bool("DEBUG") is True


def test_database_url_selects_postgresql():
    from skarholmen.settings import database_from_url

    db = database_from_url("postgres://u:p%40ss@db.example:5433/arenden")
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql", "arenden", "u", "p@ss", "db.example", "5433",
    )
    assert database_from_url("")["ENGINE"] == "django.db.backends.sqlite3"
