"""A case given to another handläggare: its draft names the new one, with their telephone, in
its header and in print; a document sent for attest or past it keeps the one it names, and the
admin says so."""

import pytest

from arenden import services
from arenden.constants import TjansteutlatandeStatus as S
from arenden.models import Profil
from arenden.snapshot import build_snapshot
from arenden.tidslinje import tidslinje
from tests.arenden.meeting import sammantrade
from tests.arenden.world import World, build_world


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
        Profil.objects.filter(user=world.kollega).delete()
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
