"""Sammanträden: the nämnd's meetings, their föredragningslista and decisions."""

import hashlib
import json

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.functional import cached_property

from skarholmen.historik import Historik

from ..constants import (
    EXPORT_AVBRUTEN,
    EXPORT_EJ_STARTAD,
    EXPORT_ERSATT,
    EXPORT_INAKTUELL,
    EXPORT_TIDSGRANS,
    EXPORT_VANTETID,
    ExportStatus,
    ExportTyp,
    Roll,
)
from .arenden import Arende
from .organisation import Forvaltning, Namnd, forvaltningar_for, roller
from .tjansteutlatanden import Tjansteutlatande

User = settings.AUTH_USER_MODEL


def is_namndsekreterare(user):
    """Whether a user prepares meetings: exports, agenda changes and decisions are theirs."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or Roll.NAMNDSEKRETERARE in roller(user)


def namnder_for(user):
    """The nämnder the förvaltningar a user works in answer to."""
    return Namnd.objects.filter(pk__in=Forvaltning.objects.filter(pk__in=forvaltningar_for(user)).values("namnd"))


class SammantradeQuerySet(models.QuerySet):
    def for_user(self, user):
        """The meetings a user prepares: a nämnd secretary those of the nämnder their
        förvaltningar answer to (a superuser all); anyone else none."""
        if not is_namndsekreterare(user):
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(namnd__in=namnder_for(user))


class Sammantrade(models.Model):
    """A meeting of the nämnd. Its föredragningslista is the ordered list of its items."""

    namnd = models.ForeignKey(Namnd, on_delete=models.PROTECT, related_name="sammantraden", verbose_name="nämnd")
    datum = models.DateField("datum")
    tid = models.TimeField("tid")
    plats = models.CharField(
        "plats", max_length=200, help_text="Till exempel ”Skärholmens stadsdelsförvaltning, Sessionssalen”."
    )

    objects = SammantradeQuerySet.as_manager()
    history = Historik()

    class Meta:
        verbose_name = "sammanträde"
        verbose_name_plural = "sammanträden"
        ordering = ["-datum", "-tid"]
        # The list's order, newest first: without it the secretaries' list sorted every meeting
        # of every nämnd for a page.
        indexes = [models.Index(fields=["-datum", "-tid"], name="sammantrade_ordning_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["namnd", "datum", "tid"],
                name="sammantrade_unikt",
                violation_error_message="Nämnden har redan ett sammanträde den dagen och tiden.",
            )
        ]

    def __str__(self):
        return f"{self.namnd} {self.datum:%Y-%m-%d}"

    def agendans_avtryck(self, punkter=None):
        """What the meeting's agenda, packet and zip are built from, as a value to compare: the
        meeting's date, time and place, and each item's number, title and document. Two lists
        with the same value give the same files; a decision on an item changes nothing printed
        before it, so it is not part of it. A document on the list cannot be edited (its attest
        can only be voided once it is taken off), so its id stands for its text."""
        punkter = self.punkter.all() if punkter is None else punkter
        return (
            self.datum,
            self.tid,
            self.plats,
            sorted((p.pk, p.nummer, p.titel, p.tjansteutlatande_id) for p in punkter),
        )

    def agendans_summa(self, punkter=None):
        """`agendans_avtryck` as a short string a finished export keeps: the SHA-256 of its JSON."""
        avtryck = json.dumps(self.agendans_avtryck(punkter), default=str, ensure_ascii=False)
        return hashlib.sha256(avtryck.encode()).hexdigest()

    def is_future(self, now=None):
        """Whether the meeting's day is still to come, by the date in Stockholm (TIME_ZONE): the
        nämnd has not met, so nothing can be decided or postponed at it yet, and a decision
        registered by a misclick would close the case. The day itself counts, since the
        secretary records the decisions during or after the evening's meeting."""
        return self.datum > timezone.localdate(now)

    def is_held(self, now=None):
        """Whether the meeting's day has passed in Stockholm: the nämnd has met. A secretary may
        still record such a meeting and its list afterwards, so this warns rather than refuses.
        The day itself does not count: the nämnd meets in the evening."""
        return self.datum < timezone.localdate(now)


class Foredragningspunkt(models.Model):
    """One numbered item of a meeting's föredragningslista: an attested tjänsteutlåtande, or a
    plain information item with only a title. After the meeting it holds the nämnd's beslut and
    the protokollsutdrag that records it. An ärende the nämnd postponed (bordlade) holds that
    decision ("Ärendet bordläggs.") the same way, marked `bordlagd`: the item stays in the
    meeting's record with its number, and the document goes on to a later meeting's list.

    The document may then be edited, attested again and dated for that later meeting, so a
    postponed item keeps what this meeting had before it: the document's PDF (`handling`) and
    the words its agenda printed (`handling_titel`, `handling_undertitel`, `handling_forslag`).
    The meeting's exports read those, not the document (`pdf.punktens_pdf`,
    `pdf.punktens_uppgifter`). Items postponed before migration 0019 kept nothing and are
    read from the document as it is now."""

    sammantrade = models.ForeignKey(
        Sammantrade, on_delete=models.CASCADE, related_name="punkter", verbose_name="sammanträde"
    )
    nummer = models.PositiveSmallIntegerField("nummer")
    tjansteutlatande = models.ForeignKey(
        Tjansteutlatande,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="foredragningspunkter",
        verbose_name="tjänsteutlåtande",
    )
    # The document's ärende, kept so a case lists its decisions without going through documents.
    arende = models.ForeignKey(
        Arende,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="beslutspunkter",
        verbose_name="ärende",
        editable=False,
    )
    titel = models.CharField(
        "rubrik",
        max_length=300,
        blank=True,
        help_text="För informationspunkter; ärendepunkter visar dokumentets titel.",
    )
    beslut = models.TextField("beslut", blank=True, editable=False)
    beslutad = models.DateTimeField("beslut registrerat", null=True, blank=True, editable=False)
    bordlagd = models.BooleanField(
        "bordlagd",
        default=False,
        editable=False,
        help_text="Nämnden bordlade ärendet på sammanträdet; det tas upp på ett senare sammanträde.",
    )
    protokollsutdrag = models.FileField(
        "protokollsutdrag", upload_to="protokollsutdrag/%Y/", blank=True, editable=False
    )
    # Kept when the nämnd postpones the item (`services.bordlagg`); empty on every other item.
    # Not a cache as pdf/attesterade is: nothing renders it again, so it is backed up with the rest.
    handling = models.FileField(
        "bordlagd handling",
        upload_to="pdf/bordlagda/%Y/",
        blank=True,
        editable=False,
        help_text="Tjänsteutlåtandet som PDF så som det stod på föredragningslistan när nämnden bordlade ärendet.",
    )
    handling_titel = models.CharField("bordlagd handlings titel", max_length=300, blank=True, editable=False)
    handling_undertitel = models.CharField("bordlagd handlings undertitel", max_length=300, blank=True, editable=False)
    handling_forslag = models.TextField("bordlagd handlings förslag till beslut", blank=True, editable=False)

    history = Historik()

    class Meta:
        verbose_name = "punkt på föredragningslistan"
        verbose_name_plural = "föredragningslista"
        ordering = ["sammantrade", "nummer"]
        constraints = [
            models.UniqueConstraint(fields=["sammantrade", "nummer"], name="punkt_unikt_nummer"),
            models.UniqueConstraint(
                fields=["sammantrade", "tjansteutlatande"],
                name="punkt_dokument_en_gang",
                violation_error_message="Tjänsteutlåtandet står redan på föredragningslistan.",
            ),
            models.CheckConstraint(
                condition=models.Q(tjansteutlatande__isnull=False) | ~models.Q(titel=""),
                name="punkt_har_innehall",
                violation_error_message="En punkt behöver ett tjänsteutlåtande eller en rubrik.",
            ),
        ]

    def __str__(self):
        return f"{self.nummer}. {self.rubrik}"

    @property
    def rubrik(self):
        if self.handling:  # postponed: the title this meeting had, not the document's today
            return self.handling_titel
        return self.tjansteutlatande.titel if self.tjansteutlatande_id else self.titel

    @property
    def diarienummer(self):
        return self.arende.diarienummer if self.arende_id else ""

    @property
    def is_decided(self):
        """Whether the nämnd has dealt with the item at the meeting: decided it, or postponed
        it (`bordlagd`). Either way its number is in the protokollsutdrag."""
        return self.beslutad is not None


class ExportManager(models.Manager):
    """Every export is read with the database's time beside it (`db_now`). Its signs of life and
    its order time are written with that clock (`Now()`), so whether a job has gone silent is
    judged by one clock, never a worker's against an app server's, which may drift apart."""

    def get_queryset(self):
        return super().get_queryset().annotate(db_now=Now())


class Sammantradesexport(models.Model):
    """A meeting's documents as one packet PDF or a zip, built by the job queue. Holds the
    progress the secretary sees, the file when done, and which item failed if one did."""

    sammantrade = models.ForeignKey(
        Sammantrade, on_delete=models.CASCADE, related_name="exporter", verbose_name="sammanträde"
    )
    typ = models.CharField("typ", max_length=10, choices=ExportTyp.choices)
    status = models.CharField("status", max_length=20, choices=ExportStatus.choices, default=ExportStatus.VANTAR)
    klara = models.PositiveIntegerField("klara punkter", default=0)
    totalt = models.PositiveIntegerField("punkter totalt", default=0)
    fel = models.TextField("fel", blank=True)
    fil = models.FileField("fil", upload_to="exporter/%Y/", blank=True)
    bestalld_av = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="beställd av"
    )
    skapad = models.DateTimeField("beställd", db_default=Now())
    aktiv = models.DateTimeField(
        "senast aktiv",
        null=True,
        blank=True,
        help_text=(
            "När jobbet startade eller senast gav livstecken (var 15:e sekund medan det körs); "
            "tomt så länge det väntar."
        ),
    )
    klar = models.DateTimeField("klar", null=True, blank=True)
    avtryck = models.CharField(
        "föredragningslistans avtryck",
        max_length=64,
        blank=True,
        editable=False,
        help_text="Listan som filen byggdes av (Sammantrade.agendans_summa), för att se om den ändrats sedan.",
    )

    objects = ExportManager()

    class Meta:
        verbose_name = "export av sammanträde"
        verbose_name_plural = "exporter av sammanträden"
        ordering = ["-skapad", "-pk"]

    def __str__(self):
        return f"{self.get_typ_display()} – {self.sammantrade}"

    @property
    def procent(self):
        if not self.totalt:
            return 100 if self.status == ExportStatus.KLAR else 0
        return round(100 * self.klara / self.totalt)

    @cached_property
    def db_now(self):
        """The database's time, for a row not read through `objects` (which reads it with the row)."""
        return Sammantradesexport.objects.filter(pk=self.pk).values_list("db_now", flat=True).get()

    def refresh_from_db(self, *args, **kwargs):
        self.__dict__.pop("db_now", None)  # read again with the row when next asked
        super().refresh_from_db(*args, **kwargs)

    @property
    def is_stale(self):
        """No worker will finish it: running, but without a sign of life for EXPORT_TIDSGRANS (its
        worker died), or waiting for the queue for EXPORT_VANTETID (no worker is running). The
        wait is the longer, since a busy worker leaves the next job waiting while it is alive.
        Judged by the database's clock, with which both times were written."""
        if self.status == ExportStatus.PAGAR:
            return (self.aktiv or self.skapad) < self.db_now - EXPORT_TIDSGRANS
        if self.status == ExportStatus.VANTAR:
            return self.skapad < self.db_now - EXPORT_VANTETID
        return False

    @property
    def stale_text(self):
        """Why a stale job is taken as given up, and what to do."""
        return EXPORT_EJ_STARTAD if self.status == ExportStatus.VANTAR else EXPORT_AVBRUTEN

    @property
    def is_finished(self):
        return self.status in (ExportStatus.KLAR, ExportStatus.MISSLYCKAD) or self.is_stale

    @property
    def visad_status(self):
        """The status as the secretary sees it: a stale job shows as failed."""
        return ExportStatus.MISSLYCKAD if self.is_stale else self.status

    @property
    def status_text(self):
        return ExportStatus(self.visad_status).label

    @cached_property
    def listan_andrad(self):
        """Finished, but the meeting's list, date, time or place has changed since: the file no
        longer matches the agenda. The file keeps the fingerprint of the list it was built from,
        taken under the meeting's lock as it became the meeting's, so no clock is compared: the
        worker's and the app servers', which write the meeting's history, may drift apart."""
        if self.status != ExportStatus.KLAR or self.klar is None:
            return False
        mote = self.sammantrade
        if self.avtryck:
            return self.avtryck != mote.agendans_summa()
        # Finished before the fingerprint was kept: the history as it stood when the file was done.
        try:
            da = mote.history.as_of(self.klar)
        except Sammantrade.DoesNotExist:  # no history row that old: the fields as they are
            da = mote
        punkter = Foredragningspunkt.history.as_of(self.klar).filter(sammantrade_id=mote.pk)
        return da.agendans_avtryck(punkter) != mote.agendans_avtryck()

    @property
    def fel_text(self):
        if self.is_stale:
            return self.stale_text
        if self.status == ExportStatus.KLAR and not self.fil:
            return EXPORT_ERSATT
        return EXPORT_INAKTUELL if self.listan_andrad else self.fel
