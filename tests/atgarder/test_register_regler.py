"""What the register refuses: a name that differs from another only by case or spacing."""

import html

import pytest

from atgarder.models import Aktor, Drogscen
from tests.atgarder.test_admin_versioner import _sidan
from tests.factories import DrogscenFactory


def _page(response):
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("namn", ["polisen", "POLISEN", "Polisen ", "  polisen"])
def test_an_aktor_named_as_another_but_for_case_or_spacing_is_refused(admin_client, namn):
    Aktor.objects.create(namn="Polisen")

    response = admin_client.post("/admin/atgarder/aktor/add/", {"namn": namn})

    assert response.status_code == 200
    assert Aktor.objects.count() == 1
    assert "finns redan" in _page(response)
    assert namn.strip() in _page(response)


def test_a_drogscen_named_as_another_but_for_case_or_inner_spacing_is_refused(admin_client):
    Drogscen.objects.create(namn="Sätra centrum", omrade="Sätra")

    response = admin_client.post(
        "/admin/atgarder/drogscen/add/", {"namn": "SÄTRA  centrum", "omrade": "Sätra", "beskrivning": ""}
    )

    assert response.status_code == 200
    assert Drogscen.objects.count() == 1
    assert "finns redan" in _page(response)


def test_renaming_a_drogscen_to_another_ones_name_in_other_case_is_refused(admin_client):
    DrogscenFactory(namn="Vårbergs centrum")
    scen = DrogscenFactory(namn="Bredängs centrum")
    url = f"/admin/atgarder/drogscen/{scen.pk}/change/"
    sidan = _sidan(admin_client, url, "drogscen_form")
    sidan["namn"] = "vårbergs centrum"
    response = admin_client.post(url, sidan)

    assert response.status_code == 200
    scen.refresh_from_db()
    assert scen.namn == "Bredängs centrum"
    assert "finns redan" in _page(response)


def test_a_name_keeps_its_own_case_when_saved_again(admin_client):
    aktor = Aktor.objects.create(namn="Polisen")
    url = f"/admin/atgarder/aktor/{aktor.pk}/change/"
    sidan = _sidan(admin_client, url, "aktor_form")
    sidan["namn"] = "POLISEN"
    assert admin_client.post(url, sidan).status_code == 302
    aktor.refresh_from_db()
    assert aktor.namn == "POLISEN"
