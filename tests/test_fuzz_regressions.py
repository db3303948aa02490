"""One test per server error the form fuzzing (test_fuzz_forms.py) found, each now a refusal."""

import pytest
from django.contrib.auth import get_user_model

from atgarder.models import Atgard

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = "9223372036854775808"
HUGE_QUERY = "𝔄" * 16_027  # 64 kB: SQLite refuses LIKE patterns over 50 kB


@pytest.fixture
def anette(client, demo):
    client.force_login(get_user_model().objects.get(username="anette"))
    return client


def test_new_atgard_with_an_id_beyond_64_bits_is_refused_not_a_crash(anette):
    response = anette.post(
        "/atgarder/ny/", {"typ": "social", "titel": "T", "beskrivning": "B", "drogscener": BEYOND_64_BITS}
    )
    assert response.status_code == 400
    assert "drogscener" in response.json()["fel"]


@pytest.mark.parametrize("path", ["/", "/sok/"])
def test_officer_search_with_a_huge_text_answers(anette, path):
    assert anette.get(path, {"q": HUGE_QUERY}).status_code == 200


def test_register_search_with_a_huge_text_is_refused(anette):
    response = anette.get("/atgarder/sok/", {"q": HUGE_QUERY})
    assert response.status_code == 400


@pytest.mark.parametrize("model", ["arenden/arende", "arenden/tjansteutlatande", "atgarder/atgard", "auth/user"])
def test_admin_search_with_a_huge_text_answers(admin_client, demo, model):
    assert admin_client.get(f"/admin/{model}/", {"q": HUGE_QUERY}).status_code == 200


@pytest.mark.parametrize("value", ["1.5", "SKHLM 2024/1", BEYOND_64_BITS])
def test_admin_autocomplete_field_with_a_value_that_is_no_id_shows_the_form_again(admin_client, demo, value):
    response = admin_client.post("/admin/arenden/arende/add/", {"arendemening": "X", "handlaggare": value})
    assert response.status_code == 200
    assert "errornote" in response.content.decode()


def test_admin_many_to_many_with_an_id_beyond_64_bits_shows_the_form_again(admin_client, demo):
    before = Atgard.objects.count()
    response = admin_client.post(
        "/admin/atgarder/atgard/add/", {"typ": "social", "titel": "T", "beskrivning": "B", "aktorer": [BEYOND_64_BITS]}
    )
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert Atgard.objects.count() == before


def test_meeting_form_refused_with_extra_item_rows_shows_the_form_again(admin_client, demo):
    response = admin_client.post(
        "/admin/arenden/sammantrade/add/",
        {
            "datum": "604",
            "tid": "c",
            "plats": "0",
            "punkter-TOTAL_FORMS": "2",
            "punkter-INITIAL_FORMS": "0",
            "punkter-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert "errornote" in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/sok/"])
def test_officer_search_with_a_nul_character_answers(anette, path):
    assert anette.get(path, {"q": "drog\x00scen"}).status_code == 200


def test_login_with_a_user_name_longer_than_its_column_is_a_refusal(client):
    response = client.post("/logga-in/", {"username": "<p>" * 6341, "password": "fel"})
    assert response.status_code == 200
    assert response.context["form"].errors
