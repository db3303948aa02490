""" "Menade du …?": a search that finds nothing offers the words of the user's cases most like
the words searched, as links that run those searches; never a word of a case the user may not
see. PostgreSQL looks in every text the search covers (the words kept by triggers, migration
0027); SQLite in the ärendemeningar of the user's newest cases."""

import pytest
from django.db import connection

from arenden import services
from arenden.models import Arende, Sektion, Sokord
from arenden.search import liknande_ord, sok_arenden, sokforslag
from tests.arenden.plans import plan, planner_off
from tests.arenden.world import build_world
from tests.factories import ArendeFactory, TjansteutlatandeFactory

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
def test_the_words_follow_the_texts_and_the_cases_scope():
    world = build_world()
    arende = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning, handlaggare=world.officer)
    tu = TjansteutlatandeFactory(arende=arende)
    sektion = tu.sektioner.first()
    services.spara_sektion(
        sektion=sektion, text="<p>Väktare vid tunnelbanan.</p>", expected_version=sektion.version, user=None
    )
    assert sokforslag(world.officer, "tunnelbanna") == ["tunnelbanan"]
    # A second case holds the word; the first loses it: the word stays, counted once.
    annat = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning, handlaggare=world.officer)
    annat.skrivelser.create(
        titel="Skrivelse om tunnelbanan", forfattare="Anna Andersson (M)", beredning_datum="2024-01-10", text="Text."
    )
    Sektion.objects.filter(pk=sektion.pk).update(text="<p>Ljusslingor i parken.</p>")  # a plain UPDATE too
    assert sokforslag(world.officer, "tunnelbanna") == ["tunnelbanan"]
    assert sokforslag(world.officer, "ljusslingr") == ["ljusslingor"]
    assert Sokord.objects.get(ord="tunnelbanan").antal == 1
    annat.delete()
    assert sokforslag(world.officer, "tunnelbanna") == []
    assert not Sokord.objects.filter(ord="tunnelbanan").exists()
    # The case moves to the other avdelning and handläggare: its words go with it.
    arende.avdelning, arende.handlaggare = world.kollega.profil.avdelning, world.kollega
    arende.save()
    assert sokforslag(world.officer, "ljusslingr") == []
    assert sokforslag(world.kollega, "ljusslingr") == ["ljusslingor"]
    arende.arendemening = "Belysning i parken"
    arende.save()
    assert sokforslag(world.kollega, "belysnng") == ["belysning"]
    # Every count is what the cases' words give.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT ord, forvaltning_id, avdelning_id, handlaggare_id, antal FROM arenden_sokord"
            " EXCEPT SELECT o, forvaltning_id, avdelning_id, handlaggare_id, count(*)::int FROM arenden_arende,"
            " unnest(sokord) o GROUP BY 1, 2, 3, 4) skillnad"
        )
        assert cursor.fetchone()[0] == 0


@POSTGRESQL
def test_the_words_are_looked_up_in_their_trigram_index(anette):
    qs = liknande_ord(anette, "drogsener")[:3]
    # A tiny table is read whole in the order of its other index; with that off, the plan shows
    # the trigram index serving both the likeness and the beginning.
    with planner_off("enable_indexscan"):
        assert "Bitmap Index Scan on arenden_sokord_trgm" in plan(*qs.query.sql_with_params())


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
