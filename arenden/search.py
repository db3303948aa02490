"""Search over the diarium: diarienummer, ärendemening, skrivelser, section text and åtgärd titles.

On PostgreSQL this is Swedish full-text search: words are stemmed ("drogscenerna" finds
"drogscen"), results are ranked, and the matching words are highlighted by ts_headline. Each
source table has a GIN expression index over exactly the vectors below (migration
0003_sammantrade), so nothing has to keep a stored search column up to date: whatever writes a
section, a skrivelse or an åtgärd, the index follows. The newest RANKADE matches are ranked,
the best MAX_TRAFFAR shown. On SQLite a plain contains-search is used.
"""

import html
import re

from django.db import connection
from django.db.models import Exists, FloatField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from atgarder.models import Atgard

from .models import Arende, Sektion, Skrivelse, TjansteutlatandeAtgard

SPRAK = "swedish"
MAX_TRAFFAR = 50
RANKADE = 200
_START, _STOP = "⟦", "⟧"  # markers no document text uses; replaced by <mark> after escaping
_HEADLINE_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, MaxFragments=3, FragmentDelimiter=\" … \", MaxWords=25"

# The indexed expressions. Migration 0003 creates one GIN index per entry with the same SQL
# (a query uses an expression index only when it is written exactly alike; a test checks it).
SOKFALT = {
    Arende: ("arendemening",),
    Skrivelse: ("titel", "text"),
    Sektion: ("text", "avslutning"),
    Atgard: ("titel",),
}

# Longest search text that is used: no diarienummer, title or phrase is longer, and SQLite
# refuses LIKE patterns over 50 kB with an error, so a longer text is cut here, not sent.
MAX_SOKTEXT = 200


def _is_postgres():
    return connection.vendor == "postgresql"


def _vektor(model):
    from django.contrib.postgres.search import SearchVector

    return SearchVector(*SOKFALT[model], config=SPRAK)


def _kallor(query):
    """Per source: a queryset of that table's rows belonging to the outer ärende, filtered to
    those matching the query."""
    skrivelser = Skrivelse.objects.filter(arende=OuterRef("pk"))
    sektioner = Sektion.objects.filter(tjansteutlatande__arende=OuterRef("pk"))
    atgarder = TjansteutlatandeAtgard.objects.filter(tjansteutlatande__arende=OuterRef("pk"))
    if _is_postgres():
        return {
            "skrivelse": skrivelser.annotate(v=_vektor(Skrivelse)).filter(v=query),
            "sektion": sektioner.annotate(v=_vektor(Sektion)).filter(v=query),
            "atgard": atgarder.filter(
                atgard__in=Atgard.objects.annotate(v=_vektor(Atgard)).filter(v=query).values("pk")
            ),
        }
    return {
        "skrivelse": skrivelser.filter(Q(titel__icontains=query) | Q(text__icontains=query)),
        "sektion": sektioner.filter(Q(text__icontains=query) | Q(avslutning__icontains=query)),
        "atgard": atgarder.filter(atgard__titel__icontains=query),
    }


def _matchning(fraga):
    """The query and the condition an ärende matches `fraga` by: its number (contains, served
    by a trigram index on PostgreSQL), its ärendemening, or any of its sources. On PostgreSQL
    the condition needs the ärende's vector annotated as `sokvektor` (see `filtrera`)."""
    # PostgreSQL refuses NUL in any text parameter; no diarium text holds one.
    fraga = fraga.replace("\x00", "")
    if _is_postgres():
        from django.contrib.postgres.search import SearchQuery

        query = SearchQuery(fraga, config=SPRAK, search_type="websearch")
        egen = Q(diarienummer__icontains=fraga) | Q(sokvektor=query)
    else:
        query = fraga
        egen = Q(diarienummer__icontains=fraga) | Q(arendemening__icontains=fraga)
    kallor = _kallor(query)
    return query, kallor, egen | Q(*[Exists(k) for k in kallor.values()], _connector=Q.OR)


def filtrera(arenden, fraga):
    """`arenden` narrowed to those matching `fraga`, unranked: the start page's search, the
    same match as the diarium search."""
    _query, _kallor_, villkor = _matchning(fraga)
    if _is_postgres():
        arenden = arenden.annotate(sokvektor=_vektor(Arende))
    return arenden.filter(villkor)


def sok_arenden(user, fraga):
    """The ärenden the user may see that match `fraga`, best first, each with `traff` (a short
    HTML-safe text with the matching words in <mark>) and `trafford` (those words)."""
    fraga = (fraga or "").strip()
    if not fraga:
        return []
    qs = filtrera(Arende.objects.for_user(user), fraga)
    if _is_postgres():
        from django.contrib.postgres.search import SearchRank

        query, kallor, _villkor = _matchning(fraga)
        rank = SearchRank(_vektor(Arende), query) * 2
        for namn, model in (("skrivelse", Skrivelse), ("sektion", Sektion)):
            delrank = (
                kallor[namn].annotate(r=SearchRank(_vektor(model), query)).order_by("-r").values("r")[:1]
            )
            rank = rank + Coalesce(Subquery(delrank, output_field=FloatField()), Value(0.0))
        # Ranking reads every candidate's texts again (the indexes hold no vectors), so only the
        # newest RANKADE matches are ranked: a word in most cases ("polisen") cost seconds when
        # every match of a 200,000-case diarium was ranked.
        nyaste = qs.order_by("-ar", "-lopnummer").values("pk")[:RANKADE]
        qs = (
            Arende.objects.filter(pk__in=nyaste)
            .annotate(rank=rank)
            .order_by("-rank", "-ar", "-lopnummer")
        )
    else:
        qs = qs.order_by("-ar", "-lopnummer")
    traffar = list(qs.select_related("handlaggare")[:MAX_TRAFFAR])
    _markera(traffar, fraga)
    return traffar


def _korpus(arenden):
    """Each ärende's searchable text as one plain string, read in a fixed number of queries."""
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
    korpus = _korpus(arenden)
    if _is_postgres():
        # ts_headline over each plain corpus, with the same stemming as the match, so
        # "drogscenerna" marks "drogscen" and "drogscener". One query for the whole page.
        pks = list(korpus)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ts_headline(%s::regconfig, t, websearch_to_tsquery(%s::regconfig, %s), %s) "
                "FROM unnest(%s::text[]) WITH ORDINALITY AS k(t, n) ORDER BY n",
                [SPRAK, SPRAK, fraga, _HEADLINE_OPTIONS, [korpus[pk] for pk in pks]],
            )
            headlines = dict(zip(pks, (row[0] for row in cursor.fetchall()), strict=True))
    else:
        headlines = {pk: _utdrag(text, fraga) for pk, text in korpus.items()}
    for arende in arenden:
        text = headlines.get(arende.pk, "")
        arende.trafford = sorted({w.lower() for w in re.findall(f"{_START}(.*?){_STOP}", text)})
        arende.traff = (
            html.escape(text).replace(_START, "<mark>").replace(_STOP, "</mark>") if arende.trafford else ""
        )


def _utdrag(text, fraga, bredd=90):
    """A contains-match excerpt with the hit marked (SQLite has no ts_headline)."""
    traff = text.lower().find(fraga.lower())
    if traff < 0:
        return ""
    start, slut = max(0, traff - bredd), min(len(text), traff + len(fraga) + bredd)
    ord_ = text[traff : traff + len(fraga)]
    prefix = "… " if start else ""
    suffix = " …" if slut < len(text) else ""
    return f"{prefix}{text[start:traff]}{_START}{ord_}{_STOP}{text[traff + len(fraga):slut]}{suffix}"
