"""Two people on the same åtgärd's, drogscen's or aktör's admin page: what one saved after the
other opened the page is refused, not written over, and what the other typed stays in the form."""

import datetime
import html

import pytest

from arenden import services as arenden_services
from arenden.constants import Roll
from atgarder import services
from atgarder.admin import AktorAdmin
from atgarder.models import Aktor, Atgard, Drogscen, Utfall
from tests.arenden.test_admin_attest import _Formular
from tests.arenden.test_admin_versioner import en_annan_sparar, forst
from tests.factories import AtgardFactory, DrogscenFactory, UserFactory


def _sidan(client, url, form_id="atgard_form"):
    response = client.get(url)
    assert response.status_code == 200
    return _formular(response, form_id)


def _formular(response, form_id="atgard_form"):
    formular = _Formular(form_id)
    formular.feed(response.content.decode())
    return formular.data


@pytest.fixture
def atgard(db):
    atgard = AtgardFactory(titel="Platsaktiveringar", beskrivning="Förvaltningens text.")
    Utfall.objects.create(atgard=atgard, antal=70, enhet="platsaktiveringar", ar=2023)
    return atgard


def _url(atgard):
    return f"/admin/atgarder/atgard/{atgard.pk}/change/"


def test_an_atgard_someone_changed_after_the_page_was_opened_is_refused_and_kept(admin_client, atgard):
    sidan = _sidan(admin_client, _url(atgard))
    atgard.beskrivning = "Kollegans text."
    atgard.save()

    sidan["beskrivning"] = "Min text."
    response = admin_client.post(_url(atgard), sidan)

    assert response.status_code == 200
    atgard.refresh_from_db()
    assert atgard.beskrivning == "Kollegans text."
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat åtgärden efter att du öppnade sidan" in page
    assert "Min text." in page

    # Saved again from the page as shown now, the user's change replaces the other one on purpose.
    assert admin_client.post(_url(atgard), _formular(response)).status_code == 302
    atgard.refresh_from_db()
    assert atgard.beskrivning == "Min text."


def test_saving_an_older_atgard_page_keeps_what_others_changed_in_fields_it_left_alone(admin_client, atgard):
    sidan = _sidan(admin_client, _url(atgard))
    atgard.titel = "Kollegans titel"
    atgard.period_start = datetime.date(2023, 1, 1)
    atgard.save()
    aktor = atgard.aktorer.create(namn="Polisen")

    response = admin_client.post(_url(atgard), sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    atgard.refresh_from_db()
    assert atgard.titel == "Kollegans titel"
    assert atgard.period_start == datetime.date(2023, 1, 1)
    assert list(atgard.aktorer.all()) == [aktor]


def test_an_aktor_someone_added_after_the_page_was_opened_refuses_the_users_change(admin_client, atgard):
    sidan = _sidan(admin_client, _url(atgard))
    atgard.aktorer.create(namn="Polisen")

    sidan["titel"] = "Min titel"
    response = admin_client.post(_url(atgard), sidan)

    assert response.status_code == 200
    atgard.refresh_from_db()
    assert atgard.titel == "Platsaktiveringar"
    assert [a.namn for a in atgard.aktorer.all()] == ["Polisen"]


def test_an_utfall_someone_changed_after_the_page_was_opened_is_refused_and_kept(admin_client, atgard):
    sidan = _sidan(admin_client, _url(atgard))
    utfall = atgard.utfall.get()
    utfall.antal = 75
    utfall.save()

    sidan["utfall-0-antal"] = "80"
    response = admin_client.post(_url(atgard), sidan)

    assert response.status_code == 200
    utfall.refresh_from_db()
    assert utfall.antal == 75
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat ”75 platsaktiveringar 2023” efter att du öppnade sidan" in page
    assert 'value="80"' in page

    assert admin_client.post(_url(atgard), _formular(response)).status_code == 302
    utfall.refresh_from_db()
    assert utfall.antal == 80


def test_an_utfall_someone_deleted_after_the_page_was_opened_is_named(admin_client, atgard):
    sidan = _sidan(admin_client, _url(atgard))
    atgard.utfall.get().delete()

    sidan["utfall-0-antal"] = "80"
    response = admin_client.post(_url(atgard), sidan)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Någon annan har tagit bort ”70 platsaktiveringar 2023” efter att du öppnade sidan" in page
    assert not atgard.utfall.exists()


def test_a_save_from_an_older_version_is_refused_by_the_service_under_the_lock(admin_user, atgard):
    from arenden.services import ConflictError, objektversion
    from atgarder import services

    sedd = objektversion(atgard, services.ATGARD_FALT)
    atgard.aktorer.create(namn="Polisen")
    atgard.titel = "Min titel"

    with pytest.raises(ConflictError):
        services.andra_atgard(atgard=atgard, falt=["titel"], expected_version=sedd, user=admin_user)

    atgard.refresh_from_db()
    assert atgard.titel == "Platsaktiveringar"


@pytest.fixture
def handlaggare_client(client, db):
    """An officer, whose role keeps the register: places and actors included."""
    client.force_login(UserFactory(username="handlaggare", is_staff=True, roller=[Roll.HANDLAGGARE]))
    return client


@pytest.fixture
def drogscen(db):
    return DrogscenFactory(namn="Sätra centrum", omrade="Sätra", beskrivning="Torget och tunnelbanan.")


def _drogscen_url(drogscen):
    return f"/admin/atgarder/drogscen/{drogscen.pk}/change/"


def test_a_drogscen_someone_changed_after_the_page_was_opened_is_refused_and_kept(handlaggare_client, drogscen):
    sidan = _sidan(handlaggare_client, _drogscen_url(drogscen), "drogscen_form")
    drogscen.fokusar = 2024
    drogscen.save()

    sidan["beskrivning"] = "Min beskrivning."
    response = handlaggare_client.post(_drogscen_url(drogscen), sidan)

    assert response.status_code == 200
    drogscen.refresh_from_db()
    assert (drogscen.beskrivning, drogscen.fokusar) == ("Torget och tunnelbanan.", 2024)
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat drogscenen efter att du öppnade sidan" in page
    igen = _formular(response, "drogscen_form")
    # The user's change stays; the field they left alone shows what is stored now.
    assert (igen["beskrivning"], igen["fokusar"]) == ("Min beskrivning.", "2024")

    # Saved again from the page as shown now, the user's change goes in beside the colleague's.
    assert handlaggare_client.post(_drogscen_url(drogscen), igen).status_code == 302
    drogscen.refresh_from_db()
    assert (drogscen.beskrivning, drogscen.fokusar) == ("Min beskrivning.", 2024)
    assert drogscen.history.first().history_user.username == "handlaggare"


def test_saving_an_older_drogscen_page_keeps_what_others_changed_in_fields_it_left_alone(handlaggare_client, drogscen):
    sidan = _sidan(handlaggare_client, _drogscen_url(drogscen), "drogscen_form")
    drogscen.barnverksamheter = "Parkleken Solstrålen"
    drogscen.save()
    rader = drogscen.history.count()

    response = handlaggare_client.post(_drogscen_url(drogscen), sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    drogscen.refresh_from_db()
    assert drogscen.barnverksamheter == "Parkleken Solstrålen"
    assert drogscen.history.count() == rader


def _aktor_url(aktor):
    return f"/admin/atgarder/aktor/{aktor.pk}/change/"


def test_an_aktor_renamed_after_the_page_was_opened_is_refused_and_kept(handlaggare_client, db):
    aktor = Aktor.objects.create(namn="Polisen")
    sidan = _sidan(handlaggare_client, _aktor_url(aktor), "aktor_form")
    Aktor.objects.filter(pk=aktor.pk).update(namn="Polismyndigheten")

    sidan["namn"] = "Lokalpolisområde Skärholmen"
    response = handlaggare_client.post(_aktor_url(aktor), sidan)

    assert response.status_code == 200
    aktor.refresh_from_db()
    assert aktor.namn == "Polismyndigheten"
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat aktören efter att du öppnade sidan" in page
    assert 'value="Lokalpolisområde Skärholmen"' in page

    assert handlaggare_client.post(_aktor_url(aktor), _formular(response, "aktor_form")).status_code == 302
    aktor.refresh_from_db()
    assert aktor.namn == "Lokalpolisområde Skärholmen"


def test_saving_an_older_aktor_page_unchanged_keeps_the_name_someone_gave_it(handlaggare_client, db):
    aktor = Aktor.objects.create(namn="Polisen")
    sidan = _sidan(handlaggare_client, _aktor_url(aktor), "aktor_form")
    Aktor.objects.filter(pk=aktor.pk).update(namn="Polismyndigheten")

    assert handlaggare_client.post(_aktor_url(aktor), sidan).status_code == 302
    aktor.refresh_from_db()
    assert aktor.namn == "Polismyndigheten"


# Someone else's save that lands after the page's form was checked and before the åtgärd is
# locked (`andra_atgard`), committed on a connection of its own: the race that the locked check
# stops. SQLite lets one writer at a time in, from the request's first read, so there it cannot
# happen.


def _medan_sidan_sparas(monkeypatch, kollegan):
    monkeypatch.setattr(services, "andra_atgard", forst(lambda: en_annan_sparar(kollegan), services.andra_atgard))


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_an_atgard_someone_changed_between_the_check_and_the_save_is_refused_and_kept(
    admin_client, atgard, monkeypatch
):
    sidan = _sidan(admin_client, _url(atgard))

    def kollegan():
        sparad = Atgard.objects.get(pk=atgard.pk)
        sparad.beskrivning = "Kollegans text."
        sparad.save()

    _medan_sidan_sparas(monkeypatch, kollegan)
    sidan["beskrivning"] = "Min text."
    response = admin_client.post(_url(atgard), sidan)

    # The form's check passed; the service's check under the lock found the change, and the
    # page is shown again with the form's own refusal.
    assert response.status_code == 200
    atgard.refresh_from_db()
    assert atgard.beskrivning == "Kollegans text."
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat åtgärden efter att du öppnade sidan" in page
    assert "Min text." in page

    assert admin_client.post(_url(atgard), _formular(response)).status_code == 302
    atgard.refresh_from_db()
    assert atgard.beskrivning == "Min text."


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_an_utfall_someone_changed_between_the_check_and_the_save_is_refused_and_kept(
    admin_client, atgard, monkeypatch
):
    sidan = _sidan(admin_client, _url(atgard))
    utfall = atgard.utfall.get()

    def kollegan():
        sparat = Utfall.objects.get(pk=utfall.pk)
        sparat.enhet = "aktiviteter"
        sparat.save()

    _medan_sidan_sparas(monkeypatch, kollegan)
    sidan["utfall-0-antal"] = "80"
    response = admin_client.post(_url(atgard), sidan)

    assert response.status_code == 200
    utfall.refresh_from_db()
    assert (utfall.antal, utfall.enhet) == (70, "aktiviteter")
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat ”70 aktiviteter 2023” efter att du öppnade sidan" in page
    assert 'value="80"' in page

    assert admin_client.post(_url(atgard), _formular(response)).status_code == 302
    utfall.refresh_from_db()
    assert (utfall.antal, utfall.enhet) == (80, "aktiviteter")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_an_utfall_someone_changed_between_the_check_and_its_deletion_is_kept(admin_client, atgard, monkeypatch):
    sidan = _sidan(admin_client, _url(atgard))
    utfall = atgard.utfall.get()

    def kollegan():
        sparat = Utfall.objects.get(pk=utfall.pk)
        sparat.antal = 75
        sparat.save()

    _medan_sidan_sparas(monkeypatch, kollegan)
    sidan["utfall-0-DELETE"] = "on"
    response = admin_client.post(_url(atgard), sidan)

    assert response.status_code == 200
    utfall.refresh_from_db()
    assert utfall.antal == 75
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat ”70 platsaktiveringar 2023” efter att du öppnade sidan, så den är inte" in page
    assert 'name="utfall-0-antal" value="75"' in page


# A unique name that someone else takes after the page's form checked it, before the write: the
# database refuses the write, and the page is shown again with the user's input, not a server error.


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_drogscen_name_taken_between_the_check_and_the_save_is_refused_and_kept(
    handlaggare_client, drogscen, monkeypatch
):
    annan = DrogscenFactory(namn="Vårbergs centrum", omrade="Vårberg")
    sidan = _sidan(handlaggare_client, _drogscen_url(drogscen), "drogscen_form")

    def kollegan():
        sparad = Drogscen.objects.get(pk=annan.pk)
        sparad.namn = "Bredängs centrum"
        sparad.save()

    monkeypatch.setattr(
        arenden_services, "andra_objekt", forst(lambda: en_annan_sparar(kollegan), arenden_services.andra_objekt)
    )
    sidan["namn"] = "Bredängs centrum"
    sidan["beskrivning"] = "Min beskrivning."
    response = handlaggare_client.post(_drogscen_url(drogscen), sidan)

    assert response.status_code == 200
    drogscen.refresh_from_db()
    assert (drogscen.namn, drogscen.beskrivning) == ("Sätra centrum", "Torget och tunnelbanan.")
    assert Drogscen.objects.get(pk=annan.pk).namn == "Bredängs centrum"
    page = html.unescape(response.content.decode())
    assert "Drogscenen ”Bredängs centrum” finns redan i registret." in page
    igen = _formular(response, "drogscen_form")
    assert (igen["namn"], igen["beskrivning"]) == ("Bredängs centrum", "Min beskrivning.")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_an_aktor_added_with_a_name_taken_between_the_check_and_the_save_is_refused_and_kept(
    handlaggare_client, monkeypatch
):
    sidan = _sidan(handlaggare_client, "/admin/atgarder/aktor/add/", "aktor_form")

    def kollegan():
        Aktor.objects.create(namn="Polisen")

    monkeypatch.setattr(AktorAdmin, "save_model", forst(lambda: en_annan_sparar(kollegan), AktorAdmin.save_model))
    sidan["namn"] = "Polisen"
    response = handlaggare_client.post("/admin/atgarder/aktor/add/", sidan)

    assert response.status_code == 200
    assert list(Aktor.objects.values_list("namn", flat=True)) == ["Polisen"]
    page = html.unescape(response.content.decode())
    assert "Aktören ”Polisen” finns redan i registret." in page
    assert _formular(response, "aktor_form")["namn"] == "Polisen"
