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
