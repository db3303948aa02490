"""The dates of meetings: no meeting deals with a case before it was registered, an officer's
target meeting is one still to come, and a secretary recording a meeting already held is warned,
not refused."""

import datetime
import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from arenden import services
from arenden.models import Arende, Foredragningspunkt, Sammantrade
from tests.arenden.meeting import attesterat_dokument, sammantrade, sekreterare
from tests.arenden.test_admin_attest import _sidan
from tests.arenden.test_officer_views import _ny_handling, _uppgifter, _visat_igen
from tests.arenden.world import build_world
from tests.factories import ArendeFactory, TjansteutlatandeFactory

pytestmark = pytest.mark.django_db

DAG = datetime.timedelta(days=1)


def _idag():
    return timezone.localdate()


def _arende_registrerat(dag, **kwargs):
    """A case registered on `dag`, numbered in that year as the diarium requires."""
    return ArendeFactory(
        diarienummer=f"SKHLM {dag.year}/{Arende.objects.count() + 101}",
        forvaltning__diarieprefix="SKHLM",
        registrerad=dag,
        **kwargs,
    )


def _messages(response):
    return [str(m) for m in response.context["messages"]]


# --- A meeting before the case existed -------------------------------------------------------


def test_a_document_cannot_go_on_a_meeting_held_before_its_case_was_registered():
    sekr = sekreterare()
    mote = sammantrade(datum=datetime.date(2024, 5, 23))
    tu = attesterat_dokument(arende=_arende_registrerat(datetime.date(2024, 6, 3)))

    with pytest.raises(ValidationError) as refused:
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)

    assert refused.value.message_dict == {
        "tjansteutlatande": [
            f"Ärendet {tu.arende.diarienummer} registrerades 2024-06-03. Nämnden kan inte behandla det på "
            "sammanträdet 2024-05-23, innan ärendet fanns. Välj ett sammanträde 2024-06-03 eller senare."
        ]
    }
    tu.refresh_from_db()
    assert (tu.status, tu.sammantradesdatum) == ("attesterad", None)
    assert tu.arende.status == "redo_for_namnd"
    assert not Foredragningspunkt.objects.exists()


def test_a_meeting_on_the_day_the_case_was_registered_may_take_it():
    sekr = sekreterare()
    mote = sammantrade(datum=datetime.date(2024, 5, 23))
    tu = attesterat_dokument(arende=_arende_registrerat(datetime.date(2024, 5, 23)))

    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)

    tu.refresh_from_db()
    assert (punkt.nummer, tu.status, tu.sammantradesdatum) == (1, "pa_foredragningslista", mote.datum)


def test_the_secretary_is_refused_beside_the_chosen_document_which_stays_chosen(client):
    sekr = sekreterare()
    client.force_login(sekr)
    mote = sammantrade(datum=datetime.date(2024, 5, 23))
    tu = attesterat_dokument(arende=_arende_registrerat(datetime.date(2024, 6, 3)))

    response = client.post(f"/admin/arenden/sammantrade/{mote.pk}/lagg-till/", {"tjansteutlatande": tu.pk}, follow=True)

    fel = f"Ärendet {tu.arende.diarienummer} registrerades 2024-06-03."
    assert any(m.startswith(fel) for m in _messages(response))
    page = html.unescape(response.content.decode())
    verktyg = page[page.index('id="sammantrade-verktyg"') :]
    falt = verktyg[: verktyg.index("</select>")]
    assert f'<option value="{tu.pk}" selected>' in falt  # the choice is kept
    assert 'aria-invalid="true"' in falt and 'aria-describedby="ny_punkt_fel"' in falt
    assert f'id="ny_punkt_fel">{fel}' in verktyg[: verktyg.index("Lägg till sist på listan")]
    assert not mote.punkter.exists()
    tu.refresh_from_db()
    assert tu.status == "attesterad"


def test_a_case_cannot_be_moved_to_a_registration_after_the_meeting_that_took_it_up():
    w = build_world()
    tu = w.attesterat()
    Arende.objects.filter(pk=tu.arende_id).update(registrerad=datetime.date(2020, 3, 1))
    mote = sammantrade(namnd=tu.namnd, datum=datetime.date(2020, 4, 2))
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=w.sekreterare)

    arende = Arende.objects.get(pk=tu.arende_id)
    arende.registrerad = datetime.date(2020, 5, 4)
    with pytest.raises(ValidationError) as refused:
        arende.full_clean()
    assert refused.value.message_dict["registrerad"] == [
        "Ärendet togs upp på sammanträdet 2020-04-02 och kan inte ha registrerats senare. Ange 2020-04-02 eller "
        "en tidigare dag."
    ]
    with pytest.raises(ValidationError, match="togs upp på sammanträdet 2020-04-02"):
        services.andra_arende(arende=arende, falt=["registrerad"], user=w.superuser)
    assert Arende.objects.get(pk=arende.pk).registrerad == datetime.date(2020, 3, 1)

    arende.registrerad = datetime.date(2020, 4, 2)  # the meeting's own day is possible
    services.andra_arende(arende=arende, falt=["registrerad"], user=w.superuser)
    assert Arende.objects.get(pk=arende.pk).registrerad == datetime.date(2020, 4, 2)


# --- The officer's target meeting ------------------------------------------------------------


def _utkast(w, registrerad=None):
    tu = w.dokument()
    if registrerad:
        Arende.objects.filter(pk=tu.arende_id).update(
            registrerad=registrerad, diarienummer=f"SKHLM {registrerad.year}/{tu.arende_id + 500}"
        )
        tu.refresh_from_db()
    return tu


def test_an_officer_cannot_aim_a_document_at_a_meeting_already_held():
    w = build_world()
    tu = _utkast(w)
    igar = _idag() - DAG

    with pytest.raises(ValidationError) as refused:
        services.uppdatera_tjansteutlatande(
            tjansteutlatande=tu, data={"sammantradesdatum": igar}, expected_version=tu.version, user=w.officer
        )
    assert refused.value.message_dict == {
        "sammantradesdatum": [
            f"Sammanträdet {igar.isoformat()} har redan hållits. Ange dagen för det sammanträde som "
            f"dokumentet ska till, {_idag().isoformat()} eller senare."
        ]
    }
    tu.refresh_from_db()
    assert tu.sammantradesdatum is None

    with pytest.raises(ValidationError, match="har redan hållits"):
        services.skapa_tjansteutlatande(
            arende=ArendeFactory(forvaltning=w.forvaltning, handlaggare=w.officer, avdelning=w.avdelning),
            mall=tu.mall,
            user=w.officer,
            titel="Ny",
            sammantradesdatum=igar,
        )

    # Today's meeting (the nämnd meets in the evening) and a later one are targets.
    for dag in (_idag(), _idag() + 30 * DAG):
        services.uppdatera_tjansteutlatande(
            tjansteutlatande=tu, data={"sammantradesdatum": dag}, expected_version=tu.version, user=w.officer
        )
        tu.refresh_from_db()
        assert tu.sammantradesdatum == dag


def test_a_target_meeting_that_has_since_been_held_stays_when_other_fields_change():
    w = build_world()
    tu = _utkast(w)
    forra_veckan = _idag() - 7 * DAG
    type(tu).objects.filter(pk=tu.pk).update(sammantradesdatum=forra_veckan)  # chosen when it was to come
    tu.refresh_from_db()

    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu,
        data={"titel": "Ny titel", "sammantradesdatum": forra_veckan},
        expected_version=tu.version,
        user=w.officer,
    )
    tu.refresh_from_db()
    assert (tu.titel, tu.sammantradesdatum) == ("Ny titel", forra_veckan)


def test_an_officers_target_meeting_before_the_case_was_registered_names_the_registration():
    w = build_world()
    registrerad = _idag() - 3 * DAG
    tu = _utkast(w, registrerad=registrerad)
    fore = registrerad - 2 * DAG

    with pytest.raises(ValidationError) as refused:
        services.uppdatera_tjansteutlatande(
            tjansteutlatande=tu, data={"sammantradesdatum": fore}, expected_version=tu.version, user=w.officer
        )
    assert refused.value.message_dict["sammantradesdatum"] == [
        f"Ärendet {tu.arende.diarienummer} registrerades {registrerad.isoformat()}. Nämnden kan inte behandla det "
        f"på sammanträdet {fore.isoformat()}, innan ärendet fanns. Välj ett sammanträde {registrerad.isoformat()} "
        "eller senare."
    ]


def test_the_new_document_form_refuses_a_held_meeting_at_its_field_keeping_what_was_typed(client):
    w = build_world()
    arende = _utkast(w).arende
    arende.tjansteutlatanden.update(status="beslutad")  # the case takes a new document
    client.force_login(w.officer)
    igar = (_idag() - DAG).isoformat()

    response = client.post(
        reverse("arenden:skapa_tjansteutlatande", args=[arende.pk]), _ny_handling(sammantradesdatum=igar)
    )

    assert response.status_code == 400
    assert _visat_igen(response)["sammantradesdatum"] == igar
    page = response.content.decode()
    assert f'<p class="faltfel" id="id_sammantradesdatum_error">Sammanträdet {igar} har redan hållits.' in page
    assert arende.tjansteutlatanden.count() == 1


def test_the_editors_header_refuses_a_held_meeting_at_its_field_keeping_what_was_typed(client):
    w = build_world()
    tu = _utkast(w)
    client.force_login(w.officer)
    igar = (_idag() - DAG).isoformat()

    response = client.post(
        reverse("arenden:uppgifter", args=[tu.pk]), _uppgifter(client, tu, titel="Ny titel", sammantradesdatum=igar)
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert f'<p class="faltfel" id="uppgift_sammantradesdatum_error">Sammanträdet {igar} har redan hållits.' in page
    assert f'value="{igar}"' in page and 'value="Ny titel"' in page
    tu.refresh_from_db()
    assert tu.titel != "Ny titel" and tu.sammantradesdatum is None  # nothing of the save is stored


def test_the_documents_admin_page_refuses_a_held_meeting_at_its_field(client):
    w = build_world()
    tu = _utkast(w)
    client.force_login(w.officer)
    igar = (_idag() - DAG).isoformat()
    data = {**_sidan(client, tu), "sammantradesdatum": igar}

    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["sammantradesdatum"][0].startswith(f"Sammanträdet {igar} har redan hållits.")
    tu.refresh_from_db()
    assert tu.sammantradesdatum is None


# --- The secretary records a meeting already held: warned, not refused -------------------------


def _nytt_mote(client, datum):
    from arenden.models import Namnd

    namnd = Namnd.objects.get_or_create(namn="Skärholmens stadsdelsnämnd")[0]
    return client.post(
        "/admin/arenden/sammantrade/add/",
        {
            "namnd": namnd.pk,
            "datum": datum.isoformat(),
            "tid": "18:00",
            "plats": "Sessionssalen",
            "punkter-TOTAL_FORMS": "0",
            "punkter-INITIAL_FORMS": "0",
        },
        follow=True,
    )


VARNING = "har redan hållits"


def test_a_meeting_already_held_is_saved_with_a_warning(client):
    sekr = sekreterare()
    client.force_login(sekr)
    forra_veckan = _idag() - 7 * DAG

    response = _nytt_mote(client, forra_veckan)

    mote = Sammantrade.objects.get(datum=forra_veckan)
    varningar = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert varningar == [
        f"Sammanträdet {forra_veckan.isoformat()} har redan hållits. Det är sparat så, för att föra in ett "
        "sammanträde i efterhand; är datumet fel, rätta det innan något sätts på föredragningslistan."
    ]
    assert mote.history.first().history_user == sekr


def test_a_meeting_still_to_come_is_saved_without_a_warning_and_a_change_to_a_held_day_warns(client):
    client.force_login(sekreterare())
    nasta_manad = _idag() + 30 * DAG

    response = _nytt_mote(client, nasta_manad)
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]
    mote = Sammantrade.objects.get(datum=nasta_manad)

    # Today's meeting is not held yet: the nämnd meets in the evening.
    from tests.arenden.test_sammantrade_admin import _sida, _url

    for dag, varnas in ((_idag(), False), (_idag() - 2 * DAG, True)):
        data = {**_sida(client, mote), "datum": dag.isoformat()}
        response = client.post(_url(mote, "change/"), data, follow=True)
        mote.refresh_from_db()
        assert mote.datum == dag
        varningar = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
        assert bool(varningar) == varnas, varningar

    # Saving the held meeting's place again does not warn again: its date was not chosen now.
    data = {**_sida(client, mote), "plats": "Nya salen"}
    response = client.post(_url(mote, "change/"), data, follow=True)
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]


def test_a_document_put_on_a_held_meetings_list_is_added_with_a_warning(client):
    client.force_login(sekreterare())
    mote = sammantrade(datum=_idag() - 7 * DAG)
    tu = attesterat_dokument(arende=_arende_registrerat(_idag() - 30 * DAG))

    response = client.post(f"/admin/arenden/sammantrade/{mote.pk}/lagg-till/", {"tjansteutlatande": tu.pk}, follow=True)

    assert mote.punkter.get().tjansteutlatande == tu
    varningar = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert varningar == [
        f"Sammanträdet {mote.datum.isoformat()} har redan hållits: punkten är förd till dess föredragningslista i "
        "efterhand."
    ]

    framtida = sammantrade(datum=_idag() + 7 * DAG)
    response = client.post(
        f"/admin/arenden/sammantrade/{framtida.pk}/lagg-till/", {"titel": "Information"}, follow=True
    )
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]
    assert VARNING not in response.content.decode()


def test_the_rule_refuses_only_new_documents_on_a_meeting_not_what_is_stored(client):
    """A document put on a list before the rule (its case registered after the meeting) stays,
    and its meeting page shows; nothing in the record is rewritten."""
    sekr = sekreterare()
    mote = sammantrade(datum=datetime.date(2024, 5, 23))
    tu = TjansteutlatandeFactory(arende=_arende_registrerat(datetime.date(2024, 6, 3)), status="pa_foredragningslista")
    Foredragningspunkt.objects.create(sammantrade=mote, nummer=1, tjansteutlatande=tu, arende=tu.arende)
    client.force_login(sekr)
    assert client.get(f"/admin/arenden/sammantrade/{mote.pk}/change/").status_code == 200
