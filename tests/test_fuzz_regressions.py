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


def test_new_atgard_with_an_id_beyond_64_bits_is_refused_not_a_crash(anette, demo):
    response = anette.post(
        f"/tjansteutlatanden/{demo.pk}/atgarder/ny/",
        {"typ": "social", "titel": "T", "beskrivning": "B", "drogscener": BEYOND_64_BITS},
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


# An autocomplete's search, answered by the admin of the model it picks: the diarium's own
# search (ArendeAdmin), Django's search (the users) and a HistoryAdmin's (the åtgärder).
AUTOCOMPLETES = [
    ("skrivelse", "arende", "drog\x00scener", "SKHLM 2024/123 Öppna drogscener – Svar på skrivelse"),
    ("arende", "handlaggare", "ane\x00tte", "Anette Petersson (anette)"),
    ("tjansteutlatandeatgard", "atgard", "insats\x00grupper", "Sociala insatsgrupper för unga och unga vuxna"),
]


def _autocomplete(client, model_name, field_name, term):
    return client.get(
        "/admin/autocomplete/",
        {"term": term, "app_label": "arenden", "model_name": model_name, "field_name": field_name},
    )


@pytest.mark.parametrize(("model_name", "field_name", "term", "hittad"), AUTOCOMPLETES)
def test_admin_autocomplete_with_a_nul_character_searches_the_text_without_it(
    admin_client, demo, model_name, field_name, term, hittad
):
    svar = _autocomplete(admin_client, model_name, field_name, term)
    assert svar.status_code == 200
    assert hittad in [rad["text"] for rad in svar.json()["results"]]


@pytest.mark.postgresql  # SQLite takes a NUL in a LIKE pattern; PostgreSQL refuses any text parameter with one
def test_no_admin_search_sends_a_nul_character_to_the_database(admin_client, admin_user, demo, rf):
    from django.contrib import admin
    from django.contrib.admin.views.main import SEARCH_VAR

    from arenden.admin.common import SafeInputAdminMixin

    for model_name, field_name, term, _ in AUTOCOMPLETES:
        assert _autocomplete(admin_client, model_name, field_name, term).status_code == 200
    for model, model_admin in admin.site._registry.items():
        if not (isinstance(model_admin, SafeInputAdminMixin) and model_admin.search_fields):
            continue  # Django's and the libraries' own admins are theirs
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert admin_client.get(url, {SEARCH_VAR: "2024\x00/123"}).status_code == 200, url
        # Each admin's search itself, also those no autocomplete asks.
        request = rf.get(url, {SEARCH_VAR: "2024\x00/123"})
        request.user = admin_user
        for term in ("2024\x00/123", "drog\x00scener", "SKHLM\x00"):
            rader, _ = model_admin.get_search_results(request, model_admin.get_queryset(request), term)
            list(rader[:1])


def test_login_with_a_user_name_longer_than_its_column_is_a_refusal(client):
    response = client.post("/logga-in/", {"username": "<p>" * 6341, "password": "fel"})
    assert response.status_code == 200
    assert response.context["form"].errors
