import datetime

from django.db import models


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


DIARIENUMMER_REGEX = r"^(?P<prefix>[A-ZÅÄÖ]{2,10}) (?P<ar>(19|20)\d{2})/(?P<lopnummer>[1-9]\d{0,6})$"
DIARIENUMMER_EXEMPEL = "SKHLM 2022/1048"


class Roll:
    """The role groups (created by migration 0002_roller). Permissions come with the group."""

    HANDLAGGARE = "Handläggare"
    ATTESTANT = "Attestant"
    NAMNDSEKRETERARE = "Nämndsekreterare"
    REGISTRATOR = "Registrator"

    # Roles that see every case of their förvaltning; a Handläggare sees their own and their avdelning's.
    FORVALTNINGSROLLER = (ATTESTANT, NAMNDSEKRETERARE, REGISTRATOR)


class ExportTyp(models.TextChoices):
    PAKET = "paket", "Mötespaket (en PDF)"
    ZIP = "zip", "Zip med en PDF per punkt"


class ExportStatus(models.TextChoices):
    VANTAR = "vantar", "Väntar"
    PAGAR = "pagar", "Pågår"
    KLAR = "klar", "Klar"
    MISSLYCKAD = "misslyckad", "Misslyckades"


# An export that has waited for the job queue, or made no progress, for this long is taken as
# dead: the worker (`manage.py db_worker`) is not running or stopped mid-job. A packet of 30
# documents takes some 20 s and each item reports progress within the render time limit (30 s),
# so a live job never comes near it.
EXPORT_TIDSGRANS = datetime.timedelta(minutes=10)
# A finished export whose meeting's list (or date, time, place) has changed since it was made.
EXPORT_INAKTUELL = (
    "Föredragningslistan har ändrats sedan exporten skapades, så filen stämmer inte längre med den. "
    "Beställ exporten igen innan handlingarna skickas ut."
)
# A finished export whose file was removed when a newer one of its kind was done.
EXPORT_ERSATT = "Ersatt av en senare export av samma slag; filen är borttagen. Den senaste finns ovanför."
EXPORT_AVBRUTEN = (
    f"Exporten har inte kommit vidare på {EXPORT_TIDSGRANS.seconds // 60} minuter och har troligen "
    "avbrutits. Beställ den igen, och kontakta systemförvaltningen om det upprepas."
)
