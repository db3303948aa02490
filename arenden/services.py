"""Every state change that writes to the diarium goes through a function here.

The admin and the officers' views call the same functions; neither sets a number or a status
by hand.
"""

import html
import logging
import re

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .constants import ArendeStatus, ExportStatus, ExportTyp, TjansteutlatandeStatus
from .models import (
    Arende,
    DiarieSekvens,
    Foredragningspunkt,
    Sammantrade,
    Sammantradesexport,
    Tjansteutlatande,
    is_namndsekreterare,
    parse_diarienummer,
)

logger = logging.getLogger(__name__)

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


# --- Sammanträden: föredragningslista, beslut and exports (the nämnd secretary's work) ---------


def _require_namndsekreterare(user):
    if not is_namndsekreterare(user):
        raise WorkflowError("Bara nämndsekreterare kan ändra föredragningslistan, registrera beslut och exportera.")


def _spara(obj, *, user, reason, **kwargs):
    obj._history_user = user
    # The history's reason column holds 100 characters; the full beslut text is on the item.
    obj._change_reason = reason if len(reason) <= 100 else reason[:99] + "…"
    obj.save(**kwargs)
    return obj


def _numrera_om(mote, punkter, *, user, reason):
    """Give the items 1..n in the given order. The unique (meeting, number) constraint would
    trip over a swap, so the numbers are first moved out of the way with one UPDATE (that
    intermediate state is never committed, hence needs no history) and then saved one by one,
    each change in the item's history."""
    Foredragningspunkt.objects.filter(sammantrade=mote).update(nummer=F("nummer") + 10000)
    for nummer, punkt in enumerate(punkter, start=1):
        andrad = punkt.nummer != nummer
        punkt.nummer = nummer
        if andrad:
            _spara(punkt, user=user, reason=reason)
        else:
            punkt.save(update_fields=["nummer"])  # the same number as before: no history row
    return punkter


def satt_pa_foredragningslista(*, sammantrade, user, tjansteutlatande=None, titel=""):
    """Put an attested tjänsteutlåtande (or an information item with only a title) last on a
    meeting's föredragningslista. The document goes to `pa_foredragningslista`, its header date
    becomes the meeting's date, and its ärende shows that it is on a list."""
    _require_namndsekreterare(user)
    titel = (titel or "").strip()
    if tjansteutlatande is None and not titel:
        raise WorkflowError("Välj ett tjänsteutlåtande eller skriv en rubrik för informationspunkten.")
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
            if tu.namnd_id != mote.namnd_id:
                raise WorkflowError(f"”{tu.titel}” är ställt till {tu.namnd}, inte till {mote.namnd}.")
        senaste = mote.punkter.order_by("-nummer").values_list("nummer", flat=True).first() or 0
        punkt = Foredragningspunkt(
            sammantrade=mote,
            nummer=senaste + 1,
            tjansteutlatande=tu,
            arende=tu.arende if tu else None,
            titel="" if tu else titel,
        )
        _spara(punkt, user=user, reason=f"Satt på föredragningslistan: {mote}, punkt {punkt.nummer}")
        if tu:
            tu.status = TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA
            tu.sammantradesdatum = mote.datum
            _spara(tu, user=user, reason=f"Satt på föredragningslistan: {mote}, punkt {punkt.nummer}")
            arende = Arende.objects.select_for_update().get(pk=tu.arende_id)
            arende.status = ArendeStatus.PA_FOREDRAGNINGSLISTA
            _spara(arende, user=user, reason=f"Satt på föredragningslistan: ”{tu.titel}”, {mote}, punkt {punkt.nummer}")
    return punkt


def ta_bort_fran_foredragningslista(*, punkt, user, reason=""):
    """Take an undecided item off the list; its document is attested again and may go to another
    meeting. The remaining items are renumbered."""
    _require_namndsekreterare(user)
    with transaction.atomic():
        mote = Sammantrade.objects.select_for_update().get(pk=punkt.sammantrade_id)
        punkt = Foredragningspunkt.objects.select_for_update().get(pk=punkt.pk)
        if punkt.is_decided:
            raise WorkflowError(f"Punkt {punkt.nummer} är redan beslutad och kan inte tas bort från listan.")
        skal = reason or f"Borttagen från föredragningslistan: {mote}"
        if punkt.tjansteutlatande_id:
            tu = Tjansteutlatande.objects.select_for_update().get(pk=punkt.tjansteutlatande_id)
            tu.status = TjansteutlatandeStatus.ATTESTERAD
            _spara(tu, user=user, reason=skal)
            arende = Arende.objects.select_for_update().get(pk=tu.arende_id)
            if not arende.tjansteutlatanden.filter(status=TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA).exists():
                arende.status = ArendeStatus.REDO_FOR_NAMND
                _spara(arende, user=user, reason=skal)
        punkt._history_user = user
        punkt._change_reason = skal[:100]
        punkt.delete()
        _numrera_om(mote, list(mote.punkter.order_by("nummer")), user=user, reason="Numrerad om efter borttagning")


def ordna_foredragningslista(*, sammantrade, punkt_ids, user):
    """Put the items in the given order and number them 1..n."""
    _require_namndsekreterare(user)
    with transaction.atomic():
        mote = Sammantrade.objects.select_for_update().get(pk=sammantrade.pk)
        punkter = {p.pk: p for p in mote.punkter.select_for_update()}
        ids = [int(i) for i in punkt_ids]
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
    text = re.sub(r"</(p|li)>|<br\s*/?>", "\n\n", text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return "\n\n".join(line.strip() for line in text.split("\n\n") if line.strip())


def registrera_beslut(*, punkt, beslut, user, now=None):
    """Record what the nämnd decided on an item. Produces the protokollsutdrag (a PDF kept on the
    item and listed on its ärende), moves the document to `beslutad` and closes the ärende when
    none of its documents still waits for a decision."""
    from . import pdf  # PDF rendering pulls in WeasyPrint; only this path needs it

    _require_namndsekreterare(user)
    beslut = (beslut or "").strip()
    if not beslut:
        raise WorkflowError("Skriv nämndens beslut innan det registreras.")
    now = now or timezone.now()
    punkt = Foredragningspunkt.objects.select_related("sammantrade__namnd", "arende", "tjansteutlatande").get(
        pk=punkt.pk
    )
    if punkt.is_decided:
        raise WorkflowError(f"Beslut är redan registrerat för punkt {punkt.nummer}.")
    # The extract is rendered before the transaction, so no row stays locked while WeasyPrint
    # works; the state is checked again under the lock before anything is saved.
    punkt.beslut, punkt.beslutad = beslut, now
    utdrag = pdf.render_protokollsutdrag(punkt, sekreterare=user.get_full_name() or user.get_username())
    with transaction.atomic():
        punkt = Foredragningspunkt.objects.select_for_update().select_related("sammantrade").get(pk=punkt.pk)
        if punkt.is_decided:
            raise WorkflowError(f"Beslut är redan registrerat för punkt {punkt.nummer}.")
        mote = punkt.sammantrade
        punkt.beslut, punkt.beslutad = beslut, now
        punkt.protokollsutdrag.save(pdf.protokollsutdrag_filename(punkt), ContentFile(utdrag), save=False)
        _spara(punkt, user=user, reason=f"Beslut registrerat: {beslut}")
        if punkt.tjansteutlatande_id:
            tu = Tjansteutlatande.objects.select_for_update().get(pk=punkt.tjansteutlatande_id)
            if tu.status != TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA:
                raise WorkflowError(f"”{tu.titel}” står inte på en föredragningslista och kan inte beslutas.")
            tu.status = TjansteutlatandeStatus.BESLUTAD
            _spara(tu, user=user, reason=f"Beslutad: {mote}, punkt {punkt.nummer}")
        if punkt.arende_id:
            arende = Arende.objects.select_for_update().get(pk=punkt.arende_id)
            kvar = arende.tjansteutlatanden.exclude(status=TjansteutlatandeStatus.BESLUTAD).exists()
            # The reason column holds 100 characters: the beslut text itself is on the item.
            reason = f"Beslut och protokollsutdrag: {mote}, punkt {punkt.nummer}"
            if not kvar:
                arende.status = ArendeStatus.AVSLUTAT
                reason = f"Avslutat efter beslut: {mote}, punkt {punkt.nummer}; protokollsutdrag bifogat"
            _spara(arende, user=user, reason=reason)
    return punkt


def bestall_export(*, sammantrade, typ, user):
    """Order a packet or a zip of a meeting's documents. The job queue builds it; the returned
    row shows its progress and, when done, its file."""
    from .tasks import bygg_export

    _require_namndsekreterare(user)
    if typ not in ExportTyp.values:
        raise WorkflowError("Okänd exporttyp.")
    with transaction.atomic():
        mote = Sammantrade.objects.select_for_update().get(pk=sammantrade.pk)
        if not mote.punkter.exists():
            raise WorkflowError("Föredragningslistan är tom; det finns inget att exportera.")
        export = Sammantradesexport.objects.create(
            sammantrade=mote,
            typ=typ,
            totalt=mote.punkter.filter(tjansteutlatande__isnull=False).count(),
            bestalld_av=user,
        )
        transaction.on_commit(lambda: bygg_export.enqueue(export.pk))
    return export


def kor_export(*, export_id):
    """Build an ordered export: the job queue runs this outside any request. Progress is written
    after every item in its own statement, so the secretary's page sees it while the job runs.
    A failed item is named in the export's `fel` and the job fails with it."""
    from . import pdf

    export = Sammantradesexport.objects.select_related("sammantrade__namnd").get(pk=export_id)
    rows = Sammantradesexport.objects.filter(pk=export.pk)
    rows.update(status=ExportStatus.PAGAR, klara=0, fel="")
    mote = export.sammantrade
    try:
        if export.typ == ExportTyp.PAKET:
            data = pdf.render_motespaket(mote, on_progress=lambda klara: rows.update(klara=klara))
            namn = pdf.motespaket_filename(mote)
        else:
            data = pdf.render_motes_zip(mote, on_progress=lambda klara: rows.update(klara=klara))
            namn = pdf.motes_zip_filename(mote)
    except pdf.PunktFel as exc:
        rows.update(status=ExportStatus.MISSLYCKAD, fel=str(exc), klar=timezone.now())
        logger.warning("Export %s misslyckades: %s", export.pk, exc)
        raise
    except Exception as exc:
        rows.update(status=ExportStatus.MISSLYCKAD, fel=f"Exporten kunde inte skapas: {exc}", klar=timezone.now())
        raise
    export.fil.save(namn, ContentFile(data), save=False)
    rows.update(fil=export.fil.name, status=ExportStatus.KLAR, klar=timezone.now())
    export.refresh_from_db()
    return export
