"""A case's timeline: what happened to it, read back from the history the services write."""

import datetime
import functools
import itertools

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import CharField, F, IntegerField, Value
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim
from django.utils import timezone

from atgarder.models import Aktor, Atgard, Drogscen

from .models import (
    Arende,
    Attestering,
    Avdelning,
    Foredragningspunkt,
    Forvaltning,
    Namnd,
    Sammantrade,
    Tjansteutlatande,
)
from .services import (
    ATERREMITTERAT,
    ATTESTERAT,
    AVSLUTAT_EFTER_BESLUT,
    BESLUT_OCH_UTDRAG,
    BESLUTAD,
    BORDLAGT,
    BORTTAGEN_FRAN_LISTAN,
    DRAGET_TILLBAKA,
    MAKULERAD,
    SATT_PA_LISTAN,
    SEKTION_ANDRAD,
    SKAPAT,
    SKICKAT,
    STATUS,
    UTDRAG_BIFOGAT,
)

# A beslut writes the document's row and then the case's in one transaction, milliseconds apart.
SAMMA_HANDLING = datetime.timedelta(seconds=5)


def _handelse(reason, fallback):
    """Split a history reason "Sektion ändrad: Bakgrund" into its event and detail."""
    reason = reason or fallback
    makulerad = reason.endswith(MAKULERAD)
    if makulerad:
        reason = reason[: -len(MAKULERAD)]
    handelse, _, detalj = reason.partition(": ")
    if makulerad:
        handelse += " efter att dokumentet skickats för attest; attesten makulerad, åter utkast"
    return handelse, detalj


# What the timeline reads of a history row, and of the user who wrote it. Plain values, not
# model instances: the case's page is among those read most, and `only()` with the user joined
# cost the app a third more to build and load (0.8–0.9 against 0.6–0.7 ms a query).
HISTORIK = ("history_date", "history_id", "history_type", "history_change_reason")
NAMN = ("id", "first_name", "last_name", "username")


class _Personer(dict):
    """The users of a timeline by id, each a User carrying only the names the timeline shows
    (one instance per person, so that a person's events compare equal)."""

    def ur(self, rad, via):
        pk = rad[f"{via}__id"]
        if pk is not None and pk not in self:
            self[pk] = get_user_model()(**{falt: rad[f"{via}__{falt}"] for falt in NAMN})
        return self.get(pk)


def _rader(qs, *falt, via="history_user"):
    return qs.values(*falt, *(f"{via}__{namn}" for namn in NAMN))


def tidslinje(arende, dokument=None):
    """Everything that happened to a case, oldest first: registration, skrivelser, documents
    created and edited (who, which section), sent, attested, returned (with the comment).
    `dokument` is the case's documents when the caller has already read them."""
    handelser, personer = [], _Personer()
    beslut = {"dokument": [], "arende": []}  # one act, two rows: `_sammanfoga_beslut`

    def add(tid, anvandare, handelse, detalj=""):
        handelser.append({"tid": tid, "anvandare": anvandare, "handelse": handelse, "detalj": detalj})

    def i_ordning(qs, *falt):  # only the columns told: a document's rows carry its frozen content
        rader = _rader(qs, *HISTORIK, *falt).order_by("history_date", "history_id")
        return [(rad, personer.ur(rad, "history_user")) for rad in rader]

    for rad, vem in i_ordning(Arende.history.filter(id=arende.pk), "registrerad", "diarienummer"):
        if rad["history_type"] == "+":
            # An older case entered later keeps its diarium date as the moment of registration;
            # one registered the day it came in, the moment it was.
            tid = rad["history_date"]
            if rad["registrerad"] < timezone.localdate(tid):
                tid = timezone.make_aware(datetime.datetime.combine(rad["registrerad"], datetime.time.min))
            add(tid, vem, "Ärendet registrerat", rad["diarienummer"])
        else:
            handelse, detalj = _handelse(rad["history_change_reason"], "Ärendet ändrat")
            if handelse == STATUS:
                handelse = "Ärendets status ändrad"
            add(rad["history_date"], vem, handelse, detalj)
            if handelse in (AVSLUTAT_EFTER_BESLUT, BESLUT_OCH_UTDRAG):
                beslut["arende"].append(handelser[-1])
    for rad, vem in i_ordning(arende.skrivelser.model.history.filter(arende_id=arende.pk), "titel"):
        text = {"+": "Skrivelse registrerad", "~": "Skrivelse ändrad", "-": "Skrivelse borttagen"}[rad["history_type"]]
        add(rad["history_date"], vem, text, rad["titel"])

    if dokument is None:
        dokument = list(arende.tjansteutlatanden.defer("innehall"))
    kedjor = {}
    # Each step built from its values, with its attestant's names, for what the model tells of it.
    steg_falt = ("tjansteutlatande_id", "omgang", "ordning", "namn", "befattning", "attesterad", "makulerad")
    stegen = Attestering.objects.filter(tjansteutlatande__in=dokument).order_by("ordning")
    for rad in _rader(stegen, *steg_falt, via="attestant"):
        steg = Attestering(**{falt: rad[falt] for falt in steg_falt}, attestant=personer.ur(rad, "attestant"))
        kedjor.setdefault((steg.tjansteutlatande_id, steg.omgang), []).append(steg)
    # Every document's history in one query, however many documents the case has.
    tu_historik = Tjansteutlatande.history.filter(id__in=[tu.pk for tu in dokument])
    for rad, vem in i_ordning(tu_historik, "id", "titel", "attest_omgang", "aterremiss_kommentar"):
        reason = rad["history_change_reason"] or ""
        if rad["history_type"] == "+":
            add(rad["history_date"], vem, SKAPAT, rad["titel"])
        elif reason == SKICKAT:
            kedja = kedjor.get((rad["id"], rad["attest_omgang"]), [])
            attestanter = " → ".join(steg.namn_eller_anvandare for steg in kedja)
            add(rad["history_date"], vem, SKICKAT, f"Attestanter: {attestanter}")
        elif reason == ATERREMITTERAT:
            add(rad["history_date"], vem, ATERREMITTERAT, rad["aterremiss_kommentar"])
        elif reason == DRAGET_TILLBAKA:
            kedja = kedjor.get((rad["id"], rad["attest_omgang"]), [])
            add(rad["history_date"], vem, DRAGET_TILLBAKA, _makulerade(kedja))
        elif reason.startswith(ATTESTERAT):
            continue  # told by the attestation itself below, at the moment it was given
        elif reason.startswith((SATT_PA_LISTAN, BORTTAGEN_FRAN_LISTAN, BORDLAGT)):
            continue  # told by the case's own row of the same moment, which names the document
        elif reason.startswith(f"{BESLUTAD}: "):
            add(rad["history_date"], vem, BESLUTAD, reason[len(BESLUTAD) + 2 :])
            beslut["dokument"].append((handelser[-1], rad["titel"]))
        else:
            add(rad["history_date"], vem, *_handelse(reason, "Dokumentet ändrat"))
    for kedja in kedjor.values():
        for steg in kedja:
            if steg.attesterad:
                detalj = f"{steg.namn}, {steg.befattning} (steg {steg.ordning} av {len(kedja)})"
                if steg.makulerad:
                    detalj += "; senare makulerad"
                add(steg.attesterad, steg.attestant, ATTESTERAT, detalj)
    handelser.sort(key=lambda h: h["tid"])
    return _sammanfoga_sparningar(_sammanfoga_beslut(handelser, **beslut))


def _sammanfoga_beslut(handelser, dokument, arende):
    """A beslut as one event: "Beslutad, ärendet avslutat" with the meeting, the item and the
    document decided ("Skärholmens stadsdelsnämnd 2024-05-23, punkt 1: ”Öppna drogscener”;
    protokollsutdrag bifogat"). Registering it writes the document's row ("Beslutad: …") and the
    case's ("Avslutat efter beslut: …", or "Beslut och protokollsutdrag: …" while another of its
    documents waits), which both stay as the history of each; neither names the document, and
    the case's alone says whether it closed the case. Rows are one act when they name the same
    meeting and item, by the same person, written within `SAMMA_HANDLING`; any other row is told
    as it was written."""
    tagna = set()
    for dok, titel in dokument:
        mote_punkt = dok["detalj"]
        # A case's row cut at the reason column's 100 characters still matches while its meeting
        # and item are whole ("punkt 1" is not "punkt 12").
        arendets = next(
            (
                h
                for h in arende
                if id(h) not in tagna
                and h["anvandare"] == dok["anvandare"]
                and abs(h["tid"] - dok["tid"]) <= SAMMA_HANDLING
                and len(h["detalj"]) >= len(mote_punkt)
                and f"{mote_punkt}{UTDRAG_BIFOGAT}".startswith(h["detalj"])
            ),
            None,
        )
        if arendets is None:
            continue
        tagna.add(id(arendets))
        avslutat = arendets["handelse"] == AVSLUTAT_EFTER_BESLUT
        dok["handelse"] = f"{BESLUTAD}, ärendet avslutat" if avslutat else BESLUTAD
        dok["detalj"] = f"{mote_punkt}: ”{titel}”{UTDRAG_BIFOGAT}"
    return [h for h in handelser if id(h) not in tagna]


def _makulerade(kedja):
    """What a withdrawal did to its round: the text is unchanged, and the attestations already
    given in it are void."""
    namn = [steg.namn_eller_anvandare for steg in kedja if steg.attesterad]
    if not namn:
        return "Åter utkast, oförändrat"
    slag = "makulerad attest" if len(namn) == 1 else "makulerade attester"
    return f"Åter utkast, oförändrat; {slag}: {', '.join(namn)}"


def _sammanfoga_sparningar(handelser):
    """Consecutive saves of sections by one person on one day as one event, its detail the
    sections in the order first saved: "Bakgrund, Förslag till beslut (7 sparningar, den sista
    14:32)". An officer saves a section many times while writing, and a case's timeline is read
    for what happened to it; the document's history in the admin keeps every save."""

    def nyckel(h):  # every other event is a group of its own
        return (h["anvandare"], timezone.localdate(h["tid"])) if h["handelse"] == SEKTION_ANDRAD else id(h)

    ut = []
    for _, grupp in itertools.groupby(handelser, key=nyckel):
        forsta, *fler = grupp
        if fler:
            sektioner = ", ".join(dict.fromkeys(h["detalj"] for h in [forsta, *fler]))
            sista = timezone.localtime(fler[-1]["tid"]).strftime("%H:%M")
            forsta = {**forsta, "detalj": f"{sektioner} ({len(fler) + 1} sparningar, den sista {sista})"}
        ut.append(forsta)
    return ut


def _text(falt):
    return Cast(falt, CharField())


def _mina_handelser_fran():
    """Whose history the start page's recent actions read: (model, how a row names its object,
    the case it belongs to, the page it leads to as (model, id)). A name is read from the row, as
    the object's `__str__` reads it: the title a document had then. A document's sections,
    åtgärder, bilagor, signatories and attestations are written with a row of the document,
    which tells those acts; a meeting's item, which has no page of its own, leads to its meeting."""
    punkten = Concat(
        "sammantrade__namnd__namn",
        Value(" "),
        _text("sammantrade__datum"),
        Value(", punkt "),
        _text("nummer"),
        Value(": "),
        Coalesce(NullIf("titel", Value("")), "tjansteutlatande__titel"),
    )
    return (
        (Tjansteutlatande, Concat("arende__diarienummer", Value(" "), "titel"), F("arende_id"), None),
        (Arende, Concat("diarienummer", Value(" "), "arendemening"), F("id"), None),
        (Sammantrade, Concat("namnd__namn", Value(" "), _text("datum")), None, None),
        (
            Foredragningspunkt,
            punkten,
            Coalesce("arende_id", "tjansteutlatande__arende_id"),
            (Sammantrade, F("sammantrade_id")),
        ),
        (Atgard, F("titel"), None, None),
        (Drogscen, F("namn"), None, None),
        (Aktor, F("namn"), None, None),
        # A person by name, or by username when the account has none (`display_name`).
        (
            get_user_model(),
            Coalesce(NullIf(Trim(Concat("first_name", Value(" "), "last_name")), Value("")), "username"),
            None,
            None,
        ),
        (Forvaltning, F("namn"), None, None),
        (Avdelning, F("namn"), None, None),
        (Namnd, F("namn"), None, None),
    )


def mina_handelser(user, antal=10):
    """What `user` did last, newest first, as the admin's start page tells it: the rows of the
    history the services write that name them, not Django's LogEntry, which only the admin's own
    add and change forms write (a chef's attest and return never reached it). One query: each
    history's newest rows by the user, then the newest of all of them.

    One act can write several rows, each told once (`_en_per_handling`). Each is a dict: `tid`,
    `typ` (simple_history's "+", "~", "-"), `orsak` (the reason the service gave), `model` and
    `namn` of what it changed, and the page it leads to, `sida` (model) and `sida_id`."""
    if not user.is_authenticated:
        return []
    fran = _mina_handelser_fran()
    sql, params, kolumner, konverterare = _mina_handelser_fraga(connection.alias, antal)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk if p == _ANVANDAREN else p for p in params])
        rader = cursor.fetchall()
    handelser = []
    for rad in rader:
        rad = list(rad)
        for i, (funktioner, uttryck) in konverterare.items():
            for funktion in funktioner:
                rad[i] = funktion(rad[i], uttryck, connection)
        rad = dict(zip(kolumner, rad, strict=True))
        model, _, _, sida = fran[rad["gren"]]
        handelser.append(
            {
                "tid": rad["skedde"],
                "typ": rad["slag"],
                "orsak": rad["skal"],
                "model": model,
                "namn": rad["benamning"],
                "arende": rad["i_arende"],
                "sida": model if sida is None else sida[0],
                "sida_id": rad["sidans_id"],
            }
        )
    return _en_per_handling(handelser)[:antal]


# No user has this id: it stands for the user in the query compiled once (`_mina_handelser_fraga`).
_ANVANDAREN = -1


@functools.cache
def _mina_handelser_fraga(alias, antal):
    """The start page's query, compiled once per process: building and compiling its eleven
    parts took the ORM several times what PostgreSQL takes to answer it. (sql, params with
    `_ANVANDAREN` where the user goes, column names, the database's converters by column.)"""
    grenar = []
    for i, (model, namn, arende, sida) in enumerate(_mina_handelser_fran()):
        historik = model.history.model.objects
        egna = historik.filter(history_user_id=_ANVANDAREN).order_by("-history_date", "-history_id")
        grenar.append(
            historik.filter(history_id__in=egna.values("history_id")[: 3 * antal])
            .order_by()
            .values(
                # Names no history table has as a field, which an annotation may not shadow.
                skedde=F("history_date"),
                slag=F("history_type"),
                skal=F("history_change_reason"),
                gren=Value(i),
                benamning=namn,
                i_arende=Value(None, output_field=IntegerField()) if arende is None else arende,
                sidans_id=F("id") if sida is None else sida[1],
            )
        )
    forsta, *ovriga = grenar
    compiler = forsta.union(*ovriga, all=True).order_by("-skedde")[: 3 * antal].query.get_compiler(alias)
    sql, params = compiler.as_sql()
    select = [uttryck for uttryck, _, _ in compiler.select]
    return sql, tuple(params), [namn for _, _, namn in compiler.select], compiler.get_converters(select)


def _en_per_handling(handelser):
    """One line an act, of rows newest first. An attest, a return, a beslut or a document put on
    a meeting's list writes the document's row and, within `SAMMA_HANDLING`, its case's and its
    item's: told by the document's. A list put in a new order writes a row for each item it
    renumbered, with the same reason: told once, with how many more (`fler`)."""
    dokumentens = [(h["arende"], h["tid"]) for h in handelser if h["model"] is Tjansteutlatande]
    ut = []
    for h in handelser:
        if h["model"] is not Tjansteutlatande and any(
            a == h["arende"] and abs(h["tid"] - t) <= SAMMA_HANDLING for a, t in dokumentens
        ):
            continue
        forra = ut[-1] if ut else {}
        if (
            h["model"] is Foredragningspunkt
            and (forra.get("model"), forra.get("sida_id"), forra.get("orsak")) == (h["model"], h["sida_id"], h["orsak"])
            and forra["tid"] - h["tid"] <= SAMMA_HANDLING
        ):
            forra["fler"] += 1
            continue
        ut.append({**h, "fler": 0})
    return ut
