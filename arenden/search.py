"""Search over the diarium: diarienummer, ärendemening, skrivelser, section text and åtgärd titles.

On PostgreSQL this is Swedish full-text search: words are stemmed ("drogscenerna" finds
"drogscen"), results are ranked, and the matching words are highlighted by ts_headline. Each
ärende's words are stored in one vector, `arenden_arende.sokvektor`, weighted by where they
stand and kept by triggers whatever writes a text (migration 0005_sokvektor), so a search is one
GIN index scan on one table. The newest RANKADE matches are ranked and shown best first,
PER_SIDA a page, and only the page shown gets its excerpts. On SQLite a plain contains-search
over the same texts is used, newest first, a phrase in double quotes and the text around it each
contained.
"""

import difflib
import functools
import html
import re

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q

from .models import (
    NYAST_FORST,
    Arende,
    ArendeKolumn,
    Sektion,
    Skrivelse,
    Sokord,
    TjansteutlatandeAtgard,
    skrivet_diarienummer,
)

SPRAK = "swedish"
PER_SIDA = 20
RANKADE = 200
# The excerpt's highlight markers, replaced by <mark> after escaping: two of Unicode's
# noncharacters, which it keeps for a program's own use. They are taken out of the texts first, so
# that whatever a text holds shows as written and marks nothing.
_START, _STOP = "\ufdd0", "\ufdd1"
_UTAN_MARKORER = str.maketrans("", "", _START + _STOP)
_HEADLINE_OPTIONS = f'StartSel={_START}, StopSel={_STOP}, MaxFragments=3, FragmentDelimiter=" … ", MaxWords=25'

# Longest search text that is used: no diarienummer, title or phrase is longer, and SQLite
# refuses LIKE patterns over 50 kB with an error, so a longer text is cut here, not sent.
MAX_SOKTEXT = 200


def _is_postgres():
    return connection.vendor == "postgresql"


class Sokvektor(ArendeKolumn):
    """The ärende's stored `sokvektor` (PostgreSQL, migration 0005)."""

    kolumn = "sokvektor"

    def __init__(self):
        from django.contrib.postgres.search import SearchVectorField

        super().__init__(output_field=SearchVectorField())

    def get_group_by_cols(self):
        return [self]

    def as_sql(self, compiler, connection):
        return self.kolumn_sql(compiler), []


def soktext(text):
    """A search text as every search reads it (the officers' pages, the admin's lists and
    autocompletes): cut to MAX_SOKTEXT, and without NUL, which PostgreSQL refuses in any text
    parameter (a server error) and no diarium text holds."""
    return (text or "")[:MAX_SOKTEXT].replace("\x00", "")


# Every word of a search is the beginning of a word (`'drogsc':*`): Swedish stemming makes the
# diarium's own "drogscen" "drogsc" and "drogscener" "drogscen", so the singular found none of
# the texts that say "drogscener", nor did the start of a word ("drog", "drog*"). The query is
# websearch_to_tsquery's, which reads quotes, "or" and "-" and never fails on what is typed, with
# each of its quoted lexemes ('' inside one is a quote) made a prefix.
_PREFIX = (r"'((?:[^']|'')+)'", r"'\1':*")
PREFIX_TSQUERY = "regexp_replace(({tsquery})::text, %s, %s, 'g')::tsquery"


@functools.cache
def _prefixfraga():
    """The SearchQuery whose lexemes are prefixes, made once: django.contrib.postgres is imported
    only where PostgreSQL is used."""
    from django.contrib.postgres.search import SearchQuery

    class Prefixfraga(SearchQuery):
        def as_sql(self, compiler, connection, **kwargs):
            sql, params = super().as_sql(compiler, connection, **kwargs)
            return PREFIX_TSQUERY.format(tsquery=sql), [*params, *_PREFIX]

    return Prefixfraga


def _tsquery(fraga):
    return _prefixfraga()(fraga, config=SPRAK, search_type="websearch")


def _villkor(fraga):
    """The condition an ärende matches `fraga` by: its number (contains, served by a trigram
    index on PostgreSQL), or a word of its ärendemening, skrivelser, sections or åtgärder. A
    number typed in another way than the diarium writes it ("skhlm2024/123", "SKHLM 2024 / 123")
    is looked for as the diarium writes it."""
    fraga = soktext(fraga)
    if _is_postgres():
        from django.contrib.postgres.search import SearchVectorExact

        return _nummer(fraga) | Q(SearchVectorExact(Sokvektor(), _tsquery(fraga)))
    return Q(*[_innehaller(del_) for del_ in _delar(fraga)])


def _nummer(text):
    return Q(diarienummer__icontains=skrivet_diarienummer(text) or text)


def _delar(fraga):
    """The texts an ärende must each hold to match `fraga` on SQLite: its phrases in double
    quotes and the text around them, as websearch_to_tsquery reads quotes on PostgreSQL (a quote
    left open runs to the end of the text). Without quotes the whole text is one."""
    # An asterisk typed for "any ending" (as other diarium systems take it) is left out: a
    # contains-search finds every ending anyway.
    fraga = fraga.replace("*", " ").strip() or fraga
    return [del_.strip() for del_ in fraga.split('"') if del_.strip()] or [fraga]


def _innehaller(text):
    """The condition an ärende holds `text` by (SQLite): in its number, its ärendemening, or a
    skrivelse, section or åtgärd of it."""
    kallor = (
        Skrivelse.objects.filter(arende=OuterRef("pk")).filter(Q(titel__icontains=text) | Q(text__icontains=text)),
        Sektion.objects.filter(tjansteutlatande__arende=OuterRef("pk")).filter(
            Q(text__icontains=text) | Q(avslutning__icontains=text)
        ),
        TjansteutlatandeAtgard.objects.filter(tjansteutlatande__arende=OuterRef("pk"), atgard__titel__icontains=text),
    )
    egen = _nummer(text) | Q(arendemening__icontains=text)
    return egen | Q(*[Exists(k) for k in kallor], _connector=Q.OR)


def filtrera(arenden, fraga):
    """`arenden` narrowed to those matching `fraga`, unranked: the start page's search, the
    same match as the diarium search."""
    return arenden.filter(_villkor(fraga))


def sok_arenden(user, fraga, sida=1):
    """A page of the ärenden the user may see that match `fraga`, best first: at most RANKADE
    hits, PER_SIDA a page (a Django Page; an invalid page number gives the nearest page). Each
    hit on the page has `traff` (a short HTML-safe text with the matching words in <mark>) and
    `trafford` (those words)."""
    fraga = soktext((fraga or "").strip())
    if not fraga:
        return Paginator([], PER_SIDA).get_page(1)
    qs = filtrera(Arende.objects.for_user(user), fraga)
    if _is_postgres():
        from django.contrib.postgres.search import SearchRank

        # Ranking reads the stored vectors; only the newest RANKADE matches are ranked, so a
        # word found in most of a 200,000-case diarium ("polisen") costs no more than a rare one.
        nyaste = qs.order_by("-ar", "-lopnummer").values("pk")[:RANKADE]
        qs = (
            Arende.objects.filter(pk__in=nyaste)
            .annotate(rank=SearchRank(Sokvektor(), _tsquery(fraga)))
            .order_by("-rank", "-ar", "-lopnummer")
        )
    else:
        qs = qs.order_by("-ar", "-lopnummer")
    # The ranked ids in one query give both the count and the page; only the page's rows are read.
    ids = list(qs.values_list("pk", flat=True)[:RANKADE])
    if nummer := _numrets_arenden(user, fraga):
        ids = [*nummer, *(pk for pk in ids if pk not in nummer)][:RANKADE]
    page = Paginator(ids, PER_SIDA).get_page(sida)
    rader = Arende.objects.select_related("handlaggare").in_bulk(list(page.object_list))
    page.object_list = [rader[pk] for pk in page.object_list if pk in rader]
    _markera(page.object_list, fraga)
    return page


def _numrets_arenden(user, fraga):
    """The ids of the cases whose number `fraga` is ("SKHLM 2024/12", "2024/12"), as written in
    any way `skrivet_diarienummer` reads. They go first: a number is contained in the numbers
    after it (2024/120, 2024/1200 …), which are newer and fill the hits before it, and it is not
    among the words that rank a case, so the case itself came last, or past the hits shown."""
    nummer = skrivet_diarienummer(fraga)
    if nummer is None:
        return []
    prefix, _, ar_lopnummer = nummer.rpartition(" ")
    ar, lopnummer = (int(del_) for del_ in ar_lopnummer.split("/"))
    if lopnummer > 2**31 - 1:
        return []  # past any running number a column holds
    villkor = Q(diarienummer=nummer) if prefix else Q(ar=ar, lopnummer=lopnummer)
    return list(
        Arende.objects.for_user(user).filter(villkor).order_by("-ar", "-lopnummer").values_list("pk", flat=True)
    )


def _korpus(arenden):
    """Each ärende's searchable text as one plain string, read in a fixed number of queries
    (SQLite; PostgreSQL puts it together itself in `_headlines`)."""
    ids = [a.pk for a in arenden]
    texter = {a.pk: [a.diarienummer, a.arendemening] for a in arenden}
    for arende_id, titel, text in Skrivelse.objects.filter(arende__in=ids).values_list("arende", "titel", "text"):
        texter[arende_id] += [titel, text]
    for arende_id, text, avslutning in Sektion.objects.filter(tjansteutlatande__arende__in=ids).values_list(
        "tjansteutlatande__arende", "text", "avslutning"
    ):
        texter[arende_id] += [text, avslutning]
    for arende_id, titel in TjansteutlatandeAtgard.objects.filter(tjansteutlatande__arende__in=ids).values_list(
        "tjansteutlatande__arende", "atgard__titel"
    ):
        texter[arende_id].append(titel)
    return {pk: _plain(" ".join(t for t in delar if t)) for pk, delar in texter.items()}


def _plain(value):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", value))).strip()


def _markera(arenden, fraga):
    if not arenden:
        return
    if _is_postgres():
        headlines = _headlines([a.pk for a in arenden], fraga)
    else:
        delar = [del_.translate(_UTAN_MARKORER) for del_ in _delar(fraga)]
        headlines = {pk: _utdrag(text.translate(_UTAN_MARKORER), delar) for pk, text in _korpus(arenden).items()}
    for arende in arenden:
        text = headlines.get(arende.pk, "")
        arende.trafford = sorted({w.lower() for w in re.findall(f"{_START}(.*?){_STOP}", text)})
        arende.traff = html.escape(text).replace(_START, "<mark>").replace(_STOP, "</mark>") if arende.trafford else ""


# Each ärende's searchable text put together and marked by ts_headline, with the same stemming as
# the match ("drogscenerna" marks "drogscen" and "drogscener"): all in PostgreSQL, so that the
# texts of fifty cases never travel to the app and back. The texts go to ts_headline as stored:
# its parser knows HTML tags, leaves them out of the words it counts and writes a space for each
# in an excerpt, and the excerpts' whitespace is collapsed in `_headlines`. Stripping the tags
# first with regular expressions gave the same excerpts at half as much again the cost.
_HEADLINES_SQL = """
SELECT a.id, ts_headline(
    %(sprak)s::regconfig,
    translate(concat_ws(' ',
        a.diarienummer,
        a.arendemening,
        (SELECT string_agg(concat_ws(' ', s.titel, s.text), ' ' ORDER BY s.id)
           FROM {skrivelse} s WHERE s.arende_id = a.id),
        (SELECT string_agg(concat_ws(' ', se.text, se.avslutning), ' ' ORDER BY se.tjansteutlatande_id, se.id)
           FROM {sektion} se JOIN {tu} t ON t.id = se.tjansteutlatande_id WHERE t.arende_id = a.id),
        (SELECT string_agg(at.titel, ' ' ORDER BY ta.tjansteutlatande_id, ta.ordning, ta.id)
           FROM {tu_atgard} ta JOIN {tu} t ON t.id = ta.tjansteutlatande_id
           JOIN {atgard} at ON at.id = ta.atgard_id WHERE t.arende_id = a.id)
    ), %(markorer)s, ''),
    regexp_replace(websearch_to_tsquery(%(sprak)s::regconfig, %(fraga)s)::text, %(prefix)s, %(som)s, 'g')::tsquery,
    %(options)s
)
FROM {arende} a WHERE a.id = ANY(%(ids)s)
"""


def _headlines(ids, fraga):
    """{ärende id: its text's best fragments with the matching words between the markers}."""
    from atgarder.models import Atgard

    from .models import Tjansteutlatande

    sql = _HEADLINES_SQL.format(
        arende=Arende._meta.db_table,
        skrivelse=Skrivelse._meta.db_table,
        sektion=Sektion._meta.db_table,
        tu=Tjansteutlatande._meta.db_table,
        tu_atgard=TjansteutlatandeAtgard._meta.db_table,
        atgard=Atgard._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "sprak": SPRAK,
                "fraga": fraga,
                "prefix": _PREFIX[0],
                "som": _PREFIX[1],
                "options": _HEADLINE_OPTIONS,
                "ids": ids,
                "markorer": _START + _STOP,
            },
        )
        # Entities are decoded after the tags are gone, as the stored text's HTML would show them.
        return {pk: re.sub(r"\s+", " ", html.unescape(text)).strip() for pk, text in cursor.fetchall()}


def _utdrag(text, delar, bredd=90):
    """A contains-match excerpt with the first of `delar` found marked (SQLite has no ts_headline)."""
    for del_ in delar:
        if (traff := text.lower().find(del_.lower())) >= 0:
            break
    else:
        return ""
    start, slut = max(0, traff - bredd), min(len(text), traff + len(del_) + bredd)
    ord_ = text[traff : traff + len(del_)]
    prefix = "… " if start else ""
    suffix = " …" if slut < len(text) else ""
    return f"{prefix}{text[start:traff]}{_START}{ord_}{_STOP}{text[traff + len(del_) : slut]}{suffix}"


# "Menade du …?": when a search finds nothing, the words most like the words searched that the
# search finds in the user's cases. A misspelt word ("drogsener") or a part of a compound
# ("kameror" in "trygghetskameror") finds nothing in the full-text search, whose vector holds
# whole, stemmed words.
FORSLAG = 3  # suggestions offered
FORSLAGSORD = 3  # words of a search looked at, the first ones
KANDIDATER = 5  # alike words looked up for each, of which those the user's search finds are kept
MIN_ORDLANGD = 4  # as the words kept (migration 0028): a shorter word is kept as typed
# SQLite: the words of the ärendemeningar of the user's newest cases, and how alike a word must be
# (difflib's ratio) to be offered.
SQLITE_ARENDEN = 1000
SQLITE_LIKHET = 0.75
_ORD = re.compile(r"[^\W\d_]+")


def sokforslag(user, fraga):
    """Searches to offer the user for `fraga`, which found nothing: `fraga` with each word that
    finds nothing replaced by the most alike words that do, best first, at most FORSLAG. Never
    for a diarienummer.

    The alike words come from the whole diarium: on PostgreSQL every word of the texts the search
    covers (`Sokord`, migration 0028), the KANDIDATER most alike by trigram word similarity
    (pg_trgm's `<%`, served by a GIN trigram index), so that "kameror" finds "trygghetskameror"
    and "drogsener" "drogscener"; on SQLite, where the contains-search already finds a part of a
    word, the words of the ärendemeningar of the user's newest cases, compared by difflib. Each
    is then kept only if the user's own search (`filtrera` on `Arende.objects.for_user`) finds a
    case with it, so a word of a case the user may not see, or of none any more, is never
    offered. At most FORSLAGSORD + 2 queries on PostgreSQL, two on SQLite, and only when a
    search finds nothing."""
    fraga = soktext((fraga or "").strip())
    if not fraga or skrivet_diarienummer(fraga) is not None:
        return []
    ord_ = []
    for match in _ORD.finditer(fraga):
        if len(match.group()) >= MIN_ORDLANGD and match.group().lower() not in ord_:
            ord_.append(match.group().lower())
    ord_ = ord_[:FORSLAGSORD]
    if not ord_:
        return []
    kandidater = _liknande_pg(ord_) if _is_postgres() else _liknande_sqlite(user, ord_)
    # The words searched and their candidates, each asked once whether it finds anything.
    provade = list(dict.fromkeys([*ord_, *(k for o in ord_ for k in kandidater[o])]))
    finner = dict(zip(provade, _finner_nagot(user, provade), strict=True))
    byten = {}
    for o in ord_:
        if not finner[o]:
            byten[o] = [k for k in kandidater[o] if finner[k]][:FORSLAG]
    byten = {o: k for o, k in byten.items() if k}
    if not byten:
        return []
    forslag = []
    for i in range(FORSLAG):
        text = _ORD.sub(functools.partial(_byt, byten=byten, i=i), fraga)
        if text.lower() != fraga.lower() and text not in forslag:
            forslag.append(text)
    return forslag


def _byt(match, byten, i):
    """The word of `match`, or its i:th replacement (the last one, past those there are)."""
    kandidater = byten.get(match.group().lower())
    return kandidater[min(i, len(kandidater) - 1)] if kandidater else match.group()


def _finner_nagot(user, texter):
    """For each of `texter`, whether the user's search finds a case with it: one query of one
    EXISTS each, the search's own condition on the user's scope, each stopping at its first case.

    On PostgreSQL only bitmap scans are allowed for it. EXISTS is planned to fetch one row, and
    the planner, which cannot tell how many cases a prefix query matches, guesses dozens: a scan
    of the whole table (or of the user's scope) in the hope of meeting one early, which for a
    word that finds nothing reads every case (140 ms at 20,000 cases for the superuser, growing
    with the diarium, where the indexes answer in under 1 ms). From the indexes a word costs its
    matches at most (1 ms for one in 1,200 cases)."""
    delar, params = [], []
    for text in texter:
        try:
            sql, p = filtrera(Arende.objects.for_user(user), text).order_by().values("pk")[:1].query.sql_with_params()
        except EmptyResultSet:  # a user who may see no case
            return [False] * len(texter)
        delar.append(f"EXISTS ({sql})")
        params.extend(p)
    if not _is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(delar), params)
            return [bool(svar) for svar in cursor.fetchone()]
    # SET LOCAL ends with the transaction, whatever happens in it: a setting left on a connection
    # that outlives the request would plan every later query of that worker without them.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        cursor.execute("SELECT " + ", ".join(delar), params)
        return list(cursor.fetchone())


def _liknande_pg(ord_):
    return {o: [k for k in liknande_ord(o) if k != o] for o in ord_}


def liknande_ord(o):
    """The KANDIDATER words of the diarium most like `o` (PostgreSQL), `o` itself among them if
    the diarium holds it: those `o` is like a part
    of (pg_trgm's word similarity, at its threshold 0.6), the most alike first, then the most
    alike as whole words (of two words that hold "kameror", "kameror" before
    "trygghetskameror")."""
    from django.contrib.postgres.lookups import TrigramWordSimilar
    from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity

    return (
        Sokord.objects.filter(TrigramWordSimilar(F("ord"), o))
        .order_by(TrigramWordSimilarity(o, "ord").desc(), TrigramSimilarity("ord", o).desc(), "ord")
        .values_list("ord", flat=True)[:KANDIDATER]
    )


def _liknande_sqlite(user, ord_):
    titlar = Arende.objects.for_user(user).order_by(*NYAST_FORST).values_list("arendemening", flat=True)
    ordforrad = {o.lower() for titel in titlar[:SQLITE_ARENDEN] for o in _ORD.findall(titel)}
    ordforrad = sorted(o for o in ordforrad if len(o) >= MIN_ORDLANGD)
    return {o: difflib.get_close_matches(o, ordforrad, KANDIDATER, SQLITE_LIKHET) for o in ord_}
