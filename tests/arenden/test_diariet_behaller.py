"""A diarium keeps what it has registered (offentlighetsprincipen, arkivlagen): a skrivelse on a
case, a bilaga of a document sent for attest, a meeting's decided items. No admin page deletes
them, superusers' included: not the change page's delete link, not the list's delete action,
not an inline row's delete box. Only what is still a draft's own can be removed."""

import datetime

import pytest
from django.utils import timezone

from arenden import services
from arenden.constants import TjansteutlatandeStatus as S
from arenden.models import Bilaga, Foredragningspunkt, Skrivelse
from tests.arenden.meeting import sammantrade
from tests.arenden.test_admin_attest import _med_delar, _rad, _sidan
from tests.arenden.test_admin_versioner import _formular as _sidans_formular
from tests.arenden.world import build_world
from tests.factories import ArendeFactory


@pytest.fixture
def world(db):
    return build_world()


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


# --- bilagor ------------------------------------------------------------------------------


def _skickat(world, status):
    """A document with a bilaga, sent for attest and, for `attesterad`, attested by both chefs."""
    tu = _med_delar(world)
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    if status == S.ATTESTERAD:
        services.attestera(tjansteutlatande=tu, user=world.chef1)
        services.attestera(tjansteutlatande=tu, user=world.chef2)
    tu.refresh_from_db()
    assert tu.status == status
    return tu


@pytest.mark.parametrize("status", [S.TILL_ATTEST, S.ATTESTERAD])
def test_the_bilaga_of_a_sent_document_has_no_delete_box_and_one_sent_deletes_nothing(world, client, status):
    tu = _skickat(world, status)
    bilaga = tu.bilagor.get()
    client.force_login(world.superuser)
    sidan = _sidan(client, tu)
    rad = _rad(sidan, "bilagor", bilaga.pk)
    assert f"{rad}-DELETE" not in sidan

    sidan[f"{rad}-DELETE"] = "on"
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    assert response.status_code == 302
    assert Bilaga.objects.filter(pk=bilaga.pk).exists()
    tu.refresh_from_db()
    assert tu.status == status  # what the chefs read stands, their attest with it
    assert not tu.attesteringar.filter(makulerad__isnull=False).exists()


@pytest.mark.parametrize("status", [S.TILL_ATTEST, S.ATTESTERAD])
def test_the_service_refuses_to_delete_the_bilaga_of_a_sent_document(world, status):
    tu = _skickat(world, status)
    bilaga = tu.bilagor.get()

    with pytest.raises(services.WorkflowError) as fel:
        services.spara_dokumentdel(tjansteutlatande=tu, obj=bilaga, user=world.superuser, ta_bort=True)

    assert "Bilagan ”1. Skrivelse” är en del av det som skickades för attest" in str(fel.value)
    assert Bilaga.objects.filter(pk=bilaga.pk).exists()
    tu.refresh_from_db()
    assert tu.status == status


def test_the_bilaga_of_a_draft_is_still_removed_by_its_officer(world, client):
    tu = _med_delar(world)
    bilaga = tu.bilagor.get()
    client.force_login(world.officer)
    sidan = _sidan(client, tu)

    sidan[f"{_rad(sidan, 'bilagor', bilaga.pk)}-DELETE"] = "on"
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    assert response.status_code == 302
    assert not Bilaga.objects.filter(pk=bilaga.pk).exists()
    assert bilaga.history.filter(history_type="-", history_user=world.officer).exists()


def test_a_bilaga_taken_back_to_a_draft_can_be_removed_again(world):
    tu = _skickat(world, S.TILL_ATTEST)
    services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer)
    services.spara_dokumentdel(tjansteutlatande=tu, obj=tu.bilagor.get(), user=world.officer, ta_bort=True)
    assert not tu.bilagor.exists()


# --- a meeting's decided items --------------------------------------------------------------


def test_a_meeting_whose_item_is_decided_is_deleted_by_no_admin_path(admin_client, db):
    mote = sammantrade()
    punkt = Foredragningspunkt.objects.create(
        sammantrade=mote, nummer=1, titel="Information om trygghetsvandringar", beslut="Informationen noteras."
    )
    Foredragningspunkt.objects.filter(pk=punkt.pk).update(beslutad=timezone.now())

    url = f"/admin/arenden/sammantrade/{mote.pk}/delete/"
    # The delete page names the item that keeps the meeting, and deletes nothing.
    assert "punkt 1 på föredragningslistan" in admin_client.get(url).content.decode()
    assert admin_client.post(url, {"post": "yes"}).status_code == 200
    admin_client.post(
        "/admin/arenden/sammantrade/", {"action": "delete_selected", "_selected_action": [mote.pk], "post": "yes"}
    )
    assert Foredragningspunkt.objects.filter(pk=punkt.pk, sammantrade=mote).exists()
