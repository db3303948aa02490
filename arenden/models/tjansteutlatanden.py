"""Tjänsteutlåtanden: mallar, the document, its sections, åtgärder, bilagor, signatories and
attest chain."""

import functools
import operator
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from skarholmen.historik import Historik

from ..constants import ANDRINGSBARA, TjansteutlatandeStatus
from .arenden import Arende, ScopedFileField, validate_pdf_filename
from .organisation import (
    ATTESTERA,
    Forvaltning,
    Namnd,
    display_name,
    egna_delar,
    forvaltningsdelar,
    genitiv,
    may_attest,
    nagon_av,
)

User = settings.AUTH_USER_MODEL

# The permission every edit of a document asks for (services._kontrollera_behorighet), with the
# document in the user's scope and in a state that may still change.
ANDRA_TJANSTEUTLATANDE = "arenden.change_tjansteutlatande"
SKICKA_FOR_ATTEST = "arenden.skicka_tjansteutlatande_for_attest"


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
        """Documents of the cases the user may see (`Arende.objects.for_user`), and no others: a
        document named for its former handläggare leaves them with its case when the case is
        given to someone else. An officer's part is read on each document's joined ärende row,
        which suits checking one document (asking whether its ärende is among all the user's
        cases made PostgreSQL gather every one of them, 21,000 at a million)."""
        return self._i_scope(user, nagon_av, via="arende__")

    def for_user_in_list(self, user):
        """The documents of the cases the user may see, in the shape a list of many needs (the
        admin's): an officer's part by the ids of their cases (one hashed set). Through the
        joined ärende, as `for_user` reads it, an officer's admin list joined every document to
        its case (45 → 77 ms at 200,000 ärenden)."""

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
        """Documents sent for attest whose next step in the chain is this user's: every one of
        them, those the user wrote (`with_forfattare_flags`) included. The sending keeps the
        authors out of the chain, but a chain stored before it counted every author can name
        one, whom attesting refuses (`_stegets_hinder`), and who cannot return it either. Left
        out of the list, such a document would wait at their step with nobody told; listed, it
        says why they cannot attest it and what unblocks it (`forfattar_hinder`)."""
        if not may_attest(user):
            return self.none()
        pending = Attestering.objects.filter(
            tjansteutlatande=models.OuterRef("pk"),
            omgang=models.OuterRef("attest_omgang"),
            attesterad__isnull=True,
            makulerad__isnull=True,
        ).order_by("ordning")
        return (
            self.filter(status=TjansteutlatandeStatus.TILL_ATTEST)
            .annotate(nasta_attestant_id=models.Subquery(pending.values("attestant_id")[:1]))
            .filter(nasta_attestant_id=user.pk)
        )

    def with_forfattare_flags(self, user):
        """Each document with whether `user` may not attest it as its author, by the rule of
        `forfattar_ids`, and what they can do about it, in the list's one query whatever its
        length: `user_is_handlaggare` (`ar_handlaggare`: the handläggare it names, or its
        case's), `user_wrote_text` (printed content of it saved by them, `_skrivet`, asked of
        each part's history by its document and user indexes), `user_ar_ansvarig` (they are the
        one who answers for it now, `ansvarig_handlaggare`) and `user_kan_dra_tillbaka`
        (`kan_dras_tillbaka_av`, whose permission is the user's, asked once)."""
        handlaggare = models.Q(handlaggare_id=user.pk) | models.Q(arende__handlaggare_id=user.pk)
        ansvarig = models.Q(arende__handlaggare_id=user.pk) | models.Q(
            arende__handlaggare__isnull=True, handlaggare_id=user.pk
        )
        if user.has_perm(ANDRA_TJANSTEUTLATANDE):
            kan_dra_tillbaka = models.ExpressionWrapper(
                handlaggare & models.Q(status=TjansteutlatandeStatus.TILL_ATTEST), output_field=models.BooleanField()
            )
        else:
            kan_dra_tillbaka = models.Value(False)
        skrev = functools.reduce(
            operator.or_,
            (models.Exists(rader.filter(history_user_id=user.pk)) for rader in _skrivet(models.OuterRef("pk"))),
        )
        return self.annotate(
            user_is_handlaggare=models.ExpressionWrapper(handlaggare, output_field=models.BooleanField()),
            user_wrote_text=models.ExpressionWrapper(skrev, output_field=models.BooleanField()),
            user_ar_ansvarig=models.ExpressionWrapper(ansvarig, output_field=models.BooleanField()),
            user_kan_dra_tillbaka=kan_dra_tillbaka,
        )


def _skrivet(tu):
    """The history rows, one queryset a part, in which a user (not the system) wrote what the
    document `tu` (its id, or an OuterRef to it) prints for the nämnd: its sections (one created
    empty from the mall is not writing), its bilagor, held as text or as a file, its åtgärd
    rows (the åtgärd's text prints in the section that lists them), and the text of the åtgärder
    it lists as written in the register (`_atgardstext`). A bilaga or an åtgärd added, changed,
    moved or removed is written as a section's text is, by whoever typed or struck it.
    Not the header fields, which whoever starts the document sets without writing it, nor the
    undertecknare, who sign it."""
    sektioner = Sektion.history.exclude(history_type="+", text="", avslutning="")
    delar = tuple(
        rader.filter(tjansteutlatande_id=tu, history_user__isnull=False)
        for rader in (sektioner, Bilaga.history.all(), TjansteutlatandeAtgard.history.all())
    )
    return (*delar, _atgardstext(tu))


# What a document prints of an åtgärd it lists (snapshot.py): its group, title and text.
ATGARDENS_TRYCKTA_FALT = ("typ", "titel", "beskrivning")


def _atgardstext(tu):
    """The history rows of the åtgärder the document `tu` lists in which a user wrote what it
    prints of them (ATGARDENS_TRYCKTA_FALT) in the register: the åtgärd created, or one of those
    fields changed from the row before. Their text is the förvaltning's answer in print, so a
    chef who rewrote it there wrote the document as much as one who chose it. A change of what
    is not printed (the period, the drogscener, an utfall) is not writing it."""
    from django.apps import apps

    atgard = apps.get_model("atgarder", "Atgard")
    # A document's id, or the OuterRef of a list's query, which is one query further out here.
    ref = models.OuterRef(tu) if isinstance(tu, models.OuterRef) else tu
    listade = TjansteutlatandeAtgard.objects.filter(tjansteutlatande_id=ref).values("atgard_id")
    fore = atgard.history.filter(id=models.OuterRef("id"), history_id__lt=models.OuterRef("history_id")).order_by(
        "-history_id"
    )
    skrev = models.Q(history_type="+")
    for falt in ATGARDENS_TRYCKTA_FALT:
        skrev |= ~models.Q(**{falt: models.Subquery(fore.values(falt)[:1])})
    return atgard.history.filter(id__in=listade, history_user__isnull=False, history_type__in=("+", "~")).filter(skrev)


# What unblocks a chain that names someone who wrote the text. Only sending chooses a chain, and
# only a draft is sent; the attestant whose step it is cannot return it, having written it, so
# the handläggare takes it back from attest (`services.dra_tillbaka_fran_attest`, which voids the
# round as an edit would, without one) and sends it anew, with a proposed chain that leaves its
# authors out (`services.standard_attestanter`).
BYT_ATTESTANT = (
    "dra tillbaka dokumentet med knappen ”Dra tillbaka från attest”, så att det blir ett utkast igen utan att "
    "texten ändras, och skicka det sedan för attest till en annan attestant"
)


def forfattar_hinder(*, ar_handlaggare, kan_dra_tillbaka, annan_handlaggare):
    """Why the attestant whose step it is cannot attest a document they wrote or answer for as
    its handläggare, and what to do, in Swedish. `kan_dra_tillbaka`: they may take it back
    themselves (`kan_dras_tillbaka_av`). `annan_handlaggare`: the name of who answers for it
    now (`ansvarig_handlaggare`) when that is someone else, whom they ask; None when it is
    they, who cannot take it back (they may no longer write documents): only a case given to
    another handläggare, who may then withdraw it (`ar_handlaggare`), unblocks it."""
    if ar_handlaggare:
        skal = "Du är handläggare för dokumentet och kan inte attestera det."
    else:
        skal = "Du har skrivit text i dokumentet och kan inte attestera det."
    if kan_dra_tillbaka:
        # Not str.capitalize(), which would lower the button's name.
        return f"{skal} {BYT_ATTESTANT[0].upper()}{BYT_ATTESTANT[1:]}."
    if annan_handlaggare:
        return f"{skal} Be handläggaren, {annan_handlaggare}, {BYT_ATTESTANT}."
    return (
        f"{skal} Du har inte behörighet att ändra dokument och kan därför inte heller dra tillbaka det från "
        f"attest. Be registratorn ge ärendet till en annan handläggare, som då kan {BYT_ATTESTANT}."
    )


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
            (ATTESTERA, "Kan attestera tjänsteutlåtanden"),
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
    def kan_andras(self):
        """Whether the text may still change: not once the document is on a meeting's list."""
        return self.status in ANDRINGSBARA

    def kan_andras_av(self, user):
        """Whether `user` may edit the document now, by the rule the services check each edit by:
        it may still change and they hold the permission. The scope is the caller's to have
        checked: the officers' pages read the document through `for_user`."""
        return self.kan_andras and user.has_perm(ANDRA_TJANSTEUTLATANDE)

    @property
    def handlaggare_ids(self):
        """Who answers for the document as its handläggare: the one it names, and its case's. A
        case given to another officer while its document waits for attest keeps the former one's
        name in the document until it is a draft again (`services.andra_arende`), and the new one
        answers for it meanwhile."""
        return {self.handlaggare_id, self.arende.handlaggare_id} - {None}

    def ar_handlaggare(self, user):
        """Whether `user` answers for the document as its handläggare (`handlaggare_ids`)."""
        return user.pk in self.handlaggare_ids

    def kedjehinder(self, person):
        """Why `person` cannot stand in the document's attest chain, whoever sends it, in Swedish
        (a closed account, no attest permission, no access to its case), or None if they can.
        Sending refuses them with it (`services.skicka_for_attest`), and the send forms leave a
        proposed chef out with it (`SkickaForAttestForm`)."""
        namn = display_name(person)
        if not person.is_active:
            return f"{namn} har inget aktivt konto längre och kan inte attestera. Välj en annan attestant."
        if not may_attest(person):
            return f"{namn} har inte rollen Attestant."
        if not type(self).objects.for_user(person).filter(pk=self.pk).exists():
            return f"{namn} har inte åtkomst till ärendet."
        return None

    @property
    def ansvarig_handlaggare(self):
        """Who answers for the document as its handläggare now, and so may take it back from
        attest (`kan_dras_tillbaka_av`): its case's handläggare, else the one it names. A
        document sent for attest keeps naming the former one after its case changed hands, and
        they may no longer reach it; advice names the one who can act."""
        return self.arende.handlaggare or self.handlaggare

    def handlaggarens_hinder(self):
        """Why the handläggare who answers for the document (`ansvarig_handlaggare`) cannot take
        it up as a draft, in Swedish, or None if they can: they left (a closed account), may no
        longer write documents, or moved to another förvaltning while it waited for attest. A
        chef returning it is told so before writing the comment and again after: returned, it
        waits on their name until the registrator gives the case to another handläggare, whom a
        draft then follows (`services.andra_arende`)."""
        person = self.ansvarig_handlaggare
        if not person.is_active:
            orsak = "har inget aktivt konto längre"
        elif not person.has_perm(ANDRA_TJANSTEUTLATANDE):
            orsak = "har inte längre behörighet att ändra dokument"
        elif not type(self).objects.for_user(person).filter(pk=self.pk).exists():
            orsak = "har inte längre åtkomst till ärendet"
        else:
            return None
        return (
            f"{display_name(person)} {orsak} och kan inte ta upp dokumentet. Be registratorn ge ärendet till en "
            "annan handläggare; utkastet följer med ärendet."
        )

    def kan_skickas_av(self, user):
        """Whether `user` may send the document for attest now (`services.skicka_for_attest`): a
        draft, and they hold the permission (the officers; chefs, secretaries and registrators
        read it). The scope is the caller's to have checked, as for `kan_andras_av`."""
        return self.status == TjansteutlatandeStatus.UTKAST and user.has_perm(SKICKA_FOR_ATTEST)

    def kan_dras_tillbaka_av(self, user):
        """Whether `user` may take the document back from attest now, unchanged
        (`services.dra_tillbaka_fran_attest`): it waits for attest, and they are its handläggare
        and may write it, as they must to change it and send it again. The scope is the caller's
        to have checked: the officers' pages read the document through `for_user`."""
        return (
            self.status == TjansteutlatandeStatus.TILL_ATTEST
            and self.ar_handlaggare(user)
            and user.has_perm(ANDRA_TJANSTEUTLATANDE)
        )

    @property
    def current_attesteringar(self):
        """This round's chain, in order, without voided steps."""
        return (
            self.attesteringar.filter(omgang=self.attest_omgang, makulerad__isnull=True)
            .select_related("attestant")
            .order_by("ordning")
        )

    @property
    def next_attestering(self):
        """The first step of this round's chain still waiting; None when not sent or all attested."""
        if self.status != TjansteutlatandeStatus.TILL_ATTEST:
            return None
        return self.current_attesteringar.filter(attesterad__isnull=True).first()

    def forfattar_ids(self):
        """The ids of everyone who may not attest the document as its author, in one query: who
        answers for it as its handläggare (`handlaggare_ids`: the one it names, and its case's)
        and each user who saved printed content of it: a section, a bilaga or an åtgärd row, or
        the printed text of an åtgärd it lists, in the register (their history, `_skrivet`)."""
        sektioner, *ovriga = (rader.values_list("history_user_id", flat=True).order_by() for rader in _skrivet(self.pk))
        return self.handlaggare_ids | set(sektioner.union(*ovriga))

    def attest_hinder(self, user):
        """Why `user` cannot attest the document now (Swedish, for the user), or None if they can."""
        return self._stegets_hinder(user, aterremiss=False)

    def aterremiss_hinder(self, user):
        """Why `user` cannot send the document back to its handläggare now, or None if they can:
        only the attestant whose step it is may, as for attesting, told in återremiss's words."""
        return self._stegets_hinder(user, aterremiss=True)

    def _stegets_hinder(self, user, *, aterremiss):
        gora, goras = ("återremittera", "återremitteras") if aterremiss else ("attestera", "attesteras")
        if not may_attest(user):
            return f"Du har inte behörighet att {gora} (rollen Attestant krävs)."
        if self.status == TjansteutlatandeStatus.UTKAST:
            # The chef read it waiting for attest: say what became of it and when it comes back.
            return (
                f"Dokumentet kan inte {goras}: det väntar inte längre på attest utan är ett utkast igen (det har "
                "ändrats, dragits tillbaka från attest eller återremitterats sedan det skickades). Det kommer "
                "tillbaka till Väntar på min attest när handläggaren skickar det på nytt."
            )
        if self.status != TjansteutlatandeStatus.TILL_ATTEST:
            return f"Dokumentet kan inte {goras} i status ”{self.get_status_display()}”."
        # Separation of duties: whoever wrote the text cannot approve it, nor whoever answers for
        # it as its handläggare, who may take it back from attest (a case given to a chef in its
        # chain while it waits would otherwise let them do both).
        if self.ar_handlaggare(user):
            return f"Du är handläggare för dokumentet och kan inte {gora} det själv."
        steg = list(self.current_attesteringar)
        # Sending keeps the other authors out of the chain; this refuses one in a chain sent
        # before they counted. Asked only of someone in the chain, so nobody else pays the query.
        if any(a.attestant_id == user.pk for a in steg) and user.pk in self.forfattar_ids():
            return f"Du har skrivit text i dokumentet och kan inte {gora} det själv."
        if any(a.attestant_id == user.pk and a.attesterad for a in steg):
            if aterremiss:
                return "Du har redan attesterat dokumentet i denna attestomgång och kan inte återremittera det."
            return "Du har redan attesterat dokumentet i denna attestomgång."
        nasta = next((a for a in steg if not a.attesterad), None)
        if nasta is None or nasta.attestant_id != user.pk:
            if any(a.attestant_id == user.pk for a in steg):
                namn = nasta.namn_eller_anvandare if nasta else "ingen"
                if aterremiss:
                    return f"Det är {genitiv(namn)} tur att attestera eller återremittera dokumentet först."
                return f"Det är {genitiv(namn)} tur att attestera först."
            return "Du står inte i dokumentets attestkedja."
        return None

    def can_be_attested_by(self, user):
        return self.attest_hinder(user) is None

    def nasta_bilaganummer(self):
        """The number a new bilaga is offered: one more than the highest the document has."""
        return (self.bilagor.aggregate(hogsta=models.Max("ordning"))["hogsta"] or 0) + 1


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
    fil = ScopedFileField("fil (PDF)", upload_to="bilagor/%Y/", blank=True, validators=[validate_pdf_filename])
    text = models.TextField("text", blank=True, help_text="Används när bilagan inte finns som PDF.")

    fil_view = "arenden:bilaga_fil"
    history = Historik()

    class Meta:
        verbose_name = "bilaga"
        verbose_name_plural = "bilagor"
        ordering = ["ordning", "pk"]
        constraints = [models.UniqueConstraint(fields=["tjansteutlatande", "ordning"], name="bilaga_unikt_nummer")]

    def __str__(self):
        return f"{self.ordning}. {self.titel}"

    def clean(self):
        super().clean()
        # The document lists every bilaga by number, and the nämnd gets its pages after the
        # document's own: one with neither would be listed and never reach them.
        if not self.fil and not (self.text or "").strip():
            raise ValidationError("En bilaga behöver en PDF-fil eller en text.")


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
            models.UniqueConstraint(fields=["tjansteutlatande", "omgang", "ordning"], name="attestering_unikt_steg"),
            models.UniqueConstraint(
                fields=["tjansteutlatande", "omgang", "attestant"], name="attestering_en_gang_per_omgang"
            ),
        ]

    def __str__(self):
        if not self.attesterad:
            return self.namn_eller_anvandare
        return f"{self.namn_eller_anvandare}, {timezone.localtime(self.attesterad):%Y-%m-%d}"

    @property
    def namn_eller_anvandare(self):
        return self.namn or display_name(self.attestant)


class AttestKo(Tjansteutlatande):
    """The documents waiting for the signed-in chef's attest: its own entry in the admin."""

    class Meta:
        proxy = True
        verbose_name = "väntar på min attest"
        verbose_name_plural = "väntar på min attest"
        default_permissions = ()
