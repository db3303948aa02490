"""A diarium keeps what it has registered (offentlighetsprincipen, arkivlagen): a skrivelse on a
case, a bilaga of a document sent for attest, a meeting's decided items. No admin page deletes
them, superusers' included: not the change page's delete link, not the list's delete action,
not an inline row's delete box. Only what is still a draft's own can be removed."""

import datetime

import pytest

from arenden.models import Skrivelse
from tests.arenden.test_admin_versioner import _formular as _sidans_formular
from tests.factories import ArendeFactory


@pytest.fixture
def skrivelse(db):
    return Skrivelse.objects.create(
        arende=ArendeFactory(arendemening="Öppna drogscener"),
        titel="Öppna drogscener",
        forfattare="Anna Andersson (M)",
        beredning_datum=datetime.date(2023, 12, 14),
        text="Skrivelsens text.",
    )


def _lista_med_ta_bort(client, url):
    """The list page, and whether its actions offer "Ta bort markerade"."""
    response = client.get(url)
    assert response.status_code == 200
    return 'value="delete_selected"' in response.content.decode()


# --- skrivelser ---------------------------------------------------------------------------


def test_a_skrivelse_has_no_delete_page_even_for_a_superuser(admin_client, skrivelse):
    sida = admin_client.get(f"/admin/arenden/skrivelse/{skrivelse.pk}/change/")
    assert sida.status_code == 200
    assert f"/admin/arenden/skrivelse/{skrivelse.pk}/delete/" not in sida.content.decode()

    url = f"/admin/arenden/skrivelse/{skrivelse.pk}/delete/"
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Skrivelse.objects.filter(pk=skrivelse.pk).exists()
    assert not skrivelse.history.filter(history_type="-").exists()


def test_the_skrivelse_list_offers_no_delete_and_its_action_deletes_nothing(admin_client, skrivelse):
    assert not _lista_med_ta_bort(admin_client, "/admin/arenden/skrivelse/")

    admin_client.post(
        "/admin/arenden/skrivelse/",
        {"action": "delete_selected", "_selected_action": [skrivelse.pk], "post": "yes"},
    )
    assert Skrivelse.objects.filter(pk=skrivelse.pk).exists()


def test_the_arende_page_has_no_delete_box_for_its_skrivelser(admin_client, skrivelse):
    url = f"/admin/arenden/arende/{skrivelse.arende_id}/change/"
    response = admin_client.get(url)
    sidan = _sidans_formular(response, "arende_form")
    assert "skrivelser-0-id" in sidan
    assert "skrivelser-0-DELETE" not in sidan

    # A box sent anyway (a page from before, a hand-made request) deletes nothing.
    sidan["skrivelser-0-DELETE"] = "on"
    assert admin_client.post(url, sidan).status_code == 302
    assert Skrivelse.objects.filter(pk=skrivelse.pk).exists()
