""" "Menade du …?": a search that finds nothing offers the words of the user's cases most like
the words searched, as links that run those searches; never a word of a case the user may not
see. PostgreSQL looks in every text the search covers (the diarium's words, kept by triggers,
migration 0028); SQLite in the ärendemeningar of the user's newest cases. Either way a word is
offered only if the search itself finds a case with it in the user's scope."""

import importlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from arenden import services
from arenden.models import Arende, Sektion, Sokord, TjansteutlatandeAtgard
from arenden.search import liknande_ord, sok_arenden, sokforslag
from atgarder.models import Atgard
from tests.arenden.plans import plan, planner_off
from tests.arenden.world import build_world
from tests.factories import ArendeFactory, AtgardFactory, TjansteutlatandeFactory

pytestmark = pytest.mark.django_db

POSTGRESQL = pytest.mark.postgresql


def _sektion(arende, text):
    tu = TjansteutlatandeFactory(arende=arende)
    Sektion.objects.filter(pk=tu.sektioner.first().pk).update(text=text)
    return tu


@pytest.fixture
def anette(demo):
    return demo.arende.handlaggare


@POSTGRESQL
@pytest.mark.parametrize(
    ("fraga", "ord_"),
    [
        ("drogsener", "drogscener"),  # misspelt, as the seed's own extraction fault
        ("trygghetskamror", "trygghetskameror"),
        ("kameror", "trygghetskameror"),  # a part of a compound
        ("scener", "drogscener"),
    ],
)
def test_a_word_that_finds_nothing_is_offered_the_diariums_word(anette, fraga, ord_):
    assert len(sok_arenden(anette, fraga)) == 0
    forslag = sokforslag(anette, fraga)
    assert ord_ in forslag
    # and the suggestion finds the case
    assert "SKHLM 2024/123" in [a.diarienummer for a in sok_arenden(anette, ord_)]


@POSTGRESQL
def test_only_the_words_that_find_nothing_are_replaced(anette):
    assert len(sok_arenden(anette, "öppna drogsener")) == 0
    assert sokforslag(anette, "Öppna drogsener")[0] == "Öppna drogscener"
    # a word begun ("drog") is found by the search's prefix and kept
    assert sokforslag(anette, "drog trygghetskamror")[0] == "drog trygghetskameror"


@POSTGRESQL
def test_nothing_is_offered_for_a_word_like_none(anette):
    assert sokforslag(anette, "xylofonorkester") == []
    assert sokforslag(anette, "SKHLM 2024/999") == []  # a number is no word to correct


@POSTGRESQL
def test_a_word_of_a_case_outside_the_scope_is_never_offered(client):
    """The officer sees their avdelning's cases and their own; a word that only a case of the
    other avdelning, or of another förvaltning, holds is offered to those who see that case and
    to no one else, also through the page."""
    world = build_world()
    egen = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning, handlaggare=world.officer)
    _sektion(egen, "<p>Parklekar i Sätra.</p>")
    kollegans = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.kollega.profil.avdelning)
    kollegans.handlaggare = world.kollega
    kollegans.save()
    _sektion(kollegans, "<p>Hundrastgårdar vid Bredängs centrum.</p>")
    frammande = ArendeFactory(forvaltning=world.frammande.profil.avdelning.forvaltning)
    _sektion(frammande, "<p>Utegym vid Vällingby centrum.</p>")

    assert sokforslag(world.officer, "parklekr") == ["parklekar"]
    assert sokforslag(world.officer, "hundrastgardar") == []
    assert sokforslag(world.officer, "utegyn") == []
    assert sokforslag(world.kollega, "hundrastgardar") == ["hundrastgårdar"]
    assert sokforslag(world.chef2, "hundrastgardar") == ["hundrastgårdar"]  # the förvaltning's attestant
    assert sokforslag(world.chef2, "utegyn") == []
    assert sokforslag(world.frammande, "utegyn") == ["utegym"]
    assert sokforslag(world.outsider, "parklekr") == []  # no role: no cases, no words
    assert sokforslag(world.superuser, "utegyn") == ["utegym"]

    client.force_login(world.officer)
    for url in ("/sok/", "/"):
        body = client.get(url, {"q": "hundrastgardar"}).content.decode()
        assert "Menade du" not in body and "hundrastgårdar" not in body
    client.force_login(world.kollega)
    body = client.get("/sok/", {"q": "hundrastgardar"}).content.decode()
    assert 'Menade du: <a href="?q=hundrastg%C3%A5rdar">hundrastgårdar</a>?' in body


@POSTGRESQL
def test_every_writer_adds_its_words_and_a_word_no_case_holds_is_not_offered():
    world = build_world()
    arende = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning, handlaggare=world.officer)
    tu = TjansteutlatandeFactory(arende=arende)
    sektion = tu.sektioner.first()
    services.spara_sektion(
        sektion=sektion, text="<p>Väktare vid tunnelbanan.</p>", expected_version=sektion.version, user=None
    )
    assert sokforslag(world.officer, "tunelbanan") == ["tunnelbanan"]
    # A second case holds the word; the first loses it (a plain UPDATE, as a data migration writes).
    annat = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning, handlaggare=world.officer)
    annat.skrivelser.create(
        titel="Skrivelse om tunnelbanan", forfattare="Anna Andersson (M)", beredning_datum="2024-01-10", text="Text."
    )
    Sektion.objects.filter(pk=sektion.pk).update(text="<p>Ljusslingor i parken.</p>")
    assert sokforslag(world.officer, "tunelbanan") == ["tunnelbanan"]
    assert sokforslag(world.officer, "ljusslingr") == ["ljusslingor"]
    # The word stays in the table when no case holds it any more, once, and is offered to no one.
    annat.delete()
    assert list(Sokord.objects.filter(ord="tunnelbanan").values_list("ord", flat=True)) == ["tunnelbanan"]
    assert sokforslag(world.officer, "tunelbanan") == []
    assert sokforslag(world.superuser, "tunelbanan") == []
    # The case moves to the other avdelning and handläggare: its words are offered to those who see it.
    arende.avdelning, arende.handlaggare = world.kollega.profil.avdelning, world.kollega
    arende.save()
    assert sokforslag(world.officer, "ljusslingr") == []
    assert sokforslag(world.kollega, "ljusslingr") == ["ljusslingor"]
    arende.arendemening = "Belysning i parken"
    arende.save()
    assert sokforslag(world.kollega, "belysnng") == ["belysning"]
    # An åtgärd the document reports on, renamed after it was chosen.
    atgard = AtgardFactory(titel="Åtgärd")
    TjansteutlatandeAtgard.objects.create(tjansteutlatande=tu, atgard=atgard, ordning=1)
    Atgard.objects.filter(pk=atgard.pk).update(titel="Grannsamverkan")
    assert sokforslag(world.kollega, "grannsamverkn") == ["grannsamverkan"]
    # Numbers, mail addresses and HTML are no words.
    Sektion.objects.filter(pk=sektion.pk).update(
        text='<p class="ingress">Mejla sara.andersson@stockholm.se före 2024-05-23, 08-50810000 &nbsp;</p>'
    )
    ord_ = set(Sokord.objects.values_list("ord", flat=True))
    assert "mejla" in ord_
    assert not {
        o for o in ord_ if "@" in o or "ingress" in o or "class" in o or "nbsp" in o or any(c.isdigit() for c in o)
    }


@POSTGRESQL
def test_the_migration_fills_the_table_with_the_words_the_triggers_keep(demo):
    """The table filled from existing data (migration 0028) holds exactly the words the triggers
    gave the demo's texts as they were written."""
    fyll = importlib.import_module("arenden.migrations.0028_sokord").FYLL
    skrivna = set(Sokord.objects.values_list("ord", flat=True))
    assert {"drogscener", "trygghetskameror"} <= skrivna
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM arenden_sokord")
        cursor.execute(fyll)
    assert set(Sokord.objects.values_list("ord", flat=True)) == skrivna


@POSTGRESQL
def test_generated_cases_words_are_in_the_table(db):
    """generate_volume writes with COPY and the per-text triggers off: each batch adds its own
    words, so the table holds every word of the diarium's texts."""
    call_command("generate_volume", arenden=30, batch=12, atgarder=10, stdout=StringIO())
    fyll = importlib.import_module("arenden.migrations.0028_sokord").FYLL
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE skrivna AS SELECT ord FROM arenden_sokord")
        cursor.execute("DELETE FROM arenden_sokord")
        cursor.execute(fyll)
        cursor.execute("SELECT ord FROM arenden_sokord EXCEPT SELECT ord FROM skrivna")
        assert cursor.fetchall() == []
        cursor.execute("SELECT count(*) FROM skrivna")
        assert cursor.fetchone()[0] > 50


@POSTGRESQL
def test_the_words_are_looked_up_in_their_trigram_index(anette):
    """With a diarium's vocabulary (here 20,000 made-up words beside the demo's), the likeness is
    answered by the trigram index, not by comparing every word."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO arenden_sokord SELECT translate(md5(i::text), '0123456789', 'ghijklmnop')"
            " FROM generate_series(1, 20000) i ON CONFLICT DO NOTHING"
        )
        cursor.execute("ANALYZE arenden_sokord")
    qs = liknande_ord("drogsener")
    assert list(qs)[0] == "drogscener"
    with planner_off():  # the index's new entries wait in its pending list until a vacuum
        assert "Bitmap Index Scan on arenden_sokord_trgm" in plan(*qs.query.sql_with_params())


def test_a_search_that_finds_nothing_costs_a_few_queries_whatever_its_length(anette, django_assert_max_num_queries):
    """At most three words are looked at: one lookup of alike words each (PostgreSQL; SQLite
    reads the titles once), and one query that checks every word found in the user's scope (on
    PostgreSQL after setting the planner to the indexes for its transaction, here a savepoint of
    the test's, which is two queries more)."""
    fraga = "drogsener trygghetskamror parklekr badplatsr hundrastgardar"
    assert len(sok_arenden(anette, fraga)) == 0
    with django_assert_max_num_queries(7 if connection.vendor == "postgresql" else 2):
        assert sokforslag(anette, fraga)[0].startswith("drogscener ")


def test_a_search_with_hits_looks_up_no_words(client, demo, monkeypatch):
    """The suggestions cost nothing where the search finds something: the page's queries are
    those of before (tests/arenden/test_sidbudget.py counts them)."""
    from arenden import views

    def sokforslag_anropad(*args):
        raise AssertionError("sokforslag called for a search with hits")

    monkeypatch.setattr(views, "sokforslag", sokforslag_anropad)
    client.force_login(demo.arende.handlaggare)
    for url in ("/sok/", "/"):
        body = client.get(url, {"q": "drogscener"}).content.decode()
        assert "SKHLM 2024/123" in body and "Menade du" not in body


def test_the_suggestion_is_a_link_that_runs_the_search(client, demo):
    """Both databases: the demo's ärendemening says "drogscener"."""
    client.force_login(demo.arende.handlaggare)
    body = client.get("/sok/", {"q": "drogsener"}).content.decode()
    assert "Inga träffar för ”drogsener”." in body
    assert 'Menade du: <a href="?q=drogscener">drogscener</a>?' in body
    body = client.get("/", {"q": "drogsener", "status": "redo_for_namnd"}).content.decode()
    assert 'Menade du: <a href="?q=drogscener&amp;status=redo_for_namnd">drogscener</a>?' in body
    assert "SKHLM 2024/123" in client.get("/", {"q": "drogscener", "status": "redo_for_namnd"}).content.decode()


def test_sqlite_offers_the_words_of_the_titles_only(db):
    """SQLite has no trigram index nor word table: its contains-search already finds a part of a
    word, and a misspelt word is compared with the words of the ärendemeningar of the user's
    newest cases. A word only in a section is offered on PostgreSQL alone."""
    world = build_world()
    arende = ArendeFactory(
        forvaltning=world.forvaltning,
        avdelning=world.avdelning,
        handlaggare=world.officer,
        arendemening="Trygghetskameror i Sätra",
    )
    _sektion(arende, "<p>Hundrastgårdar vid Bredängs centrum.</p>")
    utanfor = ArendeFactory(arendemening="Badplatser i Vällingby")
    assert not Arende.objects.for_user(world.officer).filter(pk=utanfor.pk).exists()

    assert sokforslag(world.officer, "trygghetskamror") == ["trygghetskameror"]
    assert sokforslag(world.officer, "badplatsr") == []
    assert sokforslag(world.superuser, "badplatsr") == ["badplatser"]
    i_texten = sokforslag(world.officer, "hundrastgardar")
    assert i_texten == (["hundrastgårdar"] if connection.vendor == "postgresql" else [])


@pytest.mark.parametrize("fraga", ["", "   ", "***", '"', "-", "or", "ö" * 300, "a\x00b", "'drog", "%_\\"])
def test_any_text_gives_a_page_and_never_an_error(client, demo, fraga):
    client.force_login(demo.arende.handlaggare)
    assert isinstance(sokforslag(demo.arende.handlaggare, fraga), list)
    for url in ("/sok/", "/"):
        assert client.get(url, {"q": fraga}).status_code == 200


@POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_the_check_leaves_the_connections_planner_settings_as_they_were():
    # The check plans without sequential and plain index scans; a connection outlives its request,
    # and every later query of the worker would be planned without them.
    call_command("load_demo", stdout=StringIO())
    anette = Arende.objects.get(diarienummer="SKHLM 2024/123").handlaggare
    assert sokforslag(anette, "drogsener")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')")
        assert cursor.fetchone() == ("on", "on")
