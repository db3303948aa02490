import pytest
from django.db import connection
from django.utils.text import slugify

from arenden.models import Arende, Attestering, Sektion
from arenden.pdf import pdf_filename
from arenden.search import PER_SIDA, filtrera, sok_arenden
from tests.arenden.plans import plan, planner_off
from tests.factories import (
    ArendeFactory,
    AtgardFactory,
    ForvaltningFactory,
    ProfilFactory,
    TjansteutlatandeFactory,
    UserFactory,
)


def _nummer(traffar):
    return [a.diarienummer for a in traffar]


@pytest.fixture
def anette(demo):
    return demo.arende.handlaggare


def test_search_finds_the_demo_case_by_an_inflected_word(anette):
    """Swedish stemming on PostgreSQL: "drogscenerna" finds "drogscen"/"drogscener". SQLite has
    no stemming, so there the word as written in the text is searched."""
    fraga = "drogscenerna" if connection.vendor == "postgresql" else "drogscener"
    traffar = sok_arenden(anette, fraga)
    assert "SKHLM 2024/123" in _nummer(traffar)
    traff = next(a for a in traffar if a.diarienummer == "SKHLM 2024/123")
    assert traff.status == "redo_for_namnd"
    assert any(w.startswith("drogscen") for w in traff.trafford)
    assert "<mark>" in traff.traff


@pytest.mark.parametrize(
    "fraga", ["drogscen", "Drogscen", "drog", "drog*", "drogsc*", "öppna drog", "övervakningskam*"]
)
def test_a_word_typed_in_the_singular_or_begun_finds_the_case(anette, fraga):
    """The diarium's own word, "drogscen", found nothing on PostgreSQL: Swedish stemming makes it
    "drogsc" and "drogscener" "drogscen", two different words. Nor did the start of a word, with
    or without the asterisk other diarium systems take. Each word searched is now the beginning of
    a word, as it is in the contains-search on SQLite."""
    traffar = sok_arenden(anette, fraga)
    assert "SKHLM 2024/123" in _nummer(traffar)
    traff = next(a for a in traffar if a.diarienummer == "SKHLM 2024/123")
    assert traff.trafford and "<mark>" in traff.traff


@pytest.mark.parametrize(
    ("fraga", "kalla"),
    [
        ("SKHLM 2024/123", "diarienummer"),
        ("Svar på skrivelse", "ärendemening"),
        ("Blåuggla", "section text"),
    ],
)
def test_search_covers_number_title_and_text(anette, fraga, kalla):
    assert "SKHLM 2024/123" in _nummer(sok_arenden(anette, fraga)), kalla


@pytest.mark.parametrize("fraga", ["älvsjö", "ÄLVSJÖ", "Älvsjö"])
def test_search_ignores_the_case_of_swedish_letters(db, client, fraga):
    """An officer types a place's name in small letters. (SQLite's own LIKE ignored the case of
    ASCII letters only: skarholmen/sqlite.py.)"""
    user = UserFactory(username="diarie", is_staff=True, is_superuser=True)  # sees the whole diarium
    arende = ArendeFactory(arendemening="Trygghet i ÄLVSJÖ centrum")
    ArendeFactory(arendemening="Trygghet i Skärholmens centrum")

    assert _nummer(sok_arenden(user, fraga)) == [arende.diarienummer]
    client.force_login(user)
    sida = client.get("/", {"q": fraga}).content.decode()
    assert arende.diarienummer in sida and "Skärholmens centrum" not in sida


def test_search_covers_skrivelse_and_atgard_titles(db):
    user = UserFactory(username="diarie", is_staff=True, is_superuser=True)  # sees the whole diarium
    tu = TjansteutlatandeFactory()
    tu.arende.skrivelser.create(
        titel="Skrivelse om belysning",
        forfattare="Anna Andersson (M)",
        beredning_datum="2024-01-10",
        text="Vi vill ha bättre gatubelysning vid tunnelbanan.",
    )
    atgard = AtgardFactory(titel="Kameraövervakning vid torget")
    tu.atgard_val.create(atgard=atgard, ordning=1)
    assert _nummer(sok_arenden(user, "gatubelysning")) == [tu.arende.diarienummer]
    assert _nummer(sok_arenden(user, "Kameraövervakning")) == [tu.arende.diarienummer]
    assert len(sok_arenden(user, "obefintligtord")) == 0


def test_a_user_without_access_does_not_see_the_case(demo):
    utomstaende = ProfilFactory(user=UserFactory(username="utom", is_staff=False), avdelning=None).user
    assert not Arende.objects.for_user(utomstaende).filter(pk=demo.arende_id).exists()
    fraga = "drogscenerna" if connection.vendor == "postgresql" else "drogscener"
    assert "SKHLM 2024/123" not in _nummer(sok_arenden(utomstaende, fraga))


def test_ranked_best_first(db):
    """On PostgreSQL a match in the ärendemening outranks one in a section, whatever the age;
    SQLite lists contains-matches newest first, which here gives the same order."""
    user = UserFactory(username="diarie", is_staff=True, is_superuser=True)  # sees the whole diarium
    svag = ArendeFactory(arendemening="Ärende om parker")
    Sektion.objects.filter(pk=TjansteutlatandeFactory(arende=svag).sektioner.first().pk).update(
        text="<p>Ett stycke om kameror.</p>"
    )
    stark = ArendeFactory(arendemening="Kameror i centrum")
    if connection.vendor == "postgresql":
        # The stronger match is the older case, so only ranking puts it first.
        stark.ar, svag.ar = 2019, 2021
        Arende.objects.bulk_update([stark, svag], ["ar"])
    fraga = "kamera" if connection.vendor == "postgresql" else "kameror"
    assert _nummer(sok_arenden(user, fraga)) == [stark.diarienummer, svag.diarienummer]


def test_fulltext_uses_the_stored_vector_and_its_index(demo):
    if connection.vendor != "postgresql":
        assert sok_arenden(demo.arende.handlaggare, "drogscener")  # the contains-search needs no index
        return
    from arenden.search import filtrera

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s ORDER BY 1", ["%_fts"])
        assert cursor.fetchall() == []  # the per-table indexes of before are gone
        cursor.execute("SELECT sokvektor::text FROM arenden_arende WHERE id = %s", [demo.arende_id])
        vektor = cursor.fetchone()[0]
        assert "'drogscen'" in vektor  # stemmed, from the demo's sections and skrivelse
    qs = filtrera(Arende.objects.order_by(), "drogscener").values("pk")
    with planner_off():
        assert "arenden_arende_sokvektor" in plan(*qs.query.sql_with_params())


@pytest.fixture
def diarie(db):
    return UserFactory(username="diarie", is_staff=True, is_superuser=True)  # sees the whole diarium


def _hittas(user, ord_, arende):
    return arende.diarienummer in _nummer(sok_arenden(user, ord_))


def test_search_follows_section_edits_whoever_writes_them(diarie):
    from arenden import services

    tu = TjansteutlatandeFactory()
    sektion = tu.sektioner.first()
    services.spara_sektion(
        sektion=sektion, text="<p>Väktare vid tunnelbanan.</p>", expected_version=sektion.version, user=None
    )
    assert _hittas(diarie, "väktare", tu.arende)
    # A plain UPDATE (a data fix, a script) keeps the search right too.
    Sektion.objects.filter(pk=sektion.pk).update(text="<p>Ljusslingor i parken.</p>")
    assert _hittas(diarie, "ljusslingor", tu.arende)
    assert not _hittas(diarie, "väktare", tu.arende)


def test_search_follows_skrivelser_and_the_arendemening(diarie):
    arende = ArendeFactory(arendemening="Ärende om parker")
    skrivelse = arende.skrivelser.create(
        titel="Skrivelse om hundrastgårdar", forfattare="Anna Andersson (M)", beredning_datum="2024-01-10", text="Text."
    )
    assert _hittas(diarie, "hundrastgårdar", arende)
    skrivelse.titel = "Skrivelse om utegym"
    skrivelse.save()
    assert _hittas(diarie, "utegym", arende) and not _hittas(diarie, "hundrastgårdar", arende)
    skrivelse.delete()
    assert not _hittas(diarie, "utegym", arende)
    arende.arendemening = "Ärende om badplatser"
    arende.save()
    assert _hittas(diarie, "badplatser", arende) and not _hittas(diarie, "parker", arende)


def test_search_follows_atgarder_added_renamed_and_removed(diarie):
    from arenden import services

    tu = TjansteutlatandeFactory()
    atgard = AtgardFactory(titel="Nattvandring vid torget")
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=atgard, user=None)
    assert _hittas(diarie, "nattvandring", tu.arende)
    atgard.titel = "Fältassistenter vid torget"
    atgard.save()  # the register's own edit, in the admin
    assert _hittas(diarie, "fältassistenter", tu.arende) and not _hittas(diarie, "nattvandring", tu.arende)
    services.ta_bort_atgard(tjansteutlatande=tu, atgard=atgard, user=None)
    assert not _hittas(diarie, "fältassistenter", tu.arende)


def test_search_page_for_every_logged_in_user(client, demo):
    assert client.get("/sok/?q=drogscener").status_code == 302  # login first
    client.force_login(demo.arende.handlaggare)
    response = client.get("/sok/", {"q": "drogscener"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "SKHLM 2024/123" in body and "Redo för nämnd" in body and "<mark>" in body


def test_a_huge_section_is_saved_and_its_beginning_found(diarie):
    """A text whose words would give a vector over PostgreSQL's 1 MB limit is saved all the
    same (the vector takes the beginning of each part); SQLite searches the whole text."""
    from arenden import services

    tu = TjansteutlatandeFactory()
    sektion = tu.sektioner.first()
    ord_ = " ".join(f"ord{n:06d}x" for n in range(120_000))  # 1.3 MB of distinct words
    services.spara_sektion(
        sektion=sektion, text=f"<p>Skolgårdar {ord_}</p>", expected_version=sektion.version, user=None
    )
    sektion.refresh_from_db()
    assert sektion.text.endswith("ord119999x</p>")
    assert _hittas(diarie, "skolgårdar", tu.arende)


def test_excerpt_shows_the_text_as_written_without_tags_or_double_escaping(db):
    user = UserFactory(username="diarie", is_staff=True, is_superuser=True)
    tu = TjansteutlatandeFactory()
    Sektion.objects.filter(pk=tu.sektioner.first().pk).update(
        text="<p>Trygghetsvandring &amp; <strong>belysning</strong> vid &lt;torget&gt;."
        '<span class="fotnot">1</span></p>'
    )
    (traff,) = sok_arenden(user, "belysning")
    assert traff.trafford == ["belysning"]
    # The tags are gone, the entities read as the characters they stand for, and the excerpt is
    # escaped once for the page.
    assert "Trygghetsvandring &amp; <mark>belysning</mark> vid &lt;torget&gt;." in traff.traff
    assert "strong" not in traff.traff and "&amp;amp;" not in traff.traff
    assert "fotnot" not in traff.traff and "class" not in traff.traff  # nor the tags' attributes


def test_brackets_in_the_text_are_shown_as_written_and_mark_nothing(db):
    """The excerpt's highlight is put in with markers: text that happens to hold the characters
    a marker could be mistaken for is shown as written, and only the words searched are marked."""
    user = UserFactory(username="diarie", is_staff=True, is_superuser=True)
    tu = TjansteutlatandeFactory()
    Sektion.objects.filter(pk=tu.sektioner.first().pk).update(
        text="<p>Se ⟦bilaga 2⟧ om belysning vid torget \ufdd0och⟧ gångtunneln.</p>"
    )
    (traff,) = sok_arenden(user, "belysning")
    assert traff.trafford == ["belysning"]
    assert "Se ⟦bilaga 2⟧ om <mark>belysning</mark> vid torget och⟧ gångtunneln." in traff.traff
    assert traff.traff.count("<mark>") == traff.traff.count("</mark>") == 1


def test_hits_are_paged_and_each_page_has_its_excerpts(client, diarie):
    """More hits than a page: every hit is on exactly one page, in rank order, each page with
    its own excerpts, and the page links keep the search text."""
    skapade = [ArendeFactory(arendemening=f"Parkering vid torget nummer {i}") for i in range(PER_SIDA + 5)]
    forsta, andra = sok_arenden(diarie, "parkering"), sok_arenden(diarie, "parkering", 2)
    assert forsta.paginator.count == PER_SIDA + 5 and forsta.paginator.num_pages == 2
    assert len(forsta) == PER_SIDA and len(andra) == 5
    nyast_forst = [a.diarienummer for a in sorted(skapade, key=lambda a: (a.ar, a.lopnummer), reverse=True)]
    assert _nummer(forsta) + _nummer(andra) == nyast_forst  # equal rank: newest first, no repeats
    assert all("<mark>" in a.traff for a in [*forsta, *andra])
    assert _nummer(sok_arenden(diarie, "parkering", "sista")) == _nummer(forsta)  # not a number: page 1
    assert _nummer(sok_arenden(diarie, "parkering", 99)) == _nummer(andra)  # past the end: the last page

    client.force_login(diarie)
    body = client.get("/sok/", {"q": "parkering vid torget", "sida": "2"}).content.decode()
    assert "25 träffar, sida 2 av 2" in body and 'start="21"' in body
    assert 'href="?q=parkering%20vid%20torget&amp;sida=1"' in body and "Nästa" not in body
    assert body.count('<a class="dnr" ') == 5


@pytest.mark.parametrize(
    "fraga",
    [
        "skhlm 2024/123",
        "SKHLM2024/123",
        "SKHLM  2024/123",
        "SKHLM-2024/123",
        "SKHLM 2024 / 123",
        "2024/0123",
        "SKHLM-2024-123",  # as a PDF's file name writes it
        "skhlm 2024-123",
        "skhlm-2024-0123",
    ],
)
def test_a_number_typed_with_other_spacing_finds_the_case(db, client, fraga):
    """A registrator types the number as it stands on a paper, in a mail or in a PDF's file
    name: without the space, with a hyphen, with spaces around the slash, with a hyphen for it.
    The diarium search, Mina ärenden and the admin's list find the case as if it were typed the
    diarium's way."""
    user = UserFactory(username="diarie", is_staff=True, is_superuser=True)  # sees the whole diarium
    arende = ArendeFactory(diarienummer="SKHLM 2024/123")
    ArendeFactory(diarienummer="SKHLM 2023/123")

    assert _nummer(sok_arenden(user, fraga)) == [arende.diarienummer]
    client.force_login(user)
    for url in ("/", "/admin/arenden/arende/"):
        sida = client.get(url, {"q": fraga}).content.decode()
        assert arende.diarienummer in sida and "SKHLM 2023/123" not in sida, url


@pytest.mark.parametrize(
    "fraga",
    [
        "Dnr SKHLM 2024/123",  # as the PDF's header prints it
        "Dnr: SKHLM 2024/123",
        "dnr. skhlm 2024/123",
        "dnr 2024/123",
        "Diarienummer SKHLM 2024/123",
        "SKHLM 2024/123.",  # copied from the end of a sentence
        "(SKHLM 2024/123)",
        "”SKHLM 2024/123”,",
    ],
)
def test_a_number_copied_with_its_label_or_punctuation_finds_the_case(db, client, fraga):
    """An officer copies the number from the PDF's header ("Dnr SKHLM 2024/123") or from a
    sentence in a mail, with its label, its brackets or the full stop after it: every search
    that takes a diarienummer finds the case, and only it, as if the number alone were typed."""
    user = UserFactory(username="diarie", is_staff=True, is_superuser=True)  # sees the whole diarium
    arende = ArendeFactory(diarienummer="SKHLM 2024/123")
    ArendeFactory(diarienummer="SKHLM 2023/123")

    assert _nummer(sok_arenden(user, fraga)) == [arende.diarienummer]
    client.force_login(user)
    for url in ("/", "/admin/arenden/arende/"):
        sida = client.get(url, {"q": fraga}).content.decode()
        assert arende.diarienummer in sida and "SKHLM 2023/123" not in sida, url


def test_each_hit_opens_its_case(client, demo):
    """The number of a hit leads to the case's page, as on Mina ärenden: found, the case is one
    click away, not a number to copy into another search."""
    client.force_login(demo.arende.handlaggare)
    body = client.get("/sok/", {"q": "SKHLM 2024/123"}).content.decode()
    assert f'<a class="dnr" href="/arenden/{demo.arende.pk}/">SKHLM 2024/123</a>' in body


@pytest.mark.parametrize("fraga", ["SKHLM 2024/12", "skhlm2024/12", "2024/12"])
def test_the_case_whose_number_is_searched_comes_first(db, fraga):
    """ "2024/12" stands in every newer number that begins with it (2024/120, 2024/1200 …) and
    in the text of the cases that cite it: the case itself came after all of them, and with
    more than the hits shown it was not among them at all."""
    user = UserFactory(username="diarie", is_staff=True, is_superuser=True)  # sees the whole diarium
    arende = ArendeFactory(diarienummer="SKHLM 2024/12", arendemening="Trygghet i Sätra")
    for lopnummer in range(120, 125):
        ArendeFactory(diarienummer=f"SKHLM 2024/{lopnummer}")
    citerar = TjansteutlatandeFactory(arende=ArendeFactory(diarienummer="SKHLM 2024/300"))
    Sektion.objects.filter(tjansteutlatande=citerar).update(text="Se ärende SKHLM 2024/12 om trygghet i Sätra.")

    traffar = _nummer(sok_arenden(user, fraga))
    assert traffar[0] == arende.diarienummer and len(traffar) == len(set(traffar))


@pytest.mark.parametrize("prefix", ["SKHLM", "ÄLVSJÖ"])
def test_the_number_as_the_pdfs_file_name_writes_it_finds_the_case_in_every_search(client, db, prefix):
    """An officer copies the number from a downloaded PDF's name ("SKHLM-2024-123-….pdf", Å, Ä
    and Ö of the prefix as A and O) into a search: every search that takes a diarienummer finds
    the case, and only it, by that."""
    user = UserFactory(username="diarie", is_staff=True, is_superuser=True)  # sees the whole diarium
    forvaltning = ForvaltningFactory(diarieprefix=prefix)
    tu = TjansteutlatandeFactory(arende=ArendeFactory(forvaltning=forvaltning, diarienummer=f"{prefix} 2024/123"))
    annan = TjansteutlatandeFactory(arende=ArendeFactory(forvaltning=forvaltning, diarienummer=f"{prefix} 2023/123"))
    for dokument in (tu, annan):
        dokument.arende.skrivelser.create(
            titel="Skrivelse", forfattare="Anna Andersson (M)", beredning_datum="2024-01-10", text="Text."
        )
        Attestering.objects.create(tjansteutlatande=dokument, omgang=1, ordning=1, attestant=user, namn="Lisa")
    fraga = pdf_filename(tu).removesuffix(f"-{slugify(tu.titel)}.pdf")
    assert fraga == ("SKHLM-2024-123" if prefix == "SKHLM" else "ALVSJO-2024-123")

    assert _nummer(sok_arenden(user, fraga)) == [tu.arende.diarienummer]
    client.force_login(user)
    for url in ("/", "/sok/", "/admin/arenden/arende/"):
        sida = client.get(url, {"q": fraga}).content.decode()
        assert tu.arende.diarienummer in sida and annan.arende.diarienummer not in sida, url
    for lista, rader in (
        ("tjansteutlatande", {tu.pk}),
        ("skrivelse", set(tu.arende.skrivelser.values_list("pk", flat=True))),
        ("attestering", set(tu.attesteringar.values_list("pk", flat=True))),
        ("sektion", set(tu.sektioner.values_list("pk", flat=True))),
    ):
        response = client.get(f"/admin/arenden/{lista}/", {"q": fraga})
        assert {rad.pk for rad in response.context["cl"].result_list} == rader, lista


@pytest.mark.parametrize(
    ("fraga", "mening"),
    [
        ("budget 2024-2025", "Budget 2024-2025 för parklekar"),
        ("Budget-2024-2025", "Uppföljning av Budget-2024-2025"),
        ("2024-05", "Trygghetsvandringar 2024-05"),
        ("covid-19", "Lokaler efter covid-19"),
    ],
)
def test_hyphenated_words_that_are_not_case_numbers_search_as_before(client, db, fraga, mening):
    """A year and a number joined by a hyphen are a diarienummer only after a förvaltning's
    prefix: "budget 2024-2025" is the words of a title, and finds the title, not SKHLM 2024/2025."""
    user = UserFactory(username="diarie", is_staff=True, is_superuser=True)  # sees the whole diarium
    arende = ArendeFactory(arendemening=mening)
    for nummer in ("SKHLM 2024/2025", "SKHLM 2024/5", "SKHLM 2024/19"):
        ArendeFactory(diarienummer=nummer, arendemening="Annat")
    TjansteutlatandeFactory(arende=arende, titel=mening)

    assert _nummer(sok_arenden(user, fraga)) == [arende.diarienummer]
    client.force_login(user)
    for url in ("/", "/admin/arenden/arende/", "/admin/arenden/tjansteutlatande/"):
        sida = client.get(url, {"q": fraga}).content.decode()
        assert arende.diarienummer in sida and "Annat" not in sida and "SKHLM 2024/5<" not in sida, url


def test_a_number_as_the_file_name_writes_it_is_looked_up_in_the_numbers_index(db):
    ArendeFactory(diarienummer="SKHLM 2024/123")
    qs = filtrera(Arende.objects.order_by(), "SKHLM-2024-123").values("pk")
    assert len(qs) == 1
    if connection.vendor != "postgresql":
        return  # SQLite has no such index
    sql, params = qs.query.sql_with_params()
    assert "SKHLM 2024/123" in params[0]  # searched as the diarium writes it
    with planner_off():
        assert "arenden_arende_diarienummer_trgm" in plan(sql, params)


def test_a_quoted_phrase_is_searched_as_the_phrase(client, anette):
    """A phrase in quotes is searched as the phrase on PostgreSQL (websearch_to_tsquery) and on
    SQLite alike: the same query finds the demo case on both, and its words in another order do
    not. (One demo case for all the queries: each load of it is some thousand rows.)"""
    client.force_login(anette)
    for fraga in ('"öppna drogscener"', '"Öppna drogscener" Blåuggla', '"öppna drogscener'):
        traffar = [a for a in sok_arenden(anette, fraga) if a.diarienummer == "SKHLM 2024/123"]
        assert traffar and "<mark>" in traffar[0].traff, fraga
        for url in ("/", "/sok/"):
            assert "SKHLM 2024/123" in client.get(url, {"q": fraga}).content.decode(), (fraga, url)
    for fraga in ('"drogscener öppna"', '"öppna drogscener" obefintligtord'):
        assert "SKHLM 2024/123" not in _nummer(sok_arenden(anette, fraga)), fraga
