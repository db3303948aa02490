"""What keeps the main pages within their budgets at city scale (bench/pages.py measures the
time): their SQL query counts do not grow with the number of rows, the history pages show a page
of rows at a time, the big admin lists never count the whole table, and on PostgreSQL the
searches are served by indexes."""

import re
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arenden.admin.common import BegransadPaginator
from arenden.models import (
    Arende,
    Attestering,
    AttestKo,
    Sammantrade,
    Sektion,
    Skrivelse,
    Tjansteutlatande,
    diarienummer_haller,
    synliga_personer,
)
from arenden.tidslinje import tidslinje
from atgarder.models import Atgard
from tests.arenden.plans import plan as _plan
from tests.arenden.plans import planner_off
from tests.arenden.world import build_world
from tests.factories import (
    ArendeFactory,
    AtgardFactory,
    DrogscenFactory,
    ForvaltningFactory,
    MallFactory,
    TjansteutlatandeFactory,
)

pytestmark = pytest.mark.django_db


def _counts(client, users, pages):
    counts = {}
    for name, (user, url) in pages.items():
        client.force_login(users[user])
        client.get(url)  # warm: the content types are cached after the first request of a process
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        counts[name] = len(queries)
    return counts


def _more_history(obj, field, n, av=()):
    """`n` more history rows of `obj`, made by the people of `av` in turn (by no one, without)."""
    for i in range(n):
        setattr(obj, field, f"{getattr(obj, field).split(' (')[0]} ({i})")
        obj._change_reason = "Ändrad i test"
        if av:
            obj._history_user = av[i % len(av)]
        obj.save()


def test_main_pages_query_counts_do_not_grow_with_rows(client):
    world = build_world()
    tu = world.dokument()
    arende = tu.arende
    arende.arendemening = "Parklekar i Sätra"
    arende.save()
    scen = DrogscenFactory(namn="Sätra centrum")
    atgard = AtgardFactory(titel="Nattvandring vid parklekar")
    atgard.drogscener.add(scen)
    tu.atgard_val.create(atgard=atgard, ordning=1)
    # Cited cases, one outside the chef's scope: the history pages ask which the user may see.
    utanfor = ArendeFactory(forvaltning=ForvaltningFactory(diarieprefix="SOLNA"))
    atgard.citerade_arenden.add(arende, utanfor)
    arende.citerade.add(utanfor)
    # A person's history, changed by a colleague and by the superuser: the page asks whom it may link.
    _more_history(world.officer, "first_name", 2, av=[world.chef2, world.superuser])
    # The chef's own changes, which their recent actions on the start page tell (`mina_handelser`).
    _more_history(arende, "arendemening", 1, av=[world.chef1])
    _more_history(tu, "titel", 1, av=[world.chef1])
    users = {"officer": world.officer, "chef": world.chef1, "superuser": world.superuser}
    pages = {
        "start": ("officer", "/"),
        "start, sök": ("officer", "/?q=parklekar"),
        "ärende": ("officer", f"/arenden/{arende.pk}/"),
        "editor": ("officer", f"/tjansteutlatanden/{tu.pk}/redigera/"),
        "drogscen": ("officer", f"/drogscener/{scen.pk}/"),
        "diariesök": ("officer", "/sok/?q=parklekar"),
        # The chef's recent actions (`mina_handelser`), many more of them below.
        "admin start": ("chef", "/admin/"),
        "admin ärenden": ("chef", "/admin/arenden/arende/"),
        "admin ärenden, superuser": ("superuser", "/admin/arenden/arende/"),
        "admin ärenden, filter": ("chef", "/admin/arenden/arende/?status__exact=registrerat&handlaggare=mina"),
        "admin ärenden, sök": ("chef", "/admin/arenden/arende/?q=parklekar"),
        "admin ärende, historik": ("chef", f"/admin/arenden/arende/{arende.pk}/history/"),
        "admin tjänsteutlåtanden": ("chef", "/admin/arenden/tjansteutlatande/"),
        "admin tjänsteutlåtanden, sök": ("chef", "/admin/arenden/tjansteutlatande/?q=parklekar"),
        "admin tjänsteutlåtande, historik": ("chef", f"/admin/arenden/tjansteutlatande/{tu.pk}/history/"),
        "admin väntar på min attest": ("chef", "/admin/arenden/attestko/"),
        "admin åtgärder": ("chef", "/admin/atgarder/atgard/"),
        "admin åtgärder, sök": ("chef", "/admin/atgarder/atgard/?q=parklekar"),
        "admin åtgärd, historik": ("chef", f"/admin/atgarder/atgard/{atgard.pk}/history/"),
        # The people of the chef's förvaltning (`synliga_personer`), whose number the generator grows.
        "admin användare": ("chef", "/admin/auth/user/"),
        "admin användare, superuser": ("superuser", "/admin/auth/user/"),
        "admin användare, sök": ("chef", "/admin/auth/user/?q=vol"),
        "admin användare, historik": ("chef", f"/admin/auth/user/{world.officer.pk}/history/"),
    }
    few = _counts(client, users, pages)

    # Many more rows: cases in the same förvaltning and avdelning (the generator joins them by
    # name), åtgärder at the same place, and more history than a page shows.
    call_command("generate_volume", arenden=300, batch=100, atgarder=20, stdout=StringIO())
    scen.atgarder.add(*Atgard.objects.filter(titel__regex=r"^Åtgärd \d+$"))
    _more_history(arende, "arendemening", 60, av=[world.chef1])
    _more_history(tu, "titel", 60, av=[world.chef1])
    _more_history(atgard, "beskrivning", 60)
    # each by another of the generator's people, of the chef's förvaltning or another's
    _more_history(
        world.officer, "first_name", 60, av=list(get_user_model().objects.filter(username__startswith="vol-"))
    )
    # and the newest rows of those pages each cite another case, outside the scope or in it
    for i in range(20):
        citerad = ArendeFactory(forvaltning=utanfor.forvaltning) if i % 2 else Arende.objects.exclude(pk=arende.pk)[i]
        atgard.citerade_arenden.add(citerad)
        arende.citerade.add(citerad)
    assert Arende.objects.for_user(world.officer).count() > 3
    assert Arende.objects.filter(arendemening__icontains="parklekar").count() > 2
    assert get_user_model().objects.filter(synliga_personer(world.chef1), username__startswith="vol-").count() > 20
    many = _counts(client, users, pages)
    assert many == few


def test_the_attest_queue_asks_who_wrote_each_document_in_its_one_list_query(client, monkeypatch):
    """Whether the chef wrote in a document (and so cannot attest it) is part of the list's
    query, not a query a row: the queue costs the same with one document as with many, written
    in by the chef or not."""
    from django.contrib.auth.models import Group

    from arenden import services
    from arenden.constants import Roll

    world = build_world()
    world.chef1.groups.add(Group.objects.get(name=Roll.HANDLAGGARE))
    hinder = "Du har skrivit text i dokumentet och kan inte attestera det."

    def skrivet_av_chefen():
        tu = world.dokument()
        for sektion in tu.sektioner.all():
            services.spara_sektion(sektion=sektion, text="<p>Chefens text.</p>", expected_version=1, user=world.chef1)
        tu.refresh_from_db()
        # A chain stored before the sending kept every author out of it.
        with monkeypatch.context() as m:
            m.setattr(services, "_kontrollera_kedja", lambda *args, **kwargs: None)
            services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef1])

    world.skickat()
    skrivet_av_chefen()
    client.force_login(world.chef1)
    client.get("/admin/arenden/attestko/")  # warm
    with CaptureQueriesContext(connection) as fa:
        page = client.get("/admin/arenden/attestko/").content.decode()
    assert page.count(hinder) == 1 and page.count("Väntar på dig") == 1
    for _ in range(4):
        world.skickat()
        skrivet_av_chefen()
    with CaptureQueriesContext(connection) as manga:
        page = client.get("/admin/arenden/attestko/").content.decode()
    assert page.count(hinder) == 5 and page.count("Väntar på dig") == 5
    assert len(manga) == len(fa)


def _history_rows(html):
    return re.findall(r"/history/\d+/", html)


def test_history_pages_show_fifty_rows_a_page_newest_first_in_swedish(admin_client):
    atgard = AtgardFactory(titel="Nattvandring")
    for i in range(1, 61):
        atgard.beskrivning = f"Version {i}"
        atgard.save()
    url = f"/admin/atgarder/atgard/{atgard.pk}/history/"
    first = admin_client.get(url).content.decode()
    assert len(_history_rows(first)) == 50
    assert "sida 1 av 2" in first and "61 händelser" in first and "Äldre ›" in first
    assert "Historik: Nattvandring" in first and "Ändrat av" in first
    assert first.index("Version 60") < first.index("Version 20")  # newest first
    second = admin_client.get(url + "?p=2").content.decode()
    assert len(_history_rows(second)) == 11
    assert "Skapad" in second and "‹ Nyare" in second and "Version 60" not in second


BIG_TABLES = [
    Arende,
    Tjansteutlatande,
    Skrivelse,
    Sektion,
    Attestering,
    AttestKo,
    Atgard,
    Sammantrade,
    get_user_model(),
]


def test_admin_lists_never_count_the_whole_table():
    assert set(BIG_TABLES) <= set(admin.site._registry)
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in {"arenden", "atgarder"} and model not in BIG_TABLES:
            continue  # Django's own Group list: the handful of roles
        # With a filter or a search the admin would otherwise count every row once more per page.
        assert model_admin.show_full_result_count is False, model
        assert model_admin.paginator is BegransadPaginator, model


def test_admin_lists_join_only_what_they_name():
    for model_admin in admin.site._registry.values():
        # True would join every foreign key of the model, nullable or not, on every page.
        assert model_admin.list_select_related is False or isinstance(model_admin.list_select_related, tuple)


def test_admin_search_is_served_by_trigram_indexes(db):
    AtgardFactory(titel="Nattvandring vid parklekar")
    searches = {
        "arenden_arende_arendemening_trgm": Arende.objects.filter(arendemening__icontains="parklek"),
        "arenden_arende_diarienummer_trgm": Arende.objects.filter(diarienummer__icontains="2024/12"),
        # A search of digits tests the running number as text (diarienummer_haller's second part).
        "arenden_arende_lopnummer_trgm": Arende.objects.filter(diarienummer_haller("2019")[1]),
        "arenden_tjansteutlatande_titel_trgm": Tjansteutlatande.objects.filter(titel__icontains="parklek"),
        "atgarder_atgard_titel_trgm": Atgard.objects.filter(titel__icontains="parklek"),
        "atgarder_atgard_beskrivning_trgm": Atgard.objects.filter(beskrivning__icontains="parklek"),
    }
    if connection.vendor != "postgresql":
        # SQLite has no such index: the same searches work by scanning.
        assert [a.titel for a in searches["atgarder_atgard_titel_trgm"]] == ["Nattvandring vid parklekar"]
        return
    with planner_off():
        for index, qs in searches.items():
            assert index in qs.order_by().explain(), index


def test_admin_lists_stop_counting_past_their_limit(admin_client, monkeypatch):
    monkeypatch.setattr(BegransadPaginator, "GRANS", 3)
    for _ in range(5):
        ArendeFactory()
    page = admin_client.get("/admin/arenden/arende/").content.decode()
    assert "Fler än 3 ärenden" in page
    one = Arende.objects.first()
    page = admin_client.get("/admin/arenden/arende/", {"q": one.diarienummer}).content.decode()
    assert "1 ärende" in page and "Fler än" not in page


def test_admin_search_counts_only_to_the_page_after_the_one_shown(admin_client, monkeypatch):
    monkeypatch.setattr(admin.site._registry[Arende], "list_per_page", 2)
    for i in range(5):
        ArendeFactory(arendemening=f"Parklekar i Sätra, del {i}")
    ArendeFactory(arendemening="Belysning")

    def page(**params):
        response = admin_client.get("/admin/arenden/arende/", {"q": "parklek", **params})
        assert response.status_code == 200
        html = re.sub(r"\s+", " ", response.content.decode())
        pages = re.findall(r'<a href="\?[^"]*p=(\d+)[^"]*"', html)
        return html, len(response.context["cl"].result_list), sorted({int(p) for p in pages})

    html, rows, pages = page()
    assert rows == 2 and pages == [2]  # the page shown is not a link; the next one is
    assert "fler än 2 resultat" in html and "Fler än 2 ärenden – avgränsa med filter eller sökning" in html
    html, rows, pages = page(p=2)
    assert rows == 2 and pages == [1, 3] and "Fler än 4 ärenden" in html
    # The last page counts to the end: the number is exact and no page follows.
    html, rows, pages = page(p=3)
    assert rows == 1 and pages == [1, 2] and "5 ärenden" in html and "Fler än" not in html
    # A list not counted to its end is never shown whole, whatever the link asks.
    html, rows, _ = page(all="")
    assert rows == 2 and 'class="showall"' not in html
    # Without a search the list counts to its limit, as before.
    response = admin_client.get("/admin/arenden/arende/")
    assert "6 ärenden" in response.content.decode() and len(response.context["cl"].result_list) == 2


def test_a_year_in_the_case_lists_search_gives_the_page_djangos_search_gives(admin_client, monkeypatch):
    """On PostgreSQL the year's parts are read one by one in the list's order and merged; the
    pages must be those of Django's own search over the number and the ärendemening."""
    monkeypatch.setattr(admin.site._registry[Arende], "list_per_page", 2)
    ArendeFactory(diarienummer="SKHLM 2021/2019", arendemening="Parklekar")  # the running number
    for nummer, mening in [
        ("SKHLM 2019/3", "Parklekar i Sätra"),
        ("SKHLM 2019/12", "Belysning"),
        ("SKHLM 2024/7", "Budget 2019 – uppföljning"),  # the ärendemening
        ("SKHLM 2024/8", "Belysning i Bredäng"),
        ("SKHLM 2018/40", "Parklekar"),
        ("SKHLM 2019/1", "Parklekar i Vårberg"),
    ]:
        ArendeFactory(diarienummer=nummer, arendemening=mening, forvaltning=Arende.objects.first().forvaltning)
    alla = sorted(Arende.objects.all(), key=lambda a: (-a.ar, -a.lopnummer, -a.pk))

    def listan(q, **params):
        response = admin_client.get("/admin/arenden/arende/", {"q": q, **params})
        assert response.status_code == 200
        return [a.diarienummer for a in response.context["cl"].result_list]

    def djangos(*ord_, order=None):
        traffar = [a for a in alla if all(o.lower() in f"{a.diarienummer} {a.arendemening}".lower() for o in ord_)]
        return [a.diarienummer for a in (sorted(traffar, key=order) if order else traffar)]

    vantat = djangos("2019")
    assert vantat == ["SKHLM 2024/7", "SKHLM 2021/2019", "SKHLM 2019/12", "SKHLM 2019/3", "SKHLM 2019/1"]
    for sida in (1, 2, 3):
        assert listan("2019", p=sida) == vantat[2 * sida - 2 : 2 * sida], sida
    assert listan("parklek 2019") == djangos("parklek", "2019")[:2] == ["SKHLM 2021/2019", "SKHLM 2019/3"]
    assert listan("parklek 2019", p=2) == ["SKHLM 2019/1"]
    # In a column's order (the ärendemening, ascending) as Django orders it.
    kolumn = admin_client.get("/admin/arenden/arende/").context["cl"].list_display.index("arendemening")
    assert listan("2019", o=str(kolumn)) == djangos("2019", order=lambda a: a.arendemening)[:2]
    if connection.vendor == "postgresql":
        with CaptureQueriesContext(connection) as queries:
            listan("2019")
        sidan = next(q["sql"] for q in queries if "LIMIT 2" in q["sql"] and "UNION ALL" in q["sql"])
        # Each part ordered and cut at the count's end: the page's rows and one more.
        assert sidan.count("LIMIT 3") == 3, sidan


def test_document_search_in_the_admin_finds_by_number_and_by_title(admin_client):
    park = TjansteutlatandeFactory(titel="Parklekar i Sätra")
    annan = TjansteutlatandeFactory(titel="Belysning")
    TjansteutlatandeFactory(titel="Något annat")

    def hits(q):
        response = admin_client.get("/admin/arenden/tjansteutlatande/", {"q": q})
        return {tu.pk for tu in response.context["cl"].result_list}

    assert hits("parklek") == {park.pk}
    assert hits(annan.arende.diarienummer) == {annan.pk}
    assert hits(f"belysning {annan.arende.diarienummer}") == {annan.pk}  # every word must match
    assert hits("belysning parklek") == set()


@pytest.mark.parametrize("model", [Arende, Tjansteutlatande, Atgard, get_user_model()], ids=lambda m: m.__name__)
def test_admin_list_checkbox_is_the_html_django_renders(model):
    from django.contrib.admin import ModelAdmin
    from django.utils import translation

    objects = {
        Arende: lambda: ArendeFactory(arendemening='Parklekar <b>"Sätra"</b> & co'),
        Tjansteutlatande: lambda: TjansteutlatandeFactory(titel='<script>"x"</script> & Sätra'),
        Atgard: lambda: AtgardFactory(titel="Nattvandring <i>'vid'</i> & parklekar"),
        get_user_model(): lambda: get_user_model().objects.create(username="a&b<c>"),
    }
    obj = objects[model]()
    model_admin = admin.site._registry[model]
    with translation.override("sv"):
        ours = model_admin.action_checkbox(obj)
        djangos = ModelAdmin.action_checkbox(model_admin, obj)
    assert ours == djangos
    assert 'class="action-select"' in ours and "&lt;" in ours


@pytest.mark.parametrize("model", [Arende, Tjansteutlatande, Atgard], ids=lambda m: m.__name__)
def test_admin_row_links_keep_the_search_and_filters_as_django_writes_them(admin_client, model):
    from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
    from django.urls import reverse

    objects = {
        Arende: lambda: TjansteutlatandeFactory(titel="x").arende,
        Tjansteutlatande: lambda: TjansteutlatandeFactory(titel="Parklekar & Sätra"),
        Atgard: lambda: AtgardFactory(titel="Parklekar & Sätra"),
    }
    obj = objects[model]()
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    query = {"q": obj.diarienummer if model is Arende else "parklekar & sätra", "o": "1"}
    response = admin_client.get(changelist, query)
    cl = response.context["cl"]
    assert list(cl.result_list) == [obj]
    preserved = admin.site._registry[model].get_preserved_filters(response.wsgi_request)
    assert "_changelist_filters=" in preserved
    djangos = add_preserved_filters({"preserved_filters": preserved, "opts": opts}, change)
    assert f'href="{djangos.replace("&", "&amp;")}"' in response.content.decode()
    # Without a search or filter the links are bare, as Django's are.
    bare = admin_client.get(changelist).content.decode()
    assert f'href="{change}"' in bare


def test_a_document_is_checked_against_its_own_case_not_all_the_users_cases(db):
    """The scope of a document reads its joined ärende row; `ärende IN (every case the user
    may see)` made PostgreSQL gather all of them (21,000 at a million) for one document."""
    world = build_world()
    tu = world.dokument()
    for user in (world.officer, world.chef1):
        qs = Tjansteutlatande.objects.for_user(user).filter(pk=tu.pk)
        assert qs.exists()
        assert "SELECT" not in str(qs.query).split("WHERE", 1)[1]  # no subquery in the condition
    assert not Tjansteutlatande.objects.for_user(world.frammande).filter(pk=tu.pk).exists()


def test_a_document_carries_its_cases_forvaltning_and_is_scoped_by_it(db):
    """A document's own `forvaltning` is its ärende's whichever way it is made, and the
    förvaltning roles' lists read a förvaltning's documents by it (one index range, newest
    first: Meta.indexes) instead of checking each matching document's ärende."""
    from arenden import services

    world = build_world()
    via_factory = world.dokument(titel="Parklekar i Sätra")
    via_service = services.skapa_tjansteutlatande(
        arende=ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, avdelning=world.avdelning),
        mall=MallFactory(),
        user=world.officer,
        titel="Parklekar i Bredäng",
    )
    frammande = ArendeFactory(forvaltning=world.frammande.profil.avdelning.forvaltning, handlaggare=world.frammande)
    utanfor = services.skapa_tjansteutlatande(
        arende=frammande, mall=MallFactory(), user=None, titel="Parklekar i Vällingby"
    )
    # A document copied onto another förvaltning's ärende takes that förvaltning, whatever it held.
    kopia = Tjansteutlatande.objects.get(pk=via_factory.pk)
    kopia.pk, kopia.arende = None, ArendeFactory(forvaltning=frammande.forvaltning, handlaggare=world.frammande)
    kopia.titel = "Kopia"
    kopia.save()
    for tu in (via_factory, via_service, utanfor, kopia):
        tu.refresh_from_db()
        assert tu.forvaltning_id == tu.arende.forvaltning_id
        assert tu.history.latest().forvaltning_id == tu.arende.forvaltning_id
    parklekar = Tjansteutlatande.objects.filter(titel__icontains="parklek")
    assert set(parklekar.for_user(world.chef1)) == {via_factory, via_service}
    assert set(parklekar.for_user(world.frammande)) == {utanfor}
    assert kopia.forvaltning == frammande.forvaltning
    assert set(parklekar.for_user(world.outsider)) == set()
    query = str(parklekar.for_user(world.chef1).query)
    assert '"arenden_tjansteutlatande"."forvaltning_id" =' in query and "arenden_arende" not in query
    # The admin's lists and the officers' pages: the documents of the cases each user may see.
    for user in (world.chef1, world.frammande, world.outsider, world.officer, world.superuser):
        fran_arendet = parklekar.filter(arende__in=Arende.objects.for_user(user))
        assert set(parklekar.for_user_in_list(user)) == set(fran_arendet), user
        assert set(parklekar.for_user(user)) == set(fran_arendet), user
    assert "arenden_arende" not in str(parklekar.for_user_in_list(world.chef1).query)
    assert '"arenden_tjansteutlatande"."arende_id" IN (SELECT' in str(parklekar.for_user_in_list(world.officer).query)
    if connection.vendor != "postgresql":
        return
    with planner_off():
        plans = [
            qs.order_by("-skapad", "-pk")[:50].explain()
            for qs in (parklekar.for_user(world.chef1), parklekar.for_user_in_list(world.chef1))
        ]
    for plan in plans:
        assert "tu_forvaltning_idx" in plan, plan


def test_a_chefs_status_filter_counts_and_pages_from_one_index(client):
    world = build_world()
    for status in ("avslutat", "avslutat", "registrerat"):
        ArendeFactory(forvaltning=world.forvaltning, status=status)
    ArendeFactory(forvaltning=world.frammande.profil.avdelning.forvaltning, status="avslutat")
    client.force_login(world.chef1)
    url = "/admin/arenden/arende/?status__exact=avslutat"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.context["cl"].result_count == 2
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert len(counts) == 1
    if connection.vendor != "postgresql":
        return
    with planner_off():
        plan = _plan(counts[0])
    assert "Index Only Scan using arende_fv_status_idx" in plan, plan


def test_newest_cases_of_each_part_of_a_users_scope_merge_once_each_newest_first(db):
    """Mina ärenden reads each part of the scope on its own (Meta.indexes) and merges them: a
    case in two parts appears once, the order runs across the parts, filters apply to all."""
    world = build_world()
    kollegans_avdelning = world.kollega.profil.avdelning
    assert world.officer.profil.avdelning != kollegans_avdelning

    def arende(dag, **kwargs):
        return ArendeFactory(forvaltning=world.forvaltning, registrerad=f"2024-05-{dag:02d}", **kwargs)

    egen_i_avdelningen = arende(1, handlaggare=world.officer, avdelning=world.officer.profil.avdelning)
    egen_utanfor = arende(3, handlaggare=world.officer, avdelning=kollegans_avdelning)
    avdelningens = arende(2, handlaggare=world.kollega, avdelning=world.officer.profil.avdelning)
    egen_utan_avdelning = arende(4, handlaggare=world.officer, avdelning=None)
    andras = arende(5, handlaggare=world.kollega, avdelning=kollegans_avdelning)
    samma_dag = [arende(6, handlaggare=world.officer) for _ in range(2)]
    ArendeFactory(forvaltning=world.frammande.profil.avdelning.forvaltning, handlaggare=world.frammande)

    officerens = [*reversed(samma_dag), egen_utan_avdelning, egen_utanfor, avdelningens, egen_i_avdelningen]
    assert Arende.objects.nyaste_ids(world.officer, 100) == [a.pk for a in officerens]
    assert Arende.objects.nyaste_ids(world.officer, 2) == [a.pk for a in officerens[:2]]
    ids = Arende.objects.nyaste_ids(world.officer, 100)
    assert set(ids) == set(Arende.objects.for_user(world.officer).values_list("pk", flat=True))
    # A registrator sees the whole förvaltning; the superuser the diarium; a user without a role nothing.
    forvaltningens = Arende.objects.filter(forvaltning=world.forvaltning)
    assert set(Arende.objects.nyaste_ids(world.registrator, 100)) == set(forvaltningens.values_list("pk", flat=True))
    assert Arende.objects.nyaste_ids(world.registrator, 100)[:3] == [samma_dag[1].pk, samma_dag[0].pk, andras.pk]
    assert len(Arende.objects.nyaste_ids(world.superuser, 100)) == Arende.objects.count()
    assert Arende.objects.nyaste_ids(world.outsider, 100) == []
    # Filters of the queryset hold in every part.
    egen_utanfor.status = "avslutat"
    egen_utanfor.save()
    avslutade = Arende.objects.filter(status="avslutat").nyaste_ids(world.officer, 100)
    assert avslutade == [egen_utanfor.pk]
    # A filter that nothing can match, and an empty queryset, read nothing.
    assert Arende.objects.filter(pk__in=[]).nyaste_ids(world.officer, 100) == []
    assert Arende.objects.none().nyaste_ids(world.superuser, 100) == []
    # The scope as one condition (a search's) gives the same cases in the same order.
    for user in (world.officer, world.registrator, world.superuser, world.outsider):
        assert Arende.objects.nyaste_ids(user, 100, i_delar=False) == Arende.objects.nyaste_ids(user, 100), user
    assert avslutade == Arende.objects.filter(status="avslutat").nyaste_ids(world.officer, 100, i_delar=False)


@pytest.mark.postgresql  # the plan of PostgreSQL's merge of index scans
def test_newest_cases_are_read_from_the_lists_order_indexes(db):
    world = build_world()
    with planner_off("enable_bitmapscan", "enable_sort"):
        with CaptureQueriesContext(connection) as queries:
            Arende.objects.nyaste_ids(world.officer, 10)
        plan = _plan(queries[-1]["sql"])
    assert "arende_avdelning_idx" in plan and "arende_handlaggare_idx" in plan, plan
    # Each part comes from its index in order and the parts are merged, read only as far as the
    # page goes: no part is read whole and sorted, not even with sorting turned off.
    assert "Merge Append" in plan, plan
    assert not re.search(r"^\s*(->\s*)?Sort\s+\(", plan, re.MULTILINE), plan


def test_mina_arendens_search_matches_once_over_the_whole_scope(client):
    """A search's matches come from the search index, not in the list's order: reading it once
    per part of the scope (own cases, the avdelning's) would read every match of the diarium
    twice."""
    world = build_world()
    egen = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, arendemening="Parklekar i Sätra")
    avdelningens = ArendeFactory(
        forvaltning=world.forvaltning,
        avdelning=world.avdelning,
        handlaggare=world.kollega,
        arendemening="Parklekar i Vårberg",
    )
    andras = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.kollega, arendemening="Parklekar i Bredäng")
    annat = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, arendemening="Trygghetsvandring")
    client.force_login(world.officer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/", {"q": "parklekar"})
    text = response.content.decode()
    assert egen.diarienummer in text and avdelningens.diarienummer in text
    assert andras.diarienummer not in text and annat.diarienummer not in text
    sql = " ".join(q["sql"] for q in queries)
    assert "UNION" not in sql
    if connection.vendor == "postgresql":
        assert sql.count("sokvektor") == 1, sql


def test_a_drogscen_pages_cases_are_tested_on_the_scope_indexes(db):
    """The drogscen page's parts (nyaste_ids over rapporterar_om) test the case's places on the
    scope's list indexes, which carry them (migration 0013), instead of fetching every case of
    the scope from the table."""
    world = build_world()
    scen = DrogscenFactory()
    atgard = AtgardFactory()
    atgard.drogscener.add(scen)
    i_avdelningen = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning)
    egen_utanfor = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer)
    ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning)  # reports on nothing
    for arende in (i_avdelningen, egen_utanfor):
        TjansteutlatandeFactory(arende=arende).atgard_val.create(atgard=atgard)
    fragor = Arende.objects.rapporterar_om(scen)
    assert set(fragor.nyaste_ids(world.officer, 10)) == {i_avdelningen.pk, egen_utanfor.pk}
    assert set(fragor.nyaste_ids(world.chef2, 10)) == {i_avdelningen.pk, egen_utanfor.pk}
    if connection.vendor != "postgresql":
        return  # SQLite asks the documents' åtgärder; no column, no index
    planer = {}
    # An index scan that reads the table costs more than an index-only scan of an index that
    # carries every column the part reads and tests.
    with planner_off("enable_bitmapscan"):
        for namn, user in (("officer", world.officer), ("chef", world.chef2)):
            with CaptureQueriesContext(connection) as queries:
                fragor.nyaste_ids(user, 10)
            planer[namn] = _plan(queries[-1]["sql"])
    officer, chef = planer["officer"], planer["chef"]
    assert "Index Only Scan using arende_avdelning_idx" in officer, officer
    assert "Index Only Scan using arende_handlaggare_idx" in officer, officer
    assert "Index Only Scan using arende_fv_nyast_idx" in chef, chef
    for plan in planer.values():
        assert "Seq Scan" not in plan and "Heap Scan" not in plan, plan


def test_a_drogscen_page_over_the_whole_diarium_looks_the_places_cases_up(db):
    """A superuser's scope is the whole diarium: the cases that report on a place are looked up
    in an index of the places (migration 0014), not found by reading the diarium in order."""
    world = build_world()
    scen, ny = DrogscenFactory(), DrogscenFactory()
    atgard = AtgardFactory()
    atgard.drogscener.add(scen)
    rapporterande = ArendeFactory(forvaltning=world.forvaltning)
    TjansteutlatandeFactory(arende=rapporterande).atgard_val.create(atgard=atgard)
    ArendeFactory(forvaltning=world.forvaltning)
    assert Arende.objects.rapporterar_om(scen).nyaste_ids(world.superuser, 10) == [rapporterande.pk]
    assert Arende.objects.rapporterar_om(ny).nyaste_ids(world.superuser, 10) == []
    if connection.vendor != "postgresql":
        return  # SQLite asks the documents' åtgärder; no column, no index
    # The tables are tiny: with reading in order turned off too, the plan shows the lookup.
    with planner_off("enable_indexscan", "enable_indexonlyscan"):
        with CaptureQueriesContext(connection) as queries:
            Arende.objects.rapporterar_om(ny).nyaste_ids(world.superuser, 10)
        plan = _plan(queries[-1]["sql"])
    assert "Bitmap Index Scan on arende_drogscener_gin" in plan, plan


def test_an_atgard_pages_documents_are_looked_for_in_the_scopes_cases_that_report_on_it(client, db):
    """The åtgärd page finds the documents that report on it in the cases of the user's scope
    that report on it: the scope's indexes and the åtgärder's (migration 0025) read together,
    instead of the scope of every document in the city that reports on it probed one by one."""
    world = build_world()
    atgard = AtgardFactory()
    egen = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer)
    i_avdelningen = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning)
    utanfor = ArendeFactory(forvaltning=world.forvaltning)
    for arende in (egen, i_avdelningen, utanfor):
        TjansteutlatandeFactory(arende=arende, titel=f"Redovisar {arende.diarienummer}").atgard_val.create(
            atgard=atgard
        )
    TjansteutlatandeFactory(arende=egen, titel="Redovisar inte")
    url = f"/atgarder/{atgard.pk}/"
    sql = {}
    for namn, user in (("officer", world.officer), ("superuser", world.superuser)):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            text = client.get(url).content.decode()
        assert f"Redovisar {egen.diarienummer}" in text and f"Redovisar {i_avdelningen.diarienummer}" in text
        assert "Redovisar inte" not in text
        assert (f"Redovisar {utanfor.diarienummer}" in text) == (namn == "superuser")
        [sql[namn]] = [q["sql"] for q in queries if "tjansteutlatande_id" in q["sql"] and "ORDER BY" in q["sql"]]
    if connection.vendor != "postgresql":
        return  # SQLite asks the documents' åtgärder; no column, no index
    # The documents are those of the cases that the scope holds and whose row names the åtgärd:
    # one subquery on the ärende table, which its indexes answer (which of them, PostgreSQL
    # chooses by the tables' sizes: at 200,000 ärenden the scope's and the åtgärder's together).
    arenden = {
        namn: re.search(
            r'"arende_id" IN \(SELECT U0."id" AS "pk" FROM "arenden_arende" U0 WHERE (.*)\) AND "arenden_tj', q
        )
        for namn, q in sql.items()
    }
    for namn, villkor in arenden.items():
        assert villkor and f"atgarder @> ARRAY[{atgard.pk}]" in villkor[1], sql[namn]
    assert '"avdelning_id" = ' in arenden["officer"][1] and '"handlaggare_id" = ' in arenden["officer"][1]
    # Without a scope to narrow them, the cases that report on the åtgärd come from its index.
    with planner_off("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
        with CaptureQueriesContext(connection) as queries:
            list(Arende.objects.rapporterar_pa(atgard).values_list("pk", flat=True))
        plan = _plan(queries[-1]["sql"])
    assert "Bitmap Index Scan on arende_atgarder_gin" in plan, plan


def test_the_timeline_reads_every_documents_history_in_one_query(db):
    from arenden import services

    forsta = TjansteutlatandeFactory(titel="Första svaret")
    arende = forsta.arende
    with CaptureQueriesContext(connection) as en:
        tidslinje(arende)
    andra = TjansteutlatandeFactory(arende=arende, titel="Andra svaret")
    andra.titel = "Andra svaret, omarbetat"
    andra.save()
    with CaptureQueriesContext(connection) as tva:
        handelser = tidslinje(arende)
    assert len(tva) == len(en)
    skapade = [h["detalj"] for h in handelser if h["handelse"] == services.SKAPAT]
    assert skapade == ["Första svaret", "Andra svaret"]
    assert [h["handelse"] for h in handelser].count("Dokumentet ändrat") == 1


def test_a_documents_page_reads_its_signatories_choices_once_for_the_page(client):
    # Each signatory row draws a select of who may sign: its choices were read once per row.
    from arenden import services
    from arenden.models import Undertecknare

    world = build_world()
    tu = world.dokument()
    client.force_login(world.officer)
    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"
    personer = [world.chef2, world.chef1, world.officer, world.kollega]

    def sida():
        client.get(url)  # warm, as `_counts`
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        # each row's select, with its own signatory chosen
        valda = re.findall(
            r'<select name="undertecknare-\d+-anvandare".*?<option value="(\d+)" selected>',
            response.content.decode(),
            flags=re.S,
        )
        assert valda == [str(pk) for pk in tu.undertecknare.order_by("ordning").values_list("anvandare", flat=True)]
        return len(queries)

    def lagg_till(ordning):
        person = personer[ordning - 1]
        rad = Undertecknare(ordning=ordning, anvandare=person, namn=person.get_full_name(), befattning="Chef")
        services.spara_dokumentdel(tjansteutlatande=tu, obj=rad, user=world.officer)

    lagg_till(1)
    en = sida()
    for ordning in (2, 3, 4):
        lagg_till(ordning)
    assert sida() == en


@pytest.mark.postgresql  # the plan of PostgreSQL's index scans
def test_a_users_recent_actions_are_read_newest_first_from_each_historys_user_index(db):
    # The admin's start page lists what the user did last. Each history is read for the user's
    # newest rows from an index on (user, time), so a user whose last act is years old, among
    # millions of others' rows, costs no more than one who acted a minute ago.
    from arenden.tidslinje import _mina_handelser_fran, mina_handelser

    world = build_world()
    _more_history(TjansteutlatandeFactory(), "titel", 3, av=[world.chef1])
    with planner_off("enable_bitmapscan"):
        with CaptureQueriesContext(connection) as queries:
            assert mina_handelser(world.chef1)
        plan = _plan(queries[-1]["sql"])
    for model, *_ in _mina_handelser_fran():
        index = model.history.model._meta.indexes[0]
        assert index.fields == ["history_user", "-history_date", "-history_id"]
        # Only the user's newest rows are read, in the index's order, and their ids are all it needs.
        assert f"Index Only Scan using {index.name} " in plan, (model, plan)
