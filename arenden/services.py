"""Every state change that writes to the diarium goes through a function here.

The admin and the officers' views call the same functions; neither sets a number or a status
by hand.
"""

from django.db import transaction
from django.utils import timezone

from .models import DiarieSekvens, parse_diarienummer


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
        if registrerad:
            arende.registrerad = registrerad
        if arende.diarienummer:
            prefix, ar, lopnummer = parse_diarienummer(arende.diarienummer)
        else:
            prefix = arende.forvaltning.diarieprefix
            ar = timezone.localdate().year
            lopnummer = next_lopnummer(prefix=prefix, ar=ar)
            arende.diarienummer = f"{prefix} {ar}/{lopnummer}"
        arende.ar, arende.lopnummer = ar, lopnummer
        arende._history_user = user
        arende._change_reason = "Registrerat"
        arende.save()
    return arende


def registrera_skrivelse(*, arende, skrivelse, user):
    """Register a new ärende from a skrivelse the nämnd sent for beredning: the case gets its
    diarienummer and the skrivelse is stored with it, in one transaction, so a skrivelse that
    fails to save gives its number back."""
    with transaction.atomic():
        registrera_arende(arende=arende, user=user)
        skrivelse.arende = arende
        skrivelse.full_clean()
        skrivelse._history_user = user
        skrivelse._change_reason = "Skrivelse registrerad"
        skrivelse.save()
    return arende
