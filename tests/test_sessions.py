"""Sessions: Django's database sessions, read with SQL written once (skarholmen/sessions.py),
that end after a working day."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.shortcuts import resolve_url
from django.utils import timezone

from skarholmen.sessions import SessionStore
from tests.factories import UserFactory


def test_a_saved_session_reads_back_and_an_unknown_key_is_forgotten(db):
    session = SessionStore()
    session["arende"] = [1, "Skärholmen"]
    session.create()
    assert SessionStore(session.session_key).load() == {"arende": [1, "Skärholmen"]}
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {}
    assert unknown.session_key is None  # so that a new key is made, never the one offered


def test_an_expired_session_is_not_read(db):
    session = SessionStore()
    session["a"] = 1
    session.create()
    Session.objects.filter(session_key=session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert SessionStore(session.session_key).load() == {}


def test_a_login_lasts_a_working_day_and_no_longer(client, db):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    user = UserFactory()
    fore = timezone.now()
    response = client.post(resolve_url(settings.LOGIN_URL), {"username": user.username, "password": "pw"})
    efter = timezone.now()
    assert response.status_code == 302
    # The cookie lives until the browser closes; the server ends the session after the day.
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    stored = Session.objects.get()
    assert fore + timedelta(hours=8) <= stored.expire_date <= efter + timedelta(hours=8)
    assert client.get("/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_logging_out_ends_the_session_on_the_server(client, db):
    client.force_login(UserFactory())
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/logga-ut/")
    assert not Session.objects.filter(session_key=key).exists()
    assert SessionStore(key).load() == {}
