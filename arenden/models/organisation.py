"""The organisation: nämnder, förvaltningar, avdelningar, the users' profiles and roles, and
which cases a user may see."""

import functools
import operator

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from simple_history import register

from skarholmen.historik import Historik

from ..constants import (
    Hinder,
    Roll,
)

User = settings.AUTH_USER_MODEL


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

    def clean(self):
        super().clean()
        kontrollera_chef(self, tidigare=_lagrad_chef(self))


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
        constraints = [models.UniqueConstraint(fields=["forvaltning", "namn"], name="avdelning_unik_per_forvaltning")]

    def __str__(self):
        return self.namn

    def clean(self):
        super().clean()
        kontrollera_chef(self, tidigare=_lagrad_chef(self))


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
        return f"{display_name(self.user)}, {self.befattning}".rstrip(", ")


# Who may sign in, with which roles and rights, is part of the record as the cases are: a user's
# own fields, groups and permissions are versioned (the admin's "Historik" on the person). The
# password's hash is not copied into the history, and a login (which writes `last_login` only)
# adds no row.
register(
    get_user_model(),
    app="arenden",
    records_class=Historik,
    m2m_fields=["groups", "user_permissions"],
    excluded_fields=["password", "last_login"],
)

# A role's rights are part of the record too: a right given to a role is given to everyone in it,
# and the history of each person names their roles, not what the roles could do that day.
register(Group, app="arenden", records_class=Historik, m2m_fields=["permissions"])


def display_name(user):
    """How the system names a person wherever it shows one: the full name, or the username of
    an account that has none; "" for no one (or a visitor not signed in)."""
    if user is None or not user.is_authenticated:
        return ""
    return display_name_from(user.first_name, user.last_name, user.get_username())


def display_name_from(first_name, last_name, username):
    """`display_name` from a user's columns, for lists read as values."""
    return f"{first_name or ''} {last_name or ''}".strip() or (username or "")


def genitiv(namn):
    """A name in the Swedish genitive: "Lisa Kinnaris", but "Hans Claes" (a name ending in s, x or
    z takes no s of its own)."""
    return namn if namn[-1:].lower() in ("s", "x", "z") else f"{namn}s"


def roller(user):
    """The names of the role groups a user has, read once per user object (with the user
    itself on each request on PostgreSQL, skarholmen/auth.py)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if not hasattr(user, "_arenden_roller"):
        namn = getattr(user, "rollnamn", None)
        user._arenden_roller = frozenset(user.groups.values_list("name", flat=True) if namn is None else namn)
    return user._arenden_roller


# The permission a chef attests by (given with the Attestant role, or to a person by name).
ATTESTERA = "attestera_tjansteutlatande"


def attestanter():
    """The active users who may attest: holding the attest permission through a role or by name.

    Deliberately not `user.has_perm`: that is always true for a superuser, and attesting is a
    chef's personal approval, never something an administrator's account can do by default.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    person = get_user_model()
    behorighet = Permission.objects.filter(codename=ATTESTERA, content_type__app_label="arenden")
    via_roll = person.groups.through.objects.filter(group__permissions__in=behorighet).values("user_id")
    personligen = person.user_permissions.through.objects.filter(permission__in=behorighet).values("user_id")
    return person.objects.filter(models.Q(pk__in=via_roll) | models.Q(pk__in=personligen), is_active=True)


def med_roll():
    """The active users who hold one of the roles that give cases to see (`synliga_delar`), or are
    superusers: anyone else named a case's handläggare could not open their own case."""
    from django.contrib.auth.models import Group

    rollernas = Group.user_set.through.objects.filter(group__name__in=[Roll.HANDLAGGARE, *Roll.FORVALTNINGSROLLER])
    return get_user_model().objects.filter(
        models.Q(pk__in=rollernas.values("user_id")) | models.Q(is_superuser=True), is_active=True
    )


def may_attest(user):
    """Whether the user is among `attestanter()`."""
    if not user.is_authenticated or not user.is_active:
        return False
    return attestanter().filter(pk=user.pk).exists()


def forvaltningar_for(user):
    """The förvaltningar a user works in: as its chef, as an avdelning's chef, or through the
    avdelning in their profile."""
    return Forvaltning.objects.filter(
        models.Q(chef=user) | models.Q(avdelningar__chef=user) | models.Q(avdelningar__medarbetare__user=user)
    ).values("pk")


def arbetar_i(user, forvaltning):
    """Whether `user` works in `forvaltning` (`forvaltningar_for`) with an active account: a
    closed one cannot sign in to write or sign what it would be given."""
    return user.is_active and forvaltningar_for(user).filter(pk=forvaltning.pk).exists()


def medarbetare(forvaltningar):
    """The users who work in the förvaltningar (ids, or a query of them), as `forvaltningar_for`
    reads it from the other side: their chefs, their avdelningar's chefs (who may have no
    avdelning in their profile) and everyone whose profile names one of their avdelningar; active
    accounts only (`arbetar_i`)."""
    return get_user_model().objects.filter(medarbetarvillkor(forvaltningar))


def medarbetarvillkor(forvaltningar):
    """The condition on a user that `medarbetare` lists by, for a query of users to combine."""
    return models.Q(is_active=True) & (
        models.Q(pk__in=Forvaltning.objects.filter(pk__in=forvaltningar).values("chef"))
        | models.Q(pk__in=Avdelning.objects.filter(forvaltning__in=forvaltningar).values("chef"))
        | models.Q(pk__in=Profil.objects.filter(avdelning__forvaltning__in=forvaltningar).values("user"))
    )


def synliga_personer(user):
    """The condition that a user is one whose page, history and old versions an (active, not
    super-) user may read in the admin: someone who works in a förvaltning they work in, by the
    rule that lists the people a case's fields may name (`medarbetare(forvaltningar_for(user))`),
    or themselves. A role's `auth.view_user` (which the autocompletes of the people fields need)
    gave every staff user the names, e-mail, roles and history of every förvaltning's staff."""
    return medarbetarvillkor(forvaltningar_for(user)) | models.Q(pk=user.pk)


def valbara_medarbetare(forvaltningar, *, behover_roll=False):
    """Who may be chosen now for a place in the cases of `forvaltningar` (ids, or a query of them):
    the active users who work there (`medarbetare`) and, for a place that must open the case
    (`behover_roll`: a handläggare), hold a role (`med_roll`). The admin's people fields and their
    autocomplete list them; `hinder_som_medarbetare` is the same rule for one person, by which the
    services refuse anyone else."""
    personer = medarbetare(forvaltningar)
    return personer.filter(pk__in=med_roll().values("pk")) if behover_roll else personer


def hinder_som_medarbetare(person, forvaltning, *, behover_roll=False):
    """Why `person` may not be chosen now for a place in `forvaltning`'s cases (a Hinder), or None
    if they may: a closed account, no role that would let them open the case (`behover_roll`,
    `med_roll`), or work in another förvaltning (`arbetar_i`). `valbara_medarbetare` lists by it."""
    if not person.is_active:
        return Hinder.AVSLUTAT_KONTO
    if behover_roll and not med_roll().filter(pk=person.pk).exists():
        return Hinder.INGEN_ROLL
    if not arbetar_i(person, forvaltning):
        return Hinder.ANNAN_FORVALTNING
    return None


def medarbetarhinder(person, forvaltning, *, som, behover_roll=False):
    """Why `person` cannot take a place in `forvaltning`'s cases (`som`: "handläggare för
    ärendet"), as (the reason, what to do instead) in Swedish, or None if they can
    (`hinder_som_medarbetare`)."""
    hinder = hinder_som_medarbetare(person, forvaltning, behover_roll=behover_roll)
    namn = display_name(person)
    if hinder == Hinder.AVSLUTAT_KONTO:
        return f"{namn} har inget aktivt konto och kan inte vara {som}.", "Välj någon annan."
    if hinder == Hinder.INGEN_ROLL:
        return (
            f"{namn} har ingen roll i ärendehanteringen och kan inte vara {som}: de skulle inte kunna öppna ärendet.",
            "Välj någon annan.",
        )
    if hinder == Hinder.ANNAN_FORVALTNING:
        return (
            f"{namn} arbetar inte i {forvaltning} och kan inte vara {som}.",
            "Välj någon vars avdelning hör till förvaltningen.",
        )
    return None


def kontrollera_medarbetare(person, forvaltning, *, falt, som, tidigare=None, behover_roll=False):
    """Refuse, with a ValidationError on the form field `falt`, a person who does not work in
    `forvaltning` for a place in its cases (`som`: "handläggare för ärendet"), or, for a place
    that must open the case (`behover_roll`: a handläggare), who holds no role that would let them
    (`med_roll`), or whose account is closed (`medarbetarhinder`). A case's handläggare edits its
    documents and is printed in their header, and a signatory signs them: someone of another
    förvaltning would write and sign in its name, and read its case. The one already in the place
    (`tidigare`, a user id) stays, though they may since have moved or left: a document keeps
    the handläggare it was written by."""
    if person is None or person.pk == tidigare:
        return
    hinder = medarbetarhinder(person, forvaltning, som=som, behover_roll=behover_roll)
    if hinder:
        raise ValidationError({falt: " ".join(hinder)})


def valbara_chefer():
    """Who may be made a förvaltning's or an avdelning's chef now: the active accounts. The admin's
    chef fields list them; `hinder_som_chef` is the same rule for one person."""
    return get_user_model().objects.filter(is_active=True)


def hinder_som_chef(person):
    """Why `person` may not be made a chef now (a Hinder), or None if they may (`valbara_chefer`)."""
    return None if valbara_chefer().filter(pk=person.pk).exists() else Hinder.AVSLUTAT_KONTO


def kontrollera_chef(obj, *, tidigare=None):
    """Refuse, with a ValidationError on the field `chef`, a förvaltning's or an avdelning's
    (`obj`) chef whose account is closed (`hinder_som_chef`): the chef is the attest chain of its
    documents, and every document sent for attest would be refused for them, long after the choice
    was made. The one already in the place (`tidigare`, a user id) stays, though they may since have
    left, as `kontrollera_medarbetare` keeps a case's: the row shows and saves them until the field
    is changed. (The chef works in the förvaltning by being its chef, `forvaltningar_for`.)"""
    chef = obj.chef
    if chef is None or chef.pk == tidigare or hinder_som_chef(chef) is None:
        return
    som = obj._meta.get_field("chef").verbose_name
    raise ValidationError(
        {"chef": f"{display_name(chef)} har inget aktivt konto och kan inte vara {som}. Välj någon annan."}
    )


def _lagrad_chef(obj):
    """The chef the row holds in the database (None for a new row)."""
    if obj.pk is None:
        return None
    return type(obj)._default_manager.filter(pk=obj.pk).values_list("chef_id", flat=True).first()


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
