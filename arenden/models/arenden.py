"""The diarium: ärenden, their numbers and skrivelser."""

import datetime
import re
import unicodedata

from django.apps import apps
from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.paginator import Paginator
from django.core.validators import FileExtensionValidator, RegexValidator
from django.db import connections, models
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Cast
from django.db.models.lookups import Contains
from django.urls import reverse
from django.utils import timezone
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from skarholmen.historik import Historik

from ..constants import (
    DIARIENUMMER_EXEMPEL,
    DIARIENUMMER_REGEX,
    ArendeStatus,
)
from .organisation import Avdelning, Forvaltning, synliga_arenden, synliga_delar

User = settings.AUTH_USER_MODEL

validate_diarienummer = RegexValidator(
    DIARIENUMMER_REGEX,
    message=(
        "Diarienumret ska skrivas som PREFIX ÅR/NUMMER, till exempel "
        f"{DIARIENUMMER_EXEMPEL} (versaler, ett mellanslag, snedstreck, inga inledande nollor)."
    ),
    code="diarienummer_format",
)

validate_pdf_filename = FileExtensionValidator(["pdf"], message="Endast PDF-filer kan laddas upp.")


class ScopedFieldFile(FieldFile):
    """An uploaded file as pages link it: at its object's `fil_view`, which serves it to those
    who may see the case, never at MEDIA_URL, which the project does not serve
    (skarholmen/urls.py). Django's file widgets and the admin's read-only fields link `url`.
    An old version from the history links the file that version had (`?version=`)."""

    @property
    def url(self):
        self._require_file()
        if self.instance.pk is None:
            return None
        url = reverse(self.instance.fil_view, args=[self.instance.pk])
        historisk = getattr(self.instance, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None)
        return url if historisk is None else f"{url}?version={historisk.history_id}"


class ScopedFileField(models.FileField):
    """An uploaded PDF (a skrivelse, a bilaga), linked through its object's view."""

    attr_class = ScopedFieldFile

    def deconstruct(self):
        # How the file is linked is no part of the schema: to migrations it is a FileField.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.FileField", args, kwargs


def parse_diarienummer(value):
    """Split "SKHLM 2022/1048" into ("SKHLM", 2022, 1048); None when badly formed."""
    match = re.match(DIARIENUMMER_REGEX, value or "")
    if not match:
        return None
    return match["prefix"], int(match["ar"]), int(match["lopnummer"])


# A diarienummer, or its year and running number, as people type it into a search: the prefix in
# any case, joined to the year by a space, several, a hyphen or nothing ("skhlm 2024/123",
# "SKHLM2024/123", "SKHLM-2024/123"), spaces around the slash, leading zeros in the number.
SKRIVET_DIARIENUMMER = re.compile(r"(?:(?P<prefix>[^\W\d_]+)[\s-]*)?(?P<ar>\d{4})\s*/\s*0*(?P<lopnummer>\d+)")


# A diarienummer as a PDF's file name writes it (`pdf.pdf_filename`): "SKHLM-2024-123", a hyphen
# for the slash as well, Å, Ä and Ö of the prefix as A and O ("ALVSJO-2024-123"), and typed as the
# forms above ("skhlm 2024-123"). A number only after a förvaltning's prefix: a year and a number
# joined by a hyphen are as often a month ("2024-05") or a span ("budget 2024-2025").
FILNAMNETS_DIARIENUMMER = re.compile(r"(?P<prefix>[^\W\d_]+)[\s-]*(?P<ar>\d{4})-0*(?P<lopnummer>\d+)")


# What is copied along with a number: the label before it ("Dnr SKHLM 2024/123", as the PDF's
# header prints it; "Dnr:", "diarienummer"), and the brackets, quotes or full stop of the
# sentence it stood in.
ETIKETT = re.compile(r"(?:dnr|diarienr|diarienummer)\b[.:]?\s*", re.IGNORECASE)
OMKRING = "()[]{}\"'”“’‘«».,;:"


def skrivet_diarienummer(text):
    """`text` written as the diarium writes its numbers ("SKHLM 2024/123", or "2024/123" without a
    prefix) when it is a diarienummer typed or copied in another way; None when it is not one."""
    text = (text or "").strip().strip(OMKRING).strip()
    if etikett := ETIKETT.match(text):
        text = text[etikett.end() :]
    if match := SKRIVET_DIARIENUMMER.fullmatch(text):
        nummer = f"{match['ar']}/{match['lopnummer']}"
        return f"{match['prefix'].upper()} {nummer}" if match["prefix"] else nummer
    if (match := FILNAMNETS_DIARIENUMMER.fullmatch(text)) and (prefix := forvaltningens_prefix(match["prefix"])):
        return f"{prefix} {match['ar']}/{match['lopnummer']}"
    return None


def som_ascii(text):
    """`text` in ASCII letters, Å, Ä and Ö as A and O: as a file name writes it."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def forvaltningens_prefix(text):
    """The diarieprefix of a förvaltning that `text` is, in any case, with Å, Ä and Ö or with A and
    O; None when it is none's. The prefix as written comes first ("ÅS" before "AS" for "ås")."""
    prefix = text.upper()
    alla = list(Forvaltning.objects.values_list("diarieprefix", flat=True))
    if prefix in alla:
        return prefix
    return next((p for p in alla if som_ascii(p) == som_ascii(prefix)), None)


class DiarieSekvens(models.Model):
    """The last number handed out for one prefix and year. Locked while a number is taken, so
    concurrent registrations queue here; the counter rolls back with a failed registration,
    which is what keeps the series free of holes."""

    prefix = models.CharField("prefix", max_length=10)
    ar = models.PositiveSmallIntegerField("år")
    senaste = models.PositiveIntegerField("senast utdelade nummer", default=0)

    class Meta:
        verbose_name = "diarieserie"
        verbose_name_plural = "diarieserier"
        constraints = [models.UniqueConstraint(fields=["prefix", "ar"], name="diariesekvens_unik")]

    def __str__(self):
        return f"{self.prefix} {self.ar}: {self.senaste}"


NYAST_FORST = ("-registrerad", "-ar", "-lopnummer", "-pk")

# Starting a case's tjänsteutlåtande (`Arende.kan_fa_dokument_av`, `services.skapa_tjansteutlatande`).
SKAPA_TJANSTEUTLATANDE = "arenden.add_tjansteutlatande"


class ArendeKolumn(models.Expression):
    """A column of the ärende table that PostgreSQL's triggers keep and that is not a model field
    (`sokvektor`, `drogscener`, `atgarder`), so that no list reads it: named under whatever alias the query
    gives the ärende table, also inside a subquery or a UNION's part."""

    kolumn = None

    def __init__(self, output_field=None):
        super().__init__(output_field=output_field)
        self.alias = None

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        if self.alias is not None:  # resolved in its own query, which is now a subquery of another
            return self
        if query.model is not Arende:
            raise ValueError(f"{self.kolumn} is a column of the ärende table only.")
        return self._med_alias(query.get_initial_alias())

    def relabeled_clone(self, change_map):
        return self._med_alias(change_map.get(self.alias, self.alias))

    def _med_alias(self, alias):
        clone = self.copy()
        clone.alias = alias
        return clone

    def kolumn_sql(self, compiler):
        return f"{compiler.quote_name_unless_alias(self.alias)}.{self.kolumn}"


class RapporterarOm(ArendeKolumn):
    """True for an ärende whose documents report on an åtgärd at the drogscen: a test of its
    `drogscener` (the places' ids, migration 0012)."""

    kolumn = "drogscener"
    conditional = True

    def __init__(self, drogscen_id):
        super().__init__(output_field=models.BooleanField())
        self.drogscen_id = drogscen_id

    def get_group_by_cols(self):
        return []

    def as_sql(self, compiler, connection):
        return f"{self.kolumn_sql(compiler)} @> ARRAY[%s]::bigint[]", [self.drogscen_id]


class RapporterarPa(RapporterarOm):
    """True for an ärende whose documents report on the åtgärd: a test of its `atgarder` (the
    åtgärder's ids, migration 0025), which a GIN index serves."""

    kolumn = "atgarder"


SIFFROR = re.compile(r"\d+")
AR_SOM_KAN_FINNAS = range(1900, 2100)  # the years DIARIENUMMER_REGEX admits


def diarienummer_haller(text):
    """The conditions on an ärende, any of which holds where its diarienummer holds `text`
    (case-insensitive).

    A number reads "PREFIX ÅR/LÖPNUMMER" (DIARIENUMMER_REGEX), so a text of digits only stands
    in its year or its running number: the years that hold it are known without a query, and the
    running numbers are searched as text, which a trigram index of their own serves on
    PostgreSQL (migration 0016). The number's own trigram index can only find candidates for such
    a fragment and recheck them: "2019" is in 25,000 numbers at 200,000 ärenden. The two parts
    are kept apart for the caller to look up one by one: as one condition PostgreSQL read the
    rows of both from the table (90 ms for "2019") instead of the year from its index (3 ms)."""
    if SIFFROR.fullmatch(text):
        return (models.Q(ar__in=ar_som_haller(text)), models.Q(Contains(Cast("lopnummer", models.TextField()), text)))
    return (models.Q(diarienummer__icontains=text),)


def ar_som_haller(text):
    """The years whose diarienummer hold `text` (a text of digits) in their year."""
    return [ar for ar in AR_SOM_KAN_FINNAS if text in str(ar)]


def dolda_arenden(antal):
    """How a page counts the cases it shows that the user may not see (outside
    `Arende.objects.for_user`), where naming them would give away their number and ärendemening:
    "2 ärenden som du inte har åtkomst till". The officers' pages and the admin's history say it alike."""
    return f"{antal} ärende{'' if antal == 1 else 'n'} som du inte har åtkomst till"


class ArendeQuerySet(models.QuerySet):
    def rapporterar_om(self, drogscen):
        """The cases whose documents report on an åtgärd at `drogscen`. On PostgreSQL a test on
        the case's row; elsewhere through the documents' åtgärder."""
        if connections[self.db].vendor == "postgresql":
            return self.filter(RapporterarOm(drogscen.pk))
        # By name: the documents' models (.tjansteutlatanden) are built on this module's.
        rapporterat = apps.get_model("arenden", "TjansteutlatandeAtgard").objects.filter(
            tjansteutlatande__arende=models.OuterRef("pk"), atgard__drogscener=drogscen
        )
        return self.filter(models.Exists(rapporterat))

    def rapporterar_pa(self, atgard):
        """The cases whose documents report on the åtgärd. On PostgreSQL a test on the case's
        row; elsewhere through the documents' åtgärder."""
        if connections[self.db].vendor == "postgresql":
            return self.filter(RapporterarPa(atgard.pk))
        rapporterat = apps.get_model("arenden", "TjansteutlatandeAtgard").objects.filter(
            tjansteutlatande__arende=models.OuterRef("pk"), atgard=atgard
        )
        return self.filter(models.Exists(rapporterat))

    def for_user(self, user):
        """The cases a user may see (`synliga_arenden`); superusers see the whole diarium, and
        outside the scope is a 404."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(synliga_arenden(user))

    def nyaste_ids(self, user, antal, *, i_delar=True):
        """The ids of at most `antal` of this queryset's cases that the user may see, newest
        first (NYAST_FORST).

        Each part of the user's scope (`synliga_delar`) is read on its own, without the cases of
        the parts before it, from an index in the list's order (Meta.indexes), and PostgreSQL
        merges the parts (one UNION ALL). The filter on "own cases or the avdelning's" read and
        sorted every one of them for a page of 50 (4,300 at 200,000 ärenden, 21,000 at a
        million), and counted them all again for the page links. Where a compound query takes
        ordered and cut parts (PostgreSQL; SQLite does not), each part is ordered and cut at
        `antal` itself: over a plain UNION ALL PostgreSQL still read every case of every part
        and sorted them, where ordered parts are merged and read only as far as the page needs.

        A queryset narrowed by a search passes `i_delar=False`: its matches come from the search
        index, not in the list's order, so the scope is one condition and the index is read once
        instead of once per part."""
        if not user.is_authenticated or not user.is_active:
            return []
        valda = self.order_by().values_list("pk", "registrerad", "ar", "lopnummer")
        if user.is_superuser or not i_delar:
            delar = [valda.for_user(user)]
        else:
            delar, tidigare = [], models.Q(pk__in=[])
            for villkor in synliga_delar(user):
                delar.append(valda.filter(villkor).exclude(tidigare))
                tidigare |= villkor
        if not delar:
            return []
        connection = connections[self.db]
        if len(delar) > 1 and connection.features.supports_slicing_ordering_in_compound:
            delar = [part.order_by(*NYAST_FORST)[:antal] for part in delar]
        alla = delar[0].union(*delar[1:], all=True) if len(delar) > 1 else delar[0]
        # Sorted and cut around the ORM's query, so that only the ids leave the database: the
        # four columns of up to 1,001 rows cost the app more to read than the query to build.
        try:
            sql, params = alla.query.sql_with_params()
        except EmptyResultSet:  # a filter that nothing can match, such as `pk__in=[]`
            return []
        quote = connection.ops.quote_name
        ordning = ", ".join(
            f"{quote(falt.removeprefix('-'))} {'DESC' if falt.startswith('-') else 'ASC'}" for falt in NYAST_FORST
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {quote('pk')} FROM ({sql}) nyaste ORDER BY {ordning} LIMIT %s", [*params, antal])
            return [rad[0] for rad in cursor.fetchall()]

    def nyaste_sida(self, user, sida, per_sida, grans, *, i_delar=True):
        """A page (a Django Page of ids) of the newest `grans` cases from `nyaste_ids`, and
        whether there are more: the ids of at most `grans` + 1 give both the count and the page,
        and the lists that use it say "fler än `grans`" past it."""
        ids = self.nyaste_ids(user, grans + 1, i_delar=i_delar)
        return Paginator(ids[:grans], per_sida).get_page(sida), len(ids) > grans


class Arende(models.Model):
    """A case in the diarium, numbered `SKHLM 2024/123`."""

    diarienummer = models.CharField(
        "diarienummer",
        max_length=30,
        unique=True,
        validators=[validate_diarienummer],
        error_messages={"unique": "Diarienumret finns redan i diariet och kan inte användas igen."},
        help_text=(
            "Lämna tomt så delar systemet ut nästa nummer. Äldre ärenden kan föras in med sitt "
            f"befintliga nummer, till exempel {DIARIENUMMER_EXEMPEL}."
        ),
    )
    # Indexed first in the number's unique constraint and the scope and list indexes (Meta).
    forvaltning = models.ForeignKey(
        Forvaltning, on_delete=models.PROTECT, related_name="arenden", verbose_name="förvaltning", db_index=False
    )
    ar = models.PositiveSmallIntegerField("år", editable=False)
    lopnummer = models.PositiveIntegerField("löpnummer", editable=False)
    arendemening = models.CharField("ärendemening", max_length=300)
    status = models.CharField(
        "status", max_length=30, choices=ArendeStatus.choices, default=ArendeStatus.REGISTRERAT, editable=False
    )
    # Indexed first in the list's order indexes (Meta.indexes), not on their own.
    handlaggare = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="arenden",
        verbose_name="handläggare",
        db_index=False,
    )
    avdelning = models.ForeignKey(
        Avdelning,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="arenden",
        verbose_name="avdelning",
        db_index=False,
    )
    registrerad = models.DateField("registrerad", default=timezone.localdate)
    citerade = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="citerad_av",
        verbose_name="citerade ärenden",
        help_text="Ärenden i diariet som detta ärende hänvisar till.",
    )
    citerade_utanfor_diariet = models.TextField(
        "citerade diarienummer utanför diariet",
        blank=True,
        help_text="Diarienummer som inte finns i diariet, ett per rad.",
    )

    history = Historik(m2m_fields=[citerade])
    objects = ArendeQuerySet.as_manager()

    class Meta:
        verbose_name = "ärende"
        verbose_name_plural = "ärenden"
        ordering = ["-ar", "-lopnummer"]
        constraints = [
            models.UniqueConstraint(fields=["forvaltning", "ar", "lopnummer"], name="arende_nummer_unikt"),
        ]
        indexes = [
            models.Index(fields=["status", "-registrerad"], name="arende_status_idx"),
            # Mina ärenden (NYAST_FORST), one index per part of a user's scope
            # (ArendeQuerySet.nyaste_ids). On PostgreSQL the three scope indexes also carry the
            # case's places and the columns the later parts are told apart by (INCLUDE,
            # migration 0013), so the drogscen page tests its cases on the index.
            models.Index(
                fields=["handlaggare", "-registrerad", "-ar", "-lopnummer", "-id"], name="arende_handlaggare_idx"
            ),
            models.Index(fields=["avdelning", "-registrerad", "-ar", "-lopnummer", "-id"], name="arende_avdelning_idx"),
            models.Index(
                fields=["forvaltning", "-registrerad", "-ar", "-lopnummer", "-id"], name="arende_fv_nyast_idx"
            ),
            models.Index(fields=["-registrerad", "-ar", "-lopnummer", "-id"], name="arende_nyast_idx"),
            # The diarium's order (the admin's list adds the pk to make it total).
            models.Index(fields=["-ar", "-lopnummer", "-id"], name="arende_ordning_idx"),
            # A chef's scope, "the cases of these förvaltningar", read from the index alone: every
            # scoped admin list of documents, skrivelser and attestations joins through it.
            models.Index(fields=["forvaltning", "id"], name="arende_forvaltning_idx"),
            # A förvaltning's cases in one status, in the diarium's order: the admin's status
            # filter for a chef counts and pages from it instead of reading the förvaltning's
            # rows until a thousand match (10 ms at 200,000 ärenden).
            models.Index(fields=["forvaltning", "status", "-ar", "-lopnummer", "-id"], name="arende_fv_status_idx"),
        ]

    def __str__(self):
        return f"{self.diarienummer} {self.arendemening}"

    @property
    def is_closed(self):
        return self.status == ArendeStatus.AVSLUTAT

    def kan_fa_dokument_av(self, user):
        """Whether `user` may start a tjänsteutlåtande on the case (`services.skapa_tjansteutlatande`):
        it is open and they hold the permission (the officers; chefs, secretaries and registrators
        read its documents). The scope is the caller's to have checked, as for
        `Tjansteutlatande.kan_andras_av`."""
        return not self.is_closed and user.has_perm(SKAPA_TJANSTEUTLATANDE)

    def fel_i_registreringsdagen(self, idag=None, tidigare=None):
        """Why the case's `registrerad` cannot stand, or None; `tidigare` is the day stored
        before, which stays as it is. No case is registered on a day still to come. A number
        belongs to the year the case was registered in (the series restarts every year), so a
        case is registered in its number's year: an older case entered by hand with today's
        date stood among the newest and told its registration as today's. A case that the
        system numbers takes the number of the year it is registered in: a date of another
        year, such as the date a form opened on New Year's Eve still holds when it is saved
        after midnight, would put a case of one year in the next year's series."""
        registrerad = self.registrerad
        if not isinstance(registrerad, datetime.date) or registrerad == tidigare:
            return None  # not a date (the field itself says so), or not changed
        idag = idag or timezone.localdate()
        if registrerad > idag:
            return f"Registreringsdagen {registrerad.isoformat()} har inte kommit än."
        parsed = parse_diarienummer(self.diarienummer)
        if parsed and registrerad.year != parsed[1]:
            return (
                f"Diarienumret {self.diarienummer} är från {parsed[1]}, året ärendet registrerades. Ange en dag "
                f"i {parsed[1]}."
            )
        if self._state.adding and not self.diarienummer and registrerad.year != idag.year:
            return (
                f"Systemet delar ut ett nummer för {idag.year}, så ärendet registreras {idag.year}. Ange en dag "
                f"i {idag.year}, eller diarienumret om det är ett äldre ärende."
            )
        if not self._state.adding:
            # The nämnd cannot have dealt with a case before it existed: a meeting that had it
            # on its list (decided, postponed or still to come) bounds its registration.
            forsta = self.beslutspunkter.aggregate(forsta=models.Min("sammantrade__datum"))["forsta"]
            if forsta and registrerad > forsta:
                return (
                    f"Ärendet togs upp på sammanträdet {forsta.isoformat()} och kan inte ha registrerats senare. "
                    f"Ange {forsta.isoformat()} eller en tidigare dag."
                )
        return None

    def fel_i_sammantradesdagen(self, datum):
        """Why a meeting on `datum` cannot deal with the case, or None: the nämnd cannot decide, nor
        be asked to decide, a case before it was registered in the diarium. The registration day
        itself counts (a case may be registered in the morning of the meeting that takes it up)."""
        if not isinstance(datum, datetime.date) or not isinstance(self.registrerad, datetime.date):
            return None
        if datum >= self.registrerad:
            return None
        return (
            f"Ärendet {self.diarienummer} registrerades {self.registrerad.isoformat()}. Nämnden kan inte behandla "
            f"det på sammanträdet {datum.isoformat()}, innan ärendet fanns. Välj ett sammanträde "
            f"{self.registrerad.isoformat()} eller senare."
        )

    def clean(self):
        super().clean()
        if self.avdelning_id and self.forvaltning_id and self.avdelning.forvaltning_id != self.forvaltning_id:
            raise ValidationError({"avdelning": f"Avdelningen {self.avdelning} hör inte till {self.forvaltning}."})
        self._kontrollera_diarienumret()
        tidigare = None
        if not self._state.adding:
            tidigare = Arende.objects.filter(pk=self.pk).values_list("registrerad", flat=True).first()
        if fel := self.fel_i_registreringsdagen(tidigare=tidigare):
            raise ValidationError({"registrerad": fel})

    def _kontrollera_diarienumret(self):
        parsed = parse_diarienummer(self.diarienummer)
        if not self.diarienummer or parsed is None:
            return  # blank: the system hands out the number; malformed: the field validator reports it
        prefix, ar, lopnummer = parsed
        if self.forvaltning_id and prefix != self.forvaltning.diarieprefix:
            raise ValidationError(
                {
                    "diarienummer": f"Prefixet {prefix} hör inte till {self.forvaltning}, vars prefix är "
                    f"{self.forvaltning.diarieprefix}."
                }
            )
        if self._state.adding and ar >= timezone.localdate().year:
            raise ValidationError(
                {
                    "diarienummer": f"Nummer för {ar} delas ut av systemet. Lämna fältet tomt, eller ange "
                    "numret på ett äldre ärende."
                }
            )
        series = DiarieSekvens.objects.filter(prefix=prefix, ar=ar).first()
        if self._state.adding and series and lopnummer > series.senaste:
            raise ValidationError(
                {
                    "diarienummer": f"Serien {prefix} {ar} delas ut av systemet och har bara nått nummer "
                    f"{series.senaste}."
                }
            )


class Skrivelse(models.Model):
    """A written request from members of the nämnd; the nämnd sends it to the förvaltning
    for beredning, and it becomes Bilaga 1 of the answer."""

    arende = models.ForeignKey(Arende, on_delete=models.CASCADE, related_name="skrivelser", verbose_name="ärende")
    titel = models.CharField("titel", max_length=300)
    forfattare = models.CharField(
        "författare", max_length=500, help_text="Som de står i skrivelsen, till exempel ”Anna Andersson (M)”."
    )
    beredning_datum = models.DateField(
        "skickad för beredning", help_text="Dagen då nämnden skickade skrivelsen till förvaltningen för beredning."
    )
    text = models.TextField("text", blank=True)
    fil = ScopedFileField("fil (PDF)", upload_to="skrivelser/%Y/", blank=True, validators=[validate_pdf_filename])

    fil_view = "arenden:skrivelse_fil"
    history = Historik()

    class Meta:
        verbose_name = "skrivelse"
        verbose_name_plural = "skrivelser"
        ordering = ["beredning_datum", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(text="") | ~models.Q(fil=""),
                name="skrivelse_har_innehall",
                violation_error_message="En skrivelse behöver en text eller en uppladdad fil.",
            )
        ]

    def __str__(self):
        return self.titel

    def clean(self):
        super().clean()
        # The day the nämnd sent it is one that has come: a mistyped year (2052 for 2025) put a
        # skrivelse in the diarium as sent for beredning decades ahead.
        if isinstance(self.beredning_datum, datetime.date) and self.beredning_datum > timezone.localdate():
            raise ValidationError({"beredning_datum": f"Dagen {self.beredning_datum.isoformat()} har inte kommit än."})


class Sokord(models.Model):
    """A word the diarium's texts hold, as written (in small letters): what the search offers as
    "Menade du …?" when a word finds nothing. One row a word, for the whole diarium: which cases
    hold it, and whether the user may see one, the search asks its own scoped search
    (`search.sokforslag`). PostgreSQL only (migration 0028), added to by triggers on the texts as
    the search vector is, never deleted; the model only reads it."""

    ord = models.TextField("ord", primary_key=True)

    class Meta:
        managed = False
        db_table = "arenden_sokord"
        verbose_name = "sökord"
        verbose_name_plural = "sökord"

    def __str__(self):
        return self.ord
