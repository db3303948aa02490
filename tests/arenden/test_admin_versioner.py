"""Two people on the same ärende's, skrivelse's, mall's or organisation's admin page (or a
skrivelse's own page and its ärende's): what one saved after the other opened the page is
refused, not written over, and what the other typed stays in the form."""

import datetime
import html
import threading

import pytest
from django.db import IntegrityError, connection

from arenden import services
from arenden.admin.organisation import MallAdmin
from arenden.models import Mall, MallSektion, Profil, Skrivelse
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


def en_annan_sparar(andring):
    """Someone else's save, on a connection of its own, committed before the caller goes on."""
    fel = []

    def spara():
        try:
            andring()
        except Exception as exc:  # asserted below, in the caller's thread
            fel.append(exc)
        finally:
            connection.close()

    trad = threading.Thread(target=spara)
    trad.start()
    trad.join()
    assert not fel, fel


def forst(gora, funktion):
    """`funktion`, which does `gora` on its first call, before it goes on."""
    gjort = []

    def med_andring(*args, **kwargs):
        if not gjort:
            gjort.append(True)
            gora()
        return funktion(*args, **kwargs)

    return med_andring


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


def _skrivelse_url(skrivelse):
    return f"/admin/arenden/skrivelse/{skrivelse.pk}/change/"


def test_a_skrivelse_saved_on_the_arende_page_after_its_own_page_was_opened_is_refused_and_kept(admin_client, arende):
    skrivelse = arende.skrivelser.get()
    sidan = _sidan(admin_client, _skrivelse_url(skrivelse), "skrivelse_form")
    arendesidan = _sidan(admin_client, _url(arende), "arende_form")
    arendesidan["skrivelser-0-text"] = "Kollegans text."
    assert admin_client.post(_url(arende), arendesidan).status_code == 302

    sidan["forfattare"] = "Min författare"
    response = admin_client.post(_skrivelse_url(skrivelse), sidan)

    assert response.status_code == 200
    skrivelse.refresh_from_db()
    assert (skrivelse.forfattare, skrivelse.text) == ("Anna Andersson (M)", "Kollegans text.")
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat skrivelsen efter att du öppnade sidan" in page
    igen = _formular(response, "skrivelse_form")
    # The user's change stays; the field they left alone shows what is stored now.
    assert (igen["forfattare"], igen["text"]) == ("Min författare", "Kollegans text.")

    # Saved again from the page as shown now, the user's change goes in beside the colleague's.
    assert admin_client.post(_skrivelse_url(skrivelse), igen).status_code == 302
    skrivelse.refresh_from_db()
    assert (skrivelse.forfattare, skrivelse.text) == ("Min författare", "Kollegans text.")
    assert skrivelse.history.first().history_user.is_superuser


def test_saving_an_older_skrivelse_page_keeps_what_others_changed_in_fields_it_left_alone(admin_client, arende):
    skrivelse = arende.skrivelser.get()
    sidan = _sidan(admin_client, _skrivelse_url(skrivelse), "skrivelse_form")
    skrivelse.text = "Kollegans text."
    skrivelse.beredning_datum = datetime.date(2024, 1, 10)
    skrivelse.save()
    rader = skrivelse.history.count()

    response = admin_client.post(_skrivelse_url(skrivelse), sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    skrivelse.refresh_from_db()
    assert (skrivelse.text, skrivelse.beredning_datum) == ("Kollegans text.", datetime.date(2024, 1, 10))
    assert skrivelse.history.count() == rader  # nothing written over the colleague's change


def test_a_registrators_skrivelse_page_keeps_a_colleagues_change_and_saves_their_own(client, db):
    from tests.arenden.world import build_world

    world = build_world()
    arende = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning)
    skrivelse = Skrivelse.objects.create(
        arende=arende, titel="Skrivelse", forfattare="A (M)", beredning_datum=datetime.date(2024, 1, 10), text="x"
    )
    client.force_login(world.registrator)
    sidan = _sidan(client, _skrivelse_url(skrivelse), "skrivelse_form")
    Skrivelse.objects.filter(pk=skrivelse.pk).update(text="Kollegans text.")

    # The page as it was opened, saved unchanged: the colleague's text stays.
    assert client.post(_skrivelse_url(skrivelse), sidan).status_code == 302
    skrivelse.refresh_from_db()
    assert skrivelse.text == "Kollegans text."

    sidan = _sidan(client, _skrivelse_url(skrivelse), "skrivelse_form")
    sidan["titel"] = "Öppna drogscener"
    assert client.post(_skrivelse_url(skrivelse), sidan).status_code == 302
    skrivelse.refresh_from_db()
    assert (skrivelse.titel, skrivelse.text) == ("Öppna drogscener", "Kollegans text.")
    assert skrivelse.history.first().history_user == world.registrator


def test_the_skrivelse_service_moves_a_skrivelse_only_within_the_users_cases(db):
    from django.core.exceptions import PermissionDenied

    from tests.arenden.world import build_world
    from tests.factories import ForvaltningFactory

    world = build_world()
    egen = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning)
    skrivelse = Skrivelse.objects.create(
        arende=egen, titel="Skrivelse", forfattare="A (M)", beredning_datum=datetime.date(2024, 1, 10), text="x"
    )
    sedd = services.objektversion(skrivelse, services.SKRIVELSE_FALT)
    skrivelse.arende = ArendeFactory(forvaltning=ForvaltningFactory(diarieprefix="HASO"))

    with pytest.raises(PermissionDenied):
        services.andra_skrivelse(skrivelse=skrivelse, falt=["arende"], expected_version=sedd, user=world.registrator)

    assert Skrivelse.objects.get(pk=skrivelse.pk).arende == egen


def test_a_skrivelse_save_from_an_older_version_is_refused_by_the_service_under_the_lock(admin_user, arende):
    skrivelse = arende.skrivelser.get()
    sedd = services.objektversion(skrivelse, services.SKRIVELSE_FALT)
    Skrivelse.objects.filter(pk=skrivelse.pk).update(text="Kollegans text.")
    skrivelse.titel = "Min titel"

    with pytest.raises(services.ConflictError):
        services.andra_skrivelse(skrivelse=skrivelse, falt=["titel"], expected_version=sedd, user=admin_user)

    skrivelse.refresh_from_db()
    assert (skrivelse.titel, skrivelse.text) == ("Öppna drogscener", "Kollegans text.")


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


def _mall_url(mall):
    return f"/admin/arenden/mall/{mall.pk}/change/"


@pytest.fixture
def mall(db):
    mall = MallFactory(namn="Tjänsteutlåtande till nämnd")
    mall.beskrivning = "Mallens beskrivning."
    mall.save()
    return mall


def test_a_mall_field_someone_changed_after_the_page_was_opened_is_refused_and_kept(admin_client, mall):
    sidan = _sidan(admin_client, _mall_url(mall), "mall_form")
    mall.beskrivning = "Kollegans beskrivning."
    mall.save()

    sidan["namn"] = "Min mall"
    sidan.pop("aktiv")  # the box unticked, as a browser sends it
    response = admin_client.post(_mall_url(mall), sidan)

    assert response.status_code == 200
    mall.refresh_from_db()
    assert (mall.namn, mall.beskrivning, mall.aktiv) == ("Tjänsteutlåtande till nämnd", "Kollegans beskrivning.", True)
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat mallen efter att du öppnade sidan" in page
    igen = _formular(response, "mall_form")
    # The user's changes stay; the field they left alone shows what is stored now.
    assert igen["namn"] == "Min mall" and "aktiv" not in igen
    assert igen["beskrivning"] == "Kollegans beskrivning."

    # Saved again from the page as shown now, the user's changes replace the stored ones on purpose.
    assert admin_client.post(_mall_url(mall), igen).status_code == 302
    mall.refresh_from_db()
    assert (mall.namn, mall.beskrivning, mall.aktiv) == ("Min mall", "Kollegans beskrivning.", False)
    senaste = mall.history.first()
    assert senaste.history_user.is_superuser and senaste.namn == "Min mall"


def test_saving_an_older_mall_page_keeps_what_others_changed_in_fields_it_left_alone(admin_client, mall):
    sidan = _sidan(admin_client, _mall_url(mall), "mall_form")
    mall.aktiv = False
    mall.beskrivning = "Ersatt av den nya mallen."
    mall.save()
    sektion = mall.sektioner.get(rubrik="Ärendet")
    rader = mall.history.count()

    prefix = next(k.removesuffix("-id") for k, v in sidan.items() if k.endswith("-id") and v == str(sektion.pk))
    sidan[f"{prefix}-vagledning"] = "Min vägledning."
    response = admin_client.post(_mall_url(mall), sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    mall.refresh_from_db()
    assert (mall.aktiv, mall.beskrivning) == (False, "Ersatt av den nya mallen.")
    assert MallSektion.objects.get(pk=sektion.pk).vagledning == "Min vägledning."
    assert mall.history.count() == rader  # the mall itself is not saved over the colleague's change


def test_a_mall_save_from_an_older_version_is_refused_by_the_service_under_the_lock(admin_user, mall):
    sedd = services.objektversion(mall, services.MALL_FALT)
    Mall.objects.filter(pk=mall.pk).update(aktiv=False)
    mall.namn = "Min mall"

    with pytest.raises(services.ConflictError):
        services.andra_mall(mall=mall, falt=["namn"], expected_version=sedd, user=admin_user)

    mall.refresh_from_db()
    assert (mall.namn, mall.aktiv) == ("Tjänsteutlåtande till nämnd", False)


def _ny_sektion(sidan, rubrik):
    """The page's form with a section added at its end; returns the new row's prefix."""
    antal = next(k for k in sidan if k.endswith("-TOTAL_FORMS"))
    ny = f"{antal.removesuffix('-TOTAL_FORMS')}-{sidan[antal]}"
    sidan[antal] = str(int(sidan[antal]) + 1)
    sidan.update({f"{ny}-ordning": "4", f"{ny}-rubrik": rubrik, f"{ny}-vagledning": "Min."})
    return ny


def test_a_mallsektion_added_with_a_rubrik_someone_gave_a_section_after_the_page_was_opened_is_refused(
    admin_client, mall
):
    sidan = _sidan(admin_client, _mall_url(mall), "mall_form")
    MallSektion.objects.create(mall=mall, ordning=5, rubrik="Bakgrund", vagledning="Kollegans.")

    ny = _ny_sektion(sidan, "Bakgrund")
    response = admin_client.post(_mall_url(mall), sidan)

    assert response.status_code == 200
    assert list(mall.sektioner.filter(rubrik="Bakgrund").values_list("vagledning", flat=True)) == ["Kollegans."]
    assert "Mallsektion med samma Mall och Rubrik finns redan." in html.unescape(response.content.decode())
    assert _formular(response, "mall_form")[f"{ny}-rubrik"] == "Bakgrund"


def test_a_name_taken_before_the_write_is_a_conflict_and_a_missing_value_stays_an_error(admin_user, mall):
    annan = MallFactory(namn="Skrivelsesvar")
    mall.namn = "Skrivelsesvar"

    with pytest.raises(services.ConflictError, match="Någon annan har sparat samma värde"):
        services.andra_mall(mall=mall, falt=["namn"], user=admin_user)

    # Rolled back to the write's savepoint: the transaction still reads.
    assert Mall.objects.get(pk=mall.pk).namn == "Tjänsteutlåtande till nämnd"
    assert Mall.objects.get(pk=annan.pk).namn == "Skrivelsesvar"
    mall.namn, mall.beskrivning = "Ny mall", None
    with pytest.raises(IntegrityError):
        services.andra_mall(mall=mall, falt=["namn", "beskrivning"], user=admin_user)


def _organisation(sida):
    """(object, its model's name in the page's address, a colleague's change, the field the user changes)."""
    from tests.factories import AvdelningFactory, ForvaltningFactory, NamndFactory, UserFactory

    chef = UserFactory(username="nychef")
    if sida == "namnd":
        return NamndFactory(), "namnd", {"namn": "Skärholmens stadsdelsnämnd (SDN)"}, "namn"
    if sida == "forvaltning":
        return ForvaltningFactory(), "forvaltning", {"chef_id": chef.pk}, "namn"
    return AvdelningFactory(namn="Medborgarservice"), "avdelning", {"chef_id": chef.pk}, "namn"


ORGANISATION = {"namnd": "nämnden", "forvaltning": "förvaltningen", "avdelning": "avdelningen"}


@pytest.mark.parametrize("sida", ORGANISATION)
def test_an_organisation_page_someone_saved_after_it_was_opened_is_refused_and_kept(admin_client, sida):
    obj, modell, kollegans, falt = _organisation(sida)
    url = f"/admin/arenden/{modell}/{obj.pk}/change/"
    sidan = _sidan(admin_client, url, f"{modell}_form")
    type(obj).objects.filter(pk=obj.pk).update(**kollegans)

    sidan[falt] = "Mitt namn"
    response = admin_client.post(url, sidan)

    assert response.status_code == 200
    obj.refresh_from_db()
    for namn, varde in kollegans.items():
        assert getattr(obj, namn) == varde
    assert getattr(obj, falt) != "Mitt namn"
    page = html.unescape(response.content.decode())
    assert f"Någon annan har ändrat {ORGANISATION[sida]} efter att du öppnade sidan" in page
    assert 'value="Mitt namn"' in page

    # Saved again from the page as shown now, the user's change replaces the stored one on purpose
    # and goes in beside the colleague's other changes.
    assert admin_client.post(url, _formular(response, f"{modell}_form")).status_code == 302
    obj.refresh_from_db()
    assert getattr(obj, falt) == "Mitt namn"
    for namn, varde in kollegans.items():
        if namn != falt:
            assert getattr(obj, namn) == varde


@pytest.mark.parametrize("sida", ORGANISATION)
def test_saving_an_older_organisation_page_keeps_what_others_changed(admin_client, sida):
    obj, modell, kollegans, _ = _organisation(sida)
    url = f"/admin/arenden/{modell}/{obj.pk}/change/"
    sidan = _sidan(admin_client, url, f"{modell}_form")
    type(obj).objects.filter(pk=obj.pk).update(**kollegans)

    response = admin_client.post(url, sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    obj.refresh_from_db()
    for namn, varde in kollegans.items():
        assert getattr(obj, namn) == varde


@pytest.fixture
def anvandare(db):
    from tests.factories import ProfilFactory, UserFactory

    user = UserFactory(username="anna", first_name="Anna", last_name="Andersson", is_staff=True)
    ProfilFactory(user=user, befattning="Handläggare", telefon="08-508 000 00")
    return user


def _anvandarsidan(client, user):
    sidan = _sidan(client, f"/admin/auth/user/{user.pk}/change/", "user_form")
    # No group and no permission chosen, as a browser sends the lists then.
    for namn in ("groups", "user_permissions"):
        if not getattr(user, namn).exists():
            sidan.pop(namn, None)
    return sidan


def test_a_user_someone_changed_after_the_page_was_opened_is_refused_and_kept(admin_client, anvandare):
    url = f"/admin/auth/user/{anvandare.pk}/change/"
    sidan = _anvandarsidan(admin_client, anvandare)
    type(anvandare).objects.filter(pk=anvandare.pk).update(last_name="Berg")

    sidan["first_name"] = "Annika"
    response = admin_client.post(url, sidan)

    assert response.status_code == 200
    anvandare.refresh_from_db()
    assert (anvandare.first_name, anvandare.last_name) == ("Anna", "Berg")
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat användaren efter att du öppnade sidan" in page
    igen = _formular(response, "user_form")
    assert (igen["first_name"], igen["last_name"]) == ("Annika", "Berg")

    assert admin_client.post(url, igen).status_code == 302
    anvandare.refresh_from_db()
    assert (anvandare.first_name, anvandare.last_name) == ("Annika", "Berg")


def test_a_profil_someone_changed_after_the_page_was_opened_is_refused_and_kept(admin_client, anvandare):
    url = f"/admin/auth/user/{anvandare.pk}/change/"
    sidan = _anvandarsidan(admin_client, anvandare)
    Profil.objects.filter(user=anvandare).update(befattning="Avdelningschef")

    sidan["profil-0-telefon"] = "08-508 111 11"
    response = admin_client.post(url, sidan)

    assert response.status_code == 200
    profil = Profil.objects.get(user=anvandare)
    assert (profil.befattning, profil.telefon) == ("Avdelningschef", "08-508 000 00")
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat ”Anna Andersson, Avdelningschef” efter att du öppnade sidan" in page
    assert 'value="08-508 111 11"' in page

    assert admin_client.post(url, _formular(response, "user_form")).status_code == 302
    profil.refresh_from_db()
    assert (profil.befattning, profil.telefon) == ("Avdelningschef", "08-508 111 11")


def test_saving_an_older_user_page_keeps_what_others_changed_in_fields_it_left_alone(admin_client, anvandare):
    from django.utils import timezone

    url = f"/admin/auth/user/{anvandare.pk}/change/"
    sidan = _anvandarsidan(admin_client, anvandare)
    inloggad = timezone.now()
    type(anvandare).objects.filter(pk=anvandare.pk).update(last_name="Berg", last_login=inloggad)
    Profil.objects.filter(user=anvandare).update(telefon="08-508 111 11")

    response = admin_client.post(url, sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    anvandare.refresh_from_db()
    assert (anvandare.last_name, anvandare.last_login) == ("Berg", inloggad)
    assert Profil.objects.get(user=anvandare).telefon == "08-508 111 11"


# Between the check of the page's form and the write, the rows are read again under the lock that
# the save holds (RadFormSet.save). Someone else's save that lands in between, committed on a
# connection of its own, is the race: SQLite lets one writer at a time in, from the request's
# first read, so there it cannot happen.


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_skrivelse_someone_changed_between_the_check_and_the_save_is_refused_and_kept(
    admin_client, arende, monkeypatch
):
    sidan = _sidan(admin_client, _url(arende), "arende_form")
    skrivelse = arende.skrivelser.get()

    def kollegan():
        sparad = Skrivelse.objects.get(pk=skrivelse.pk)
        sparad.forfattare = "Kollegans författare"
        sparad.save()

    # After the form's check, before the case is locked: as a save that came just before.
    monkeypatch.setattr(services, "andra_arende", forst(lambda: en_annan_sparar(kollegan), services.andra_arende))
    sidan["skrivelser-0-text"] = "Min text."
    response = admin_client.post(_url(arende), sidan)

    assert response.status_code == 200
    skrivelse.refresh_from_db()
    assert (skrivelse.forfattare, skrivelse.text) == ("Kollegans författare", "Skrivelsens text.")
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat ”Öppna drogscener” efter att du öppnade sidan" in page
    assert "Min text." in page

    assert admin_client.post(_url(arende), _formular(response, "arende_form")).status_code == 302
    skrivelse.refresh_from_db()
    assert (skrivelse.forfattare, skrivelse.text) == ("Kollegans författare", "Min text.")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_skrivelse_changed_between_the_check_and_the_save_on_its_own_page_is_refused_and_kept(
    admin_client, arende, monkeypatch
):
    skrivelse = arende.skrivelser.get()
    sidan = _sidan(admin_client, _skrivelse_url(skrivelse), "skrivelse_form")

    def kollegan():
        # The skrivelse's row saved on the ärende's page, as that page's save writes it.
        sparad = Skrivelse.objects.get(pk=skrivelse.pk)
        sparad.text = "Kollegans text."
        sparad.save()

    # After the form's check, before the skrivelse is locked: as a save that came just before.
    monkeypatch.setattr(services, "andra_skrivelse", forst(lambda: en_annan_sparar(kollegan), services.andra_skrivelse))
    sidan["forfattare"] = "Min författare"
    response = admin_client.post(_skrivelse_url(skrivelse), sidan)

    # The form's check passed; the service's check under the lock found the change, and the page
    # is shown again with the form's own refusal.
    assert response.status_code == 200
    skrivelse.refresh_from_db()
    assert (skrivelse.forfattare, skrivelse.text) == ("Anna Andersson (M)", "Kollegans text.")
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat skrivelsen efter att du öppnade sidan" in page
    assert 'value="Min författare"' in page

    assert admin_client.post(_skrivelse_url(skrivelse), _formular(response, "skrivelse_form")).status_code == 302
    skrivelse.refresh_from_db()
    assert (skrivelse.forfattare, skrivelse.text) == ("Min författare", "Kollegans text.")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_mallsektion_someone_changed_between_the_check_and_the_save_is_refused_and_kept(admin_client, monkeypatch):
    mall = MallFactory()
    url = f"/admin/arenden/mall/{mall.pk}/change/"
    sidan = _sidan(admin_client, url, "mall_form")
    sektion = mall.sektioner.get(rubrik="Ärendet")

    def kollegan():
        sparad = MallSektion.objects.get(pk=sektion.pk)
        sparad.obligatorisk = False
        sparad.save()

    monkeypatch.setattr(MallAdmin, "save_model", forst(lambda: en_annan_sparar(kollegan), MallAdmin.save_model))
    prefix = next(k.removesuffix("-id") for k, v in sidan.items() if k.endswith("-id") and v == str(sektion.pk))
    sidan[f"{prefix}-vagledning"] = "Min vägledning."
    response = admin_client.post(url, sidan)

    assert response.status_code == 200
    sektion.refresh_from_db()
    assert (sektion.obligatorisk, sektion.vagledning) == (False, "")
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat ”Ärendet” efter att du öppnade sidan" in page
    assert "Min vägledning." in page

    assert admin_client.post(url, _formular(response, "mall_form")).status_code == 302
    sektion.refresh_from_db()
    assert (sektion.obligatorisk, sektion.vagledning) == (False, "Min vägledning.")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_mallsektion_added_with_a_rubrik_taken_between_the_check_and_the_save_is_refused_and_kept(
    admin_client, monkeypatch
):
    mall = MallFactory()
    url = _mall_url(mall)
    sidan = _sidan(admin_client, url, "mall_form")
    ny = _ny_sektion(sidan, "Bakgrund")

    def kollegan():
        MallSektion.objects.create(mall_id=mall.pk, ordning=5, rubrik="Bakgrund", vagledning="Kollegans.")

    monkeypatch.setattr(MallAdmin, "save_model", forst(lambda: en_annan_sparar(kollegan), MallAdmin.save_model))
    response = admin_client.post(url, sidan)

    assert response.status_code == 200
    assert list(mall.sektioner.filter(rubrik="Bakgrund").values_list("ordning", "vagledning")) == [(5, "Kollegans.")]
    page = html.unescape(response.content.decode())
    assert "Mallsektion med samma Mall och Rubrik finns redan." in page
    igen = _formular(response, "mall_form")
    assert (igen[f"{ny}-rubrik"], igen[f"{ny}-vagledning"]) == ("Bakgrund", "Min.")
