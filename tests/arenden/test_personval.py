"""The lists that pick a person offer only those the save would take: a förvaltning's and an
avdelning's chef, a case's and a document's handläggare, a signatory, and the attestants of the
send forms. Someone a row already holds who may no longer be chosen (a chef who has left, a
handläggare who lost their role) stays in its list, named with why, and the row saves unchanged;
chosen anew, the same rule refuses them. The admin names each person in them by name and
username ("Anette Lind (anette)"), as it does where it shows one read only and in the history."""

import html
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arenden import services
from arenden.constants import Hinder, Roll
from arenden.models import (
    Avdelning,
    Forvaltning,
    Profil,
    Undertecknare,
    hinder_som_chef,
    hinder_som_medarbetare,
    valbara_chefer,
    valbara_medarbetare,
)
from tests.arenden.test_admin_versioner import _sidan
from tests.arenden.test_chefer import _med_chef_som_slutat, _objekt, _slutat, _url
from tests.arenden.world import build_world, person
from tests.factories import AvdelningFactory, ForvaltningFactory, UserFactory


@pytest.fixture
def world(db):
    return build_world()


def _alternativ(sida, namn):
    """The options of the page's select `namn`, as {value: text}."""
    select = re.search(rf'<select name="{namn}"[^>]*>(.*?)</select>', sida.content.decode(), re.S)
    assert select, namn
    return {
        varde: html.unescape(text).strip()
        for varde, text in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', select.group(1), re.S)
    }


def _slutar(user):
    user.is_active = False
    user.save()


# --- a förvaltning's and an avdelning's chef ------------------------------------------------


@pytest.mark.parametrize("modell", [Forvaltning, Avdelning])
def test_the_chef_list_leaves_out_closed_accounts(admin_client, modell):
    obj = _objekt(modell)
    slutat = _slutat()
    aktiv = UserFactory(username="aktiv")
    lagg_till = f"/admin/arenden/{obj._meta.model_name}/add/"

    for url in (lagg_till, _url(obj)):
        listade = _alternativ(admin_client.get(url), "chef")
        assert str(aktiv.pk) in listade, url
        assert str(slutat.pk) not in listade, url


@pytest.mark.parametrize("modell", [Forvaltning, Avdelning])
def test_a_chef_who_has_left_stays_in_the_list_named_so_and_the_row_saves_unchanged(admin_client, modell):
    obj, chef = _med_chef_som_slutat(modell)
    form_id = f"{obj._meta.model_name}_form"

    sida = admin_client.get(_url(obj))
    assert _alternativ(sida, "chef")[str(chef.pk)] == "Slutat Testsson (slutat) (avslutat konto)"
    data = _sidan(admin_client, _url(obj), form_id)
    assert data["chef"] == str(chef.pk)
    data["namn"] = "Nytt namn"

    svar = admin_client.post(_url(obj), data)

    assert svar.status_code == 302, svar.context["adminform"].form.errors
    obj.refresh_from_db()
    assert (obj.namn, obj.chef) == ("Nytt namn", chef)
    # Another row is not offered them (posted, the model's rule refuses them: test_chefer.py).
    annan = ForvaltningFactory(diarieprefix="ANNAN") if modell is Forvaltning else AvdelningFactory()
    assert str(chef.pk) not in _alternativ(admin_client.get(_url(annan)), "chef")


def test_the_chef_list_and_the_rule_that_refuses_a_chef_agree(db):
    aktiv, slutat = UserFactory(username="aktiv"), _slutat()
    for user in (aktiv, slutat):
        listad = valbara_chefer().filter(pk=user.pk).exists()
        assert listad == (hinder_som_chef(user) is None), user
    assert hinder_som_chef(slutat) == Hinder.AVSLUTAT_KONTO


# --- a case's and a document's handläggare, a signatory --------------------------------------


def _arende_url(arende):
    return f"/admin/arenden/arende/{arende.pk}/change/"


def _dokument_url(tu):
    return f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"


def _vald(sida, namn):
    """The text of the option chosen in the page's select `namn` (an autocomplete draws only it)."""
    select = re.search(rf'<select name="{namn}"[^>]*>(.*?)</select>', sida.content.decode(), re.S)
    (text,) = re.findall(r"<option [^>]*selected[^>]*>(.*?)</option>", select.group(1), re.S)
    return html.unescape(text).strip()


def test_the_handlaggare_lists_leave_out_closed_accounts_and_people_without_a_role(client, world):
    slutat = person("slutat", Roll.HANDLAGGARE, avdelning=world.avdelning, is_active=False)
    tu = world.dokument()
    client.force_login(world.registrator)
    arende_sida = client.get(_arende_url(tu.arende))
    client.force_login(world.officer)
    dokument_sida = client.get(_dokument_url(tu))

    for sida in (arende_sida, dokument_sida):
        erbjudna = set(sida.context["adminform"].form.fields["handlaggare"].queryset)
        assert {world.officer, world.kollega} <= erbjudna
        assert slutat not in erbjudna
        assert world.outsider not in erbjudna  # works there, but has no role: could not open the case


@pytest.mark.parametrize(
    ("andring", "markering"),
    [
        ("slutat", "avslutat konto"),
        ("ingen roll", "ingen roll i ärendehanteringen"),
        ("flyttat", "arbetar inte i förvaltningen"),
    ],
)
def test_a_handlaggare_who_may_no_longer_be_chosen_stays_named_with_why_and_the_pages_save(
    client, world, andring, markering
):
    tu = world.dokument()
    if andring == "slutat":
        _slutar(world.officer)
    elif andring == "ingen roll":
        world.officer.groups.clear()
    else:
        Profil.objects.filter(user=world.officer).update(avdelning=world.frammande.profil.avdelning)
    client.force_login(world.superuser)

    for url, form_id, andrat in (
        (_arende_url(tu.arende), "arende_form", "arendemening"),
        (_dokument_url(tu), "tjansteutlatande_form", "titel"),
    ):
        sida = client.get(url)
        assert _vald(sida, "handlaggare") == f"Officer Testsson (officer) ({markering})", url
        data = _sidan(client, url, form_id)
        assert data["handlaggare"] == str(world.officer.pk)
        data[andrat] = "Nytt i testet"

        svar = client.post(url, data)

        assert svar.status_code == 302, svar.context["adminform"].form.errors
    tu.refresh_from_db()
    tu.arende.refresh_from_db()
    assert (tu.titel, tu.handlaggare) == ("Nytt i testet", world.officer)
    assert (tu.arende.arendemening, tu.arende.handlaggare) == ("Nytt i testet", world.officer)


def test_a_handlaggare_who_may_still_be_chosen_is_named_with_no_note(client, world):
    tu = world.dokument()
    client.force_login(world.superuser)
    assert _vald(client.get(_arende_url(tu.arende)), "handlaggare") == "Officer Testsson (officer)"


def test_the_handlaggare_autocomplete_leaves_out_closed_accounts_and_people_without_a_role(client, world):
    person("slutat", Roll.HANDLAGGARE, avdelning=world.avdelning, is_active=False)
    client.force_login(world.registrator)
    sida = client.get(reverse("admin:arenden_arende_add")).content.decode()
    # The widget asks in Swedish (the admin's select2 translation), as before.
    assert "admin/js/vendor/select2/i18n/sv.js" in sida and 'lang="sv"' in sida

    for model_name in ("arende", "tjansteutlatande"):
        svar = client.get(
            "/admin/autocomplete/",
            {
                "term": "Testsson",
                "app_label": "arenden",
                "model_name": model_name,
                "field_name": "handlaggare",
                "forvaltning": world.forvaltning.pk,
            },
        )
        assert svar.status_code == 200
        listade = {rad["text"] for rad in svar.json()["results"]}
        assert {"Officer Testsson (officer)", "Kollega Testsson (kollega)"} <= listade
        assert not {"Slutat Testsson (slutat)", "Outsider Testsson (outsider)"} & listade, model_name


def test_the_handlaggare_lists_and_the_rule_that_refuses_a_handlaggare_agree(world):
    slutat = person("slutat", Roll.HANDLAGGARE, avdelning=world.avdelning, is_active=False)
    personer = [slutat, world.officer, world.kollega, world.chef1, world.outsider, world.frammande, world.superuser]
    for behover_roll in (True, False):
        valbara = set(valbara_medarbetare([world.forvaltning.pk], behover_roll=behover_roll))
        for user in personer:
            hinder = hinder_som_medarbetare(user, world.forvaltning, behover_roll=behover_roll)
            assert (user in valbara) == (hinder is None), (user, behover_roll, hinder)
    assert hinder_som_medarbetare(slutat, world.forvaltning) == Hinder.AVSLUTAT_KONTO
    assert hinder_som_medarbetare(world.outsider, world.forvaltning, behover_roll=True) == Hinder.INGEN_ROLL
    assert hinder_som_medarbetare(world.frammande, world.forvaltning) == Hinder.ANNAN_FORVALTNING


def _chef2_undertecknar(world, tu):
    """Chef2 signs the document `tu` as its first signatory, with the name they have as a user."""
    services.spara_dokumentdel(
        tjansteutlatande=tu,
        obj=Undertecknare(ordning=1, anvandare=world.chef2, namn="Chef2 Testsson", befattning="Stadsdelsdirektör"),
        user=world.officer,
    )


def test_the_signatory_list_leaves_out_closed_accounts_and_keeps_a_signatory_who_left(client, world):
    slutat = person("slutat", Roll.ATTESTANT, avdelning=world.avdelning, is_active=False)
    tu = world.dokument()
    _chef2_undertecknar(world, tu)
    _slutar(world.chef2)
    client.force_login(world.officer)
    url = _dokument_url(tu)

    listade = _alternativ(client.get(url), "undertecknare-0-anvandare")

    assert listade[str(world.chef2.pk)] == "Chef2 Testsson (chef2) (avslutat konto)"
    assert listade[str(world.chef1.pk)] == "Chef1 Testsson (chef1)"
    # No role is needed to sign: who works in the förvaltning may, but not a closed account.
    assert str(world.outsider.pk) in listade and str(slutat.pk) not in listade

    data = _sidan(client, url, "tjansteutlatande_form")
    data["undertecknare-0-befattning"] = "Tf. stadsdelsdirektör"
    svar = client.post(url, data)

    assert svar.status_code == 302, svar.context["adminform"].form.errors
    rad = tu.undertecknare.get()
    assert (rad.anvandare, rad.befattning) == (world.chef2, "Tf. stadsdelsdirektör")


# --- the attestants of the send forms --------------------------------------------------------


def _skicka_sidor(client, world, tu):
    client.force_login(world.officer)
    officer = client.get(reverse("arenden:skicka_for_attest", args=[tu.pk]))
    admin = client.get(reverse("admin:arenden_tjansteutlatande_skicka", args=[tu.pk]))
    return {"officer": officer, "admin": admin}


@pytest.mark.parametrize(
    ("andring", "skal"),
    [
        ("slutat", "Chef1 Testsson har inget aktivt konto längre och kan inte attestera. Välj en annan attestant."),
        ("ingen roll", "Chef1 Testsson har inte rollen Attestant."),
    ],
)
def test_a_proposed_chef_who_may_not_attest_is_neither_offered_nor_chosen_and_the_form_says_why(
    client, world, andring, skal
):
    if andring == "slutat":
        _slutar(world.chef1)
    else:
        world.chef1.groups.remove(Group.objects.get(name=Roll.ATTESTANT))
    tu = world.dokument()

    for namn, sida in _skicka_sidor(client, world, tu).items():
        assert sida.status_code == 200, namn
        form = sida.context["form"]
        assert world.chef1 not in set(form.fields["forsta"].queryset), namn
        assert world.chef1 not in set(form.fields["andra"].queryset), namn
        # The förvaltningschef, next in the usual chain, is proposed first.
        assert form["forsta"].value() == world.chef2.pk, namn
        assert f"Inte i listan: {skal}" in html.unescape(sida.content.decode()), namn

    # Sending still refuses them, named by hand, for the same reason.
    with pytest.raises(services.WorkflowError) as fel:
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef1])
    assert str(fel.value) == skal


def test_a_proposed_chef_who_may_attest_is_proposed_with_no_note(client, world):
    tu = world.dokument()
    for namn, sida in _skicka_sidor(client, world, tu).items():
        form = sida.context["form"]
        assert (form["forsta"].value(), form["andra"].value()) == (world.chef1.pk, world.chef2.pk), namn
        assert not form.fields["forsta"].help_text, namn
        assert "Inte i listan" not in sida.content.decode(), namn


def test_the_send_forms_leave_out_a_closed_attestant(client, world):
    slutat = person("slutat", Roll.ATTESTANT, avdelning=world.avdelning, is_active=False)
    tu = world.dokument()
    for namn, sida in _skicka_sidor(client, world, tu).items():
        erbjudna = set(sida.context["form"].fields["forsta"].queryset)
        assert {world.chef1, world.chef2} <= erbjudna, namn
        assert slutat not in erbjudna, namn


def test_a_note_about_a_proposed_chef_prints_their_name_as_text(client, world):
    world.chef1.first_name = "<b>Chef1</b>"
    world.chef1.save()
    _slutar(world.chef1)
    tu = world.dokument()
    for namn, sida in _skicka_sidor(client, world, tu).items():
        assert "&lt;b&gt;Chef1&lt;/b&gt;" in sida.content.decode(), namn
        assert "<b>Chef1</b>" not in sida.content.decode(), namn


# --- how the admin names a person it offers or shows -----------------------------------------


def _medarbetare(world, username, first_name, last_name):
    """A handläggare in the world's förvaltning, named as given."""
    user = person(username, Roll.HANDLAGGARE, avdelning=world.avdelning)
    user.first_name, user.last_name = first_name, last_name
    user.save()
    return user


def _autocomplete(client, world, term, model_name="tjansteutlatande"):
    svar = client.get(
        "/admin/autocomplete/",
        {
            "term": term,
            "app_label": "arenden",
            "model_name": model_name,
            "field_name": "handlaggare",
            "forvaltning": world.forvaltning.pk,
        },
    )
    assert svar.status_code == 200
    return svar.json()


@pytest.mark.parametrize("modell", [Forvaltning, Avdelning])
def test_the_chef_list_names_each_person_by_name_and_username(admin_client, modell):
    obj = _objekt(modell)
    anette = UserFactory(username="anette", first_name="Anette", last_name="Lind")
    namne = UserFactory(username="alind", first_name="Anette", last_name="Lind")
    utan_namn = UserFactory(username="vik-17", first_name="", last_name="")

    for url in (f"/admin/arenden/{obj._meta.model_name}/add/", _url(obj)):
        listade = _alternativ(admin_client.get(url), "chef")
        assert listade[str(anette.pk)] == "Anette Lind (anette)", url
        assert listade[str(namne.pk)] == "Anette Lind (alind)", url
        assert listade[str(utan_namn.pk)] == "vik-17", url


@pytest.mark.parametrize("model_name", ["arende", "tjansteutlatande"])
def test_the_handlaggare_autocomplete_names_each_person_by_name_and_username_sorted_by_surname(
    client, world, model_name
):
    anette = _medarbetare(world, "anette", "Anette", "Lind")
    namne = _medarbetare(world, "alind", "Anette", "Lind")
    bo = _medarbetare(world, "bo", "Bo", "Andersson-Lind")
    utan_namn = _medarbetare(world, "lind-vik", "", "")
    client.force_login(world.registrator)

    svar = _autocomplete(client, world, "lind", model_name)

    assert svar["results"] == [
        {"id": str(utan_namn.pk), "text": "lind-vik"},
        {"id": str(bo.pk), "text": "Bo Andersson-Lind (bo)"},
        {"id": str(namne.pk), "text": "Anette Lind (alind)"},
        {"id": str(anette.pk), "text": "Anette Lind (anette)"},
    ]


def test_the_handlaggare_autocomplete_shows_the_chosen_person_as_its_results_name_them(client, world):
    anette = _medarbetare(world, "anette", "Anette", "Lind")
    tu = world.dokument(handlaggare=anette)
    client.force_login(world.officer)

    (rad,) = _autocomplete(client, world, "anette")["results"]

    assert _vald(client.get(_dokument_url(tu)), "handlaggare") == rad["text"] == "Anette Lind (anette)"


@pytest.mark.parametrize("term", ["Östlund", "östlund", "åsa", "Åsa Östlund", "ostlund-a"])
def test_the_handlaggare_autocomplete_finds_a_person_by_first_or_last_name_or_username(client, world, term):
    asa = _medarbetare(world, "ostlund-a", "Åsa", "Östlund")
    _medarbetare(world, "asa-lind", "Åsa", "Lind")
    client.force_login(world.registrator)

    texter = {rad["text"] for rad in _autocomplete(client, world, term)["results"]}

    assert "Åsa Östlund (ostlund-a)" in texter, asa
    if term != "åsa":
        assert texter == {"Åsa Östlund (ostlund-a)"}


def test_the_handlaggare_autocomplete_reads_no_more_queries_for_20_people_than_for_3(client, world):
    client.force_login(world.registrator)
    for i in range(3):
        _medarbetare(world, f"lind{i:02}", f"Person{i:02}", "Lind")
    _autocomplete(client, world, "lind")  # what the first request reads once (the login, the caches)

    with CaptureQueriesContext(connection) as for_tre:
        tre = _autocomplete(client, world, "lind")
    for i in range(3, 20):
        _medarbetare(world, f"lind{i:02}", f"Person{i:02}", "Lind")
    with CaptureQueriesContext(connection) as for_tjugo:
        tjugo = _autocomplete(client, world, "lind")

    assert len(tre["results"]) == 3
    assert len(tjugo["results"]) == 20 and not tjugo["pagination"]["more"]
    assert tjugo["results"][-1]["text"] == "Person19 Lind (lind19)"
    assert len(for_tjugo) == len(for_tre), [q["sql"] for q in for_tjugo]


def _lasta_varden(sida):
    """The values a page shows read only, on the page and in its tabular inlines, as text."""
    innehall = sida.content.decode()
    varden = re.findall(r'<div class="readonly">(.*?)</div>|<td class="field-[^"]*">\s*<p>(.*?)</p>', innehall, re.S)
    return [html.unescape(sida_ or rad).strip() for sida_, rad in varden]


def test_a_page_that_shows_its_people_read_only_names_them_by_name_and_username(client, world):
    tu = world.dokument()
    _chef2_undertecknar(world, tu)
    services.spara_dokumentdel(
        tjansteutlatande=tu,
        obj=Undertecknare(ordning=2, anvandare=None, namn="Extern Person", befattning="Konsult"),
        user=world.officer,
    )
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    # The secretary reads the förvaltning's documents, cases and organisation, and changes none here.
    client.force_login(world.sekreterare)

    dokument = _lasta_varden(client.get(_dokument_url(tu)))
    arende = _lasta_varden(client.get(_arende_url(tu.arende)))
    forvaltning = _lasta_varden(client.get(f"/admin/arenden/forvaltning/{world.forvaltning.pk}/change/"))

    # The handläggare; the signatories (one not linked to a user); the attest chain.
    assert "Officer Testsson (officer)" in dokument
    assert dokument.count("Chef2 Testsson (chef2)") == 2 and "Chef1 Testsson (chef1)" in dokument
    assert dokument[dokument.index("Extern Person") - 1] == "-"  # the admin's empty value
    assert "Officer Testsson (officer)" in arende
    assert "Chef2 Testsson (chef2)" in forvaltning
    assert not {"officer", "chef1", "chef2"} & {*dokument, *arende, *forvaltning}


def test_the_history_names_a_changed_handlaggare_by_name_and_username(client, world):
    tu = world.dokument()
    client.force_login(world.superuser)
    data = _sidan(client, _arende_url(tu.arende), "arende_form")
    data["handlaggare"] = str(world.kollega.pk)
    assert client.post(_arende_url(tu.arende), data).status_code == 302

    sida = client.get(f"/admin/arenden/arende/{tu.arende.pk}/history/").content.decode()

    andringar = [re.sub(r"<[^>]+>", "", html.unescape(rad)) for rad in re.findall(r"<li><strong>.*?</li>", sida)]
    assert "Handläggare: Officer Testsson (officer)\xa0→\xa0\xa0Kollega Testsson (kollega)" in andringar
    # The row holds the person, as before: only the page names them.
    assert tu.arende.history.first().handlaggare_id == world.kollega.pk


def test_a_signatory_can_be_picked_by_someone_who_may_add_signatories_but_not_change_them(client, world):
    # The role's rights are the superuser's to set: a new row keeps its list of people, though the
    # stored rows, which the user may not change, are drawn read only.
    tu = world.dokument()
    _chef2_undertecknar(world, tu)
    Group.objects.get(name=Roll.HANDLAGGARE).permissions.remove(Permission.objects.get(codename="change_undertecknare"))
    client.force_login(world.officer)

    listade = _alternativ(client.get(_dokument_url(tu)), "undertecknare-__prefix__-anvandare")

    assert listade[str(world.chef1.pk)] == "Chef1 Testsson (chef1)"
