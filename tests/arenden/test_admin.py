import re

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from arenden import services
from arenden.admin.common import DiarienummerSokMixin
from arenden.models import Arende, Attestering, Bilaga, Sektion, Skrivelse, Tjansteutlatande, TjansteutlatandeAtgard
from tests.arenden.plans import plan, planner_off
from tests.factories import (
    ArendeFactory,
    AtgardFactory,
    DrogscenFactory,
    TjansteutlatandeFactory,
    UserFactory,
    pdf_bytes,
)


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def _make_rows(n):
    scen = DrogscenFactory()
    chef = UserFactory()
    for _ in range(n):
        tu = TjansteutlatandeFactory()
        atgard = AtgardFactory()
        atgard.drogscener.add(scen)
        TjansteutlatandeAtgard.objects.create(tjansteutlatande=tu, atgard=atgard)
        Skrivelse.objects.create(
            arende=tu.arende, titel="Skrivelse", forfattare="A", beredning_datum="2024-01-01", text="x"
        )
        Attestering.objects.create(tjansteutlatande=tu, omgang=1, ordning=1, attestant=chef, namn="Chef")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/arenden/arende/",
        "/admin/arenden/tjansteutlatande/",
        "/admin/atgarder/atgard/",
        "/admin/arenden/sektion/",
        "/admin/arenden/skrivelse/",
        "/admin/arenden/attestering/",
    ],
)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, url):
    _make_rows(5)
    with_5 = _count_queries(admin_client, url)
    _make_rows(45)
    with_50 = _count_queries(admin_client, url)
    assert with_5 == with_50


def _inline_management(prefix, total, initial):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial)}


def _shown(data, *names):
    """With the hidden copy of each field the page shows (Django's show_hidden_initial), which the
    admin compares the posted values with to tell what the user changed."""
    for name in names:
        data[f"initial-{name}"] = data[name]
    return data


def _atgard_form_data(atgard):
    """An åtgärd's admin change form as the browser would post it, unchanged (without its rows)."""
    from arenden.services import objektversion
    from atgarder.services import ATGARD_FALT

    data = {"typ": atgard.typ, "titel": atgard.titel, "beskrivning": atgard.beskrivning}
    data["expected_version"] = objektversion(atgard, ATGARD_FALT)
    return _shown(data, "typ", "titel", "beskrivning")


def _arende_form_data(arende, **overrides):
    """The ärende's admin change form as the browser would post it, unchanged but for `overrides`."""
    from arenden import services

    return {
        "arendemening": arende.arendemening,
        "handlaggare": arende.handlaggare_id,
        "registrerad": arende.registrerad.isoformat(),
        "citerade_utanfor_diariet": "",
        "expected_version": services.objektversion(arende, services.ARENDE_FALT),
        "skrivelser-TOTAL_FORMS": "0",
        "skrivelser-INITIAL_FORMS": "0",
        "tjansteutlatanden-TOTAL_FORMS": "0",
        "tjansteutlatanden-INITIAL_FORMS": "0",
        **overrides,
    }


def _change_form_data(tu, **overrides):
    """The document's admin change form as the browser would post it, unchanged."""
    data = {
        "arende": tu.arende_id,
        "mall": tu.mall_id,
        "handlaggare": tu.handlaggare_id,
        "telefon": tu.telefon,
        "namnd": tu.namnd_id,
        "sammantradesdatum": tu.sammantradesdatum.isoformat() if tu.sammantradesdatum else "",
        "titel": tu.titel,
        "undertitel": tu.undertitel,
        "expected_version": tu.version,
    }
    _shown(data, "handlaggare", "telefon", "namnd", "sammantradesdatum", "titel", "undertitel")
    sektioner = list(tu.sektioner.all())
    data.update(_inline_management("sektioner", len(sektioner), len(sektioner)))
    for i, s in enumerate(sektioner):
        data.update(
            {
                f"sektioner-{i}-id": s.pk,
                f"sektioner-{i}-tjansteutlatande": tu.pk,
                f"sektioner-{i}-mall_sektion": s.mall_sektion_id,
                f"sektioner-{i}-text": s.text,
                f"sektioner-{i}-avslutning": s.avslutning,
                f"sektioner-{i}-expected_version": s.version,
            }
        )
        _shown(data, f"sektioner-{i}-text", f"sektioner-{i}-avslutning")
    rader = {
        "atgard_val": ("ordning", "atgard"),
        "bilagor": ("ordning", "titel", "text"),
        "undertecknare": ("ordning", "anvandare", "namn", "befattning"),
    }
    for relation, falt in rader.items():
        objekt = list(getattr(tu, relation).all())
        data.update(_inline_management(relation, len(objekt), len(objekt)))
        for i, obj in enumerate(objekt):
            data.update(
                {
                    f"{relation}-{i}-id": obj.pk,
                    f"{relation}-{i}-tjansteutlatande": tu.pk,
                    f"{relation}-{i}-expected_version": services.radversion(obj),
                }
            )
            for namn in falt:
                varde = getattr(obj, obj._meta.get_field(namn).attname)
                data[f"{relation}-{i}-{namn}"] = "" if varde is None else varde
            _shown(data, *(f"{relation}-{i}-{namn}" for namn in falt))
    data.update(_inline_management("attesteringar", 0, 0))
    data.update(overrides)
    return data


def test_editing_a_section_in_the_admin_leaves_history_naming_the_user(admin_client):
    tu = TjansteutlatandeFactory()
    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"
    response = admin_client.post(url, _change_form_data(tu, **{"sektioner-0-text": "<p>Ny text.</p>"}))
    assert response.status_code == 302, response.content.decode()[:3000]
    sektion = tu.sektioner.get(mall_sektion__ordning=1)
    latest = sektion.history.first()
    assert latest.text == "<p>Ny text.</p>"
    assert latest.history_user.username == "root"
    history_page = admin_client.get(f"/admin/arenden/sektion/{sektion.pk}/history/").content.decode()
    assert "Ny text." in history_page and "root" in history_page


def test_adding_an_atgard_in_the_admin_leaves_history_naming_the_user(admin_client):
    tu = TjansteutlatandeFactory()
    atgard = AtgardFactory(titel="Trygga trappan")
    data = _change_form_data(tu)
    data.update(_inline_management("atgard_val", 1, 0))
    data.update({"atgard_val-0-ordning": "1", "atgard_val-0-atgard": atgard.pk, "atgard_val-0-tjansteutlatande": tu.pk})
    response = admin_client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    record = TjansteutlatandeAtgard.history.get()
    assert record.history_type == "+"
    assert record.atgard_id == atgard.pk
    assert record.history_user.username == "root"


def test_drogscen_link_of_an_atgard_is_in_its_history(admin_client):
    atgard = AtgardFactory()
    scen = DrogscenFactory(namn="Sätra centrum")
    response = admin_client.post(
        f"/admin/atgarder/atgard/{atgard.pk}/change/",
        {
            **_atgard_form_data(atgard),
            "drogscener": [scen.pk],
            "utfall-TOTAL_FORMS": "0",
            "utfall-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    latest = atgard.history.first()
    assert [row.drogscen_id for row in latest.drogscener.all()] == [scen.pk]
    assert latest.history_user.username == "root"
    page = admin_client.get(f"/admin/atgarder/atgard/{atgard.pk}/history/").content.decode()
    assert "Sätra centrum" in page


def test_the_history_page_tells_changes_in_swedish_words(admin_client):
    from arenden import services
    from arenden.constants import TjansteutlatandeStatus
    from tests.arenden.world import build_world

    world = build_world()
    tu = world.dokument()
    services.skicka_for_attest(tjansteutlatande=tu, user=world.superuser, attestanter=[world.chef1])
    mall = tu.mall
    mall.aktiv = False
    mall.save()
    tu_page = admin_client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/history/").content.decode()
    utkast, till_attest = TjansteutlatandeStatus.UTKAST, TjansteutlatandeStatus.TILL_ATTEST
    assert f"{utkast.label}&nbsp;&rarr;&nbsp;&nbsp;{till_attest.label}" in tu_page
    assert till_attest.value not in tu_page.replace(till_attest.label, "")
    mall_page = admin_client.get(f"/admin/arenden/mall/{mall.pk}/history/").content.decode()
    assert "Ja&nbsp;&rarr;&nbsp;&nbsp;Nej" in mall_page and "True" not in mall_page


def test_section_cannot_be_saved_twice_for_one_heading(db):
    tu = TjansteutlatandeFactory()
    first = tu.sektioner.first()
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Sektion.objects.create(tjansteutlatande=tu, mall_sektion=first.mall_sektion)


@pytest.mark.parametrize("fa_arenden", [500, 1])  # ids in the query itself, or the hashed set of cases
def test_document_search_by_number_title_and_number_fragment(admin_client, monkeypatch, fa_arenden):
    from arenden.admin.tjansteutlatanden import TjansteutlatandeAdmin

    monkeypatch.setattr(TjansteutlatandeAdmin, "SOK_NYCKLAR", fa_arenden)
    forsta = TjansteutlatandeFactory(titel="Svar om parklekar", arende__diarienummer="SKHLM 2021/12")
    andra = TjansteutlatandeFactory(titel="Svar om belysning", arende__diarienummer="SKHLM 2021/7")
    tredje = TjansteutlatandeFactory(titel="Yttrande om skolgårdar", arende__diarienummer="SKHLM 2022/3")

    def hittade(term):
        response = admin_client.get("/admin/arenden/tjansteutlatande/", {"q": term})
        assert response.status_code == 200
        return {tu.pk for tu in response.context["cl"].result_list}

    assert hittade("SKHLM 2021/12") == {forsta.pk}  # a diarienummer is searched whole
    assert hittade("2021/7") == {andra.pk}
    assert hittade("parklekar") == {forsta.pk}
    assert hittade("SKHLM 2021") == {forsta.pk, andra.pk}
    assert hittade("SKHLM belysning") == {andra.pk}  # every word, in the number or the title
    assert hittade("SKHLM") == {forsta.pk, andra.pk, tredje.pk}
    assert hittade("2023/1") == set()


@pytest.mark.parametrize("fa_nycklar", [500, 1])  # keys in the query itself, or the hashed set
def test_the_lists_of_a_cases_rows_search_their_own_fields_and_the_cases_number(admin_client, monkeypatch, fa_nycklar):
    monkeypatch.setattr(DiarienummerSokMixin, "SOK_NYCKLAR", fa_nycklar)
    forsta = TjansteutlatandeFactory(arende__diarienummer="SKHLM 2021/12")
    andra = TjansteutlatandeFactory(arende__diarienummer="SKHLM 2021/7")
    chef = UserFactory(first_name="Lisa", last_name="Kinnari")
    for tu, namn in ((forsta, "Lisa Kinnari"), (andra, "Christoffer Carlander")):
        Skrivelse.objects.create(
            arende=tu.arende, titel=f"Skrivelse från {namn}", forfattare=namn, beredning_datum="2021-03-01", text="x"
        )
        Attestering.objects.create(tjansteutlatande=tu, omgang=1, ordning=1, attestant=chef, namn=namn)

    def hittade(lista, term):
        response = admin_client.get(f"/admin/arenden/{lista}/", {"q": term})
        assert response.status_code == 200
        return {rad.pk for rad in response.context["cl"].result_list}

    skrivelser = {tu: set(tu.arende.skrivelser.values_list("pk", flat=True)) for tu in (forsta, andra)}
    attesteringar = {tu: set(tu.attesteringar.values_list("pk", flat=True)) for tu in (forsta, andra)}
    sektioner = {tu: set(tu.sektioner.values_list("pk", flat=True)) for tu in (forsta, andra)}
    assert hittade("skrivelse", "SKHLM 2021/12") == skrivelser[forsta]  # a diarienummer is searched whole
    assert hittade("skrivelse", "carlander") == skrivelser[andra]
    assert hittade("skrivelse", "SKHLM kinnari") == skrivelser[forsta]  # every word, in the number or a field
    assert hittade("skrivelse", "SKHLM") == skrivelser[forsta] | skrivelser[andra]
    assert hittade("attestering", "2021/7") == attesteringar[andra]
    assert hittade("attestering", "Kinnari") == attesteringar[forsta]
    assert hittade("sektion", "SKHLM 2021/7") == sektioner[andra]
    synpunkter = set(Sektion.objects.filter(mall_sektion__rubrik="Synpunkter").values_list("pk", flat=True))
    assert len(synpunkter) == 2 and hittade("sektion", "synpunkter") == synpunkter
    assert hittade("sektion", "2021/12 synpunkter") == synpunkter & sektioner[forsta]
    assert hittade("sektion", "2023/1") == set()


def test_a_sections_search_by_number_is_answered_from_indexes(admin_client):
    """The sections of the cases whose number matches are found by their document's key, not by
    a walk through every section of the diarium testing each one's case."""
    tu = TjansteutlatandeFactory(arende__diarienummer="SKHLM 2021/12")
    TjansteutlatandeFactory(arende__diarienummer="SKHLM 2021/7")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/arenden/sektion/", {"q": "SKHLM 2021/12"})
    assert {rad.pk for rad in response.context["cl"].result_list} == set(tu.sektioner.values_list("pk", flat=True))
    if connection.vendor != "postgresql":
        return
    lista = next(q["sql"] for q in queries if q["sql"].startswith('SELECT "arenden_sektion"."id"'))
    with planner_off("enable_indexscan"):
        sektioner = plan(lista)
    assert f"Index Cond: (tjansteutlatande_id = {tu.pk})" in sektioner, sektioner


@pytest.mark.parametrize("fa_nycklar", [500, 1])  # keys in the query itself, or the hashed set
def test_the_lists_search_as_a_contains_search_over_the_cases_number_would(admin_client, monkeypatch, fa_nycklar):
    """The admin's lists of a case's rows find what a plain contains-search over their own fields
    and their case's diarienummer finds, however the number's part of the search is answered."""
    monkeypatch.setattr(DiarienummerSokMixin, "SOK_NYCKLAR", fa_nycklar)
    chef = UserFactory(first_name="Lisa", last_name="Kinnari")
    for nummer, titel in [
        ("SKHLM 2021/12", "Svar om parklekar"),
        ("SKHLM 2021/7", "Belysning i Sätra, SKHLM:s svar"),
        ("HOLM 2022/2021", "Yttrande om skolgårdar 2021"),
        ("HOLM 2023/5", "Skrivelse om Vårberg"),
    ]:
        prefix = nummer.split()[0]
        tu = TjansteutlatandeFactory(titel=titel, arende__diarienummer=nummer, arende__forvaltning__diarieprefix=prefix)
        Skrivelse.objects.create(
            arende=tu.arende, titel=titel, forfattare="Lisa Kinnari", beredning_datum="2021-03-01", text="x"
        )
        Attestering.objects.create(tjansteutlatande=tu, omgang=1, ordning=1, attestant=chef, namn="Lisa Kinnari")
    lists = {
        "tjansteutlatande": (Tjansteutlatande, "arende", ("titel", "undertitel")),
        "skrivelse": (Skrivelse, "arende", ("titel", "forfattare")),
        "attestering": (Attestering, "tjansteutlatande__arende", ("namn",)),
        "sektion": (Sektion, "tjansteutlatande__arende", ("mall_sektion__rubrik",)),
    }
    # Digits stand in the year and the running number: "2021" is both a year and HOLM 2022/2021.
    for term in [
        "SKHLM",
        "skhlm",
        "KHL",
        "HOLM",
        "OLM 20",
        "parklekar",
        "Sätra",
        "Kinnari",
        "Synpunkter",
        "x",
        "2021",
        "SKHLM 2021/12",
        "2021/7",
        "svar SKHLM",
        "holm 2022",
        '"SKHLM 2021"',
        "12",
        "1",
        "7",
        "0",
        "021",
        "202",
        "2022",
        "20212",
    ]:
        words = [w.strip('"') for w in ([term] if term.startswith('"') else term.split())]
        for lista, (model, via, egna) in lists.items():
            response = admin_client.get(f"/admin/arenden/{lista}/", {"q": term})
            assert response.status_code == 200
            found = {rad.pk for rad in response.context["cl"].result_list}
            expected = model.objects.all()
            for word in words:
                expected = expected.filter(
                    Q(*[Q(**{f"{f}__icontains": word}) for f in egna], _connector=Q.OR)
                    | Q(**{f"{via}__diarienummer__icontains": word})
                )
            assert found == set(expected.values_list("pk", flat=True)), (lista, term)


@pytest.mark.parametrize(
    "url", ["/admin/arenden/arende/{pk}/history/{hid}/", "/admin/atgarder/atgard/{pk}/history/{hid}/"]
)
def test_an_old_version_in_the_history_is_shown_and_never_saved_back(admin_client, demo, url):
    from arenden.models import Arende
    from atgarder.models import Atgard

    model = Arende if "arende" in url else Atgard
    gammal = model.history.order_by("history_id").first()
    obj = model.objects.get(pk=gammal.id)
    url = url.format(pk=obj.pk, hid=gammal.history_id)
    rader = obj.history.count()

    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # nothing to save the old version with
    assert "Tidigare version" in page.content.decode() and "View " not in page.content.decode()

    faltet = "arendemening" if model is Arende else "titel"
    before = getattr(obj, faltet)
    svar = admin_client.post(url, {faltet: "Ändrad via historiken"})
    assert svar.status_code == 403
    obj.refresh_from_db()
    assert getattr(obj, faltet) == before and obj.history.count() == rader


@pytest.mark.parametrize(
    ("url", "appen"),
    [
        ("/admin/arenden/arende/{pk}/history/{hid}/", "Ärenden"),
        ("/admin/atgarder/atgard/{pk}/history/{hid}/", "Drogscener och åtgärder"),
    ],
)
def test_an_old_versions_breadcrumbs_name_the_app_as_every_other_page_does(admin_client, demo, url, appen):
    from arenden.models import Arende
    from atgarder.models import Atgard

    model = Arende if "arende" in url else Atgard
    gammal = model.history.order_by("history_id").first()
    page = admin_client.get(url.format(pk=gammal.id, hid=gammal.history_id)).content.decode()

    smulor = re.search(r'<div class="breadcrumbs">(.*?)</div>', page, re.S).group(1)
    lanken = re.search(rf'<a href="/admin/{model._meta.app_label}/">([^<]*)</a>', smulor).group(1)
    assert lanken == appen  # not the code's label ("Arenden", "Atgarder")


def test_an_old_version_shows_the_cited_cases_and_roles_it_had_not_todays(admin_client):
    from django.contrib.auth.models import Group

    from arenden.constants import Roll
    from tests.factories import ArendeFactory, UserFactory

    forr, nu = ArendeFactory(arendemening="Citerat förr"), ArendeFactory(arendemening="Citerat nu")
    atgard = AtgardFactory()
    atgard.citerade_arenden.set([forr])
    version = atgard.history.order_by("-history_id").first()
    atgard.citerade_arenden.set([nu])

    sida = admin_client.get(f"/admin/atgarder/atgard/{atgard.pk}/history/{version.history_id}/").content.decode()
    assert f'value="{forr.pk}" selected' in sida and f'value="{nu.pk}" selected' not in sida

    person = UserFactory(is_staff=True)
    person.groups.set([Group.objects.get(name=Roll.HANDLAGGARE)])
    version = person.history.order_by("-history_id").first()
    person.groups.set([Group.objects.get(name=Roll.ATTESTANT)])
    attestant, handlaggare = (Group.objects.get(name=r).pk for r in (Roll.ATTESTANT, Roll.HANDLAGGARE))

    sida = admin_client.get(f"/admin/auth/user/{person.pk}/history/{version.history_id}/").content.decode()
    assert f'value="{handlaggare}" selected' in sida and f'value="{attestant}" selected' not in sida


def test_a_cases_and_an_atgards_page_search_the_diarium_to_cite_never_list_it(admin_client):
    from tests.factories import ArendeFactory

    namn = "alfa beta gamma delta epsilon zeta eta theta iota kappa lambda my".split()
    arende, citerad, *ovriga = (ArendeFactory(arendemening=f"Diariets ärende {o}") for o in namn)
    arende.citerade.add(citerad)
    atgard = AtgardFactory()
    atgard.citerade_arenden.add(citerad)
    for url in (f"/admin/arenden/arende/{arende.pk}/change/", f"/admin/atgarder/atgard/{atgard.pk}/change/"):
        page = admin_client.get(url).content.decode()
        assert "admin-autocomplete" in page
        assert str(citerad) in page  # the case cited, shown as chosen
        assert not [a for a in ovriga if a.arendemening in page]  # and no other case of the diarium

    svar = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": ovriga[0].arendemening,
            "app_label": "atgarder",
            "model_name": "atgard",
            "field_name": "citerade_arenden",
        },
    )
    assert [r["id"] for r in svar.json()["results"]] == [str(ovriga[0].pk)]


def test_a_place_or_actor_an_atgard_names_cannot_be_deleted_behind_its_history(admin_client):
    from atgarder.models import Aktor, Drogscen

    scen, ledig = DrogscenFactory(namn="Torget"), DrogscenFactory(namn="Ingen åtgärd här")
    aktor = Aktor.objects.create(namn="Polisen")
    atgard = AtgardFactory(titel="Trygghetsvandring")
    atgard.drogscener.add(scen)
    atgard.aktorer.add(aktor)
    rader = atgard.history.count()

    for url in (f"/admin/atgarder/drogscen/{scen.pk}/delete/", f"/admin/atgarder/aktor/{aktor.pk}/delete/"):
        page = admin_client.get(url).content.decode()
        assert "åtgärd: Trygghetsvandring" in page
        admin_client.post(url, {"post": "yes"})
    svar = admin_client.post(
        "/admin/atgarder/drogscen/",
        {"action": "delete_selected", "_selected_action": [scen.pk, ledig.pk], "post": "yes"},
    )
    assert "åtgärd: Trygghetsvandring" in svar.content.decode()
    assert (
        Drogscen.objects.filter(pk__in=[scen.pk, ledig.pk]).count() == 2 and Aktor.objects.filter(pk=aktor.pk).exists()
    )
    assert list(atgard.drogscener.all()) == [scen] and atgard.history.count() == rader

    # One that no åtgärd names goes as before.
    admin_client.post(f"/admin/atgarder/drogscen/{ledig.pk}/delete/", {"post": "yes"})
    assert not Drogscen.objects.filter(pk=ledig.pk).exists()


def test_no_one_deletes_a_case_from_the_diarium_not_even_a_superuser(admin_client):
    arende = ArendeFactory()
    assert admin_client.get(f"/admin/arenden/arende/{arende.pk}/delete/").status_code == 403
    admin_client.post(
        "/admin/arenden/arende/", {"action": "delete_selected", "_selected_action": [arende.pk], "post": "yes"}
    )
    assert Arende.objects.filter(pk=arende.pk).exists()
    assert "delete_selected" not in admin_client.get("/admin/arenden/arende/").content.decode()


def test_no_one_deletes_a_user_whose_name_the_history_holds(admin_client):
    from arenden import services

    chef = UserFactory(username="gammal_chef", is_superuser=True)
    tu = TjansteutlatandeFactory()
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu, data={"titel": "Ny titel"}, expected_version=tu.version, user=chef
    )
    assert admin_client.get(f"/admin/auth/user/{chef.pk}/delete/").status_code == 403
    admin_client.post("/admin/auth/user/", {"action": "delete_selected", "_selected_action": [chef.pk], "post": "yes"})
    assert tu.history.first().history_user == chef  # still named as who changed the title
    assert "delete_selected" not in admin_client.get("/admin/auth/user/").content.decode()


def _utanfor():
    """A case of another förvaltning than the world's, outside every world user's scope but the superuser's."""
    from tests.factories import ForvaltningFactory

    return ArendeFactory(forvaltning=ForvaltningFactory(diarieprefix="HASO"), arendemening="Hässelbys hemliga ärende")


@pytest.fixture
def world(db):
    from tests.arenden.world import build_world

    return build_world()


SKRIVELSE = {"titel": "Skrivelse", "forfattare": "A (M)", "beredning_datum": "2024-01-10", "text": "x"}


def _namner(svar, arende):
    return _namner_text(svar.content.decode(), arende)


def _namner_text(page, arende):
    return arende.arendemening in page or arende.diarienummer in page


def test_a_skrivelse_is_written_only_into_the_users_cases(client, world):
    utanfor = _utanfor()
    client.force_login(world.registrator)
    svar = client.post("/admin/arenden/skrivelse/add/", {**SKRIVELSE, "arende": utanfor.pk})
    assert svar.status_code == 200 and "arende" in svar.context["adminform"].form.errors
    assert not Skrivelse.objects.filter(arende=utanfor).exists()
    assert not _namner(svar, utanfor)

    # A superuser picks from the whole diarium.
    client.force_login(world.superuser)
    svar = client.post("/admin/arenden/skrivelse/add/", {**SKRIVELSE, "arende": utanfor.pk})
    assert svar.status_code == 302 and Skrivelse.objects.filter(arende=utanfor).exists()


def test_a_case_cites_only_the_users_cases(client, world):
    utanfor = _utanfor()
    egen = ArendeFactory(forvaltning=world.forvaltning, arendemening="Eget ärende", avdelning=world.avdelning)
    client.force_login(world.registrator)
    sida = client.get(f"/admin/arenden/arende/{egen.pk}/change/")
    data = {
        "arendemening": egen.arendemening,
        "avdelning": egen.avdelning_id,
        "registrerad": egen.registrerad,
        "citerade": [utanfor.pk],
        **{k: v for f in sida.context["inline_admin_formsets"] for k, v in _management(f)},
    }
    svar = client.post(f"/admin/arenden/arende/{egen.pk}/change/", data)
    assert svar.status_code == 200 and "citerade" in svar.context["adminform"].form.errors
    assert not egen.citerade.exists()
    assert not _namner(svar, utanfor)


def test_a_document_is_started_only_in_the_users_cases_and_a_refused_form_names_no_other(client, world):
    utanfor = _utanfor()
    client.force_login(world.officer)
    svar = client.post("/admin/arenden/tjansteutlatande/add/", {"arende": utanfor.pk, "titel": ""})
    assert svar.status_code == 200 and "arende" in svar.context["adminform"].form.errors
    assert not _namner(svar, utanfor)
    assert not Tjansteutlatande.objects.filter(arende=utanfor).exists()


def _management(inline_admin_formset):
    form = inline_admin_formset.formset.management_form
    return [(form[name].html_name, form[name].value()) for name in form.fields]


def test_a_cited_case_outside_the_users_scope_stays_cited_and_unnamed(client, world):
    utanfor = _utanfor()
    egen = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, arendemening="Eget ärende")
    atgard = AtgardFactory()
    atgard.citerade_arenden.add(egen, utanfor)
    client.force_login(world.officer)
    sida = client.get(f"/admin/atgarder/atgard/{atgard.pk}/change/").content.decode()
    assert egen.arendemening in sida and utanfor.arendemening not in sida

    data = {**_atgard_form_data(atgard), "titel": "Ny titel", "citerade_arenden": [egen.pk]}
    data["initial-citerade_arenden"] = [egen.pk]  # the page shows only the case in the user's scope
    assert f'name="initial-citerade_arenden" value="{utanfor.pk}"' not in sida
    data.update(_inline_management("utfall", 0, 0))
    assert client.post(f"/admin/atgarder/atgard/{atgard.pk}/change/", data).status_code == 302
    atgard.refresh_from_db()
    assert atgard.titel == "Ny titel"
    assert set(atgard.citerade_arenden.all()) == {egen, utanfor}


DOLT = "1 ärende som du inte har åtkomst till"  # as the officers' page of an åtgärd counts it


def _history_pages(client, admin_url, obj):
    """The history page of `obj` and the page of each of its old versions, as one text."""
    sidor = [client.get(f"{admin_url}{obj.pk}/history/")]
    sidor += [client.get(f"{admin_url}{obj.pk}/history/{rad.history_id}/") for rad in obj.history.all()]
    assert [svar.status_code for svar in sidor] == [200] * len(sidor)
    return "".join(svar.content.decode() for svar in sidor)


def test_the_history_pages_count_cited_cases_outside_the_users_scope_without_naming_them(client, world):
    utanfor = _utanfor()
    egen = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, arendemening="Eget ärende")
    atgard = AtgardFactory()
    atgard.citerade_arenden.add(egen)
    atgard.citerade_arenden.add(utanfor)  # cited by someone who sees it
    egen.citerade.add(utanfor)
    pages = (("/admin/atgarder/atgard/", atgard), ("/admin/arenden/arende/", egen))

    for user in (world.officer, world.chef1):  # one who may change the åtgärd, one who only reads it
        client.force_login(user)
        for admin_url, obj in pages:
            text = _history_pages(client, admin_url, obj)
            assert not _namner_text(text, utanfor), (user, admin_url)
            assert DOLT in text, (user, admin_url)
        historik = client.get(f"/admin/atgarder/atgard/{atgard.pk}/history/").content.decode()
        # The case the user may see is still named, beside the count of the other.
        assert f"{egen}, och {DOLT}" in historik.replace("&nbsp;", " ")

    # Whoever may see the case reads its name.
    client.force_login(world.superuser)
    for admin_url, obj in pages:
        text = client.get(f"{admin_url}{obj.pk}/history/").content.decode()
        assert utanfor.diarienummer in text and DOLT not in text


def test_a_skrivelse_moved_out_of_a_case_outside_the_users_scope_does_not_name_it_in_its_history(client, world):
    utanfor = _utanfor()
    egen = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning, arendemening="Eget ärende")
    skrivelse = Skrivelse.objects.create(arende=utanfor, **SKRIVELSE)
    skrivelse.arende = egen  # registered in the wrong förvaltning's case, then moved by a superuser
    services.andra_skrivelse(skrivelse=skrivelse, falt=["arende"], user=world.superuser)
    assert skrivelse.history.count() == 2

    client.force_login(world.registrator)
    text = _history_pages(client, "/admin/arenden/skrivelse/", skrivelse)
    assert not _namner_text(text, utanfor)
    assert f"{DOLT}&nbsp;&rarr;&nbsp;&nbsp;{egen}" in text

    client.force_login(world.superuser)
    text = client.get(f"/admin/arenden/skrivelse/{skrivelse.pk}/history/").content.decode()
    assert f"{utanfor}&nbsp;&rarr;&nbsp;&nbsp;{egen}" in text


def test_no_one_deletes_a_document_not_even_a_superuser(client, world):
    from arenden.constants import ArendeStatus

    attesterat, utkast = world.attesterat(), world.dokument()
    attesteringar = attesterat.attesteringar.count()
    client.force_login(world.superuser)
    for tu in (attesterat, utkast):
        assert client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/delete/").status_code == 403
    client.post(
        "/admin/arenden/tjansteutlatande/",
        {"action": "delete_selected", "_selected_action": [attesterat.pk, utkast.pk], "post": "yes"},
    )
    assert Tjansteutlatande.objects.filter(pk__in=[attesterat.pk, utkast.pk]).count() == 2
    assert attesterat.attesteringar.count() == attesteringar
    attesterat.arende.refresh_from_db()
    assert attesterat.arende.status == ArendeStatus.REDO_FOR_NAMND
    assert "delete_selected" not in client.get("/admin/arenden/tjansteutlatande/").content.decode()


def test_saving_a_case_in_the_admin_keeps_the_status_a_service_gave_it_meanwhile(rf, world):
    from django.contrib import admin

    from arenden import services
    from arenden.constants import ArendeStatus
    from tests.factories import MallFactory

    arende = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, avdelning=world.avdelning)
    oppnad = Arende.objects.get(pk=arende.pk)  # as the registrator's page read it: "Registrerat"
    services.skapa_tjansteutlatande(arende=arende, mall=MallFactory(), user=world.officer, titel="Svar")
    request = rf.post(f"/admin/arenden/arende/{arende.pk}/change/")
    request.user = world.registrator
    model_admin = admin.site._registry[Arende]
    data = {
        "arendemening": "Ny ärendemening",
        "handlaggare": world.officer.pk,
        "avdelning": world.avdelning.pk,
        "registrerad": oppnad.registrerad.isoformat(),
        "citerade_utanfor_diariet": "",
        # A status is not among what the page shows: the service's move leaves its version alone.
        "expected_version": services.objektversion(oppnad, services.ARENDE_FALT),
    }
    form = model_admin.get_form(request, oppnad, change=True)(data, instance=oppnad)
    assert form.is_valid(), form.errors
    model_admin.save_model(request, oppnad, form, change=True)

    arende.refresh_from_db()
    assert (arende.status, arende.arendemening) == (ArendeStatus.UNDER_BEREDNING, "Ny ärendemening")
    senaste = arende.history.first()
    assert (senaste.status, senaste.arendemening) == (ArendeStatus.UNDER_BEREDNING, "Ny ärendemening")
    assert senaste.history_user == world.registrator


def test_the_service_behind_the_cases_admin_page_refuses_who_may_not_change_the_case(world):
    from arenden import services

    arende = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, arendemening="Som förut")
    # The case's own handläggare reads it without the right to change it; a chef of another
    # förvaltning has neither it in scope nor that right.
    for user in (world.officer, world.frammande):
        andrat = Arende.objects.get(pk=arende.pk)
        andrat.arendemening = "Ändrad"
        with pytest.raises(services.WorkflowError, match="behörighet att ändra ärendet"):
            services.andra_arende(arende=andrat, falt=["arendemening"], user=user)
    arende.refresh_from_db()
    assert arende.arendemening == "Som förut" and arende.history.count() == 1

    services.andra_arende(arende=andrat, falt=["arendemening"], user=world.registrator)
    arende.refresh_from_db()
    assert arende.arendemening == "Ändrad" and arende.history.first().history_user == world.registrator


def _fil_lankar(page, namn):
    """Where the page links a stored file: the admin's file widget ("Nuvarande: <a …>") and its
    read-only field show it as a link named by the file's name."""
    return re.findall(rf'<a href="([^"]*)">{re.escape(namn)}</a>', page)


def test_the_admins_link_to_an_uploaded_bilaga_opens_it_through_the_case_check(client, world):
    tu = world.dokument()
    data = pdf_bytes(pages=2)
    bilaga = Bilaga(tjansteutlatande=tu, ordning=1, titel="Skrivelse")
    bilaga.fil.save("skrivelse.pdf", ContentFile(data), save=True)
    client.force_login(world.chef1)  # the chef reads the bilaga on the page they attest on

    page = client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode()

    assert _fil_lankar(page, bilaga.fil.name) == [f"/bilagor/{bilaga.pk}/fil/"]
    assert "/media/" not in page
    response = client.get(f"/bilagor/{bilaga.pk}/fil/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == data


def test_the_admins_links_to_an_uploaded_skrivelse_open_it_through_the_case_check(client, world):
    arende = world.dokument().arende
    skrivelse = Skrivelse(arende=arende, **SKRIVELSE)
    skrivelse.fil.save("skrivelse.pdf", ContentFile(pdf_bytes()), save=True)
    skrivelse.fil.save("ny-skrivelse.pdf", ContentFile(pdf_bytes(pages=3)), save=True)
    client.force_login(world.officer)

    for url in (f"/admin/arenden/arende/{arende.pk}/change/", f"/admin/arenden/skrivelse/{skrivelse.pk}/change/"):
        page = client.get(url).content.decode()
        assert _fil_lankar(page, skrivelse.fil.name) == [f"/skrivelser/{skrivelse.pk}/fil/"], url
        assert "/media/" not in page, url
    assert client.get(f"/skrivelser/{skrivelse.pk}/fil/").status_code == 200

    # An old version links the file that version had, through the same check; a chef reads the
    # page with its fields read-only.
    forsta = next(h for h in skrivelse.history.order_by("history_id") if h.fil)
    assert forsta.fil != skrivelse.fil.name
    gammal_url = f"/skrivelser/{skrivelse.pk}/fil/?version={forsta.history_id}"
    for lasare in (world.officer, world.chef1):
        client.force_login(lasare)
        page = client.get(f"/admin/arenden/skrivelse/{skrivelse.pk}/history/{forsta.history_id}/").content.decode()
        assert _fil_lankar(page, forsta.fil) == [gammal_url.replace("&", "&amp;")], lasare
        assert "/media/" not in page and 'href="None"' not in page
    svar = client.get(gammal_url)
    assert svar.status_code == 200 and b"".join(svar.streaming_content) == pdf_bytes()
    assert b"".join(client.get(f"/skrivelser/{skrivelse.pk}/fil/").streaming_content) == pdf_bytes(pages=3)
    # A version of another skrivelse, or none at all, is no file of this one.
    andra = Skrivelse(arende=arende, **SKRIVELSE)
    andra.fil.save("annan.pdf", ContentFile(pdf_bytes(pages=2)), save=True)
    for version in (andra.history.order_by("history_id").last().history_id, "x", "9" * 30):
        assert client.get(f"/skrivelser/{skrivelse.pk}/fil/?version={version}").status_code == 404
    # Outside the case, no version either.
    client.force_login(world.frammande)
    assert client.get(gammal_url).status_code == 404


def test_a_case_does_not_cite_itself(admin_client):
    """A case picked among its own citations (the diarium's search offers it too) would stand in
    its own list of cited cases, and in its history, as a reference to another case."""

    arende = ArendeFactory(diarienummer="SKHLM 2022/5")
    annat = ArendeFactory(diarienummer="SKHLM 2022/6")
    url = f"/admin/arenden/arende/{arende.pk}/change/"
    data = _arende_form_data(arende, citerade=[arende.pk, annat.pk])
    response = admin_client.post(url, data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["citerade"] == ["Ett ärende kan inte hänvisa till sig självt."]
    assert not arende.citerade.exists() and arende.history.count() == 1
    data["citerade"] = [annat.pk]
    assert admin_client.post(url, data).status_code == 302
    assert list(arende.citerade.all()) == [annat]


def _en_dag_tidigare(*modeller):
    """The history rows written so far, moved a day back: what the test does next happens later."""
    import datetime

    from django.db.models import F

    for model in modeller:
        model.history.update(history_date=F("history_date") - datetime.timedelta(days=1))


def test_an_old_version_of_a_case_shows_its_skrivelser_documents_and_cited_cases_as_they_were(admin_client):
    import datetime

    forr, nu = ArendeFactory(arendemening="Citerat förr"), ArendeFactory(arendemening="Citerat nu")
    arende = ArendeFactory(arendemening="Öppna drogscener")
    arende.citerade.set([forr])
    skrivelse = Skrivelse(
        arende=arende, titel="Skrivelsen som registrerades", forfattare="Anna Andersson (M)", text="Text."
    )
    skrivelse.beredning_datum = datetime.date(2023, 12, 14)
    skrivelse.fil.save("forr.pdf", ContentFile(pdf_bytes()), save=True)
    tu = TjansteutlatandeFactory(arende=arende, titel="Utkastet som det var")
    version = arende.history.order_by("-history_id").first()
    _en_dag_tidigare(Arende, Skrivelse, Tjansteutlatande)

    arende.citerade.set([nu])
    skrivelse.titel = "Skrivelsen ändrad sedan"
    skrivelse.save()
    Skrivelse.objects.create(
        arende=arende, titel="En senare skrivelse", forfattare="B", text="T", beredning_datum=datetime.date(2024, 1, 9)
    )
    tu.titel = "Dokumentet omdöpt sedan"
    tu.save()
    TjansteutlatandeFactory(arende=arende, titel="Ett senare dokument")

    url = f"/admin/arenden/arende/{arende.pk}/history/{version.history_id}/"
    sida = admin_client.get(url).content.decode()
    assert f'value="{forr.pk}" selected' in sida and f'value="{nu.pk}" selected' not in sida
    assert "Skrivelsen som registrerades" in sida and "2023-12-14" in sida
    forsta = skrivelse.history.order_by("history_id").first()
    assert f'href="/skrivelser/{skrivelse.pk}/fil/?version={forsta.history_id}"' in sida
    tu_version = tu.history.order_by("history_id").first()
    assert "Utkastet som det var" in sida and "Utkast" in sida
    assert f'href="/admin/arenden/tjansteutlatande/{tu.pk}/history/{tu_version.history_id}/"' in sida
    for senare in ("Skrivelsen ändrad sedan", "En senare skrivelse", "Dokumentet omdöpt sedan", "Ett senare dokument"):
        assert senare not in sida

    # The page reads the related rows in a fixed number of queries, however many there are.
    with CaptureQueriesContext(connection) as fa:
        admin_client.get(url)
    for n in range(3):
        Skrivelse.objects.create(
            arende=arende, titel=f"S{n}", forfattare="B", text="T", beredning_datum=datetime.date(2024, 1, 9)
        )
        TjansteutlatandeFactory(arende=arende)
    _en_dag_tidigare(Arende, Skrivelse, Tjansteutlatande)
    url = f"/admin/arenden/arende/{arende.pk}/history/{arende.history.first().history_id}/"
    with CaptureQueriesContext(connection) as manga:
        sida = admin_client.get(url)
    assert sida.status_code == 200 and "S2" in sida.content.decode()
    assert len(manga) == len(fa)


def test_an_old_version_of_a_case_shows_the_decisions_it_had(admin_client):
    from arenden.models import Foredragningspunkt
    from tests.arenden.meeting import attesterat_dokument, sammantrade, sekreterare

    tu = attesterat_dokument(titel="Parkerna")
    arende = tu.arende
    fore = arende.history.first()
    _en_dag_tidigare(Arende, Skrivelse, Tjansteutlatande, Foredragningspunkt)
    sekr = sekreterare()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner svaret om parkerna.", user=sekr)
    efter = arende.history.first()
    assert efter.status == "avslutat"

    url = f"/admin/arenden/arende/{arende.pk}/history/{{}}/"
    sida = admin_client.get(url.format(efter.history_id)).content.decode()
    assert "Nämnden godkänner svaret om parkerna." in sida and "Skärholmens stadsdelsnämnd 2024-05-23" in sida
    sida = admin_client.get(url.format(fore.history_id)).content.decode()
    assert "Nämnden godkänner svaret om parkerna." not in sida and "Parkerna" in sida


def _dokument_med_rader(titel="Parkerna", n=1):
    """A draft written through the services: its Ärendet section, `n` åtgärder, bilagor (uploaded
    PDFs) and undertecknare, each row with its history and the document's."""
    from arenden.models import Undertecknare

    tu = TjansteutlatandeFactory(titel=titel)
    sektion = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    services.spara_sektion(sektion=sektion, text="<p>Texten som den var.</p>", expected_version=1, user=None)
    for i in range(n):
        atgard = AtgardFactory(titel=f"Åtgärden som den hette {i}")
        services.lagg_till_atgard(tjansteutlatande=tu, atgard=atgard, user=None)
        bilaga = Bilaga(ordning=i + 1, titel=f"Bilagan som den var {i}")
        bilaga.fil.save("forr.pdf", ContentFile(pdf_bytes()), save=False)
        services.spara_dokumentdel(tjansteutlatande=tu, obj=bilaga, user=None)
        services.spara_dokumentdel(
            tjansteutlatande=tu,
            obj=Undertecknare(ordning=i, namn=f"Anna Chef {i}", befattning="Avdelningschef"),
            user=None,
        )
    tu.refresh_from_db()
    return tu, sektion, atgard, bilaga


def _andra_allt_sedan(tu, sektion, atgard, bilaga):
    from arenden.models import Undertecknare

    sektion.refresh_from_db()
    services.spara_sektion(
        sektion=sektion, text="<p>Texten ändrad sedan.</p>", expected_version=sektion.version, user=None
    )
    atgard.titel = "Åtgärden omdöpt sedan"
    atgard.save()
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=AtgardFactory(titel="En senare åtgärd"), user=None)
    bilaga.titel = "Bilagan ändrad sedan"
    services.spara_dokumentdel(tjansteutlatande=tu, obj=bilaga, user=None)
    person = Undertecknare.objects.get(tjansteutlatande=tu)
    person.namn = "Anna Omdöpt"
    services.spara_dokumentdel(tjansteutlatande=tu, obj=person, user=None)


SENARE = ("Texten ändrad sedan", "Åtgärden omdöpt sedan", "En senare åtgärd", "Bilagan ändrad sedan", "Anna Omdöpt")


def test_an_old_version_of_a_draft_shows_its_sections_atgarder_bilagor_and_undertecknare_as_they_were(admin_client):
    from arenden.models import MallSektion, Undertecknare
    from atgarder.models import Atgard

    tu, sektion, atgard, bilaga = _dokument_med_rader()
    version = tu.history.order_by("-history_id").first()
    assert version.status == "utkast"
    _en_dag_tidigare(Tjansteutlatande, Sektion, MallSektion, TjansteutlatandeAtgard, Atgard, Bilaga, Undertecknare)
    _andra_allt_sedan(tu, sektion, atgard, bilaga)

    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/history/{version.history_id}/"
    sida = admin_client.get(url).content.decode()
    for da in (
        "Texten som den var.",
        "Åtgärden som den hette 0",
        "Bilagan som den var 0",
        "Anna Chef 0",
        "Avdelningschef",
    ):
        assert da in sida, da
    forsta = bilaga.history.order_by("history_id").first()
    assert f'href="/bilagor/{bilaga.pk}/fil/?version={forsta.history_id}"' in sida
    assert "Utkastet som det var sparat vid den här tidpunkten" in sida
    for senare in SENARE:
        assert senare not in sida, senare
    # The page as it is now shows the new state: the old version's page was not merely stale.
    nu = admin_client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode()
    assert "Texten ändrad sedan" in nu and "Anna Omdöpt" in nu


def test_each_version_of_a_document_has_the_rows_its_own_save_wrote(admin_client):
    import datetime

    # Creating a document writes its row and then its mall's sections; an edit two seconds later
    # writes the section and then the document's row. Each row belongs to its own save's version.
    tu = TjansteutlatandeFactory(titel="Nytt")
    skapad = tu.history.get()
    sektion = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    services.spara_sektion(sektion=sektion, text="<p>Det första som skrevs.</p>", expected_version=1, user=None)
    andrad = tu.history.order_by("-history_id").first()
    sektion.history.filter(history_type="~").update(history_date=skapad.history_date + datetime.timedelta(seconds=2))
    tu.history.filter(history_id=andrad.history_id).update(
        history_date=skapad.history_date + datetime.timedelta(seconds=2, milliseconds=3)
    )

    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/history/{{}}/"
    sida = admin_client.get(url.format(skapad.history_id)).content.decode()
    assert "Text under Ärendet." in sida and "Det första som skrevs." not in sida
    sida = admin_client.get(url.format(andrad.history_id)).content.decode()
    assert "Det första som skrevs." in sida and "Text under Ärendet." not in sida


def test_an_old_version_sent_for_attest_shows_the_content_the_chefs_attested(admin_client):
    from tests.arenden.meeting import attestera

    tu, sektion, atgard, bilaga = _dokument_med_rader()
    attestera(tu)
    attesterad = tu.history.order_by("-history_id").first()
    assert attesterad.status == "attesterad"
    # The register's åtgärd renamed after attest (the frozen content keeps its text), then the
    # document edited, which voids the attest and makes it a draft again.
    _en_dag_tidigare(Tjansteutlatande)
    _andra_allt_sedan(tu, sektion, atgard, bilaga)
    tu.refresh_from_db()
    assert tu.status == "utkast"

    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/history/{attesterad.history_id}/"
    sida = admin_client.get(url).content.decode()
    assert "Innehållet som skickades för attest i attestomgång 1" in sida
    for da in ("Texten som den var.", "Åtgärden som den hette 0", "Bilagan som den var 0", "Anna Chef 0"):
        assert da in sida, da
    for senare in SENARE:
        assert senare not in sida, senare


def test_an_old_version_of_a_document_reads_its_rows_in_a_fixed_number_of_queries(admin_client):
    from arenden.models import MallSektion, Undertecknare
    from atgarder.models import Atgard

    def fraga(n):
        tu, *_ = _dokument_med_rader(titel=f"Med {n}", n=n)
        version = tu.history.order_by("-history_id").first()
        _en_dag_tidigare(Tjansteutlatande, Sektion, MallSektion, TjansteutlatandeAtgard, Atgard, Bilaga, Undertecknare)
        url = f"/admin/arenden/tjansteutlatande/{tu.pk}/history/{version.history_id}/"
        with CaptureQueriesContext(connection) as fragor:
            sida = admin_client.get(url)
        assert sida.status_code == 200 and f"Bilagan som den var {n - 1}" in sida.content.decode()
        return len(fragor)

    assert fraga(1) == fraga(4)


def test_the_diarienummers_help_on_handing_out_the_next_number_stands_only_where_a_case_is_registered(admin_client):
    hjalp = "Lämna tomt så delar systemet ut nästa nummer"
    assert hjalp in admin_client.get("/admin/arenden/arende/add/").content.decode()
    arende = ArendeFactory()
    sida = admin_client.get(f"/admin/arenden/arende/{arende.pk}/change/").content.decode()
    assert arende.diarienummer in sida
    assert hjalp not in sida
    hid = arende.history.first().history_id
    gammal = admin_client.get(f"/admin/arenden/arende/{arende.pk}/history/{hid}/").content.decode()
    assert arende.diarienummer in gammal and hjalp not in gammal
