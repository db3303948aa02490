import pytest
from django.test import Client


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
