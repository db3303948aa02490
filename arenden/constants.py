import datetime

from django.db import models
from django.utils.formats import number_format


class ArendeStatus(models.TextChoices):
    """An ärende's states. They advance only through the document's transitions in services.py."""

    REGISTRERAT = "registrerat", "Registrerat"
    UNDER_BEREDNING = "under_beredning", "Under beredning"
    REDO_FOR_NAMND = "redo_for_namnd", "Redo för nämnd"
    PA_FOREDRAGNINGSLISTA = "pa_foredragningslista", "På föredragningslista"
    AVSLUTAT = "avslutat", "Avslutat"


class TjansteutlatandeStatus(models.TextChoices):
    UTKAST = "utkast", "Utkast"
    TILL_ATTEST = "till_attest", "Till attest"
    ATTESTERAD = "attesterad", "Attesterad"
    # The nämnd secretary's states, set by the meeting workflow.
    PA_FOREDRAGNINGSLISTA = "pa_foredragningslista", "På föredragningslista"
    BESLUTAD = "beslutad", "Beslutad"


# The states in which a document's text may still change (an edit after sending voids the attest,
# services.OVERGANGAR's "andra"). On a meeting's list, or decided, the text is the nämnd's.
ANDRINGSBARA = frozenset(
    {TjansteutlatandeStatus.UTKAST, TjansteutlatandeStatus.TILL_ATTEST, TjansteutlatandeStatus.ATTESTERAD}
)


# [0-9], not \d: Python's \d takes the digits of every script ("SKHLM 20٢٤/1٠"), which int() reads as the
# same number, so a case would carry its number in digits that no search or reader takes for it.
DIARIENUMMER_REGEX = r"^(?P<prefix>[A-ZÅÄÖ]{2,10}) (?P<ar>(19|20)[0-9]{2})/(?P<lopnummer>[1-9][0-9]{0,6})$"
DIARIENUMMER_EXEMPEL = "SKHLM 2022/1048"


class Roll:
    """The role groups (created by migration 0002_roller). Permissions come with the group."""

    HANDLAGGARE = "Handläggare"
    ATTESTANT = "Attestant"
    NAMNDSEKRETERARE = "Nämndsekreterare"
    REGISTRATOR = "Registrator"

    # Roles that see every case of their förvaltning; a Handläggare sees their own and their avdelning's.
    FORVALTNINGSROLLER = (ATTESTANT, NAMNDSEKRETERARE, REGISTRATOR)


class Hinder(models.TextChoices):
    """Why someone may not be chosen now for a place in the förvaltning's cases (a chef, a case's
    or a document's handläggare, a signatory). A row that already holds them keeps them, and the
    admin's lists name them with it: "slutat (avslutat konto)"."""

    AVSLUTAT_KONTO = "avslutat_konto", "avslutat konto"
    INGEN_ROLL = "ingen_roll", "ingen roll i ärendehanteringen"
    ANNAN_FORVALTNING = "annan_forvaltning", "arbetar inte i förvaltningen"


class ExportTyp(models.TextChoices):
    PAKET = "paket", "Mötespaket (en PDF)"
    ZIP = "zip", "Zip med en PDF per punkt"


class ExportStatus(models.TextChoices):
    VANTAR = "vantar", "Väntar"
    PAGAR = "pagar", "Pågår"
    KLAR = "klar", "Klar"
    MISSLYCKAD = "misslyckad", "Misslyckades"


# A running export writes a sign of life (`aktiv`) every EXPORT_PULS from a thread of its own
# (services._Puls), whatever its render is doing: one document may take up to the render time
# limit (PDF_RENDER_TIMEOUT, 30 s), and the front pages of a packet a few of those, so progress
# per item could not tell a live job from a dead one in less than some minutes. Silent for
# EXPORT_TIDSGRANS, four missed beats, the job is taken as dead: its worker was killed (SIGKILL,
# out of memory, a lost machine) and nothing will finish it.
EXPORT_PULS = datetime.timedelta(seconds=15)
EXPORT_TIDSGRANS = datetime.timedelta(minutes=1)
# A live job that has finished no item for this long is stuck rather than slow (each render is
# killed at its time limit): its sign of life stops, and it goes stale EXPORT_TIDSGRANS later.
EXPORT_FRAMSTEGSGRANS = datetime.timedelta(minutes=10)
# An export that has waited this long for the job queue is taken as never to start: no worker
# (`manage.py db_worker`) is running. Waiting says nothing of a worker's health, since a worker
# runs one job at a time and a busy queue (several meetings ordered at once, some 20 s a packet
# of 30 documents) keeps the next one waiting while every worker is alive; given up early, the
# order would go again to the back of the queue.
EXPORT_VANTETID = datetime.timedelta(minutes=10)


def _minuter(tid):
    antal = round(tid.total_seconds() / 60)
    return "en minut" if antal == 1 else f"{antal} minuter"


# A finished export whose meeting's list (or date, time, place) has changed since it was made.
EXPORT_INAKTUELL = (
    "Föredragningslistan har ändrats sedan exporten skapades, så filen stämmer inte längre med den. "
    "Beställ exporten igen innan handlingarna skickas ut."
)
# A finished export whose file was removed when a newer one of its kind was done.
EXPORT_ERSATT = "Ersatt av en senare export av samma slag; filen är borttagen. Den senaste finns ovanför."
# A running export that went silent (EXPORT_TIDSGRANS), and one that never started (EXPORT_VANTETID).
EXPORT_AVBRUTEN = (
    f"Exporten har inte gett något livstecken på {_minuter(EXPORT_TIDSGRANS)} och har troligen avbrutits. "
    "Beställ den igen, och kontakta systemförvaltningen om det upprepas."
)
EXPORT_EJ_STARTAD = (
    f"Exporten har väntat i {_minuter(EXPORT_VANTETID)} utan att påbörjas, så bakgrundsjobben körs troligen "
    "inte. Beställ den igen, och kontakta systemförvaltningen om det upprepas."
)

# A return's comment tells the handläggare what must change; the document itself holds the text.
# A few thousand characters (a page or so) leave room for that, and keep the document's page, its
# history and the officer's send page, which print the comment in full, readable.
ATERREMISS_KOMMENTAR_HOGST = 4000


# A return without a comment: the officer would not know what to change.
KOMMENTAR_SAKNAS = "Skriv en kommentar om vad som behöver ändras innan du återremitterar."


def kommentaren_for_lang(kommentar):
    """Why a return's comment is refused, or None while it is within ATERREMISS_KOMMENTAR_HOGST."""
    if len(kommentar) <= ATERREMISS_KOMMENTAR_HOGST:
        return None
    hogst, har = (number_format(n, force_grouping=True) for n in (ATERREMISS_KOMMENTAR_HOGST, len(kommentar)))
    return (
        f"Kommentaren är för lång: högst {hogst} tecken, den har {har}. "
        "Korta den till det som handläggaren behöver ändra."
    )
