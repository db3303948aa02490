"""Every state change that writes to the diarium goes through a function here.

The admin and the officers' views call the same functions; neither sets a number or a status
by hand.
"""

import contextlib
import datetime
import hashlib
import html
import json
import logging
import re
import threading
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from .constants import (
    ANDRINGSBARA,
    EXPORT_FRAMSTEGSGRANS,
    EXPORT_PULS,
    KOMMENTAR_SAKNAS,
    ArendeStatus,
    ExportStatus,
    ExportTyp,
    TjansteutlatandeStatus,
    kommentaren_for_lang,
)
from .html import sanitize_html
from .models import (
    ANDRA_TJANSTEUTLATANDE,
    SKAPA_TJANSTEUTLATANDE,
    SKICKA_FOR_ATTEST,
    Arende,
    Attestering,
    Bilaga,
    DiarieSekvens,
    Foredragningspunkt,
    Profil,
    Sammantrade,
    Sammantradesexport,
    Sektion,
    Skrivelse,
    Tjansteutlatande,
    TjansteutlatandeAtgard,
    Undertecknare,
    arbetar_i,
    display_name,
    display_name_from,
    is_namndsekreterare,
    kontrollera_chef,
    kontrollera_medarbetare,
    medarbetarhinder,
    namnder_for,
    parse_diarienummer,
)
from .snapshot import build_snapshot, snapshot_hash

logger = logging.getLogger(__name__)

S = TjansteutlatandeStatus
A = ArendeStatus

# The document's state rules, all of them. Event -> (states it may start from, state it leads to).
# A plain table rather than a state-machine library: five states and a handful of events read
# best as data, and every transition function below checks against it under the row lock.
OVERGANGAR = {
    "skicka_for_attest": ({S.UTKAST}, S.TILL_ATTEST),
    "attestera": ({S.TILL_ATTEST}, S.TILL_ATTEST),  # a step of the chain that is not the last
    "sista_attest": ({S.TILL_ATTEST}, S.ATTESTERAD),
    "aterremittera": ({S.TILL_ATTEST}, S.UTKAST),
    # The handläggare takes it back unchanged (a wrong chef in the chain, or one who cannot attest it).
    "dra_tillbaka": ({S.TILL_ATTEST}, S.UTKAST),
    # Any edit. After sending it voids the round's attestations and the document is a draft again.
    "andra": (ANDRINGSBARA, S.UTKAST),
    # The nämnd secretary's transitions (meeting workflow).
    "satt_pa_foredragningslista": ({S.ATTESTERAD}, S.PA_FOREDRAGNINGSLISTA),
    "ta_bort_fran_foredragningslista": ({S.PA_FOREDRAGNINGSLISTA}, S.ATTESTERAD),
    "besluta": ({S.PA_FOREDRAGNINGSLISTA}, S.BESLUTAD),
    # The nämnd postponed the item: the attested document waits for a later meeting's list.
    "bordlagg": ({S.PA_FOREDRAGNINGSLISTA}, S.ATTESTERAD),
}

# Where the ärende stands once its document reaches a state; the ärende is never edited by hand.
ARENDE_FOLJER = {
    S.UTKAST: A.UNDER_BEREDNING,
    S.TILL_ATTEST: A.UNDER_BEREDNING,
    S.ATTESTERAD: A.REDO_FOR_NAMND,
    S.PA_FOREDRAGNINGSLISTA: A.PA_FOREDRAGNINGSLISTA,
    S.BESLUTAD: A.AVSLUTAT,
}

VERB = {
    "skicka_for_attest": "skickas för attest",
    "attestera": "attesteras",
    "sista_attest": "attesteras",
    "aterremittera": "återremitteras",
    "dra_tillbaka": "dras tillbaka från attest",
    "andra": "ändras",
    "satt_pa_foredragningslista": "sättas på föredragningslistan",
    "ta_bort_fran_foredragningslista": "tas bort från föredragningslistan",
    "besluta": "beslutas",
    "bordlagg": "bordläggas",
}

# History change reasons the timeline reads back.
SKAPAT = "Tjänsteutlåtande skapat"
SKICKAT = "Skickat för attest"
ATTESTERAT = "Attesterat"
ATERREMITTERAT = "Återremitterat"
DRAGET_TILLBAKA = "Draget tillbaka från attest"
MAKULERAD = " (attesten makulerad)"
SEKTION_ANDRAD = "Sektion ändrad"
STATUS = "Status"  # the case following its document (`_folj_arende`)
SATT_PA_LISTAN = "Satt på föredragningslistan"
BORTTAGEN_FRAN_LISTAN = "Borttagen från föredragningslistan"
# Every answer that says it leads back to the meeting's page, loaded anew with the list as it is
# now: no "Ladda om sidan", which belongs only where the user stays on the page they came from.
BORTTAGEN_PUNKT = "Punkten har tagits bort från föredragningslistan."
BORDLAGT = "Bordlagt"
# A beslut writes two rows: the document's, and the case's, which says whether it closed the case.
BESLUTAD = "Beslutad"
BESLUT_OCH_UTDRAG = "Beslut och protokollsutdrag"
AVSLUTAT_EFTER_BESLUT = "Avslutat efter beslut"
UTDRAG_BIFOGAT = "; protokollsutdrag bifogat"
# What the protocol, the extract and the case's decisions say of a postponed item.
BORDLAGGS = "Ärendet bordläggs."
HUVUDFALT = ("titel", "undertitel", "namnd", "sammantradesdatum", "telefon", "handlaggare")
NY_HANDLAGGARE = "Ny handläggare för ärendet"
HANDLAGGARE_FOR = "handläggare för ärendet"  # the place `kontrollera_medarbetare` names

# MallSektion.nyckel of the section the nämnd decides on.
FORSLAG_TILL_BESLUT = "forslag_till_beslut"


class WorkflowError(Exception):
    """A domain rule refused the change; the message is Swedish and shown to the user."""


def next_lopnummer(*, prefix, ar):
    """Take the next number of a prefix's series for a year.

    Must run inside the transaction that saves the ärende: the series row stays locked until
    commit, so concurrent registrations wait their turn, and a registration that rolls back
    gives its number back. That is how the series neither repeats nor skips.
    """
    # Create the row if it is missing without racing another first registration of the year:
    # ON CONFLICT DO NOTHING on PostgreSQL, INSERT OR IGNORE on SQLite.
    DiarieSekvens.objects.bulk_create([DiarieSekvens(prefix=prefix, ar=ar)], ignore_conflicts=True)
    series = DiarieSekvens.objects.select_for_update().get(prefix=prefix, ar=ar)
    series.senaste += 1
    series.save(update_fields=["senaste"])
    return series.senaste


def registrera_arende(*, arende, user, registrerad=None):
    """Register a new ärende. A blank diarienummer gets the next number of the förvaltning's
    series for the current year; a hand-entered one (an older case) is kept after validation."""
    if arende.pk:
        raise WorkflowError("Ärendet är redan registrerat.")
    with transaction.atomic():
        kontrollera_medarbetare(
            arende.handlaggare, arende.forvaltning, falt="handlaggare", som=HANDLAGGARE_FOR, behover_roll=True
        )
        if registrerad:
            arende.registrerad = registrerad
        # Checked again on the day the number is taken: a form checked before midnight on New
        # Year's Eve and saved after it would put last year's case in this year's series.
        idag = timezone.localdate()
        if fel := arende.fel_i_registreringsdagen(idag):
            raise ValidationError({"registrerad": fel})
        if arende.diarienummer:
            prefix, ar, lopnummer = parse_diarienummer(arende.diarienummer)
        else:
            prefix = arende.forvaltning.diarieprefix
            ar = idag.year
            lopnummer = next_lopnummer(prefix=prefix, ar=ar)
            arende.diarienummer = f"{prefix} {ar}/{lopnummer}"
        arende.ar, arende.lopnummer = ar, lopnummer
        arende._history_user = user
        arende._change_reason = "Registrerat"
        # A hand-entered number the form found free may have been taken by a colleague before
        # this write: the unique constraints refuse it, and the page can be shown again.
        taget = f"Diarienumret {arende.diarienummer} finns redan i diariet och kan inte användas igen."
        with utan_krock(taget, falt="diarienummer"):
            arende.save()
    return arende


# The history reason of a skrivelse registered on a case, from the officers' page or the admin's.
SKRIVELSE_REGISTRERAD = "Skrivelse registrerad"


def citerade_orsak(citerade):
    """The history reason of a case's cited cases written in a row of their own (a case
    registered with them in the admin: they are written after it, once it has an id)."""
    return f"Citerade ärenden: {', '.join(a.diarienummer for a in citerade)}"[:100]


def registrera_skrivelse(*, arende, skrivelse, user):
    """Register a new ärende from a skrivelse the nämnd sent for beredning: the case gets its
    diarienummer and the skrivelse is stored with it, in one transaction, so a skrivelse that
    fails to save gives its number back."""
    with transaction.atomic():
        registrera_arende(arende=arende, user=user)
        skrivelse.arende = arende
        skrivelse.full_clean()
        skrivelse._history_user = user
        skrivelse._change_reason = SKRIVELSE_REGISTRERAD
        skrivelse.save()
    return arende


class ConflictError(WorkflowError):
    """Someone saved the same text after the user loaded it. Carries both versions so the
    user's text is never lost: the form shows theirs next to what is stored now. `falt` names
    the form field the message belongs on, when it is one value (a diarienummer taken)."""

    def __init__(
        self,
        message,
        *,
        current_text="",
        current_avslutning="",
        your_text="",
        your_avslutning="",
        current_version=0,
        falt=None,
        sparad_av=None,
        sparad=None,
    ):
        super().__init__(message)
        self.falt = falt
        # Who saved what is stored now, and when, where the history tells it.
        self.sparad_av = sparad_av
        self.sparad = sparad
        self.current_text = current_text
        self.current_avslutning = current_avslutning
        self.your_text = your_text
        self.your_avslutning = your_avslutning
        self.current_version = current_version


class DokumentetFinns(WorkflowError):
    """The case already has a document not yet decided: the work goes on in that one."""

    def __init__(self, tjansteutlatande):
        super().__init__(
            f"Ärendet har redan tjänsteutlåtandet ”{tjansteutlatande.titel}” "
            f"({tjansteutlatande.get_status_display().lower()}). Ett nytt kan skapas först när det är beslutat."
        )
        self.tjansteutlatande = tjansteutlatande


def _overgang(tu, handelse):
    """The state `handelse` leads to from the document's current state, or a Swedish refusal."""
    fran, till = OVERGANGAR[handelse]
    if tu.status not in fran:
        raise WorkflowError(f"Dokumentet har status ”{tu.get_status_display()}” och kan inte {VERB[handelse]}.")
    return till


def spara_med_orsak(obj, user, reason, update_fields=None):
    """Save `obj` with its history row naming `user` and `reason` (cut to the history table's
    column width)."""
    obj._history_user = user
    obj._change_reason = reason[:100]
    obj.save(update_fields=update_fields)
    return obj


def _befattning(user):
    profil = Profil.objects.filter(user=user).first()
    return profil.befattning if profil else ""


def _las(tu_pk):
    """Lock the document row. Every write to a document, its sections or its chain takes this
    lock first, so edits, sends and attests of one document happen one after another."""
    return Tjansteutlatande.objects.select_for_update().select_related("arende").get(pk=tu_pk)


def _kontrollera_behorighet(tu, user, perm, handling="ändra dokumentet"):
    """Services are a door of their own: check the permission and the user's scope here too.
    `user=None` is the system itself (demo loading, imports)."""
    if user is None:
        return
    if not user.has_perm(perm) or not Tjansteutlatande.objects.for_user(user).filter(pk=tu.pk).exists():
        raise WorkflowError(f"Du har inte behörighet att {handling}.")


def _folj_arende(tu, user):
    """Move the ärende to where its document's state puts it."""
    mal = ARENDE_FOLJER.get(tu.status)
    arende = Arende.objects.select_for_update().get(pk=tu.arende_id)
    if mal and arende.status != mal and not arende.is_closed:
        arende.status = mal
        spara_med_orsak(arende, user, f"{STATUS}: {A(mal).label}")


def _makulera(tu, user, orsak):
    """Void every attestation of the current round, pending and completed."""
    nu = timezone.now()
    for steg in tu.attesteringar.select_for_update().filter(omgang=tu.attest_omgang, makulerad__isnull=True):
        steg.makulerad = nu
        spara_med_orsak(steg, user, f"Makulerad: {orsak}")


def _avsluta_omgangen(tu, user, till, orsak):
    """A document sent for attest (or attested) goes back to `till`, a draft, under its lock: the
    round's attestations are void and the frozen content goes, since what is sent next may
    differ from it. Every way back to a draft ends a round so: an edit, a return, a withdrawal."""
    _makulera(tu, user, orsak)
    tu.status = till
    tu.innehall, tu.innehall_hash = None, ""


def _registrera_andring(tu, user, beskrivning):
    """Every edit of a document ends here, under its lock: the version goes up, and an edit of a
    document already sent for attest voids the round and makes it a draft again, because an
    attest means "I approved exactly this text"."""
    till = _overgang(tu, "andra")
    tu.version += 1
    reason = beskrivning
    if tu.status != S.UTKAST:
        _avsluta_omgangen(tu, user, till, beskrivning)
        reason = beskrivning[: 100 - len(MAKULERAD)] + MAKULERAD
    spara_med_orsak(tu, user, reason)
    _folj_arende(tu, user)


def _uppdatera(obj, fresh):
    """Bring the caller's instance up to date with what the service saved."""
    if obj is not None and obj is not fresh:
        obj.refresh_from_db()


def _kontrollera_namnd(arende, namnd):
    """A tjänsteutlåtande is the förvaltning's statement to the nämnd it answers to: the one
    nämnd of the case's förvaltning. Sent to another nämnd, that nämnd's secretary could put it
    on their agenda, decide it and close a case that is not theirs."""
    forvaltning = arende.forvaltning
    if namnd.pk != forvaltning.namnd_id:
        raise WorkflowError(
            f"Ett tjänsteutlåtande i {arende.diarienummer} ställs till {forvaltning.namnd}, den nämnd som "
            f"{forvaltning} svarar till, inte till {namnd}."
        )


def kontrollera_sammantradesdatum(arende, datum, idag=None):
    """The meeting a document is aimed at, as its handläggare (or a chef) chooses it: never one
    before the case was registered, which cannot be right, and never one already held. A document
    goes to the nämnd through attest and a secretary's list, so a meeting whose day has passed is
    one it can no longer reach: almost surely a mistyped year or month. The meeting's own day
    counts (the nämnd meets in the evening). Only a new choice is checked: a date chosen while
    the meeting was to come stays when the meeting has been held."""
    if datum is None:
        return
    if fel := arende.fel_i_sammantradesdagen(datum):
        raise ValidationError({"sammantradesdatum": fel})
    idag = idag or timezone.localdate()
    if datum < idag:
        raise ValidationError(
            {
                "sammantradesdatum": f"Sammanträdet {datum.isoformat()} har redan hållits. Ange dagen för det "
                f"sammanträde som dokumentet ska till, {idag.isoformat()} eller senare."
            }
        )


def skapa_tjansteutlatande(*, arende, mall, user, titel, undertitel="", namnd=None, sammantradesdatum=None):
    """Start a document on a case: one section per heading of the mall; the case is now under beredning."""
    if not mall.aktiv:
        raise WorkflowError(f"Mallen ”{mall}” är inte aktiv och kan inte användas för nya dokument.")
    if not (titel or "").strip():
        raise WorkflowError("Dokumentet behöver en titel.")
    with transaction.atomic():
        arende = Arende.objects.select_for_update().select_related("forvaltning").get(pk=arende.pk)
        if user is not None and (
            not user.has_perm(SKAPA_TJANSTEUTLATANDE) or not Arende.objects.for_user(user).filter(pk=arende.pk).exists()
        ):
            raise WorkflowError("Du har inte behörighet att skriva tjänsteutlåtanden i ärendet.")
        if arende.is_closed:
            raise WorkflowError("Ärendet är avslutat; inga nya dokument kan skrivas i det.")
        # The case's page offers the form only to a case without a document, but the form sent
        # again (the Back button) or by two colleagues at once still arrives here. Under the
        # case's lock the second waits for the first and then sees its document. A second draft
        # could not be deleted, and the case cannot close while a document is not decided.
        befintligt = arende.tjansteutlatanden.exclude(status=S.BESLUTAD).only("pk", "titel", "status").first()
        if befintligt is not None:
            raise DokumentetFinns(befintligt)
        handlaggare = arende.handlaggare or user
        if handlaggare is None:
            raise WorkflowError("Ärendet har ingen handläggare.")
        if arende.handlaggare is not None:
            # The new document names the case's handläggare: a new choice of them, though the case
            # keeps them (`kontrollera_medarbetare`'s `tidigare`). One who has left, or moved, would
            # stand in its header without being able to write it.
            hinder = medarbetarhinder(
                handlaggare, arende.forvaltning, som="handläggare för ett nytt tjänsteutlåtande", behover_roll=True
            )
            if hinder:
                raise WorkflowError(
                    f"Ärendets handläggare {hinder[0]} Ärendet behöver en annan handläggare först (registratorn "
                    "kan ge det till någon annan)."
                )
        if arende.handlaggare is None and not arbetar_i(user, arende.forvaltning):
            # The one who starts it is named its handläggare, and must work where a case's may.
            raise WorkflowError(
                f"Ärendet har ingen handläggare, och du arbetar inte i {arende.forvaltning}. Ge ärendet en "
                "handläggare i förvaltningen först."
            )
        namnd = namnd or arende.forvaltning.namnd
        _kontrollera_namnd(arende, namnd)
        kontrollera_sammantradesdatum(arende, sammantradesdatum)
        profil = Profil.objects.filter(user=handlaggare).first()
        tu = spara_med_orsak(
            Tjansteutlatande(
                arende=arende,
                mall=mall,
                handlaggare=handlaggare,
                telefon=profil.telefon if profil else "",
                namnd=namnd,
                sammantradesdatum=sammantradesdatum,
                titel=titel.strip(),
                undertitel=(undertitel or "").strip(),
            ),
            user,
            SKAPAT,
        )
        for mall_sektion in mall.sektioner.order_by("ordning", "pk"):
            spara_med_orsak(Sektion(tjansteutlatande=tu, mall_sektion=mall_sektion), user, "Skapad från mallen")
        _folj_arende(tu, user)
    arende.refresh_from_db()
    return tu


def spara_sektion(*, sektion, text, avslutning=None, expected_version, user):
    """Save a section's text (sanitised). `expected_version` is the version the user started
    from: if someone saved other text in between, nothing is written and ConflictError carries
    both texts. Text equal to the stored one is answered with the current version whatever
    version it came with: it overwrites nothing (a save sent twice, or a colleague's identical
    edit), so refusing it would only offer to throw away what was typed since."""
    ren_text = sanitize_html(text)
    ren_avslutning = None if avslutning is None else sanitize_html(avslutning)
    with transaction.atomic():
        tu = _las(sektion.tjansteutlatande_id)
        _kontrollera_behorighet(tu, user, ANDRA_TJANSTEUTLATANDE)
        fresh = Sektion.objects.select_for_update().select_related("mall_sektion").get(pk=sektion.pk)
        rubrik = fresh.mall_sektion.rubrik
        if fresh.text == ren_text and (ren_avslutning is None or fresh.avslutning == ren_avslutning):
            return fresh  # nothing changed: no new version, and an attest stays valid
        if fresh.version != expected_version:
            # Who saved the stored text: often the officer themself, in another tab or window,
            # whom "someone else" would send looking for a colleague.
            sparad = (
                fresh.history.filter(version=fresh.version)
                .select_related("history_user")
                .order_by("-history_date", "-history_id")
                .first()
            )
            sparad_av = sparad.history_user if sparad else None
            if sparad_av == user:
                vem = f"Du har själv sparat ”{rubrik}” i en annan flik eller ett annat fönster"
            elif sparad_av is not None:
                vem = f"{display_name(sparad_av)} har sparat ”{rubrik}”"
            else:
                vem = f"Någon annan har sparat ”{rubrik}”"
            raise ConflictError(
                f"{vem} medan du skrev här. Din text är inte sparad men finns kvar; jämför med den sparade "
                "texten och spara igen.",
                sparad_av=sparad_av,
                sparad=sparad.history_date if sparad else None,
                current_text=fresh.text,
                current_avslutning=fresh.avslutning,
                # As it would be stored: the page shows it as HTML beside the stored text.
                your_text=ren_text,
                your_avslutning=ren_avslutning or "",
                current_version=fresh.version,
            )
        fresh.text = ren_text
        if ren_avslutning is not None:
            fresh.avslutning = ren_avslutning
        fresh.version += 1
        spara_med_orsak(fresh, user, f"Ändrad: {rubrik}")
        _registrera_andring(tu, user, f"{SEKTION_ANDRAD}: {rubrik}")
    _uppdatera(sektion, fresh)
    return fresh


def _andrade_sedan(tu, version, falt):
    """Which of the fields changed after `version`, the one the user's form was made from. A
    section or a measure saved meanwhile raises the version too, but leaves these alone; a
    version the document never had counts every field as changed."""
    rader = list(
        tu.history.filter(version__gte=version).order_by("history_date", "history_id").values("version", *falt)
    )
    if not rader or rader[0]["version"] != version:
        return list(falt)
    return [f for f in falt if len({rad[f] for rad in rader}) > 1]


def uppdatera_tjansteutlatande(*, tjansteutlatande, data, expected_version, user, visat=None):
    """Change the header fields (titel, undertitel, nämnd, sammanträdesdatum, telefon, handläggare).
    `visat` is what the user's page showed for the fields of `data`, if it says: a field someone
    else changed since is refused (`andrat_av_andra`). Without it the history since
    `expected_version` is read instead, which cannot tell a change from one undone meanwhile."""
    okanda = set(data) - set(HUVUDFALT)
    if okanda:
        raise WorkflowError(f"Fälten {', '.join(sorted(okanda))} kan inte ändras här.")
    with transaction.atomic():
        tu = _las(tjansteutlatande.pk)
        _kontrollera_behorighet(tu, user, ANDRA_TJANSTEUTLATANDE)
        if visat is not None:
            andrade = andrat_av_andra(tu, data, visat)
        else:
            andrade = _andrade_sedan(tu, expected_version, data) if tu.version != expected_version else []
        if andrade:
            namn = ", ".join(str(Tjansteutlatande._meta.get_field(f).verbose_name) for f in andrade)
            raise ConflictError(
                f"Någon annan har ändrat {namn} medan du arbetade. Det du skrev är inte sparat men står kvar "
                "här; jämför med den sparade versionen (öppna dokumentet i en ny flik) och spara igen för att "
                "ersätta den.",
                current_version=tu.version,
            )
        if data.get("namnd") is not None:
            _kontrollera_namnd(tu.arende, data["namnd"])
        if "sammantradesdatum" in data and data["sammantradesdatum"] != tu.sammantradesdatum:
            kontrollera_sammantradesdatum(tu.arende, data["sammantradesdatum"])
        kontrollera_medarbetare(
            data.get("handlaggare"),
            tu.arende.forvaltning,
            falt="handlaggare",
            som="handläggare för dokumentet",
            tidigare=tu.handlaggare_id,
            behover_roll=True,
        )
        andrade = []
        for falt, varde in data.items():
            if getattr(tu, falt) != varde:
                setattr(tu, falt, varde)
                andrade.append(str(Tjansteutlatande._meta.get_field(falt).verbose_name))
        if not andrade:
            return tu
        tu.clean_fields(exclude=[f.name for f in Tjansteutlatande._meta.fields if f.name not in data])
        _registrera_andring(tu, user, f"Uppgifter ändrade: {', '.join(andrade)}")
    _uppdatera(tjansteutlatande, tu)
    return tu


# A case's fields that its admin page shows and changes, whose checksum is the page's version
# (`objektversion`): the status is moved by the services alone and is not among them.
ARENDE_FALT = (
    "arendemening",
    "handlaggare",
    "avdelning",
    "registrerad",
    "citerade",
    "citerade_utanfor_diariet",
)


def andra_arende(*, arende, falt, user, expected_version=None):
    """Save a registered case's fields named in `falt` as `arende` holds them (the admin's change
    form), never its status, and give the case's draft the new handläggare when that changed.
    `expected_version` is the case's `objektversion` of ARENDE_FALT on the user's page: if
    someone changed one of those since, nothing is written and ConflictError says so.

    Returns the case's documents that keep naming another handläggare because they are past
    drafting (sent for attest, attested, on a list or decided): nothing attested changes
    silently, so the caller tells the user instead."""
    with transaction.atomic():
        # The documents first, then the case: the order every document service locks them in
        # (`_las` locks the document with its case, `_folj_arende` the case after). Taking the
        # case first could deadlock with an officer's save of the draft.
        list(Tjansteutlatande.objects.select_for_update().filter(arende_id=arende.pk).order_by("pk").values("pk"))
        lagrad = Arende.objects.select_for_update().get(pk=arende.pk)
        i_scope = user is None or Arende.objects.for_user(user).filter(pk=arende.pk).exists()
        if not i_scope or (user is not None and not user.has_perm("arenden.change_arende")):
            raise WorkflowError("Du har inte behörighet att ändra ärendet.")
        # The request read the case when it began, and a service may have moved its status
        # since (a document sent, attested, put on a list), which a full save undid. The status
        # read under the lock goes into the history row, so that it records the case as it stands.
        if set(falt) & set(ARENDE_FALT):  # a page saved unchanged writes nothing over anyone
            kontrollera_objektversion(lagrad, ARENDE_FALT, expected_version, "ärendet")
        if "registrerad" in falt and (fel := arende.fel_i_registreringsdagen(tidigare=lagrad.registrerad)):
            # Again under the lock: a secretary may have put the case on a meeting's list since the
            # form's check, and the nämnd cannot have dealt with it before it was registered.
            raise ValidationError({"registrerad": fel})
        if "handlaggare" in falt:
            # A case given on is checked under its lock, whatever form or script gives it.
            kontrollera_medarbetare(
                arende.handlaggare,
                lagrad.forvaltning,
                falt="handlaggare",
                som=HANDLAGGARE_FOR,
                tidigare=lagrad.handlaggare_id,
                behover_roll=True,
            )
        falt = spara_andrade_falt(arende, lagrad, [f for f in falt if f != "status"], user)
        if "handlaggare" not in falt or arende.handlaggare_id is None:
            return []
        # Read again: a document created while this waited for the case (skapa_tjansteutlatande
        # holds the case while it creates one) names the handläggare the case had then.
        dokument = Tjansteutlatande.objects.select_for_update().select_related("arende")
        behallna = []
        for tu in dokument.filter(arende_id=arende.pk).exclude(handlaggare_id=arende.handlaggare_id).order_by("pk"):
            if tu.status != S.UTKAST:
                behallna.append(tu)
                continue
            _folj_handlaggaren(tu, arende.handlaggare, user)
    return behallna


def _folj_handlaggaren(tu, handlaggare, user):
    """A draft, under its lock, takes the case's handläggare and the telephone of their profile."""
    tu.handlaggare = handlaggare
    # The number printed beside the name is the one the nämnd calls with questions. A new
    # handläggare without one in their profile leaves it empty, as a new document of theirs
    # would be: the former handläggare's number beside their name would send the calls to
    # someone no longer on the case. They can write it in the header.
    profil = Profil.objects.filter(user_id=handlaggare.pk).first()
    tu.telefon = profil.telefon if profil else ""
    _registrera_andring(tu, user, f"{NY_HANDLAGGARE}: {display_name(handlaggare)}")


def lagg_till_atgard(*, tjansteutlatande, atgard, user):
    """Add an åtgärd last in the document's list."""
    with transaction.atomic():
        tu = _las(tjansteutlatande.pk)
        _kontrollera_behorighet(tu, user, ANDRA_TJANSTEUTLATANDE)
        if tu.atgard_val.filter(atgard=atgard).exists():
            raise WorkflowError(f"Åtgärden ”{atgard}” finns redan i dokumentet.")
        sista = tu.atgard_val.order_by("-ordning").values_list("ordning", flat=True).first() or 0
        val = spara_med_orsak(
            TjansteutlatandeAtgard(tjansteutlatande=tu, atgard=atgard, ordning=sista + 1), user, "Tillagd"
        )
        _registrera_andring(tu, user, f"Åtgärd tillagd: {atgard.titel}")
    _uppdatera(tjansteutlatande, tu)
    return val


def ta_bort_atgard(*, tjansteutlatande, atgard, user):
    with transaction.atomic():
        tu = _las(tjansteutlatande.pk)
        _kontrollera_behorighet(tu, user, ANDRA_TJANSTEUTLATANDE)
        val = tu.atgard_val.filter(atgard=atgard).first()
        if val is None:
            raise WorkflowError(f"Åtgärden ”{atgard}” finns inte i dokumentet.")
        val._history_user = user
        val._change_reason = "Borttagen"
        val.delete()
        _registrera_andring(tu, user, f"Åtgärd borttagen: {atgard.titel}")
    _uppdatera(tjansteutlatande, tu)


def ordna_atgarder(*, tjansteutlatande, atgard_ids, user, sedd_ordning=None):
    """Put the document's åtgärder in the given order (a list of every chosen åtgärd's id).

    `sedd_ordning` is the order the user saw and moved from. When the stored order is another
    (a colleague reordered, added or removed one meanwhile), writing would silently undo their
    change: nothing is written and ConflictError says so, unless the stored order already is
    the one asked for. Without it (the admin's inline of the document's åtgärder) the order is
    written as given."""
    with transaction.atomic():
        tu = _las(tjansteutlatande.pk)
        _kontrollera_behorighet(tu, user, ANDRA_TJANSTEUTLATANDE)
        val = {v.atgard_id: v for v in tu.atgard_val.select_for_update()}
        sparad = [v.atgard_id for v in sorted(val.values(), key=lambda v: (v.ordning, v.pk))]
        onskad = [int(i) for i in atgard_ids]
        if sedd_ordning is not None and sparad not in ([int(i) for i in sedd_ordning], onskad):
            raise ConflictError(
                "Någon annan har ändrat åtgärderna i dokumentet medan du arbetade. Din ändring av ordningen "
                "är inte sparad; listan visar nu den sparade ordningen.",
                current_version=tu.version,
            )
        if sorted(val) != sorted(onskad):
            # Most often someone added or removed one after the user's page was made: a conflict.
            raise ConflictError("Ordningen måste ta upp varje åtgärd i dokumentet exakt en gång. Ladda om sidan.")
        andrade = False
        for ordning, atgard_id in enumerate(atgard_ids, start=1):
            v = val[int(atgard_id)]
            if v.ordning != ordning:
                v.ordning = ordning
                spara_med_orsak(v, user, "Ny ordning")
                andrade = True
        if andrade:
            _registrera_andring(tu, user, "Åtgärderna har fått ny ordning")
    _uppdatera(tjansteutlatande, tu)


def radversion(obj):
    """A checksum of what a row of a document (a bilaga, an undertecknare, an åtgärd's place)
    holds. These rows have no version number: a page that shows a row names this instead, so
    that a save from it after someone else changed the row is refused, not written over theirs."""
    varden = [(f.attname, f.value_to_string(obj)) for f in obj._meta.concrete_fields]
    return hashlib.sha256(json.dumps(varden, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]


def objektversion(obj, falt):
    """A checksum of the fields `falt` of an object that has no version number (an åtgärd, an
    ärende, a mall), many-to-many fields as their ids. An admin page names it for the object it shows, so
    that a save from it after someone else changed one of those fields is refused, not written
    over theirs; a field the page does not show (a case's status) is left out, so that a service
    moving it does not stop the user's save."""
    varden = []
    for namn in falt:
        field = obj._meta.get_field(namn)
        if field.many_to_many:
            # `all()`: a page that prefetched the relation reads it from there.
            varden.append((namn, sorted(rad.pk for rad in getattr(obj, namn).all())))
        else:
            varden.append((namn, field.value_to_string(obj)))
    return hashlib.sha256(json.dumps(varden, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]


def spara_andrade_falt(obj, lagrad, falt, user, *, alltid=()):
    """Save only the columns among `falt` that the user changed on `obj`; every other column
    takes the value stored now (`lagrad`, read under the row's lock), since the form may hold
    older ones, which the history row would record as the object's. `alltid` are columns saved
    with any change (an `auto_now` stamp). Returns the columns saved."""
    kolumner = [f.name for f in obj._meta.concrete_fields if f.name in falt]
    for field in obj._meta.concrete_fields:
        if field.name not in kolumner:
            setattr(obj, field.attname, getattr(lagrad, field.attname))
    if kolumner:
        obj._history_user = user
        obj.save(update_fields=[*kolumner, *alltid])
    return kolumner


def kontrollera_objektversion(lagrad, falt, expected_version, benamning):
    """Refuse, with ConflictError, a save made from a page that showed `lagrad` (read under its
    lock) at another version: the checks of the page's form ran before the lock was taken."""
    if expected_version is not None and objektversion(lagrad, falt) != expected_version:
        raise ConflictError(
            f"Någon annan har ändrat {benamning} medan du arbetade. Det du skrev är inte sparat men står kvar "
            "här; spara igen för att ersätta det sparade."
        )


# A unique or check constraint's violation, as PostgreSQL (SQLSTATE) and SQLite name it: what
# someone else's save can cause. Any other (a missing value, a broken reference) is a bug.
KROCKAR = {"23505", "23514", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_CHECK"}


@contextlib.contextmanager
def utan_krock(meddelande=None, falt=None):
    """Write what the block writes in a savepoint of its own, and turn a unique or check
    constraint's violation into ConflictError (saying `meddelande` on the form field `falt`, when
    the caller knows which value it was): the form checked that a name (a drogscen's, a mall
    section's heading, a hand-entered diarienummer) was free, but someone else may have taken it
    before the write. The savepoint's rollback leaves the transaction usable (PostgreSQL aborts it
    at the violation), so that the page can be shown again with the user's input."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        orsak = exc.__cause__
        if (getattr(orsak, "sqlstate", None) or getattr(orsak, "sqlite_errorname", None)) not in KROCKAR:
            raise
        logger.warning("Sparandet krockade med någon annans: %s", exc)
        raise ConflictError(
            meddelande
            or "Någon annan har sparat samma värde (till exempel ett namn eller en rubrik som bara får finnas en "
            "gång) medan du arbetade. Inget av det du skrev är sparat, men det står kvar; ändra värdet och "
            "spara igen.",
            falt=falt,
        ) from exc


def andra_objekt(*, obj, falt, versionerade, user, perm, benamning, expected_version=None, alltid=(), kontroll=None):
    """Save the fields named in `falt` as `obj` holds them (an admin change form), for an object
    without a version number of its own: `expected_version` is its `objektversion` of
    `versionerade` on the user's page. The row is locked, and if someone changed one of those
    fields since, nothing is written and ConflictError says so; otherwise only the fields in
    `falt` are written (`spara_andrade_falt`, with `alltid`). `perm` is the permission the page
    asks for; `benamning` names the object in Swedish, definite form ("mallen"). `kontroll`, if
    given, is called with the stored row, under its lock, before anything is written: a rule of
    the object's own that may raise.

    The page's form checked the version before this, without a lock: a save committed in between
    would be written over unseen, by a user who never saw it."""
    if user is not None and not user.has_perm(perm):
        raise PermissionDenied(f"Du har inte behörighet att ändra {benamning}.")
    with transaction.atomic():
        lagrad = type(obj)._default_manager.select_for_update().filter(pk=obj.pk).first()
        if lagrad is None:
            raise ConflictError(f"Någon annan har tagit bort {benamning} medan du arbetade.")
        if set(falt) & set(versionerade):  # a page saved unchanged writes nothing over anyone
            kontrollera_objektversion(lagrad, versionerade, expected_version, benamning)
        if kontroll is not None:
            kontroll(lagrad)
        with utan_krock():
            spara_andrade_falt(obj, lagrad, falt, user, alltid=alltid)
    return obj


# A förvaltning's and an avdelning's fields that their admin pages show and change, whose
# checksum is the page's version (`objektversion`).
FORVALTNING_FALT = ("namn", "diarieprefix", "namnd", "chef")
AVDELNING_FALT = ("forvaltning", "namn", "chef")


def _chefskontroll(obj, falt):
    """A new chef is checked against the one stored under the row's lock (`kontrollera_chef`):
    one who has left since they were chosen stays, and the row saves with them."""

    def kontroll(lagrad):
        if "chef" in falt:
            kontrollera_chef(obj, tidigare=lagrad.chef_id)

    return kontroll


def andra_forvaltning(*, forvaltning, falt, user, expected_version=None):
    """Save the förvaltning's fields named in `falt` (its admin page). Its chef is the last
    attestant of its documents: a closed account is refused here, whatever form or script sets
    it, and not first when a document is sent for attest."""
    return andra_objekt(
        obj=forvaltning,
        falt=falt,
        versionerade=FORVALTNING_FALT,
        user=user,
        perm="arenden.change_forvaltning",
        benamning="förvaltningen",
        expected_version=expected_version,
        kontroll=_chefskontroll(forvaltning, falt),
    )


def andra_avdelning(*, avdelning, falt, user, expected_version=None):
    """Save the avdelning's fields named in `falt` (its admin page); its chef, the first attestant
    of its documents, as `andra_forvaltning`."""
    return andra_objekt(
        obj=avdelning,
        falt=falt,
        versionerade=AVDELNING_FALT,
        user=user,
        perm="arenden.change_avdelning",
        benamning="avdelningen",
        expected_version=expected_version,
        kontroll=_chefskontroll(avdelning, falt),
    )


# A mall's own fields that its admin page shows and changes, whose checksum is the page's version
# (`objektversion`); its headings are rows of their own, each with its checksum (`radversion`).
MALL_FALT = ("namn", "beskrivning", "aktiv")


def andra_mall(*, mall, falt, user, expected_version=None):
    """Save the mall's fields named in `falt` as `mall` holds them (the admin's change form).
    `expected_version` is the mall's `objektversion` of MALL_FALT on the user's page: if someone
    changed one of those since, nothing is written and ConflictError says so. Whether a mall is
    active decides whether officers can start documents from it, and its name is how they choose
    it: a change saved unseen over someone else's would leave neither of them knowing."""
    return andra_objekt(
        obj=mall,
        falt=falt,
        versionerade=MALL_FALT,
        user=user,
        perm="arenden.change_mall",
        benamning="mallen",
        expected_version=expected_version,
    )


# A skrivelse's fields that its own admin page shows and changes, whose checksum is the page's
# version (`objektversion`). The ärende's page shows the same skrivelser as rows (`radversion`).
SKRIVELSE_FALT = ("arende", "titel", "forfattare", "beredning_datum", "text", "fil")


def andra_skrivelse(*, skrivelse, falt, user, expected_version=None):
    """Save a skrivelse's fields named in `falt` as `skrivelse` holds them (its own admin page).
    `expected_version` is its `objektversion` of SKRIVELSE_FALT on the user's page: if someone
    changed one of those since, here or in the skrivelse's row on the ärende's page, nothing is
    written and ConflictError says so. The skrivelse is what the answer answers, and its Bilaga 1:
    a save from an older page would put back the text a colleague had just corrected.

    It stays in a case the user may see, and moves only to another such case."""
    if user is not None:
        synliga = Arende.objects.for_user(user)
        if not (
            Skrivelse.objects.filter(pk=skrivelse.pk, arende__in=synliga.values("pk")).exists()
            and synliga.filter(pk=skrivelse.arende_id).exists()
        ):
            raise PermissionDenied("Du har inte behörighet att ändra skrivelsen.")
    return andra_objekt(
        obj=skrivelse,
        falt=falt,
        versionerade=SKRIVELSE_FALT,
        user=user,
        perm="arenden.change_skrivelse",
        benamning="skrivelsen",
        expected_version=expected_version,
    )


def kontrollera_radversion(sparad, obj, expected_version):
    """Refuse, with ConflictError, a save or deletion of the row `obj` made from a page that
    showed it at another `radversion`: `sparad` is the row as stored now (None once deleted),
    read under a lock that the caller's transaction holds until it writes."""
    if sparad is None or radversion(sparad) != expected_version:
        raise ConflictError(
            f"Någon annan har ändrat eller tagit bort ”{sparad or obj}” medan du arbetade. Din ändring "
            "är inte sparad men står kvar här; jämför med det sparade och spara igen."
        )


def spara_dokumentdel(*, tjansteutlatande, obj, user, ta_bort=False, expected_version=None):
    """Save or delete a bilaga or an undertecknare of the document: printed content, so an edit.
    A bilaga is deleted only from a draft.
    `expected_version` is the row's `radversion` on the user's page: if the row has changed (or
    gone) since, nothing is written and ConflictError says so."""
    if not isinstance(obj, Bilaga | Undertecknare):
        raise TypeError(obj)
    with transaction.atomic():
        tu = _las(tjansteutlatande.pk)
        _kontrollera_behorighet(tu, user, ANDRA_TJANSTEUTLATANDE)
        slag = obj._meta.verbose_name.capitalize()
        if expected_version is not None and obj.pk is not None:
            # The document's lock orders every write to its rows: what is read here stays so.
            kontrollera_radversion(
                type(obj).objects.filter(pk=obj.pk, tjansteutlatande=tu).first(), obj, expected_version
            )
        if ta_bort and isinstance(obj, Bilaga) and tu.status != S.UTKAST:
            # What was sent for attest is in the diarium as the chefs read it, its bilagor
            # included: a deleted row takes its file out of every version that named it.
            raise WorkflowError(
                f"Bilagan ”{obj}” är en del av det som skickades för attest och tas inte bort medan "
                f"dokumentet har status ”{tu.get_status_display()}”. Ta bort den när dokumentet är ett "
                "utkast igen."
            )
        if ta_bort:
            obj._history_user, obj._change_reason = user, "Borttagen"
            obj.delete()
            _registrera_andring(tu, user, f"{slag} borttagen: {obj}")
        else:
            ny = obj.pk is None
            if isinstance(obj, Undertecknare):
                tidigare = None if ny else Undertecknare.objects.filter(pk=obj.pk).values_list("anvandare_id").first()
                kontrollera_medarbetare(
                    obj.anvandare,
                    tu.arende.forvaltning,
                    falt="anvandare",
                    som="undertecknare för dokumentet",
                    tidigare=tidigare and tidigare[0],
                )
            obj.tjansteutlatande = tu
            obj.full_clean()
            spara_med_orsak(obj, user, "Tillagd" if ny else "Ändrad")
            _registrera_andring(tu, user, f"{slag} {'tillagd' if ny else 'ändrad'}: {obj}")
    _uppdatera(tjansteutlatande, tu)
    return obj


def saknade_sektioner(tjansteutlatande):
    """Headings of the document's required sections that it leaves empty, in order. A section
    that lists åtgärder counts as written when the document has åtgärder.

    Only the document's own sections count, those its mall had when it was created. A heading
    added to the mall later has no section in a document already begun, and neither the editor
    nor the admin can add one (they write the sections a document has), so requiring it blocked
    every draft on the mall from being sent. A mall change reaches the documents created after
    it, as a later edit of a mall never changes a document's content."""
    return [s.mall_sektion.rubrik for s in tomma_sektioner(tjansteutlatande)]


def tomma_sektioner(tjansteutlatande):
    """The required sections the document leaves empty, in order (`saknade_sektioner`)."""
    tu = tjansteutlatande
    har_atgarder = tu.atgard_val.exists()
    sektioner = tu.sektioner.select_related("mall_sektion").order_by("mall_sektion__ordning", "mall_sektion_id")
    return [
        s
        for s in sektioner
        if s.mall_sektion.obligatorisk and s.is_empty and not (s.mall_sektion.visar_atgarder and har_atgarder)
    ]


def standard_attestanter(tjansteutlatande, forfattare=None):
    """The usual chain: the avdelningschef, then the förvaltningschef (stadsdelsdirektör).
    Those who wrote the text or answer for it as its handläggare are left out (`forfattare`,
    the document's `forfattar_ids()` when not given): nobody attests their own document."""
    tu = tjansteutlatande
    if forfattare is None:
        forfattare = tu.forfattar_ids()
    arende = tu.arende
    avdelning = arende.avdelning
    if avdelning is None:
        profil = Profil.objects.filter(user=tu.handlaggare).select_related("avdelning").first()
        avdelning = profil.avdelning if profil else None
    kedja = []
    for chef in (avdelning.chef if avdelning else None, arende.forvaltning.chef):
        if chef is not None and chef.pk not in forfattare and chef not in kedja:
            kedja.append(chef)
    return kedja


def _kontrollera_kedja(tu, user, kedja, forfattare):
    if not kedja:
        raise WorkflowError("Ange minst en attestant. Avdelningen eller förvaltningen saknar chef i registret.")
    if len({a.pk for a in kedja}) != len(kedja):
        raise WorkflowError("Samma person kan bara stå en gång i attestkedjan.")
    for attestant in kedja:
        namn = display_name(attestant)
        if tu.ar_handlaggare(attestant):
            raise WorkflowError(f"{namn} är handläggare för dokumentet och kan inte attestera det.")
        if attestant.pk in forfattare:
            raise WorkflowError(f"{namn} har skrivit text i dokumentet och kan inte attestera det.")
        if user is not None and attestant.pk == user.pk:
            raise WorkflowError("Du kan inte själv stå i attestkedjan för ett dokument du skickar.")
        if hinder := tu.kedjehinder(attestant):
            raise WorkflowError(hinder)


def skicka_for_attest(*, tjansteutlatande, user, attestanter=None):
    """Send the document to its attest chain: freeze what it prints, and its SHA-256, so that
    each attest approves exactly this content. Starts a new round of the chain."""
    with transaction.atomic():
        tu = _las(tjansteutlatande.pk)
        _kontrollera_behorighet(tu, user, SKICKA_FOR_ATTEST, "skicka dokumentet för attest")
        till = _overgang(tu, "skicka_for_attest")
        saknade = saknade_sektioner(tu)
        if saknade:
            raise WorkflowError(
                "Dokumentet kan inte skickas för attest förrän de obligatoriska sektionerna är ifyllda. "
                f"Tomma: {', '.join(f'”{r}”' for r in saknade)}."
            )
        # Read under the document's lock, which every section save takes too: nobody can write
        # in the document between this and the chain being stored.
        forfattare = tu.forfattar_ids()
        kedja = list(attestanter) if attestanter else standard_attestanter(tu, forfattare)
        _kontrollera_kedja(tu, user, kedja, forfattare)
        _undertecknarnas_namn(tu, user)
        innehall = build_snapshot(tu)
        tu.innehall, tu.innehall_hash = innehall, snapshot_hash(innehall)
        tu.attest_omgang += 1
        tu.status = till
        # The comment was about the round it ended; its history row keeps it for the timeline.
        tu.aterremiss_kommentar = ""
        spara_med_orsak(tu, user, SKICKAT)
        for ordning, attestant in enumerate(kedja, start=1):
            spara_med_orsak(
                Attestering(
                    tjansteutlatande=tu,
                    omgang=tu.attest_omgang,
                    ordning=ordning,
                    attestant=attestant,
                    namn=display_name(attestant),
                    befattning=_befattning(attestant),
                ),
                user,
                "I attestkedjan",
            )
        _folj_arende(tu, user)
    _uppdatera(tjansteutlatande, tu)
    return tu


def _undertecknarnas_namn(tu, user):
    """A signatory who is a user of the system signs with the name they hold on the day the
    document is sent (typed while drafting, it may be out of date: a new surname). The title
    stays as typed: it is the role they sign in, which need not be their profile's title."""
    langst = Undertecknare._meta.get_field("namn").max_length
    for undertecknare in tu.undertecknare.select_related("anvandare"):
        person = undertecknare.anvandare
        namn = display_name_from(person.first_name, person.last_name, "") if person else ""
        if namn and namn != undertecknare.namn and len(namn) <= langst:
            undertecknare.namn = namn
            spara_med_orsak(undertecknare, user, "Namnet som användaren har när dokumentet skickas för attest")


class InnehalletAndrat(WorkflowError):
    """The content waiting for attest is not the content the attestant was shown."""

    MEDDELANDE = (
        "Dokumentet har skickats för attest på nytt sedan du öppnade det. Läs det nya innehållet innan du fortsätter."
    )


def _samma_innehall(tu, innehall_hash):
    # The attestant's page named the content they read. If the document was returned, changed
    # and sent again meanwhile, that is not what waits now: they must read it again.
    if innehall_hash is not None and innehall_hash != tu.innehall_hash:
        raise InnehalletAndrat(InnehalletAndrat.MEDDELANDE)


def _utanfor_arendet(tu, user):
    """Why `user`, named in the chain, may not act on it now: they no longer see the case (a chef
    who moved to another förvaltning while it waited at their step). Sending checks the chain's
    scope; the admin's pages are then a 404, and the service refuses as they do."""
    if not Tjansteutlatande.objects.for_user(user).filter(pk=tu.pk).exists():
        return "Du har inte åtkomst till ärendet och kan inte attestera eller återremittera dokumentet."
    return None


def attestera(*, tjansteutlatande, user, innehall_hash=None):
    """The next attestant in the chain approves the frozen content. Name and title are stored
    as the attestant holds them today, with the hash of what they approved. `innehall_hash` is
    the hash of the content the attestant was shown; another waiting content is refused."""
    with transaction.atomic():
        # The lock makes two clicks (or two chefs) on the same step queue: the second sees the
        # step already taken and is refused, so a step is attested exactly once.
        tu = _las(tjansteutlatande.pk)
        hinder = tu.attest_hinder(user) or _utanfor_arendet(tu, user)
        if hinder:
            raise WorkflowError(hinder)
        _samma_innehall(tu, innehall_hash)
        if not tu.innehall or snapshot_hash(tu.innehall) != tu.innehall_hash:
            raise WorkflowError("Dokumentets frysta innehåll stämmer inte med sin kontrollsumma; attesten avbröts.")
        steg = Attestering.objects.select_for_update().get(pk=tu.next_attestering.pk)
        steg.namn, steg.befattning = display_name(user), _befattning(user)
        steg.attesterad = timezone.now()
        steg.innehall_hash = tu.innehall_hash
        spara_med_orsak(steg, user, ATTESTERAT)
        sista = not tu.current_attesteringar.filter(attesterad__isnull=True).exists()
        tu.status = _overgang(tu, "sista_attest" if sista else "attestera")
        spara_med_orsak(tu, user, f"{ATTESTERAT}: {steg.namn}")
        _folj_arende(tu, user)
    _uppdatera(tjansteutlatande, tu)
    return steg


def aterremittera(*, tjansteutlatande, user, kommentar, innehall_hash=None):
    """The next attestant sends the document back to the handläggare with a comment. The round
    ends: its attestations are void and the document is a draft again. `innehall_hash` as for
    `attestera`: the comment is about the content the attestant read."""
    # PostgreSQL refuses a NUL in any text, and no one types one: a form posted with it is
    # saved without it, as a search text is read (`search.soktext`).
    kommentar = (kommentar or "").replace("\x00", "").strip()
    if not kommentar:
        raise WorkflowError(KOMMENTAR_SAKNAS)
    if for_lang := kommentaren_for_lang(kommentar):
        raise WorkflowError(for_lang)
    with transaction.atomic():
        tu = _las(tjansteutlatande.pk)
        hinder = tu.aterremiss_hinder(user) or _utanfor_arendet(tu, user)
        if hinder:
            raise WorkflowError(hinder)
        _samma_innehall(tu, innehall_hash)
        tu.aterremiss_kommentar = kommentar
        _tillbaka_till_utkast(tu, user, "aterremittera", ATERREMITTERAT)
    _uppdatera(tjansteutlatande, tu)
    return tu


def _tillbaka_till_utkast(tu, user, overgang, skal):
    """The document, locked, leaves attest for a draft, returned by its attestant or withdrawn by
    its handläggare: the round ends (`_avsluta_omgangen`), the case follows, and a case given to
    another handläggare while its document waited for attest gets the draft back, naming them
    from now on (as `andra_arende` does for a draft).

    Taking them up is a new choice of them for the document (`kontrollera_medarbetare`'s
    `tidigare`): one who has since left (a closed account), moved to another förvaltning or lost
    their role would stand in its header without being able to write it, so the document keeps
    the handläggare it names, as a new document on such a case is refused (`skapa_tjansteutlatande`)."""
    _avsluta_omgangen(tu, user, _overgang(tu, overgang), skal)
    tu.version += 1
    spara_med_orsak(tu, user, skal)
    _folj_arende(tu, user)
    ny = tu.arende.handlaggare
    if (
        ny is not None
        and ny.pk != tu.handlaggare_id
        and not medarbetarhinder(ny, tu.arende.forvaltning, som=HANDLAGGARE_FOR, behover_roll=True)
    ):
        _folj_handlaggaren(tu, ny, user)


# A withdrawal that came too late: the last attestant took their step first.
REDAN_ATTESTERAT = (
    "Tjänsteutlåtandet hann attesteras av hela attestkedjan och har inte dragits tillbaka. Behöver det "
    "ändras gör du det i texten; då makuleras attesten och det blir ett utkast igen."
)
OMGANGEN_BYTT = (
    "Tjänsteutlåtandet har skickats för attest på nytt sedan du öppnade sidan och har inte dragits "
    "tillbaka. Se hur attesten står nu innan du försöker igen."
)


def dra_tillbaka_fran_attest(*, tjansteutlatande, user, omgang=None):
    """The handläggare takes a document waiting for attest back to a draft without changing it:
    they chose the wrong chef, or a chef in the chain cannot attest it (`forfattar_hinder`), and
    only sending chooses a chain. The round ends as an edit ends it (`_avsluta_omgangen`): the
    attestations given in it are void, since the document may change before it is sent again.

    `omgang` is the round the user's page showed: a document sent anew since is another round,
    which they have not seen, and is not withdrawn. A document attested at its last step
    meanwhile is refused too (REDAN_ATTESTERAT), not silently made a draft. Returns whether it
    was withdrawn now: False, writing nothing, when it already is a draft (a second click, or an
    attestant returned it meanwhile), which is what the user asked for."""
    with transaction.atomic():
        tu = _las(tjansteutlatande.pk)
        _kontrollera_behorighet(tu, user, ANDRA_TJANSTEUTLATANDE, "dra tillbaka dokumentet från attest")
        # Chose the chain and answers for the document: a colleague who may write in it changes
        # it instead, and an attestant returns it with a comment.
        if user is not None and not tu.ar_handlaggare(user):
            raise WorkflowError(
                f"Bara handläggaren, {display_name(tu.ansvarig_handlaggare)}, kan dra tillbaka dokumentet från attest."
            )
        if omgang is not None and omgang != tu.attest_omgang:
            raise WorkflowError(OMGANGEN_BYTT)
        if tu.status == S.UTKAST:
            return False
        if tu.status == S.ATTESTERAD:
            raise WorkflowError(REDAN_ATTESTERAT)
        _tillbaka_till_utkast(tu, user, "dra_tillbaka", DRAGET_TILLBAKA)
    _uppdatera(tjansteutlatande, tu)
    return True


def skickade_versioner(tjansteutlatande):
    """The content of each round sent for attest, newest first, read from the history:
    list of (history row, snapshot)."""
    rader = (
        tjansteutlatande.history.filter(history_change_reason=SKICKAT)
        .filter(innehall__isnull=False)
        .select_related("history_user")
        .order_by("-history_date")
    )
    return [(rad, rad.innehall) for rad in rader]


def lasta_omgangar(tjansteutlatande, user):
    """The rounds in which `user` read the document as its attestant: attested it (also if the
    attestation was voided since), or returned it. A chef's comparison starts from the newest of
    them: a round sent and withdrawn in between, which they never opened, would otherwise hide
    what changed since they read it."""
    attesterade = Attestering.objects.filter(
        tjansteutlatande=tjansteutlatande, attestant=user, attesterad__isnull=False
    ).values_list("omgang", flat=True)
    aterremitterade = tjansteutlatande.history.filter(
        history_change_reason=ATERREMITTERAT, history_user=user
    ).values_list("attest_omgang", flat=True)
    return {*attesterade, *aterremitterade}


# --- Sammanträden: föredragningslista, beslut and exports (the nämnd secretary's work) ---------


def _require_namndsekreterare(user, sammantrade_id):
    """The role, and a meeting of the nämnd the user's förvaltning answers to."""
    if not is_namndsekreterare(user):
        raise WorkflowError("Bara nämndsekreterare kan ändra föredragningslistan, registrera beslut och exportera.")
    if not Sammantrade.objects.for_user(user).filter(pk=sammantrade_id).exists():
        raise WorkflowError("Sammanträdet hör till en annan nämnd än den din förvaltning svarar till.")


def _numrera_om(mote, punkter, *, user, reason):
    """Give the items 1..n in the given order. A decided item keeps its number: the beslut and
    its protokollsutdrag name it. The unique (meeting, number) constraint would trip over a
    swap, so the numbers are first moved out of the way with one UPDATE (that intermediate
    state is never committed, hence needs no history) and then saved one by one, each change
    in the item's history."""
    for nummer, punkt in enumerate(punkter, start=1):
        if punkt.is_decided and punkt.nummer != nummer:
            raise WorkflowError(
                f"Punkt {punkt.nummer} är beslutad och dess nummer står i protokollsutdraget. "
                "Listan kan inte ändras så att den får ett annat nummer."
            )
    Foredragningspunkt.objects.filter(sammantrade=mote).update(nummer=F("nummer") + 10000)
    for nummer, punkt in enumerate(punkter, start=1):
        andrad = punkt.nummer != nummer
        punkt.nummer = nummer
        if andrad:
            spara_med_orsak(punkt, user=user, reason=reason)
        else:
            punkt.skip_history_when_saving = True  # the same number as before: no history row
            punkt.save(update_fields=["nummer"])
            del punkt.skip_history_when_saving
    return punkter


# A meeting's nämnd and date once documents on its list carry the date in their header.
MOTET_HAR_PUNKTER = (
    "Mötet har fått punkter på föredragningslistan medan du ändrade det, så nämnd och "
    "datum kan inte längre ändras. Ladda om sidan."
)
SAMMANTRADESFALT = ("namnd", "datum", "tid", "plats")
LISTAN_ANDRAD = (
    "Någon annan har ändrat föredragningslistan medan du arbetade. Din ändring av ordningen är "
    "inte sparad; listan visar nu den sparade ordningen."
)


def andrat_av_andra(sparad, data, visat):
    """The fields of `data` (the user's new values) that someone else changed after the user's
    page showed `visat`: the stored value is neither what the page showed nor what the user
    asks for. A field stored as the user asks is no conflict: there is nothing to write."""
    return [f for f in data if getattr(sparad, f) not in (visat.get(f), data[f])]


def uppdatera_sammantrade(*, sammantrade, data, visat, user):
    """Change a meeting's nämnd, date, time or place: only the fields in `data`, those the
    secretary changed on the page, which showed `visat` for them. Two secretaries on the same
    meeting each write only their own change. A field someone else changed after the page was
    shown is refused (ConflictError naming it), as is a new nämnd or date once the meeting has
    items; nothing is written then."""
    okanda = set(data) - set(SAMMANTRADESFALT)
    if okanda:
        raise WorkflowError(f"Fälten {', '.join(sorted(okanda))} kan inte ändras här.")
    _require_namndsekreterare(user, sammantrade.pk)
    with transaction.atomic():
        # The lock that putting a document on the list takes: an item added meanwhile would
        # carry the old date in its document's header.
        mote = Sammantrade.objects.select_for_update().get(pk=sammantrade.pk)
        if andrade := andrat_av_andra(mote, data, visat):
            namn = ", ".join(str(Sammantrade._meta.get_field(f).verbose_name) for f in andrade)
            raise ConflictError(
                f"Någon annan har ändrat {namn} medan du arbetade. Din ändring är inte sparad men står kvar "
                "här; jämför med det sparade och spara igen för att ersätta det."
            )
        andrade = [f for f in data if getattr(mote, f) != data[f]]
        if {"namnd", "datum"} & set(andrade) and mote.punkter.exists():
            raise WorkflowError(MOTET_HAR_PUNKTER)
        if not andrade:
            return mote
        for falt in andrade:
            setattr(mote, falt, data[falt])
        if not user.is_superuser and "namnd" in andrade and not namnder_for(user).filter(pk=mote.namnd_id).exists():
            raise WorkflowError("Sammanträdet kan bara flyttas till en nämnd som din förvaltning svarar till.")
        try:
            mote.validate_constraints()
        except ValidationError as error:
            raise WorkflowError(" ".join(error.messages)) from error
        mote._history_user = user
        mote._change_reason = f"Ändrat: {', '.join(str(Sammantrade._meta.get_field(f).verbose_name) for f in andrade)}"
        mote.save(update_fields=andrade)
    _uppdatera(sammantrade, mote)
    return mote


def satt_pa_foredragningslista(*, sammantrade, user, tjansteutlatande=None, titel=""):
    """Put an attested tjänsteutlåtande (or an information item with only a title) last on a
    meeting's föredragningslista. The document goes to `pa_foredragningslista`, its header date
    becomes the meeting's date, and its ärende shows that it is on a list. A meeting before the
    case was registered is refused on the document's field (a ValidationError): the nämnd cannot
    decide a case that did not exist. One already held is not: a secretary may record it afterwards."""
    _require_namndsekreterare(user, sammantrade.pk)
    titel = (titel or "").strip()
    if tjansteutlatande is None and not titel:
        raise WorkflowError("Välj ett tjänsteutlåtande eller skriv en rubrik för informationspunkten.")
    if tjansteutlatande is not None and titel:
        # An item with a document is titled by it: a rubrik typed beside it would be dropped unseen.
        raise WorkflowError(
            "Välj ett tjänsteutlåtande eller skriv en rubrik för en informationspunkt, inte båda: "
            "en punkt med ett dokument får dokumentets rubrik."
        )
    with transaction.atomic():
        mote = Sammantrade.objects.select_for_update().get(pk=sammantrade.pk)
        tu = None
        if tjansteutlatande is not None:
            tu = Tjansteutlatande.objects.select_for_update().select_related("arende").get(pk=tjansteutlatande.pk)
            if tu.status != TjansteutlatandeStatus.ATTESTERAD:
                raise WorkflowError(
                    f"Bara attesterade tjänsteutlåtanden kan sättas på en föredragningslista. "
                    f"”{tu.titel}” ({tu.arende.diarienummer}) är {tu.get_status_display().lower()}."
                )
            _kontrollera_namnd(tu.arende, tu.namnd)
            if tu.namnd_id != mote.namnd_id:
                raise WorkflowError(f"”{tu.titel}” är ställt till {tu.namnd}, inte till {mote.namnd}.")
            # A postponed document goes to a later meeting: the one that postponed it keeps its
            # item (and its number) in the record, and one document is an item of a meeting once.
            bordlagd = (
                tu.foredragningspunkter.filter(bordlagd=True)
                .select_related("sammantrade")
                .order_by("-sammantrade__datum", "-sammantrade__tid")
                .first()
            )
            if bordlagd and (mote.datum, mote.tid) <= (bordlagd.sammantrade.datum, bordlagd.sammantrade.tid):
                raise WorkflowError(
                    f"”{tu.titel}” bordlades på sammanträdet {bordlagd.sammantrade} och kan bara sättas på "
                    "ett senare sammanträdes föredragningslista."
                )
            # Read under the document's lock, which a change of the case's registration also takes.
            if fel := tu.arende.fel_i_sammantradesdagen(mote.datum):
                raise ValidationError({"tjansteutlatande": fel})
        senaste = mote.punkter.order_by("-nummer").values_list("nummer", flat=True).first() or 0
        punkt = Foredragningspunkt(
            sammantrade=mote,
            nummer=senaste + 1,
            tjansteutlatande=tu,
            arende=tu.arende if tu else None,
            titel="" if tu else titel,
        )
        spara_med_orsak(punkt, user=user, reason=f"{SATT_PA_LISTAN}: {mote}, punkt {punkt.nummer}")
        if tu:
            tu.status = TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA
            tu.sammantradesdatum = mote.datum
            spara_med_orsak(tu, user=user, reason=f"{SATT_PA_LISTAN}: {mote}, punkt {punkt.nummer}")
            arende = Arende.objects.select_for_update().get(pk=tu.arende_id)
            arende.status = ArendeStatus.PA_FOREDRAGNINGSLISTA
            # The title last: the reason column holds 100 characters, and the meeting and the
            # number are what the case's timeline must not lose.
            spara_med_orsak(arende, user=user, reason=f"{SATT_PA_LISTAN}: {mote}, punkt {punkt.nummer}: ”{tu.titel}”")
    return punkt


def _punkt_kvar(punkter, pk):
    """The item `pk` from `punkter`, or a Swedish refusal when another request removed it."""
    punkt = punkter.filter(pk=pk).first()
    if punkt is None:
        raise WorkflowError(BORTTAGEN_PUNKT)
    return punkt


def _avgjord(punkt):
    return "bordlagd" if punkt.bordlagd else "beslutad"


def _attesterat_datum(tu):
    """The meeting date the chefs attested the document with: its header's date once the
    document no longer goes to the meeting whose list it was on."""
    attesterat = (tu.innehall or {}).get("sammantradesdatum")
    return datetime.date.fromisoformat(attesterat) if attesterat else None


def _lamnar_listan(tu, user, overgang, skal):
    """The document, locked, leaves a meeting's list without a decision (taken off, or
    postponed): attested again, with the meeting date the chefs attested, and its ärende waits
    for the nämnd again unless another of its documents is still on a list. Both history rows
    give `skal`, the case's with the document's title last."""
    tu.status = _overgang(tu, overgang)
    tu.sammantradesdatum = _attesterat_datum(tu)
    spara_med_orsak(tu, user=user, reason=skal)
    arende = Arende.objects.select_for_update().get(pk=tu.arende_id)
    if not arende.tjansteutlatanden.filter(status=TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA).exists():
        arende.status = ArendeStatus.REDO_FOR_NAMND
    spara_med_orsak(arende, user=user, reason=f"{skal}: ”{tu.titel}”")


def ta_bort_fran_foredragningslista(*, punkt, user):
    """Take an undecided item off the list; its document is attested again and may go to another
    meeting. The remaining items are renumbered. As when it was put there, the case's history
    tells it naming the document, also when another of its documents stays on a list.

    Once an item after it is decided (or postponed), the removal is refused, with a pointer to
    Bordlägg. The decided item's number is printed in its protokollsutdrag, so it cannot move
    up; and leaving its place empty would give the meeting's record an item number that nothing
    accounts for. An item the nämnd did not decide was either postponed, which Bordlägg records
    (the item keeps its number, the document goes on to a later meeting), or dealt with in some
    other way, which Registrera beslut records. Items after the last decided one are renumbered
    as before."""
    _require_namndsekreterare(user, punkt.sammantrade_id)
    with transaction.atomic():
        mote = Sammantrade.objects.select_for_update().get(pk=punkt.sammantrade_id)
        punkt = _punkt_kvar(Foredragningspunkt.objects.select_for_update(), punkt.pk)  # a second click
        if punkt.is_decided:
            raise WorkflowError(f"Punkt {punkt.nummer} är redan {_avgjord(punkt)} och kan inte tas bort från listan.")
        senare = mote.punkter.filter(nummer__gt=punkt.nummer, beslutad__isnull=False).order_by("nummer").first()
        if senare is not None:
            if punkt.tjansteutlatande_id:
                utvag = (
                    "Om nämnden bordlade ärendet, välj Bordlägg: punkten står kvar i protokollet med sitt nummer "
                    "och tjänsteutlåtandet kan sättas på ett senare sammanträdes föredragningslista."
                )
            else:
                utvag = "Registrera i stället vad som hände med punkten med Registrera beslut."
            raise WorkflowError(
                f"Punkt {senare.nummer} är {_avgjord(senare)} och dess nummer står i protokollsutdraget, så "
                f"punkt {punkt.nummer} kan inte tas bort utan att listan numreras om. {utvag}"
            )
        skal = f"{BORTTAGEN_FRAN_LISTAN}: {mote}"
        if punkt.tjansteutlatande_id:
            tu = Tjansteutlatande.objects.select_for_update().get(pk=punkt.tjansteutlatande_id)
            _lamnar_listan(tu, user, "ta_bort_fran_foredragningslista", skal)
        punkt._history_user = user
        punkt._change_reason = skal[:100]
        punkt.delete()
        punkter = list(mote.punkter.select_for_update().order_by("nummer"))
        _numrera_om(mote, punkter, user=user, reason="Numrerad om efter borttagning")


def ordna_foredragningslista(*, sammantrade, punkt_ids, user, sedd_ordning=None):
    """Put the items in the given order and number them 1..n.

    `sedd_ordning` is the order the secretary's page showed and the move was made from. When
    the stored order is another (a colleague moved, added or removed an item meanwhile), writing
    would silently undo their change: nothing is written and ConflictError says so, unless the
    stored order already is the one asked for. Without it the order is written as given."""
    _require_namndsekreterare(user, sammantrade.pk)
    with transaction.atomic():
        mote = Sammantrade.objects.select_for_update().get(pk=sammantrade.pk)
        # Compared as the text the page sent: anything but the items' ids is a changed list.
        punkter = {str(p.pk): p for p in mote.punkter.select_for_update().order_by("nummer")}
        ids = [str(i) for i in punkt_ids]
        if sedd_ordning is not None and list(punkter) not in ([str(i) for i in sedd_ordning], ids):
            raise ConflictError(LISTAN_ANDRAD)
        if sorted(ids) != sorted(punkter):
            raise WorkflowError(
                "Föredragningslistan har ändrats sedan sidan laddades. Ladda om och ordna punkterna igen."
            )
        return _numrera_om(mote, [punkter[i] for i in ids], user=user, reason="Föredragningslistan omordnad")


def forslag_till_beslut(tjansteutlatande):
    """The document's proposal as plain text, to prefill the beslut: attested documents from
    their frozen content, so the nämnd decides on the words the chefs approved."""
    if tjansteutlatande.innehall:
        sektioner = tjansteutlatande.innehall.get("sektioner", [])
        texter = [s["text"] for s in sektioner if s.get("nyckel") == FORSLAG_TILL_BESLUT]
    else:
        texter = list(
            tjansteutlatande.sektioner.filter(mall_sektion__nyckel=FORSLAG_TILL_BESLUT).values_list("text", flat=True)
        )
    text = "\n\n".join(texter)
    # Plain text has no page foot: a footnote stays where it was written, in brackets, as the
    # officers' preview shows it, instead of running into the word it follows.
    text = re.sub(r'\s*<span class="fotnot">(.*?)</span>', r" (\1)", text, flags=re.S)
    text = re.sub(r"</(p|li)>|<br\s*/?>", "\n\n", text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return "\n\n".join(line.strip() for line in text.split("\n\n") if line.strip())


def kontrollera_motesdagen(sammantrade, now=None):
    """Refuse a decision or a postponement at a meeting whose day has not come: the nämnd has
    not met, and a decision registered by a misclick would close the case."""
    if sammantrade.is_future(now):
        raise WorkflowError(
            f"Sammanträdet {sammantrade} har inte hållits än. Beslut registreras, och ärenden bordläggs, "
            "först på sammanträdesdagen."
        )


def kontrollera_oavgjord(punkt):
    """An item gets one outcome at its meeting: a beslut, or a postponement."""
    if punkt.bordlagd:
        raise WorkflowError(
            f"Punkt {punkt.nummer} är bordlagd och kan inte få något beslut på det här sammanträdet. "
            "Beslutet registreras på det sammanträde där ärendet tas upp igen."
        )
    if punkt.is_decided:
        raise WorkflowError(f"Beslut är redan registrerat för punkt {punkt.nummer}.")


def _besluta_dokument(punkt, tu, user):
    """A beslut: the document is decided, and the ärende closed when none of its documents still
    waits for a decision."""
    mote = punkt.sammantrade
    if tu is not None:
        tu.status = _overgang(tu, "besluta")
        spara_med_orsak(tu, user=user, reason=f"{BESLUTAD}: {mote}, punkt {punkt.nummer}")
    if punkt.arende_id:
        arende = Arende.objects.select_for_update().get(pk=punkt.arende_id)
        kvar = arende.tjansteutlatanden.exclude(status=TjansteutlatandeStatus.BESLUTAD).exists()
        # The reason column holds 100 characters: the beslut text itself is on the item.
        reason = f"{BESLUT_OCH_UTDRAG}: {mote}, punkt {punkt.nummer}"
        if not kvar:
            arende.status = ArendeStatus.AVSLUTAT
            reason = f"{AVSLUTAT_EFTER_BESLUT}: {mote}, punkt {punkt.nummer}{UTDRAG_BIFOGAT}"
        spara_med_orsak(arende, user=user, reason=reason)


def _bordlagg_dokument(punkt, tu, user):
    """A postponement: the document is attested again, with the meeting date the chefs attested,
    and may go on a later meeting's list; the ärende waits for the nämnd again, never closed."""
    _lamnar_listan(tu, user, "bordlagg", f"{BORDLAGT}: {punkt.sammantrade}, punkt {punkt.nummer}")


def _handlingens_lage(tu):
    """What a postponed item's kept copy of its document depends on. The document on a list
    cannot be edited, so this changes only if it left the list or was changed some other way."""
    return (tu.status, tu.version, tu.innehall_hash, tu.sammantradesdatum, tu.titel, tu.undertitel)


def _behall_handling(punkt):
    """The document of an item about to be postponed, as the nämnd had it before it: its PDF and
    the agenda's words, read while it is still on the list with this meeting's date. A document
    that cannot be rendered cannot be kept, and the postponement is refused: the record would
    otherwise show the document as it is some later day."""
    from . import pdf

    tu = punkt.tjansteutlatande
    try:
        data = pdf.render_tjansteutlatande(tu)
    except Exception as exc:
        raise WorkflowError(
            f"Punkt {punkt.nummer} kunde inte bordläggas: tjänsteutlåtandet sparas med punkten så som nämnden "
            f"hade det, men dess PDF kunde inte skapas: {pdf.orsak(exc)} Punkten är inte bordlagd."
        ) from exc
    return data, pdf.punktens_uppgifter(punkt), _handlingens_lage(tu)


def _avgor(*, punkt, beslut, user, now, bordlagd):
    """What a beslut and a postponement share: the checks, the protokollsutdrag (a PDF kept on
    the item and listed on its ärende), and the item's record of the outcome. A postponed item
    also keeps its document as the meeting had it (`_behall_handling`)."""
    from . import pdf  # PDF rendering pulls in WeasyPrint; only this path needs it

    now = now or timezone.now()
    punkt = _punkt_kvar(
        Foredragningspunkt.objects.select_related("sammantrade__namnd", "arende", "tjansteutlatande"), punkt.pk
    )
    kontrollera_oavgjord(punkt)
    kontrollera_motesdagen(punkt.sammantrade, now)
    if bordlagd and not punkt.tjansteutlatande_id:
        raise WorkflowError(
            f"Punkt {punkt.nummer} är en informationspunkt utan ärende och kan inte bordläggas. "
            "Registrera i stället vad som hände med den med Registrera beslut."
        )
    # The extract, and a postponed item's document, are rendered before the transaction, so no
    # row stays locked while WeasyPrint works: the document is usually read from its stored
    # attested copy, but one not yet stored may take up to PDF_RENDER_TIMEOUT, and under the
    # meeting's lock (on SQLite the whole database's write lock) every change of the list and
    # every decision would wait for it. The state is checked again under the lock before
    # anything is saved, the document's included: what was rendered is what is kept.
    handling = _behall_handling(punkt) if bordlagd else None
    punkt.beslut, punkt.beslutad, punkt.bordlagd = beslut, now, bordlagd
    utdrag = pdf.render_protokollsutdrag(punkt, sekreterare=display_name(user))
    tryckt_nummer = punkt.nummer
    with transaction.atomic():
        # The meeting first and on its own, as every change of its list locks it. Waiting for it,
        # the decision holds no item, so a removal or a new order that holds the meeting can take
        # the items it renumbers; the decision then reads the list they committed.
        Sammantrade.objects.select_for_update().get(pk=punkt.sammantrade_id)
        punkt = _punkt_kvar(Foredragningspunkt.objects.select_for_update().select_related("sammantrade"), punkt.pk)
        kontrollera_oavgjord(punkt)
        if punkt.nummer != tryckt_nummer:  # the list was reordered while the extract was made
            raise WorkflowError(
                f"Föredragningslistan ändrades medan beslutet registrerades: punkten är nu nummer {punkt.nummer}. "
                "Registrera beslutet igen."
            )
        tu = None
        if punkt.tjansteutlatande_id:
            tu = Tjansteutlatande.objects.select_for_update().get(pk=punkt.tjansteutlatande_id)
            _overgang(tu, "bordlagg" if bordlagd else "besluta")  # refused before the extract is stored
        if handling is not None:
            data, uppgifter, lage = handling
            if _handlingens_lage(tu) != lage:
                raise WorkflowError(
                    "Tjänsteutlåtandet ändrades medan ärendet bordlades. Punkten är inte bordlagd; ladda om "
                    "sidan och bordlägg igen."
                )
            punkt.handling_titel, punkt.handling_undertitel = uppgifter["rubrik"], uppgifter["undertitel"]
            punkt.handling_forslag = uppgifter["forslag"]
        punkt.beslut, punkt.beslutad, punkt.bordlagd = beslut, now, bordlagd
        punkt.protokollsutdrag.save(pdf.protokollsutdrag_filename(punkt), ContentFile(utdrag), save=False)
        # A failure from here on rolls the decision back: its files go too. (A failure of the
        # commit itself leaves them, since the decision may have been stored.)
        try:
            if handling is not None:
                punkt.handling.save(pdf.handling_filename(punkt), ContentFile(data), save=False)
            if bordlagd:
                spara_med_orsak(punkt, user=user, reason=f"{BORDLAGT}: {punkt.sammantrade}")
                _bordlagg_dokument(punkt, tu, user)
            else:
                spara_med_orsak(punkt, user=user, reason=f"Beslut registrerat: {beslut}")
                _besluta_dokument(punkt, tu, user)
        except BaseException:
            for fil in (punkt.protokollsutdrag, punkt.handling):
                if fil:
                    fil.storage.delete(fil.name)
            raise
    return punkt


def registrera_beslut(*, punkt, beslut, user, now=None):
    """Record what the nämnd decided on an item. Produces the protokollsutdrag (a PDF kept on the
    item and listed on its ärende), moves the document to `beslutad` and closes the ärende when
    none of its documents still waits for a decision. Refused before the meeting's day and on an
    item the nämnd postponed."""
    _require_namndsekreterare(user, punkt.sammantrade_id)
    beslut = (beslut or "").strip()
    if not beslut:
        raise WorkflowError("Skriv nämndens beslut innan det registreras.")
    return _avgor(punkt=punkt, beslut=beslut, user=user, now=now, bordlagd=False)


def bordlagg(*, punkt, user, now=None):
    """Record that the nämnd postponed (bordlade) an ärende at the meeting. The item stays in the
    meeting's record with its number, marked `bordlagd`, with the beslut "Ärendet bordläggs." and
    its protokollsutdrag; it gets no other beslut at this meeting. The document goes back to
    `attesterad` (its attest stands: the text is unchanged) so it can be put on a later meeting's
    list, and the ärende is ready for the nämnd again, not closed. Refused before the meeting's
    day, as a beslut is.

    The item keeps the document as the nämnd had it: its PDF, rendered while it is still on this
    list with this meeting's date, and the agenda's title, subtitle and förslag till beslut. This
    meeting's agenda, packet and zip print those, whatever becomes of the document
    (`pdf.punktens_pdf`, `pdf.punktens_uppgifter`). A document that cannot be rendered (a
    bilaga missing from the archive) is refused with the reason, and nothing changes. Items
    postponed before migration 0019 kept no copy; their exports read the document as it is now."""
    _require_namndsekreterare(user, punkt.sammantrade_id)
    return _avgor(punkt=punkt, beslut=BORDLAGGS, user=user, now=now, bordlagd=True)


def ta_bort_sammantrade(*, sammantrade, user):
    """Delete a meeting without items (one that was cancelled) and its exports. The rows go
    with the meeting, but their packets and zips would stay in the archive named by no row, so
    they are removed once the deletion is committed. A meeting with items is refused: their
    documents would be left on a list that is gone."""
    _require_namndsekreterare(user, sammantrade.pk)
    with transaction.atomic():
        mote = Sammantrade.objects.select_for_update().get(pk=sammantrade.pk)
        if mote.punkter.exists():
            raise WorkflowError(f"{mote} har punkter på föredragningslistan och kan inte tas bort.")
        filer = [export.fil for export in mote.exporter.exclude(fil="")]
        # Named here, not left to the request's middleware: a script or a job deletes too.
        mote._history_user, mote._change_reason = user, "Borttaget"
        mote.delete()
        transaction.on_commit(lambda: [fil.storage.delete(fil.name) for fil in filer])


def bestall_export(*, sammantrade, typ, user):
    """Order a packet or a zip of a meeting's documents. The job queue builds it; the returned
    row shows its progress and, when done, its file.

    One order of a kind per meeting at a time: a second click or a colleague's order while the
    first is unfinished is refused (the meeting's lock makes two at once wait for each other).
    An unfinished order that has gone silent (`is_stale`: no worker is running it) does not
    block: it is marked failed here, so that its job, should a worker reach it later, does
    nothing."""
    from .tasks import bygg_export

    _require_namndsekreterare(user, sammantrade.pk)
    if typ not in ExportTyp.values:
        raise WorkflowError("Okänd exporttyp.")
    with transaction.atomic():
        mote = Sammantrade.objects.select_for_update().get(pk=sammantrade.pk)
        if not mote.punkter.exists():
            raise WorkflowError("Föredragningslistan är tom; det finns inget att exportera.")
        now = timezone.now()
        oklara = mote.exporter.select_for_update().filter(typ=typ, status__in=[ExportStatus.VANTAR, ExportStatus.PAGAR])
        for tidigare in oklara:
            if not tidigare.is_stale:
                raise WorkflowError(
                    f"Exporten ”{ExportTyp(typ).label}” beställdes kl. {timezone.localtime(tidigare.skapad):%H:%M} "
                    "och är inte klar än. Vänta på den; den visas under Exportera handlingarna."
                )
            Sammantradesexport.objects.filter(pk=tidigare.pk).update(
                status=ExportStatus.MISSLYCKAD, fel=tidigare.stale_text, klar=now
            )
        export = Sammantradesexport.objects.create(
            sammantrade=mote,
            typ=typ,
            totalt=mote.punkter.filter(tjansteutlatande__isnull=False).count(),
            bestalld_av=user,
        )
        transaction.on_commit(lambda: bygg_export.enqueue(export.pk))
    return export


EXPORT_LISTAN_ANDRAD = (
    "Föredragningslistan ändrades medan exporten skapades, så filen hade inte stämt med den och "
    "sparades inte. Beställ exporten igen."
)


EXPORT_STOPPAD = (
    "Exporten avbröts när bakgrundsjobben stoppades (till exempel vid en omstart av systemet). Beställ den igen."
)


class _ExportGivenUp(Exception):
    """The export's row stopped running while its job rendered: it was given up (bestall_export)."""


class _Puls(threading.Thread):
    """A running export's sign of life: its row's `aktiv` set to the database's time (`Now()`, the
    clock `Sammantradesexport.is_stale` judges by) every EXPORT_PULS from a thread of its own,
    with its own database connection, whatever the job is doing meanwhile (one document may
    take the whole render time limit). So a job is taken as dead
    (`Sammantradesexport.is_stale`) within EXPORT_TIDSGRANS of its worker being killed, which
    takes this thread with it, and never while it is only slow.

    It writes only `aktiv`, and only while the row is running, as the job's progress does: a row
    finished, failed or given up meanwhile is left as it is, and the beat ends there. A job that
    has finished no item for EXPORT_FRAMSTEGSGRANS is stuck rather than slow (each render is
    killed at its time limit), so the beat stops and the row goes stale as if the worker had died.
    Used as a context manager around the job's work: leaving it, however the job ends, stops the
    thread and closes its connection."""

    def __init__(self, export_id):
        super().__init__(name=f"export-{export_id}-puls", daemon=True)
        self.export_id = export_id
        self.stopp = threading.Event()
        self.senaste_framsteg = time.monotonic()

    def __enter__(self):
        # Inside a transaction the thread's connection would not see the row the transaction
        # wrote, and on SQLite it would wait for the transaction's write lock: no beat then.
        if not connection.in_atomic_block:
            self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def framsteg(self):
        """The job finished an item: it is not stuck."""
        self.senaste_framsteg = time.monotonic()

    def run(self):
        running = Sammantradesexport.objects.filter(pk=self.export_id, status=ExportStatus.PAGAR)
        try:
            while not self.stopp.wait(EXPORT_PULS.total_seconds()):
                if time.monotonic() - self.senaste_framsteg > EXPORT_FRAMSTEGSGRANS.total_seconds():
                    logger.warning(
                        "Export %s har inte gjort någon punkt klar på länge; den ses som fastnad.", self.export_id
                    )
                    return
                try:
                    if not running.update(aktiv=Now()):
                        return
                except DatabaseError:
                    # The write lock held past the database's timeout (SQLite), a lost connection:
                    # the job itself is unharmed, and the next beat tries again on a new connection.
                    logger.warning("Export %s kunde inte ge livstecken.", self.export_id, exc_info=True)
                    connection.close()
        finally:
            connection.close()

    def stop(self):
        """End the beat at once (it waits on the event, not in a sleep) and wait for the thread,
        so that no write of it comes after the job's last."""
        self.stopp.set()
        if self.ident is not None:
            self.join()


def kor_export(*, export_id):
    """Build an ordered export: the job queue runs this outside any request. Progress is written
    after every item in its own statement, so the secretary's page sees it while the job runs,
    and a sign of life every EXPORT_PULS between them (`_Puls`), so a job whose worker was
    killed is seen as such within EXPORT_TIDSGRANS. A failed item is named in the export's
    `fel` and the job fails with it.

    The job takes its row from waiting to running in one statement; a row that is no longer
    waiting (given up as stale and ordered again, or taken by another worker) is left alone.
    Progress and the finished file are written only while the row is still running, so a job
    given up on cannot come back as done beside the new order; it stops at its next item
    instead of rendering the rest."""
    from . import pdf

    export = Sammantradesexport.objects.select_related("sammantrade__namnd").get(pk=export_id)
    rows = Sammantradesexport.objects.filter(pk=export.pk)
    if not rows.filter(status=ExportStatus.VANTAR).update(status=ExportStatus.PAGAR, klara=0, fel="", aktiv=Now()):
        logger.warning("Export %s körs inte: den väntar inte längre (%s).", export.pk, export.status)
        return None
    running = rows.filter(status=ExportStatus.PAGAR)
    mote = export.sammantrade

    with _Puls(export.pk) as puls:

        def progress(klara):
            puls.framsteg()
            if not running.update(klara=klara, aktiv=Now()):
                raise _ExportGivenUp

        try:
            # The list as it stands when the job starts: its documents are the total the page counts to.
            punkter = pdf.las_punkter(mote)
            rows.update(totalt=sum(1 for p in punkter if p.tjansteutlatande_id))
            if export.typ == ExportTyp.PAKET:
                data = pdf.render_motespaket(mote, punkter=punkter, on_progress=progress)
                namn = pdf.motespaket_filename(mote)
            else:
                data = pdf.render_motes_zip(mote, punkter=punkter, on_progress=progress)
                namn = pdf.motes_zip_filename(mote)
        except _ExportGivenUp:
            # Given up as silent and perhaps ordered again (bestall_export): the rest is not rendered.
            logger.warning("Export %s gavs upp medan den byggdes; jobbet avbröts.", export.pk)
            return None
        except pdf.PunktFel as exc:
            running.update(status=ExportStatus.MISSLYCKAD, fel=str(exc), klar=timezone.now())
            logger.warning("Export %s misslyckades: %s", export.pk, exc)
            raise
        except Exception as exc:
            fel = f"Exporten kunde inte skapas: {pdf.orsak(exc)}"
            running.update(status=ExportStatus.MISSLYCKAD, fel=fel, klar=timezone.now())
            logger.warning("Export %s misslyckades: %s", export.pk, fel)
            raise
        except BaseException:
            # The worker is stopping: django-tasks-db's worker exits inside the running job on a
            # second SIGINT or SIGTERM (Ctrl+C on `make run`, a restart). Left running, the row
            # would show "Pågår" and refuse a new order until it went stale.
            running.update(status=ExportStatus.MISSLYCKAD, fel=EXPORT_STOPPAD, klar=timezone.now())
            logger.warning("Export %s avbröts när arbetaren stoppades.", export.pk)
            raise
        export.fil.save(namn, ContentFile(data), save=False)
        # The file is the list as the job read it. Taken off the list meanwhile, an item's document
        # may have had its attest voided; such a file is not handed out as the meeting's. Checked
        # under the meeting's lock, which every change of the list takes, so no change slips in
        # between the check and the file becoming the meeting's.
        with transaction.atomic():
            listan = Sammantrade.objects.select_for_update().get(pk=mote.pk).agendans_summa()
            andrad = listan != mote.agendans_summa(punkter)
            if andrad:
                klar = running.update(status=ExportStatus.MISSLYCKAD, fel=EXPORT_LISTAN_ANDRAD, klar=timezone.now())
            else:
                klar = running.update(
                    fil=export.fil.name, status=ExportStatus.KLAR, klar=timezone.now(), avtryck=listan
                )
    if andrad or not klar:
        export.fil.storage.delete(export.fil.name)
    if andrad:
        logger.warning("Export %s: föredragningslistan ändrades medan den byggdes; filen kastades.", export.pk)
    elif not klar:
        logger.warning("Export %s blev klar efter att ha getts upp; filen kastades.", export.pk)
    else:
        _rensa_ersatta_exporter(export)
    export.refresh_from_db()
    return export


def _rensa_ersatta_exporter(export):
    """Remove the files of the meeting's earlier exports of the same kind, now that `export`
    is done. Every order stores a whole packet or zip, and a meeting is exported again after
    each change of its list: kept, they would fill the archive over the years, while any of
    them can be made again from the meeting's record. Each row lets go of its file before the
    file is removed, so no row names a file that is not there."""
    aldre = Sammantradesexport.objects.filter(sammantrade_id=export.sammantrade_id, typ=export.typ, pk__lt=export.pk)
    for tidigare in aldre.exclude(fil=""):
        if Sammantradesexport.objects.filter(pk=tidigare.pk, fil=tidigare.fil.name).update(fil=""):
            tidigare.fil.storage.delete(tidigare.fil.name)
