"""A case given to another handläggare: its draft names the new one, with their telephone, in
its header and in print; a document sent for attest or past it keeps the one it names, and the
admin says so. Only someone who works in the case's förvaltning can be given it, be named its
document's handläggare or sign it."""

import pytest
from django.core.exceptions import ValidationError

from arenden import services
from arenden.constants import Roll
from arenden.constants import TjansteutlatandeStatus as S
from arenden.models import Arende, Avdelning, DiarieSekvens, Profil, Undertecknare
from arenden.snapshot import build_snapshot
from arenden.tidslinje import tidslinje
from tests.arenden.meeting import sammantrade
from tests.arenden.test_admin_versioner import forst
from tests.arenden.test_diarienummer import ADD_URL, _admin_data
from tests.arenden.world import World, build_world, person


def _bygg():
    world = build_world()
    Profil.objects.filter(user=world.officer).update(telefon="08-508 111 11")
    Profil.objects.filter(user=world.kollega).update(telefon="08-508 222 22")
    return world


@pytest.fixture
def world(db):
    return _bygg()


@pytest.fixture
def world_sparad(transactional_db):
    """The world on committed data: the admin's messages about a save are given once it commits."""
    return _bygg()


def _ge_till(arende, handlaggare, user):
    arende.handlaggare = handlaggare
    return services.andra_arende(arende=arende, falt=["handlaggare"], user=user)


def _utkast(world):
    tu = world.dokument()
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu, data={"telefon": "08-508 111 11"}, expected_version=tu.version, user=world.officer
    )
    tu.refresh_from_db()
    return tu


def test_a_draft_follows_its_case_to_the_new_handlaggare_and_their_phone(world):
    tu = _utkast(world)
    version = tu.version

    # The registrator reassigns cases without the right to write documents: the draft follows anyway.
    assert _ge_till(tu.arende, world.kollega, world.registrator) == []

    tu.refresh_from_db()
    assert (tu.handlaggare, tu.telefon, tu.status) == (world.kollega, "08-508 222 22", S.UTKAST)
    assert tu.version == version + 1
    rad = tu.history.first()
    assert rad.history_change_reason == "Ny handläggare för ärendet: Kollega Testsson"
    assert rad.history_user == world.registrator
    assert build_snapshot(tu)["handlaggare"] == {"namn": "Kollega Testsson", "telefon": "08-508 222 22"}
    assert ("Ny handläggare för ärendet", world.registrator, "Kollega Testsson") in [
        (h["handelse"], h["anvandare"], h["detalj"]) for h in tidslinje(tu.arende)
    ]


@pytest.mark.parametrize("profil", ["utan telefon", "ingen"])
def test_a_new_handlaggare_without_a_phone_leaves_none_of_the_former_ones(world, profil):
    tu = _utkast(world)
    if profil == "ingen":
        # Who works in the förvaltning without a profile: the chef of an avdelning.
        Profil.objects.filter(user=world.kollega).delete()
        Avdelning.objects.filter(namn="Individ och familj inklusive fritid").update(chef=world.kollega)
    else:
        Profil.objects.filter(user=world.kollega).update(telefon="")

    _ge_till(tu.arende, world.kollega, world.registrator)

    tu.refresh_from_db()
    assert (tu.handlaggare, tu.telefon) == (world.kollega, "")


def test_an_officer_header_form_from_before_the_change_cannot_write_the_former_phone_back(world):
    tu = _utkast(world)
    version = tu.version
    _ge_till(tu.arende, world.kollega, world.registrator)

    with pytest.raises(services.ConflictError):
        services.uppdatera_tjansteutlatande(
            tjansteutlatande=tu, data={"telefon": "08-508 111 12"}, expected_version=version, user=world.officer
        )
    tu.refresh_from_db()
    assert tu.telefon == "08-508 222 22"


def _pa_listan(world):
    tu = world.attesterat()
    mote = sammantrade(namnd=world.forvaltning.namnd)
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=world.sekreterare)
    return tu


def _beslutat(world):
    tu = _pa_listan(world)
    punkt = tu.foredragningspunkter.get()
    services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner förvaltningens svar.", user=world.sekreterare)
    return tu


@pytest.mark.parametrize(
    ("steg", "status"),
    [
        (World.skickat, S.TILL_ATTEST),
        (World.attesterat, S.ATTESTERAD),
        (_pa_listan, S.PA_FOREDRAGNINGSLISTA),
        (_beslutat, S.BESLUTAD),
    ],
)
def test_a_document_sent_for_attest_or_past_it_keeps_its_handlaggare(world, steg, status):
    tu = steg(world)
    tu.refresh_from_db()
    fore = (tu.status, tu.handlaggare, tu.telefon, tu.version, tu.innehall_hash, tu.history.count())
    attesteringar = list(tu.attesteringar.values_list("pk", "attesterad", "makulerad"))

    behallna = _ge_till(tu.arende, world.kollega, world.registrator)

    assert [d.pk for d in behallna] == [tu.pk]
    tu.refresh_from_db()
    tu.arende.refresh_from_db()
    assert tu.arende.handlaggare == world.kollega
    assert (tu.status, tu.handlaggare, tu.telefon, tu.version, tu.innehall_hash, tu.history.count()) == fore
    assert fore[0] == status
    assert list(tu.attesteringar.values_list("pk", "attesterad", "makulerad")) == attesteringar


def test_a_document_returned_after_its_case_changed_hands_comes_back_naming_the_new_one(world):
    tu = World.skickat(world)
    _ge_till(tu.arende, world.kollega, world.registrator)

    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Förtydliga bakgrunden.")

    tu.refresh_from_db()
    assert (tu.status, tu.handlaggare, tu.telefon) == (S.UTKAST, world.kollega, "08-508 222 22")
    assert tu.aterremiss_kommentar == "Förtydliga bakgrunden."
    assert tu.history.first().history_change_reason == "Ny handläggare för ärendet: Kollega Testsson"


def _lamnar(world, hur):
    """The colleague the case was given to leaves it behind: their account is closed, they move
    to another förvaltning, or they lose their role."""
    if hur == "slutat":
        world.kollega.is_active = False
        world.kollega.save()
    elif hur == "flyttat":
        Profil.objects.filter(user=world.kollega).update(avdelning=world.frammande.profil.avdelning)
    else:
        world.kollega.groups.clear()


@pytest.mark.parametrize("hur", ["slutat", "flyttat", "utan_roll"])
@pytest.mark.parametrize("tillbaka", ["aterremitterat", "draget_tillbaka"])
def test_a_document_back_from_attest_keeps_its_handlaggare_when_the_cases_may_no_longer_be_named(world, hur, tillbaka):
    tu = World.skickat(world)
    telefon = tu.telefon
    _ge_till(tu.arende, world.kollega, world.registrator)
    _lamnar(world, hur)

    if tillbaka == "aterremitterat":
        services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Förtydliga bakgrunden.")
    else:
        assert services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer)

    tu.refresh_from_db()
    assert (tu.status, tu.handlaggare, tu.telefon) == (S.UTKAST, world.officer, telefon)
    assert not tu.history.filter(history_change_reason__startswith="Ny handläggare för ärendet").exists()
    assert build_snapshot(tu)["handlaggare"]["namn"] == "Officer Testsson"


# --- the admin's ärende page ---------------------------------------------------------------


def _som_sidan_visar(sida, **andrat):
    """The case's change form and its inlines as the browser posts them back, with `andrat`."""
    formular = [sida.context["adminform"].form]
    for inline in sida.context["inline_admin_formsets"]:
        formular += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in formular:
        for namn in form.fields:
            varde = form[namn].value()
            if varde not in (None, "") and not hasattr(varde, "storage"):  # no file is posted again
                data[form[namn].html_name] = varde
    data.update(andrat)
    return data


def _spara_med_ny_handlaggare(client, world, tu):
    url = f"/admin/arenden/arende/{tu.arende_id}/change/"
    client.force_login(world.registrator)
    svar = client.post(url, _som_sidan_visar(client.get(url), handlaggare=world.kollega.pk))
    assert svar.status_code == 302, svar.context["adminform"].form.errors if svar.context else svar
    return [(m.level_tag, str(m)) for m in client.get(svar.url).context["messages"]]


def test_giving_a_case_to_another_handlaggare_in_the_admin_takes_its_draft_along(client, world_sparad):
    world = world_sparad
    tu = _utkast(world)

    meddelanden = _spara_med_ny_handlaggare(client, world, tu)

    tu.refresh_from_db()
    assert (tu.handlaggare, tu.telefon) == (world.kollega, "08-508 222 22")
    assert tu.history.first().history_user == world.registrator
    assert not [m for m in meddelanden if m[0] == "warning"]


def test_the_admin_warns_that_a_document_sent_for_attest_keeps_its_handlaggare(client, world_sparad):
    world = world_sparad
    tu = world.skickat()

    meddelanden = _spara_med_ny_handlaggare(client, world, tu)

    tu.refresh_from_db()
    tu.arende.refresh_from_db()
    assert (tu.arende.handlaggare, tu.handlaggare, tu.status) == (world.kollega, world.officer, S.TILL_ATTEST)
    assert (
        "warning",
        f"Tjänsteutlåtandet ”{tu.titel}” har status ”Till attest” och behåller handläggaren Officer Testsson: "
        "ett dokument som har skickats för attest ändras inte.",
    ) in meddelanden


# --- only someone who works in the case's förvaltning ---------------------------------------

ANNAN_FORVALTNING = "Välj någon som arbetar i ärendets förvaltning (vars avdelning hör till den)."


def _hasse(world):
    """A handläggare of the other förvaltning (HASO)."""
    return person("hasse", Roll.HANDLAGGARE, avdelning=world.frammande.profil.avdelning)


def _arbetar_inte_har(namn, som):
    return (
        f"{namn} arbetar inte i Skärholmens stadsdelsförvaltning och kan inte vara {som}. Välj någon vars "
        "avdelning hör till förvaltningen."
    )


def test_a_case_is_given_only_to_someone_who_works_in_its_forvaltning(world):
    hasse = _hasse(world)
    tu = _utkast(world)
    arende = Arende.objects.get(pk=tu.arende_id)
    rader = arende.history.count()

    with pytest.raises(ValidationError) as fel:
        _ge_till(arende, hasse, world.registrator)

    assert fel.value.message_dict == {"handlaggare": [_arbetar_inte_har("Hasse Testsson", "handläggare för ärendet")]}
    arende.refresh_from_db()
    tu.refresh_from_db()
    assert (arende.handlaggare, tu.handlaggare, arende.history.count()) == (world.officer, world.officer, rader)
    # The förvaltningschef works in it without an avdelning in their profile.
    _ge_till(arende, world.chef2, world.registrator)
    assert Arende.objects.get(pk=arende.pk).handlaggare == world.chef2

    # A case whose handläggare has since moved to another förvaltning is theirs until given on.
    kvar = world.dokument().arende
    Profil.objects.filter(user=world.officer).update(avdelning=world.frammande.profil.avdelning)
    kvar.arendemening = "Ny ärendemening"
    services.andra_arende(arende=kvar, falt=["arendemening"], user=world.registrator)
    kvar.refresh_from_db()
    assert (kvar.arendemening, kvar.handlaggare) == ("Ny ärendemening", world.officer)


def test_a_case_is_given_only_to_someone_with_a_role_who_could_open_it(world, client):
    # The outsider works in the förvaltning but holds no role: named handläggare, they got a 404
    # on their own case.
    tu = _utkast(world)
    arende = Arende.objects.get(pk=tu.arende_id)

    with pytest.raises(ValidationError) as fel:
        _ge_till(arende, world.outsider, world.registrator)

    assert fel.value.message_dict == {
        "handlaggare": [
            f"{world.outsider.get_full_name()} har ingen roll i ärendehanteringen och kan inte vara handläggare "
            "för ärendet: de skulle inte kunna öppna ärendet. Välj någon annan."
        ]
    }
    assert Arende.objects.get(pk=arende.pk).handlaggare == world.officer
    client.force_login(world.registrator)
    erbjudna = client.get(_arende_url(arende)).context["adminform"].form.fields["handlaggare"].queryset
    assert world.outsider not in erbjudna and world.officer in erbjudna


def test_a_closed_account_is_given_no_case_and_offered_in_no_list(world, client):
    from arenden.models import medarbetare

    tu = _utkast(world)
    arende = Arende.objects.get(pk=tu.arende_id)
    kollega = person("kollega2", Roll.HANDLAGGARE, avdelning=world.officer.profil.avdelning)
    kollega.is_active = False  # the "Aktiv" box taken off: the account is closed
    kollega.save()

    with pytest.raises(ValidationError) as fel:
        _ge_till(arende, kollega, world.registrator)

    assert fel.value.message_dict == {
        "handlaggare": [
            f"{kollega.get_full_name()} har inget aktivt konto och kan inte vara handläggare för ärendet. "
            "Välj någon annan."
        ]
    }
    assert Arende.objects.get(pk=arende.pk).handlaggare == world.officer
    assert kollega not in medarbetare([world.forvaltning.pk]) and world.officer in medarbetare([world.forvaltning.pk])


def test_a_case_is_registered_only_with_a_handlaggare_of_its_forvaltning(world):
    hasse = _hasse(world)
    arende = Arende(forvaltning=world.forvaltning, arendemening="Nytt ärende", handlaggare=hasse)

    with pytest.raises(ValidationError, match="kan inte vara handläggare för ärendet"):
        services.registrera_arende(arende=arende, user=world.registrator)

    assert not Arende.objects.filter(arendemening="Nytt ärende").exists()
    assert not DiarieSekvens.objects.filter(senaste__gt=0).exists()  # no number taken


def test_a_document_on_a_case_without_handlaggare_names_its_starter_only_if_they_work_there(world):
    from tests.factories import ArendeFactory, MallFactory

    arende = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.officer.profil.avdelning, handlaggare=None)

    with pytest.raises(services.WorkflowError, match="du arbetar inte i"):
        services.skapa_tjansteutlatande(arende=arende, mall=MallFactory(), user=world.superuser, titel="Svar")

    assert not arende.tjansteutlatanden.exists()
    tu = services.skapa_tjansteutlatande(arende=arende, mall=MallFactory(), user=world.officer, titel="Svar")
    assert tu.handlaggare == world.officer


def _arende_url(arende):
    return f"/admin/arenden/arende/{arende.pk}/change/"


def test_the_cases_admin_page_offers_and_takes_only_people_of_its_forvaltning(client, world):
    hasse = _hasse(world)
    tu = _utkast(world)
    sparad = tu.arende.arendemening
    client.force_login(world.registrator)
    sida = client.get(_arende_url(tu.arende))

    erbjudna = set(sida.context["adminform"].form.fields["handlaggare"].queryset)
    assert {world.officer, world.kollega, world.chef1, world.chef2} <= erbjudna
    assert not {hasse, world.frammande, world.superuser} & erbjudna
    # Its autocomplete asks for the case's förvaltning.
    assert f'data-ajax--url="/admin/autocomplete/?forvaltning={world.forvaltning.pk}"' in sida.content.decode()

    svar = client.post(
        _arende_url(tu.arende), _som_sidan_visar(sida, handlaggare=hasse.pk, arendemening="Min ärendemening")
    )

    assert svar.status_code == 200
    form = svar.context["adminform"].form
    assert form.errors["handlaggare"] == [ANNAN_FORVALTNING]
    assert form["arendemening"].value() == "Min ärendemening"
    arende = Arende.objects.get(pk=tu.arende_id)
    tu.refresh_from_db()
    assert (arende.handlaggare, arende.arendemening, tu.handlaggare) == (world.officer, sparad, world.officer)

    # A handläggare who has since moved to another förvaltning stays a choice of their case's page.
    Profil.objects.filter(user=world.officer).update(avdelning=world.frammande.profil.avdelning)
    sida = client.get(_arende_url(arende))
    assert world.officer in sida.context["adminform"].form.fields["handlaggare"].queryset

    svar = client.post(_arende_url(arende), _som_sidan_visar(sida, arendemening="Min ärendemening"))

    assert svar.status_code == 302
    arende.refresh_from_db()
    assert (arende.arendemening, arende.handlaggare) == ("Min ärendemening", world.officer)


def test_a_handlaggare_who_moves_away_before_the_case_is_saved_is_refused_on_the_field_and_kept(
    client, world, monkeypatch
):
    arende = world.dokument().arende
    sparad = arende.arendemening
    client.force_login(world.registrator)
    sida = client.get(_arende_url(arende))

    def flyttar():
        Profil.objects.filter(user=world.kollega).update(avdelning=world.frammande.profil.avdelning)

    # After the form's check, before the service's under the case's lock.
    monkeypatch.setattr(services, "andra_arende", forst(flyttar, services.andra_arende))
    data = _som_sidan_visar(sida, handlaggare=world.kollega.pk, arendemening="Min ärendemening")
    svar = client.post(_arende_url(arende), data)

    assert svar.status_code == 200
    form = svar.context["adminform"].form
    assert form.errors["handlaggare"] == [_arbetar_inte_har("Kollega Testsson", "handläggare för ärendet")]
    assert (form["handlaggare"].value(), form["arendemening"].value()) == (str(world.kollega.pk), "Min ärendemening")
    arende.refresh_from_db()
    assert (arende.handlaggare, arende.arendemening) == (world.officer, sparad)


def test_a_new_case_in_the_admin_gets_only_a_handlaggare_of_its_forvaltning(client, world):
    hasse = _hasse(world)
    client.force_login(world.registrator)
    erbjudna = client.get(ADD_URL).context["adminform"].form.fields["handlaggare"].queryset
    assert world.officer in erbjudna and hasse not in erbjudna

    # A superuser is offered everyone who works in a förvaltning; the case's is checked on saving.
    client.force_login(world.superuser)
    data = {**_admin_data(world.forvaltning, ""), "arendemening": "Mitt nya ärende", "handlaggare": hasse.pk}
    svar = client.post(ADD_URL, data)

    assert svar.status_code == 200
    form = svar.context["adminform"].form
    assert form.errors["handlaggare"] == [_arbetar_inte_har("Hasse Testsson", "handläggare för ärendet")]
    assert (form["handlaggare"].value(), form["arendemening"].value()) == (str(hasse.pk), "Mitt nya ärende")
    assert not Arende.objects.filter(arendemening="Mitt nya ärende").exists()
    assert not DiarieSekvens.objects.filter(senaste__gt=0).exists()

    assert client.post(ADD_URL, {**data, "handlaggare": world.officer.pk}).status_code == 302
    assert Arende.objects.get(arendemening="Mitt nya ärende").handlaggare == world.officer


def _namn(*anvandarnamn):
    """The autocomplete's texts of the world's people (`person`: "Officer Testsson")."""
    return {f"{namn.capitalize()} Testsson ({namn})" for namn in anvandarnamn}


@pytest.mark.parametrize("model_name", ["arende", "tjansteutlatande"])
def test_the_handlaggare_autocomplete_lists_only_people_of_the_forvaltning(client, world, model_name):
    _hasse(world)
    haso = world.frammande.profil.avdelning.forvaltning
    fragan = {"term": "Testsson", "app_label": "arenden", "model_name": model_name, "field_name": "handlaggare"}
    # Not "outsider", who works there without a role: they could not open the case.
    skhlm = _namn("officer", "kollega", "chef1", "chef2", "sekreterare", "registrator")

    def listar(**extra):
        svar = client.get("/admin/autocomplete/", {**fragan, **extra})
        assert svar.status_code == 200
        return {rad["text"] for rad in svar.json()["results"]}

    client.force_login(world.registrator)
    assert listar() == skhlm
    assert listar(forvaltning=world.forvaltning.pk) == skhlm
    assert listar(forvaltning=haso.pk) == set()  # not one the registrator works in
    client.force_login(world.superuser)
    assert listar() == skhlm | _namn("frammande", "hasse")
    assert listar(forvaltning=haso.pk) == _namn("frammande", "hasse")
    assert listar(forvaltning="1.5") == listar(forvaltning=str(2**70)) == set()


def _dokument_url(tu):
    return f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"


def test_a_documents_handlaggare_works_in_its_cases_forvaltning(client, world):
    hasse = _hasse(world)
    tu = _utkast(world)
    sparad = tu.titel

    with pytest.raises(ValidationError) as fel:
        services.uppdatera_tjansteutlatande(
            tjansteutlatande=tu, data={"handlaggare": hasse}, expected_version=tu.version, user=world.officer
        )
    assert fel.value.message_dict == {
        "handlaggare": [_arbetar_inte_har("Hasse Testsson", "handläggare för dokumentet")]
    }

    client.force_login(world.officer)
    sida = client.get(_dokument_url(tu))
    erbjudna = sida.context["adminform"].form.fields["handlaggare"].queryset
    assert world.kollega in erbjudna and hasse not in erbjudna
    data = _som_sidan_visar(sida, handlaggare=hasse.pk, titel="Min titel")
    svar = client.post(_dokument_url(tu), data)

    assert svar.status_code == 200
    form = svar.context["adminform"].form
    assert form.errors["handlaggare"] == [ANNAN_FORVALTNING]
    assert form["titel"].value() == "Min titel"
    tu.refresh_from_db()
    assert (tu.handlaggare, tu.titel) == (world.officer, sparad)


def test_a_signatory_linked_to_a_user_works_in_the_cases_forvaltning(client, world):
    hasse = _hasse(world)
    tu = _utkast(world)

    with pytest.raises(ValidationError) as fel:
        services.spara_dokumentdel(
            tjansteutlatande=tu,
            obj=Undertecknare(ordning=1, anvandare=hasse, namn="Hasse Testsson", befattning="Avdelningschef"),
            user=world.officer,
        )
    assert fel.value.message_dict == {
        "anvandare": [_arbetar_inte_har("Hasse Testsson", "undertecknare för dokumentet")]
    }
    assert not tu.undertecknare.exists()

    # One linked while they worked here stays linked after they moved, and their row can be edited.
    rad = services.spara_dokumentdel(
        tjansteutlatande=tu,
        obj=Undertecknare(ordning=1, anvandare=world.chef1, namn="Chef1 Testsson", befattning="Avdelningschef"),
        user=world.officer,
    )
    world.avdelning.chef = None
    world.avdelning.save()
    Profil.objects.filter(user=world.chef1).update(avdelning=world.frammande.profil.avdelning)
    rad.befattning = "Tf. avdelningschef"
    services.spara_dokumentdel(tjansteutlatande=tu, obj=rad, user=world.officer)
    assert tu.undertecknare.get().befattning == "Tf. avdelningschef"

    client.force_login(world.officer)
    sida = client.get(_dokument_url(tu))
    (rader,) = [i.formset for i in sida.context["inline_admin_formsets"] if i.formset.model is Undertecknare]
    erbjudna = rader.forms[0].fields["anvandare"].queryset
    assert {world.chef1, world.chef2} <= set(erbjudna) and hasse not in erbjudna


def _arende_vars_handlaggare_slutat(world):
    """A case without a document whose handläggare has left: their account is closed."""
    from tests.factories import ArendeFactory

    slutat = person("slutat", Roll.HANDLAGGARE, avdelning=world.avdelning)
    arende = ArendeFactory(forvaltning=world.forvaltning, handlaggare=slutat, avdelning=world.avdelning)
    slutat.is_active = False
    slutat.save()
    kollega = person("kollega2", Roll.HANDLAGGARE, avdelning=world.avdelning)
    return arende, kollega


SLUTAT = (
    "Ärendets handläggare Slutat Testsson har inget aktivt konto och kan inte vara handläggare för ett nytt "
    "tjänsteutlåtande. Ärendet behöver en annan handläggare först (registratorn kan ge det till någon annan)."
)


def test_a_new_document_never_names_a_handlaggare_whose_account_is_closed(world):
    from tests.factories import MallFactory

    arende, kollega = _arende_vars_handlaggare_slutat(world)

    with pytest.raises(services.WorkflowError) as fel:
        services.skapa_tjansteutlatande(arende=arende, mall=MallFactory(), user=kollega, titel="Svar")

    assert str(fel.value) == SLUTAT
    assert not arende.tjansteutlatanden.exists()
    arende.refresh_from_db()
    assert arende.status == "registrerat"
    # Given to the colleague, the case takes a new document, which names them.
    _ge_till(arende, kollega, world.registrator)
    tu = services.skapa_tjansteutlatande(arende=arende, mall=MallFactory(), user=kollega, titel="Svar")
    assert tu.handlaggare == kollega


def test_the_officers_page_and_the_admin_refuse_a_new_document_for_a_closed_account_keeping_the_input(world, client):
    import html

    from tests.factories import MallFactory

    arende, kollega = _arende_vars_handlaggare_slutat(world)
    mall = MallFactory()
    client.force_login(kollega)

    svar = client.post(f"/arenden/{arende.pk}/tjansteutlatande/", {"mall": mall.pk, "titel": "Parkernas belysning"})
    assert svar.status_code == 409
    sida = html.unescape(svar.content.decode())
    assert SLUTAT in sida and 'value="Parkernas belysning"' in sida

    data = {"arende": arende.pk, "mall": mall.pk, "titel": "Parkernas belysning", "namnd": arende.forvaltning.namnd_id}
    svar = client.post("/admin/arenden/tjansteutlatande/add/", data)
    assert svar.status_code == 200
    sida = html.unescape(svar.content.decode())
    assert SLUTAT in sida and 'value="Parkernas belysning"' in sida
    assert not arende.tjansteutlatanden.exists()


def test_a_document_naming_someone_who_left_still_saves_and_prints(world):
    tu = _utkast(world)
    world.officer.is_active = False
    world.officer.save()

    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu,
        data={"titel": "Ny titel", "handlaggare": world.officer},
        expected_version=tu.version,
        user=world.superuser,
    )

    tu.refresh_from_db()
    assert (tu.titel, tu.handlaggare) == ("Ny titel", world.officer)
    assert build_snapshot(tu)["handlaggare"]["namn"] == "Officer Testsson"
