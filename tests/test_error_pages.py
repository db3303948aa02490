from urllib.parse import urlencode

import pytest
from django.test import Client

from arenden.models import Arende


@pytest.fixture
def production_errors(settings):
    settings.DEBUG = False


def test_unknown_page_gets_a_swedish_404_page(db, client, production_errors):
    response = client.get("/finns-inte/")
    assert response.status_code == 404
    body = response.content.decode()
    assert '<html lang="sv">' in body and "Sidan finns inte" in body


def test_server_error_gets_a_swedish_page_without_traceback(db, production_errors, settings):
    settings.ROOT_URLCONF = "tests.urls_crash"
    client = Client(raise_request_exception=False)
    response = client.get("/krasch/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Något gick fel" in body and "Traceback" not in body and "ZeroDivisionError" not in body


def test_form_without_csrf_token_gets_a_swedish_403_page(db, production_errors, django_user_model):
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user("anna"))
    response = client.post("/arenden/nytt/", {"titel": "Utan token"})
    assert response.status_code == 403
    body = response.content.decode()
    assert '<html lang="sv">' in body and "Formuläret kunde inte skickas" in body
    assert "CSRF verification failed" not in body and "Forbidden" not in body
    # The login form, where an old tab is the usual cause, gets the same page.
    response = Client(enforce_csrf_checks=True).post("/logga-in/", {"username": "anna", "password": "x"})
    assert response.status_code == 403 and "Formuläret kunde inte skickas" in response.content.decode()


def test_a_form_larger_than_the_server_takes_gets_a_swedish_page_and_stores_nothing(
    db, production_errors, settings, django_user_model
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user("anna"))
    client.get("/")  # the token's cookie, as any page sets it
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 40_000
    # A page's own form, sent by the browser: CsrfViewMiddleware reads it for the token and meets
    # the oversized body before any view. Django answered with its 400 page, "Felaktig begäran".
    response = client.post(
        "/arenden/nytt/",
        urlencode(
            {"arendemening": "Öppna drogscener " * 3_000, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
        ),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413 and response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert '<html lang="sv">' in body and "Formuläret är för stort" in body
    assert "servern tar emot högst 39 kB åt gången, omkring 11 sidor text" in body and "Inget har sparats" in body
    assert "Traceback" not in body and "RequestDataTooBig" not in body
    assert not Arende.objects.exists()


def test_any_other_bad_request_gets_the_swedish_400_page(db, client, production_errors):
    response = client.get("/", headers={"Host": "okand.example"})
    assert response.status_code == 400
    body = response.content.decode()
    assert '<html lang="sv">' in body and "Felaktig begäran" in body and "DisallowedHost" not in body
