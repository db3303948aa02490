import functools
import operator
import re

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.paginator import Paginator
from django.core.validators import FileExtensionValidator, RegexValidator
from django.db import connections, models
from django.db.models.functions import Cast
from django.db.models.lookups import Contains
from django.utils import timezone

from skarholmen.historik import Historik

from .constants import (
    DIARIENUMMER_EXEMPEL,
    DIARIENUMMER_REGEX,
    ArendeStatus,
    ExportStatus,
    ExportTyp,
    Roll,
    TjansteutlatandeStatus,
)

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


def parse_diarienummer(value):
    """Split "SKHLM 2022/1048" into ("SKHLM", 2022, 1048); None when badly formed."""
    match = re.match(DIARIENUMMER_REGEX, value or "")
    if not match:
        return None
    return match["prefix"], int(match["ar"]), int(match["lopnummer"])


class Namnd(models.Model):
    """A political committee that decides cases, e.g. Skärholmens stadsdelsnämnd."""

    namn = models.CharField("namn", max_length=200, unique=True)

    history = Historik()

    class Meta:
        verbose_name = "nämnd"
        verbose_name_plural = "nämnder"
        ordering = ["namn"]

    def __str__(self):
        return self.namn


class Forvaltning(models.Model):
    """The administration preparing the nämnd's cases; it owns the diarienummer prefix."""

    namn = models.CharField("namn", max_length=200, unique=True)
    diarieprefix = models.CharField(
        "diarieprefix",
        max_length=10,
        unique=True,
        validators=[RegexValidator(r"^[A-ZÅÄÖ]{2,10}$", "Prefixet ska vara 2–10 versaler, till exempel SKHLM.")],
        help_text="Inleder förvaltningens diarienummer, till exempel SKHLM.",
    )
    namnd = models.ForeignKey(Namnd, on_delete=models.PROTECT, related_name="forvaltningar", verbose_name="nämnd")
    chef = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="förvaltningschef",
        help_text="Stadsdelsdirektören: sista attestant i förvaltningens attestkedja.",
    )

    history = Historik()

    class Meta:
        verbose_name = "förvaltning"
        verbose_name_plural = "förvaltningar"
        ordering = ["namn"]

    def __str__(self):
        return self.namn


class Avdelning(models.Model):
    """A department of a förvaltning, e.g. Medborgarservice och stadsmiljö."""

    forvaltning = models.ForeignKey(
        Forvaltning, on_delete=models.PROTECT, related_name="avdelningar", verbose_name="förvaltning"
    )
    namn = models.CharField("namn", max_length=200)
    chef = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="avdelningschef",
        help_text="Första attestant i attestkedjan för avdelningens tjänsteutlåtanden.",
    )

    history = Historik()

    class Meta:
        verbose_name = "avdelning"
        verbose_name_plural = "avdelningar"
        ordering = ["forvaltning__namn", "namn"]
        constraints = [
            models.UniqueConstraint(fields=["forvaltning", "namn"], name="avdelning_unik_per_forvaltning")
        ]

    def __str__(self):
        return self.namn


class Profil(models.Model):
    """What the förvaltning knows about a user: title (befattning), telephone and avdelning."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profil", verbose_name="användare")
    befattning = models.CharField("befattning", max_length=200, blank=True)
    telefon = models.CharField("telefon", max_length=40, blank=True)
    avdelning = models.ForeignKey(
        Avdelning,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="medarbetare",
        verbose_name="avdelning",
    )

    history = Historik()

    class Meta:
        verbose_name = "profil"
        verbose_name_plural = "profiler"

    def __str__(self):
        return f"{self.user.get_full_name() or self.user.get_username()}, {self.befattning}".rstrip(", ")


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


def roller(user):
    """The names of the role groups a user has, read once per user object (with the user
    itself on each request on PostgreSQL, skarholmen/auth.py)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if not hasattr(user, "_arenden_roller"):
        namn = getattr(user, "rollnamn", None)
        user._arenden_roller = frozenset(user.groups.values_list("name", flat=True) if namn is None else namn)
    return user._arenden_roller


def may_attest(user):
    """Whether the user holds the attest permission through a role (or granted to them by name).

    Deliberately not `user.has_perm`: that is always true for a superuser, and attesting is a
    chef's personal approval, never something an administrator's account can do by default.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    from django.contrib.auth.models import Permission

    return (
        Permission.objects.filter(codename="attestera_tjansteutlatande", content_type__app_label="arenden")
        .filter(models.Q(group__user=user) | models.Q(user=user))
        .exists()
    )


def forvaltningar_for(user):
    """The förvaltningar a user works in: as its chef, as an avdelning's chef, or through the
    avdelning in their profile."""
    return Forvaltning.objects.filter(
        models.Q(chef=user) | models.Q(avdelningar__chef=user) | models.Q(avdelningar__medarbetare__user=user)
    ).values("pk")


def synliga_delar(user):
    """The parts of what an (active, not super-) user may see, each a condition on one column
    of the ärende: Registrator, Nämndsekreterare and Attestant every case of their förvaltning
    (one part per förvaltning); a Handläggare their own cases and their avdelning's; anyone else
    nothing (no parts)."""
    return forvaltningsdelar(user, "forvaltning") + egna_delar(user)


def forvaltningsdelar(user, falt):
    """One condition `falt = <id>` per förvaltning whose every case the user may see."""
    return [models.Q(**{falt: pk}) for pk in hela_forvaltningar(user)]


def hela_forvaltningar(user):
    """The ids of the förvaltningar whose every case the user may see (Registrator,
    Nämndsekreterare and Attestant). As values, not a subquery: PostgreSQL then plans with the
    real share of the diarium (one förvaltning of 13) instead of guessing half of it and reading
    it all."""
    if not roller(user) & set(Roll.FORVALTNINGSROLLER):
        return []
    return sorted(set(forvaltningar_for(user).values_list("pk", flat=True)))


def egna_delar(user, via=""):
    """A Handläggare's parts of the scope: their avdelning's cases and their own. `via` is the
    path to the ärende from the model queried ("arende__" from a document)."""
    if Roll.HANDLAGGARE not in roller(user):
        return []
    delar = []
    # Read with the user on each request (skarholmen/auth.py), else once per user object.
    profil = getattr(user, "profil", None)
    if profil and profil.avdelning_id:
        delar.append(models.Q(**{f"{via}avdelning_id": profil.avdelning_id}))
    delar.append(models.Q(**{f"{via}handlaggare": user}))
    return delar


def nagon_av(villkor):
    """Any of the conditions; with none, a condition that nothing matches."""
    return functools.reduce(operator.or_, villkor, models.Q(pk__in=[]))


def synliga_arenden(user):
    """The condition that an ärende is one an (active, not super-) user may see: any of
    `synliga_delar`."""
    return nagon_av(synliga_delar(user))


# The officers' lists show the newest registered cases first; the pk makes the order total.
NYAST_FORST = ("-registrerad", "-ar", "-lopnummer", "-pk")


class ArendeKolumn(models.Expression):
    """A column of the ärende table that PostgreSQL's triggers keep and that is not a model field
    (`sokvektor`, `drogscener`), so that no list reads it: named under whatever alias the query
    gives the ärende table, also inside a subquery or a UNION's part."""

    kolumn = None

    def __init__(self, output_field=None):
        super().__init__(output_field=output_field)
        self.alias = None

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
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
        ar = [a for a in AR_SOM_KAN_FINNAS if text in str(a)]
        return (models.Q(ar__in=ar), models.Q(Contains(Cast("lopnummer", models.TextField()), text)))
    return (models.Q(diarienummer__icontains=text),)


class ArendeQuerySet(models.QuerySet):
    def rapporterar_om(self, drogscen):
        """The cases whose documents report on an åtgärd at `drogscen`. On PostgreSQL a test on
        the case's row; elsewhere through the documents' åtgärder."""
        if connections[self.db].vendor == "postgresql":
            return self.filter(RapporterarOm(drogscen.pk))
        rapporterat = TjansteutlatandeAtgard.objects.filter(
            tjansteutlatande__arende=models.OuterRef("pk"), atgard__drogscener=drogscen
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

    def clean(self):
        super().clean()
        parsed = parse_diarienummer(self.diarienummer)
        if not self.diarienummer or parsed is None:
            return  # blank: the system hands out the number; malformed: the field validator reports it
        prefix, ar, lopnummer = parsed
        if self.forvaltning_id and prefix != self.forvaltning.diarieprefix:
            raise ValidationError(
                {"diarienummer": f"Prefixet {prefix} hör inte till {self.forvaltning}, vars prefix är "
                 f"{self.forvaltning.diarieprefix}."}
            )
        if self._state.adding and ar >= timezone.localdate().year:
            raise ValidationError(
                {"diarienummer": f"Nummer för {ar} delas ut av systemet. Lämna fältet tomt, eller ange "
                 "numret på ett äldre ärende."}
            )
        series = DiarieSekvens.objects.filter(prefix=prefix, ar=ar).first()
        if self._state.adding and series and lopnummer > series.senaste:
            raise ValidationError(
                {"diarienummer": f"Serien {prefix} {ar} delas ut av systemet och har bara nått nummer "
                 f"{series.senaste}."}
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
    fil = models.FileField(
        "fil (PDF)", upload_to="skrivelser/%Y/", blank=True, validators=[validate_pdf_filename]
    )

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


class Mall(models.Model):
    """A document template: the ordered section headings a tjänsteutlåtande is written under."""

    namn = models.CharField("namn", max_length=200, unique=True)
    beskrivning = models.TextField("beskrivning", blank=True)
    aktiv = models.BooleanField("aktiv", default=True, help_text="Bara aktiva mallar kan väljas för nya dokument.")

    history = Historik()

    class Meta:
        verbose_name = "dokumentmall"
        verbose_name_plural = "dokumentmallar"
        ordering = ["namn"]

    def __str__(self):
        return self.namn


class MallSektion(models.Model):
    """One heading of a mall, in order, with the guidance an officer sees while writing."""

    mall = models.ForeignKey(Mall, on_delete=models.CASCADE, related_name="sektioner", verbose_name="mall")
    ordning = models.PositiveSmallIntegerField("ordning")
    rubrik = models.CharField("rubrik", max_length=200)
    obligatorisk = models.BooleanField("obligatorisk", default=True)
    vagledning = models.TextField("vägledning", blank=True, help_text="Visas för handläggaren vid skrivandet.")
    nyckel = models.SlugField(
        "nyckel",
        blank=True,
        help_text="Teknisk nyckel för sektioner som systemet läser, t.ex. ”forslag_till_beslut”.",
    )
    visar_atgarder = models.BooleanField(
        "visar åtgärder",
        default=False,
        help_text="Dokumentets åtgärder skrivs ut som punktlistor i denna sektion, före avslutande text.",
    )

    history = Historik()

    class Meta:
        verbose_name = "mallsektion"
        verbose_name_plural = "mallsektioner"
        ordering = ["mall", "ordning", "pk"]
        constraints = [models.UniqueConstraint(fields=["mall", "rubrik"], name="mallsektion_unik_rubrik")]

    def __str__(self):
        return self.rubrik


class TjansteutlatandeQuerySet(models.QuerySet):
    def for_user(self, user):
        """Documents of the cases the user may see, and any document they are handläggare of:
        an officer's part read on each document's joined ärende row, which suits checking one
        document (asking whether its ärende is among all the user's cases made PostgreSQL gather
        every one of them, 21,000 at a million)."""
        return self._i_scope(
            user, lambda delar: nagon_av(delar) | models.Q(handlaggare=user), via="arende__"
        )

    def for_user_in_list(self, user):
        """The documents of the cases the user may see, in the shape a list of many needs (the
        admin's): an officer's part by the ids of their cases (one hashed set). Through the
        joined ärende, as `for_user` reads it, an officer's admin list joined every document to
        its case (45 → 77 ms at 200,000 ärenden); nor does the list admit a document that names
        the officer as its handläggare in a case outside their scope."""
        def arende_ids(delar):
            return models.Q(arende__in=Arende.objects.filter(nagon_av(delar)).values("pk"))

        return self._i_scope(user, arende_ids)

    def _i_scope(self, user, egna, via=""):
        """Scoped documents: a förvaltning's by their own `forvaltning` column (one index range,
        in the lists' order), an officer's by `egna(<their parts of the scope, on the ärende
        through via>)`."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        condition = nagon_av(forvaltningsdelar(user, "forvaltning"))
        if delar := egna_delar(user, via):
            condition |= egna(delar)
        return self.filter(condition)

    def awaiting_attest_by(self, user):
        """Documents sent for attest whose next step in the chain is this user's."""
        if not may_attest(user):
            return self.none()
        pending = Attestering.objects.filter(
            tjansteutlatande=models.OuterRef("pk"),
            omgang=models.OuterRef("attest_omgang"),
            attesterad__isnull=True,
            makulerad__isnull=True,
        ).order_by("ordning")
        return self.filter(status=TjansteutlatandeStatus.TILL_ATTEST).annotate(
            nasta_attestant_id=models.Subquery(pending.values("attestant_id")[:1])
        ).filter(nasta_attestant_id=user.pk).exclude(handlaggare=user)


class Tjansteutlatande(models.Model):
    """The förvaltning's written statement to the nämnd on a case."""

    arende = models.ForeignKey(
        Arende, on_delete=models.PROTECT, related_name="tjansteutlatanden", verbose_name="ärende"
    )
    # The ärende's förvaltning, set from the ärende on every save (`save`); an ärende's
    # förvaltning never changes (its diarienummer carries it). The scope of a förvaltning's
    # registrators, attestants and secretaries reads their documents by it from one index,
    # newest first, instead of checking the ärende of every document that matches a search in
    # the admin (11,000 at 200,000 ärenden).
    forvaltning = models.ForeignKey(
        Forvaltning,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="förvaltning",
        editable=False,
        db_index=False,  # the first column of tu_forvaltning_idx
    )
    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="+", verbose_name="mall")
    status = models.CharField(
        "status",
        max_length=30,
        choices=TjansteutlatandeStatus.choices,
        default=TjansteutlatandeStatus.UTKAST,
        editable=False,
        db_index=True,
    )
    handlaggare = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="tjansteutlatanden", verbose_name="handläggare"
    )
    telefon = models.CharField("telefon", max_length=40, blank=True)
    namnd = models.ForeignKey(Namnd, on_delete=models.PROTECT, related_name="+", verbose_name="till nämnd")
    sammantradesdatum = models.DateField("sammanträdesdatum", null=True, blank=True)
    titel = models.CharField("titel", max_length=300)
    undertitel = models.CharField(
        "undertitel", max_length=300, blank=True, help_text="Till exempel ”Svar på skrivelse”."
    )
    atgarder = models.ManyToManyField(
        "atgarder.Atgard",
        through="TjansteutlatandeAtgard",
        related_name="tjansteutlatanden",
        verbose_name="åtgärder",
        blank=True,
    )
    version = models.PositiveIntegerField(
        "version", default=1, editable=False, help_text="Räknas upp vid varje sparning; skyddar mot att skriva över."
    )
    # Frozen when sent for attest: everything the PDF prints, and its SHA-256.
    innehall = models.JSONField("fryst innehåll", null=True, blank=True, editable=False)
    innehall_hash = models.CharField("innehållets SHA-256", max_length=64, blank=True, editable=False)
    attest_omgang = models.PositiveIntegerField("attestomgång", default=0, editable=False)
    aterremiss_kommentar = models.TextField("senaste återremiss", blank=True, editable=False)
    skapad = models.DateTimeField("skapad", auto_now_add=True)
    andrad = models.DateTimeField("ändrad", auto_now=True)

    history = Historik()
    objects = TjansteutlatandeQuerySet.as_manager()

    class Meta:
        verbose_name = "tjänsteutlåtande"
        verbose_name_plural = "tjänsteutlåtanden"
        ordering = ["-skapad", "-pk"]
        indexes = [
            models.Index(fields=["-skapad", "-id"], name="tjansteutlatande_ordning_idx"),
            # A case's documents' ids from the index alone: the drogscen page looks them up for
            # each of the thousands of cases an officer may see.
            models.Index(fields=["arende", "id"], name="tjansteutlatande_arende_idx"),
            models.Index(fields=["forvaltning", "-skapad", "-id"], name="tu_forvaltning_idx"),
        ]
        permissions = [
            ("attestera_tjansteutlatande", "Kan attestera tjänsteutlåtanden"),
            ("skicka_tjansteutlatande_for_attest", "Kan skicka tjänsteutlåtanden för attest"),
        ]

    def __str__(self):
        return f"{self.arende.diarienummer} {self.titel}"

    def save(self, *args, **kwargs):
        # The copy follows the ärende on every save, whatever the caller set or copied. The
        # services read the ärende with the document, so this costs no query on their paths.
        if self.arende_id is not None:
            self.forvaltning_id = self.arende.forvaltning_id
        super().save(*args, **kwargs)

    @property
    def is_attested(self):
        return self.status == TjansteutlatandeStatus.ATTESTERAD

    @property
    def current_attesteringar(self):
        """This round's chain, in order, without voided steps."""
        return self.attesteringar.filter(omgang=self.attest_omgang, makulerad__isnull=True).select_related(
            "attestant"
        ).order_by("ordning")

    @property
    def next_attestering(self):
        """The first step of this round's chain still waiting; None when not sent or all attested."""
        if self.status != TjansteutlatandeStatus.TILL_ATTEST:
            return None
        return self.current_attesteringar.filter(attesterad__isnull=True).first()

    def attest_hinder(self, user):
        """Why `user` cannot attest the document now (Swedish, for the user), or None if they can."""
        if not may_attest(user):
            return "Du har inte behörighet att attestera (rollen Attestant krävs)."
        if self.status != TjansteutlatandeStatus.TILL_ATTEST:
            return f"Dokumentet kan inte attesteras i status ”{self.get_status_display()}”."
        # Separation of duties: whoever wrote the text cannot approve it.
        if self.handlaggare_id == user.pk:
            return "Du är handläggare för dokumentet och kan inte attestera det själv."
        steg = list(self.current_attesteringar)
        if any(a.attestant_id == user.pk and a.attesterad for a in steg):
            return "Du har redan attesterat dokumentet i denna attestomgång."
        nasta = next((a for a in steg if not a.attesterad), None)
        if nasta is None or nasta.attestant_id != user.pk:
            if any(a.attestant_id == user.pk for a in steg):
                return f"Det är {nasta.namn_eller_anvandare if nasta else 'ingen'}s tur att attestera först."
            return "Du står inte i dokumentets attestkedja."
        return None

    def can_be_attested_by(self, user):
        return self.attest_hinder(user) is None


class Sektion(models.Model):
    """The text a document has under one of its mall's headings (sanitised HTML)."""

    tjansteutlatande = models.ForeignKey(
        Tjansteutlatande, on_delete=models.CASCADE, related_name="sektioner", verbose_name="tjänsteutlåtande"
    )
    mall_sektion = models.ForeignKey(MallSektion, on_delete=models.PROTECT, related_name="+", verbose_name="rubrik")
    text = models.TextField("text", blank=True)
    avslutning = models.TextField(
        "avslutande text", blank=True, help_text="Skrivs efter åtgärdslistorna, i sektioner som visar åtgärder."
    )
    version = models.PositiveIntegerField("version", default=1, editable=False)

    history = Historik()

    class Meta:
        verbose_name = "sektion"
        verbose_name_plural = "sektioner"
        ordering = ["mall_sektion__ordning", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tjansteutlatande", "mall_sektion"], name="sektion_unik_per_dokument")
        ]

    def __str__(self):
        return self.mall_sektion.rubrik

    @property
    def is_empty(self):
        return not (re.sub(r"<[^>]+>", "", self.text).strip() or re.sub(r"<[^>]+>", "", self.avslutning).strip())


class TjansteutlatandeAtgard(models.Model):
    """An åtgärd a document reports on, in the order it prints."""

    tjansteutlatande = models.ForeignKey(
        Tjansteutlatande, on_delete=models.CASCADE, related_name="atgard_val", verbose_name="tjänsteutlåtande"
    )
    atgard = models.ForeignKey(
        "atgarder.Atgard", on_delete=models.PROTECT, related_name="dokument_val", verbose_name="åtgärd"
    )
    ordning = models.PositiveSmallIntegerField("ordning", default=0)

    history = Historik()

    class Meta:
        verbose_name = "åtgärd i tjänsteutlåtande"
        verbose_name_plural = "åtgärder i tjänsteutlåtandet"
        ordering = ["ordning", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tjansteutlatande", "atgard"], name="atgard_en_gang_per_dokument")
        ]

    def __str__(self):
        return str(self.atgard)


class Bilaga(models.Model):
    """An attachment of the document, numbered in order ("1. Skrivelse; Öppna drogscener")."""

    tjansteutlatande = models.ForeignKey(
        Tjansteutlatande, on_delete=models.CASCADE, related_name="bilagor", verbose_name="tjänsteutlåtande"
    )
    ordning = models.PositiveSmallIntegerField("nummer")
    titel = models.CharField("titel", max_length=300)
    fil = models.FileField("fil (PDF)", upload_to="bilagor/%Y/", blank=True, validators=[validate_pdf_filename])
    text = models.TextField("text", blank=True, help_text="Används när bilagan inte finns som PDF.")

    history = Historik()

    class Meta:
        verbose_name = "bilaga"
        verbose_name_plural = "bilagor"
        ordering = ["ordning", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tjansteutlatande", "ordning"], name="bilaga_unikt_nummer")
        ]

    def __str__(self):
        return f"{self.ordning}. {self.titel}"


class Undertecknare(models.Model):
    """A person who signs the document; name and title as printed on the day of signing."""

    tjansteutlatande = models.ForeignKey(
        Tjansteutlatande, on_delete=models.CASCADE, related_name="undertecknare", verbose_name="tjänsteutlåtande"
    )
    ordning = models.PositiveSmallIntegerField("ordning", default=0)
    anvandare = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="användare"
    )
    namn = models.CharField("namn", max_length=200)
    befattning = models.CharField("befattning", max_length=200)

    history = Historik()

    class Meta:
        verbose_name = "undertecknare"
        verbose_name_plural = "undertecknare"
        ordering = ["ordning", "pk"]

    def __str__(self):
        return f"{self.namn}, {self.befattning}"


class Attestering(models.Model):
    """One step of a document's attest chain. When attested it stores who, when, the name and
    title the attestant held at that moment, and the SHA-256 of the content they approved."""

    tjansteutlatande = models.ForeignKey(
        Tjansteutlatande, on_delete=models.CASCADE, related_name="attesteringar", verbose_name="tjänsteutlåtande"
    )
    omgang = models.PositiveIntegerField("attestomgång")
    ordning = models.PositiveSmallIntegerField("ordning i kedjan")
    attestant = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="attesteringar", verbose_name="attestant"
    )
    namn = models.CharField("namn", max_length=200, blank=True)
    befattning = models.CharField("befattning", max_length=200, blank=True)
    attesterad = models.DateTimeField("attesterad", null=True, blank=True)
    innehall_hash = models.CharField("attesterat innehåll (SHA-256)", max_length=64, blank=True)
    makulerad = models.DateTimeField(
        "makulerad", null=True, blank=True, help_text="Satt när dokumentet ändrades efter att det skickats för attest."
    )

    history = Historik()

    class Meta:
        verbose_name = "attestering"
        verbose_name_plural = "attesteringar"
        ordering = ["omgang", "ordning"]
        constraints = [
            models.UniqueConstraint(
                fields=["tjansteutlatande", "omgang", "ordning"], name="attestering_unikt_steg"
            ),
            models.UniqueConstraint(
                fields=["tjansteutlatande", "omgang", "attestant"], name="attestering_en_gang_per_omgang"
            ),
        ]

    def __str__(self):
        if not self.attesterad:
            return self.namn or str(self.attestant)
        return f"{self.namn or self.attestant}, {timezone.localtime(self.attesterad):%Y-%m-%d}"

    @property
    def namn_eller_anvandare(self):
        return self.namn or self.attestant.get_full_name() or self.attestant.get_username()


class AttestKo(Tjansteutlatande):
    """The documents waiting for the signed-in chef's attest: its own entry in the admin."""

    class Meta:
        proxy = True
        verbose_name = "väntar på min attest"
        verbose_name_plural = "väntar på min attest"
        default_permissions = ()

# --- Sammanträden: the nämnd's meetings, their föredragningslista and decisions ----------------


def is_namndsekreterare(user):
    """Whether a user prepares meetings: exports, agenda changes and decisions are theirs."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or Roll.NAMNDSEKRETERARE in roller(user)


class Sammantrade(models.Model):
    """A meeting of the nämnd. Its föredragningslista is the ordered list of its items."""

    namnd = models.ForeignKey(Namnd, on_delete=models.PROTECT, related_name="sammantraden", verbose_name="nämnd")
    datum = models.DateField("datum")
    tid = models.TimeField("tid")
    plats = models.CharField(
        "plats", max_length=200, help_text="Till exempel ”Skärholmens stadsdelsförvaltning, Sessionssalen”."
    )

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


class Foredragningspunkt(models.Model):
    """One numbered item of a meeting's föredragningslista: an attested tjänsteutlåtande, or a
    plain information item with only a title. After the meeting it holds the nämnd's beslut and
    the protokollsutdrag that records it."""

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
    protokollsutdrag = models.FileField(
        "protokollsutdrag", upload_to="protokollsutdrag/%Y/", blank=True, editable=False
    )

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
        return self.tjansteutlatande.titel if self.tjansteutlatande_id else self.titel

    @property
    def diarienummer(self):
        return self.arende.diarienummer if self.arende_id else ""

    @property
    def is_decided(self):
        return self.beslutad is not None


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
    skapad = models.DateTimeField("beställd", auto_now_add=True)
    klar = models.DateTimeField("klar", null=True, blank=True)

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

    @property
    def is_finished(self):
        return self.status in (ExportStatus.KLAR, ExportStatus.MISSLYCKAD)
