"""Login throttling (django-axes): five wrong passwords lock the user name from that address for
15 minutes, on the officers' login and the admin's, with a Swedish 429 page."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone

from skarholmen.security import client_ip

RIGHT, WRONG = "Rätt-lösenord-2024", "fel-lösenord"
LOGINS = {"officers": "/logga-in/", "admin": "/admin/login/"}


@pytest.fixture
def anna(db):
    return get_user_model().objects.create_user("anna", password=RIGHT, is_staff=True, is_superuser=True)


def attempt(client, url, password, username="anna", **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def logged_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("login", LOGINS)
def test_fifth_wrong_password_locks_for_fifteen_minutes(client, anna, login):
    url = LOGINS[login]
    for _ in range(4):
        response = attempt(client, url, WRONG)
        assert response.status_code == 200  # the form again, with its error
    locked = attempt(client, url, WRONG)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Inloggningen är tillfälligt spärrad" in page and "15 minuter" in page
    assert locked["Retry-After"] == "900"
    assert "script-src 'self'" in locked["Content-Security-Policy"]

    # Even the right password is refused while the lock holds.
    assert attempt(client, url, RIGHT).status_code == 429
    assert not logged_in(client)

    # A quarter of an hour later the lock has expired.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert attempt(client, url, RIGHT).status_code == 302
    assert logged_in(client)


def test_lock_on_one_login_holds_on_the_other(client, anna):
    for _ in range(5):
        attempt(client, LOGINS["officers"], WRONG)
    assert attempt(client, LOGINS["admin"], RIGHT).status_code == 429


def test_four_failures_then_success_start_the_count_again(client, anna):
    for _ in range(4):
        attempt(client, LOGINS["officers"], WRONG)
    assert attempt(client, LOGINS["officers"], RIGHT).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, LOGINS["officers"], WRONG).status_code == 200
    assert attempt(client, LOGINS["officers"], RIGHT).status_code == 302


def test_lock_is_for_the_user_name_not_for_everyone_at_that_address(client, anna):
    get_user_model().objects.create_user("bertil", password=RIGHT)
    for _ in range(5):
        attempt(client, LOGINS["officers"], WRONG)
    assert attempt(client, LOGINS["officers"], RIGHT, username="bertil").status_code == 302


def test_behind_a_proxy_each_client_address_is_counted_apart(client, anna, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    for _ in range(5):
        attempt(client, LOGINS["officers"], WRONG, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    assert attempt(client, LOGINS["officers"], RIGHT, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy).status_code == 429
    # A colleague behind the same proxy is not locked out with the attacker.
    assert attempt(client, LOGINS["officers"], RIGHT, HTTP_X_FORWARDED_FOR="198.51.100.9", **proxy).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_without_a_trusted_proxy_a_forged_header_does_not_escape_the_lock(client, anna, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(5):
        attempt(client, LOGINS["officers"], WRONG, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert attempt(client, LOGINS["officers"], RIGHT, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "10.0.0.5"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "1.2.3.4, 203.0.113.7", "203.0.113.7"),  # the left entry was written by the client
        (2, "1.2.3.4, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.5"),  # shorter than the proxies promise: the connection's address
        (1, "", "10.0.0.5"),
    ],
)
def test_client_address_counts_trusted_proxies_from_the_right(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
