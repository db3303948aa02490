import importlib
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.core.management import call_command

E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(config, items):
    """The browser tests (tests/e2e) run last: Playwright's sync API leaves its event loop
    running in the test thread for the rest of the session, and Django's guard against sync ORM
    calls inside an event loop then fails tests after them (tests/test_prune.py did).

    Tests marked `postgresql` check what only PostgreSQL has (a column kept by a trigger, the
    plan that reads an index). On SQLite they are deselected, and the summary says how many:
    not run and reported as passed."""
    items.sort(key=lambda item: item.path.is_relative_to(E2E))
    if django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    deselected = [item for item in items if item.get_closest_marker("postgresql")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.3 s a user; tests check permissions, not the hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Each test's uploads and stored PDFs in a folder of its own: a PDF stored under its content
    hash by one test (or one run) would otherwise be served to the next instead of rendered."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def demo(db):
    """The seed's case, loaded the way `make run` loads it."""
    call_command("load_demo", stdout=open("/dev/null", "w"))
    from arenden.models import Tjansteutlatande

    return Tjansteutlatande.objects.select_related("arende").get(arende__diarienummer="SKHLM 2024/123")


@pytest.fixture
def admin_user(db, django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.invalid", "pw")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def roller(transactional_db):
    """The role groups and their permissions, as migration 0002 writes them. Tests on committed
    data need them written again: the flush after each such test empties the tables the
    migrations filled."""
    importlib.import_module("arenden.migrations.0002_roller").skapa_roller(django_apps, None)
