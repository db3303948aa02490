from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower

from skarholmen.historik import Historik

from .constants import AtgardTyp

# The years a measure's outputs or a place's focus can be told in. The fields took any number up
# to 32767: a typo ("20233", "203") was stored and shown on the drogscen's page as a year.
FORSTA_AR, SISTA_AR = 1990, 2100
AR_FEL = f"Ange ett år mellan {FORSTA_AR} och {SISTA_AR}."
RIMLIGT_AR = [MinValueValidator(FORSTA_AR, AR_FEL), MaxValueValidator(SISTA_AR, AR_FEL)]


# What Python's str.split() takes for spacing besides the space itself: a name typed or pasted
# with a tab, a line break or a no-break space is the same name (tests/atgarder check the list).
BLANKSTEG = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def unikt_namn(obj):
    """Refuse a name that another row of the register holds but for case or spacing
    ("polisen", "Sätra  centrum"): officers would otherwise pick one of two places or actors
    that are the same, and the register would count each measure under either. Runs of spaces
    become one, as a name is printed. The database holds the rule too (`namn_regler`), for a save
    that skips this check or meets another at the same instant."""
    obj.namn = " ".join((obj.namn or "").split())
    annan = (
        type(obj)
        ._default_manager.alias(nyckel=Lower("namn"))
        .filter(nyckel=Lower(Value(obj.namn)))
        .exclude(pk=obj.pk)
        .first()
    )
    if annan is not None:
        raise ValidationError(
            {"namn": f"{obj._meta.verbose_name.capitalize()}en ”{annan.namn}” finns redan i registret."}
        )


def namn_regler(modell, benamning):
    """`unikt_namn`'s rule, held by the database for a save that skips it or meets another at the
    same instant: a name is stored as the form leaves it (single spaces, none at either end, no
    other kind of spacing), and no two such names are the same in lower case. Folding the spacing
    in the index itself instead took some forty nested REPLACE calls, past SQLite's parser's depth.
    On SQLite `lower` folds every letter, as PostgreSQL's does (skarholmen/sqlite.py)."""
    q_namn = models.Q(namn__startswith=" ") | models.Q(namn__endswith=" ") | models.Q(namn__contains="  ")
    for tecken in BLANKSTEG:
        q_namn |= models.Q(namn__contains=tecken)
    return [
        models.CheckConstraint(
            condition=~q_namn,
            name=f"{modell}_namn_blanksteg",
            violation_error_message="Namnet får bara ha enkla mellanslag mellan orden.",
        ),
        models.UniqueConstraint(
            Lower("namn"),
            name=f"{modell}_namn_unikt",
            violation_error_message=f"{benamning} med det namnet finns redan i registret.",
        ),
    ]


class Drogscen(models.Model):
    """An open drug scene: a place where drugs are sold and used openly (e.g. Sätra centrum)."""

    namn = models.CharField("namn", max_length=200, unique=True)
    omrade = models.CharField("område", max_length=200, help_text="Stadsdel eller centrumområde.")
    beskrivning = models.TextField("beskrivning", blank=True)
    barnverksamheter = models.TextField(
        "verksamheter för barn i närheten",
        blank=True,
        help_text="Förskolor, parklekar, fritidsklubbar och fritidsgårdar inom avgränsningen, en per rad.",
    )
    fokusar = models.PositiveSmallIntegerField(
        "fokusår",
        null=True,
        blank=True,
        help_text="Året då platsen var fokus i den lokala samverkansöverenskommelsen med polisen.",
        validators=RIMLIGT_AR,
    )

    history = Historik()

    class Meta:
        verbose_name = "drogscen"
        verbose_name_plural = "drogscener"
        ordering = ["namn"]
        constraints = namn_regler("drogscen", "En drogscen")

    def __str__(self):
        return self.namn

    def clean(self):
        unikt_namn(self)

    @property
    def barnverksamheter_lista(self):
        return [rad.strip() for rad in self.barnverksamheter.splitlines() if rad.strip()]


class Aktor(models.Model):
    """Who carries out a measure with the förvaltning: Polisen, skolan, fastighetsägare …"""

    namn = models.CharField("namn", max_length=200, unique=True)

    history = Historik()

    class Meta:
        verbose_name = "aktör"
        verbose_name_plural = "aktörer"
        ordering = ["namn"]
        constraints = namn_regler("aktor", "En aktör")

    def __str__(self):
        return self.namn

    def clean(self):
        unikt_namn(self)


class AtgardQuerySet(models.QuerySet):
    def social(self):
        return self.filter(typ=AtgardTyp.SOCIAL)

    def situationell(self):
        return self.filter(typ=AtgardTyp.SITUATIONELL)


class Atgard(models.Model):
    """A measure against open drug scenes: social or situational prevention.

    Its `beskrivning` is the text a tjänsteutlåtande prints as one bullet; paragraphs are
    separated by a blank line.
    """

    typ = models.CharField("typ", max_length=20, choices=AtgardTyp.choices, db_index=True)
    titel = models.CharField("titel", max_length=200)
    beskrivning = models.TextField(
        "beskrivning",
        help_text="Texten som skrivs ut i tjänsteutlåtandet. Tom rad skiljer stycken åt.",
    )
    aktorer = models.ManyToManyField(Aktor, verbose_name="aktörer", blank=True, related_name="atgarder")
    drogscener = models.ManyToManyField(Drogscen, verbose_name="drogscener", blank=True, related_name="atgarder")
    period_start = models.DateField("period från", null=True, blank=True)
    period_slut = models.DateField("period till", null=True, blank=True, help_text="Tom om åtgärden pågår.")
    citerade_arenden = models.ManyToManyField(
        "arenden.Arende",
        verbose_name="citerade ärenden",
        blank=True,
        related_name="citerad_av_atgarder",
        help_text="Ärenden där åtgärden beskrivs mer utförligt.",
    )
    skapad = models.DateTimeField("skapad", auto_now_add=True)
    andrad = models.DateTimeField("ändrad", auto_now=True)

    history = Historik(m2m_fields=[aktorer, drogscener, citerade_arenden])
    objects = AtgardQuerySet.as_manager()

    class Meta:
        verbose_name = "åtgärd"
        verbose_name_plural = "åtgärder"
        ordering = ["typ", "titel"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_slut__isnull=True)
                | models.Q(period_start__isnull=True)
                | models.Q(period_slut__gte=models.F("period_start")),
                name="atgard_period_ordning",
                violation_error_message="Periodens slut kan inte ligga före dess början.",
            )
        ]

    def __str__(self):
        return self.titel

    @property
    def stycken(self):
        return [s.strip() for s in self.beskrivning.replace("\r\n", "\n").split("\n\n") if s.strip()]

    @property
    def period(self):
        if not self.period_start:
            return ""
        slut = self.period_slut.isoformat() if self.period_slut else "pågår"
        return f"{self.period_start.isoformat()} – {slut}"


class Utfall(models.Model):
    """A measurable output of a measure, e.g. "70 platsaktiveringar under 2023"."""

    atgard = models.ForeignKey(Atgard, on_delete=models.CASCADE, related_name="utfall", verbose_name="åtgärd")
    antal = models.PositiveIntegerField("antal")
    enhet = models.CharField("enhet", max_length=100, help_text="Till exempel ”platsaktiveringar”.")
    ar = models.PositiveSmallIntegerField("år", validators=RIMLIGT_AR)

    history = Historik()

    class Meta:
        verbose_name = "utfall"
        verbose_name_plural = "utfall"
        ordering = ["ar", "enhet"]

    def __str__(self):
        return f"{self.antal} {self.enhet} {self.ar}"
