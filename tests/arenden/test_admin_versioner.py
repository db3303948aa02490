"""Two people on the same ärende's or mall's admin page: what one saved after the other opened
the page is refused, not written over, and what the other typed stays in the form."""

import datetime
import html

import pytest

from arenden.models import MallSektion, Skrivelse
from tests.arenden.test_admin_attest import _Formular
from tests.factories import ArendeFactory, MallFactory


def _formular(response, form_id):
    formular = _Formular(form_id)
    formular.feed(response.content.decode())
    return formular.data


def _sidan(client, url, form_id):
    response = client.get(url)
    assert response.status_code == 200
    return _formular(response, form_id)


@pytest.fixture
def arende(db):
    arende = ArendeFactory(arendemening="Öppna drogscener")
    Skrivelse.objects.create(
        arende=arende,
        titel="Öppna drogscener",
        forfattare="Anna Andersson (M)",
        beredning_datum=datetime.date(2023, 12, 14),
        text="Skrivelsens text.",
    )
    return arende


def _url(arende):
    return f"/admin/arenden/arende/{arende.pk}/change/"


def test_an_arende_field_someone_changed_after_the_page_was_opened_is_refused_and_kept(admin_client, arende):
    sidan = _sidan(admin_client, _url(arende), "arende_form")
    arende.arendemening = "Kollegans ärendemening"
    arende.save()

    sidan["arendemening"] = "Min ärendemening"
    response = admin_client.post(_url(arende), sidan)

    assert response.status_code == 200
    arende.refresh_from_db()
    assert arende.arendemening == "Kollegans ärendemening"
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat ärendet efter att du öppnade sidan" in page
    assert 'value="Min ärendemening"' in page

    assert admin_client.post(_url(arende), _formular(response, "arende_form")).status_code == 302
    arende.refresh_from_db()
    assert arende.arendemening == "Min ärendemening"


def test_saving_an_older_arende_page_keeps_what_others_changed_in_fields_it_left_alone(admin_client, arende):
    sidan = _sidan(admin_client, _url(arende), "arende_form")
    arende.arendemening = "Kollegans ärendemening"
    arende.save()

    response = admin_client.post(_url(arende), sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    arende.refresh_from_db()
    assert arende.arendemening == "Kollegans ärendemening"


def test_a_skrivelse_someone_changed_after_the_page_was_opened_is_refused_and_kept(admin_client, arende):
    sidan = _sidan(admin_client, _url(arende), "arende_form")
    skrivelse = arende.skrivelser.get()
    skrivelse.text = "Kollegans text."
    skrivelse.save()

    sidan["skrivelser-0-text"] = "Min text."
    response = admin_client.post(_url(arende), sidan)

    assert response.status_code == 200
    skrivelse.refresh_from_db()
    assert skrivelse.text == "Kollegans text."
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat ”Öppna drogscener” efter att du öppnade sidan" in page
    assert "Min text." in page

    assert admin_client.post(_url(arende), _formular(response, "arende_form")).status_code == 302
    skrivelse.refresh_from_db()
    assert skrivelse.text == "Min text."


def test_a_mallsektion_someone_changed_after_the_page_was_opened_is_refused_and_kept(admin_client, db):
    mall = MallFactory()
    url = f"/admin/arenden/mall/{mall.pk}/change/"
    sidan = _sidan(admin_client, url, "mall_form")
    sektion = mall.sektioner.get(rubrik="Ärendet")
    sektion.vagledning = "Kollegans vägledning."
    sektion.save()

    prefix = next(k.removesuffix("-id") for k, v in sidan.items() if k.endswith("-id") and v == str(sektion.pk))
    sidan[f"{prefix}-vagledning"] = "Min vägledning."
    response = admin_client.post(url, sidan)

    assert response.status_code == 200
    assert MallSektion.objects.get(pk=sektion.pk).vagledning == "Kollegans vägledning."
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat ”Ärendet” efter att du öppnade sidan" in page
    assert "Min vägledning." in page

    assert admin_client.post(url, _formular(response, "mall_form")).status_code == 302
    assert MallSektion.objects.get(pk=sektion.pk).vagledning == "Min vägledning."
