"""Tjänsteutlåtanden, their sections and attestations, and a chef's attest queue."""

import difflib

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from atgarder.constants import AtgardTyp
from atgarder.models import Atgard

from .. import pdf, services
from ..constants import TjansteutlatandeStatus
from ..forms import AterremissForm, SkickaForAttestForm, visade_varden
from ..html import formateringsandringar, html_to_text, sanitize_html
from ..models import (
    ATTESTERA,
    Arende,
    Attestering,
    AttestKo,
    Bilaga,
    MallSektion,
    Namnd,
    Sektion,
    Tjansteutlatande,
    TjansteutlatandeAtgard,
    Undertecknare,
    display_name,
    forfattar_hinder,
    may_attest,
)
from ..snapshot import build_snapshot
from .arenden import SAMMA_SPARNING
from .common import (
    NYASTE_RADER,
    PDF_UPLOAD,
    DiarienummerSokMixin,
    HistoryAdmin,
    MinaFilter,
    PersonfaltMixin,
    RadForm,
    RadFormSet,
    ReadOnlyAdminMixin,
    SafeAutocompleteMixin,
    SafeInputAdminMixin,
    ScopedAdminMixin,
    VersionForm,
    VisaIgenVidVagranMixin,
    las_valen_en_gang,
    medarbetarval,
    person_column,
)


class SektionForm(VersionForm):
    versioned_fields = ("text", "avslutning")

    class Meta:
        model = Sektion
        fields = ("text", "avslutning")

    def stale_message(self):
        sparad = html_to_text(self.instance.text)
        if len(sparad) > 400:
            sparad = sparad[:400] + " …"
        return (
            f"Någon annan har sparat ”{self.instance.mall_sektion.rubrik}” efter att du öppnade sidan. "
            "Din text är inte sparad men står kvar i rutan. Den sparade texten är nu: "
            f"”{sparad or '(tom)'}”. Spara igen för att ersätta den med din text."
        )


class SektionLasesMixin:
    """A reader who may not change a section (a chef attesting, a secretary, a registrator) reads
    its text as the document prints it, not the stored HTML: "<p>…</p>" and
    "<span class="fotnot">" stood in plain sight below the preview the chef attests from. Who
    may change it keeps the box with the stored text."""

    LASES = {"text": "tryckt_text", "avslutning": "tryckt_avslutning"}

    def _lases(self, request, obj):
        return not self.has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not self._lases(request, obj):
            return fields
        # A ModelAdmin without `fields` lists the read-only ones too: each field once, in its place.
        return list(dict.fromkeys(self.LASES.get(f, f) for f in fields))

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, *self.LASES.values()) if self._lases(request, obj) else readonly

    def _tryckt(self, text):
        if not text:
            return self.get_empty_value_display()
        # The preview's frame: a footnote in brackets where the PDF puts it at the page's foot.
        return format_html('<div class="forhandsvisning">{}</div>', mark_safe(sanitize_html(text)))  # noqa: S308

    @admin.display(description="text")
    def tryckt_text(self, obj):
        return self._tryckt(obj.text)

    @admin.display(description="avslutande text")
    def tryckt_avslutning(self, obj):
        return self._tryckt(obj.avslutning)


class SektionInline(SektionLasesMixin, admin.StackedInline):
    model = Sektion
    form = SektionForm
    extra = 0
    fields = ("mall_sektion", "text", "avslutning", "expected_version")
    readonly_fields = ("mall_sektion",)
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # a document's sections come from its mall


class AtgardFormSet(RadFormSet):
    """The document's åtgärder, whose order is one list: adding, removing, replacing or moving
    one on the page makes the order of the rows the page showed. If someone has added or moved
    an åtgärd since, that order would leave theirs out or put it back, so the change is refused
    with the form kept, before anything is saved. A page whose åtgärder the user left alone saves
    the rest whatever happened to them (the admin then leaves them as stored)."""

    def clean(self):
        super().clean()
        if not any(form.has_changed() for form in self.forms):
            return
        visade = {
            f.instance.pk: f.cleaned_data.get("expected_version")
            for f in self.initial_forms
            if f.instance.pk and not f.has_changed() and hasattr(f, "cleaned_data")
        }
        andrade = {f.instance.pk for f in self.initial_forms if f.has_changed()}
        nu = []
        for val in self.instance.atgard_val.select_related("atgard").order_by("ordning", "pk"):
            if val.pk not in visade and val.pk not in andrade:
                nu.append(f"lagt till ”{val.atgard}”")
            elif val.pk in visade and visade[val.pk] != services.radversion(val):
                nu.append(f"flyttat eller bytt ”{val.atgard}”")
        if nu:
            raise ValidationError(
                f"Någon annan har ändrat åtgärderna efter att du öppnade sidan ({', '.join(nu)}). Dina ändringar "
                "av åtgärderna utgår från listan som den var och är inte sparade, och inte heller något annat "
                "på sidan: allt du skrev står kvar. Ångra ändringarna av åtgärderna här för att spara resten, "
                "och gör om dem när du har laddat om sidan.",
                code="stale",
            )


class TjansteutlatandeAtgardInline(SafeAutocompleteMixin, admin.TabularInline):
    model = TjansteutlatandeAtgard
    form = RadForm
    formset = AtgardFormSet
    extra = 0
    fields = ("ordning", "atgard", "expected_version")
    autocomplete_fields = ("atgard",)


class BilagaForm(RadForm):
    class Meta:
        help_texts = {
            "ordning": "Nästa lediga nummer står redan ifyllt. Flera nya bilagor som behåller det får "
            "nummer i tur och ordning när sidan sparas; ett nummer du skriver själv behålls."
        }


class BilagaFormSet(RadFormSet):
    """The document's bilagor on its page. A new row is offered the next number (one more than
    the highest), so that the usual bilaga needs no typing. Every row the page adds is a copy of
    the same empty row, so two new bilagor offer the same number: the new rows that keep the
    number the page offered (its hidden copy, RadForm) are numbered in turn as the page is saved,
    from that number up, past every number stored or given on the page. That also moves a new
    row past a number someone else took after the page was opened. A number typed by hand is
    kept as it is, and refused when another bilaga of the document has it."""

    @cached_property
    def erbjudet_nummer(self):
        return self.instance.nasta_bilaganummer()

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if self.instance.pk is not None and (index is None or index >= self.initial_form_count()):
            kwargs["initial"] = {**kwargs.get("initial", {}), "ordning": self.erbjudet_nummer}
        return kwargs

    def clean(self):
        self._numrera()
        super().clean()

    def _numrera(self):
        kvar = [
            f
            for f in self.forms
            if (f in self.initial_forms or f.has_changed())
            and not self._should_delete_form(f)
            and getattr(f, "cleaned_data", {}).get("ordning") is not None
        ]
        erbjudna = [f for f in kvar if f in self.extra_forms and "ordning" not in f.changed_data]
        givna = {f: (f.cleaned_data["ordning"], f.cleaned_data.get("titel")) for f in kvar if f not in erbjudna}
        pa_sidan = [f.instance.pk for f in self.initial_forms if f.instance.pk is not None]
        lagrade = self.instance.bilagor.all()
        utanfor = {b.ordning: b.titel for b in lagrade.exclude(pk__in=pa_sidan)}
        for form, (nummer, _) in givna.items():
            if form in self.initial_forms and "ordning" not in form.changed_data:
                continue
            andra = [titel for f, (n, titel) in givna.items() if f is not form and n == nummer]
            if nummer in utanfor:
                andra.append(utanfor[nummer])
            if andra:
                namn = f" (”{andra[0]}”)" if andra[0] else ""
                form.add_error("ordning", f"Bilaga {nummer} finns redan{namn}. Välj ett annat nummer.")
        # Stored numbers all count as taken, also those of rows this save moves or removes.
        upptagna = {*lagrade.values_list("ordning", flat=True), *(n for n, _ in givna.values())}
        for form in erbjudna:
            nummer = form.cleaned_data["ordning"]
            while nummer in upptagna:
                nummer += 1
            upptagna.add(nummer)
            form.cleaned_data["ordning"] = form.instance.ordning = nummer


class BilagaInline(admin.TabularInline):
    model = Bilaga
    form = BilagaForm
    formset = BilagaFormSet
    extra = 0
    fields = ("ordning", "titel", "fil", "text", "expected_version")
    formfield_overrides = PDF_UPLOAD

    def has_delete_permission(self, request, obj=None):
        # A sent document's bilaga is part of what the chefs read and attest
        # (`services.spara_dokumentdel`): only a draft's is removed.
        if obj is not None and obj.status != TjansteutlatandeStatus.UTKAST:
            return False
        return super().has_delete_permission(request, obj)


class UndertecknareInline(PersonfaltMixin, admin.TabularInline):
    model = Undertecknare
    form = RadForm
    formset = RadFormSet
    extra = 0
    fields = ("ordning", "anvandare", "namn", "befattning", "expected_version")

    def get_queryset(self, request):
        # A page read only (a chef's) names each row's user: read with the rows, not one by one.
        return super().get_queryset(request).select_related("anvandare")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None and "anvandare" in formset.form.base_fields:
            # Who signs for the förvaltning works in it; the document's signatories stay choices.
            behall = obj.undertecknare.values_list("anvandare_id", flat=True)
            falt = formset.form.base_fields["anvandare"]
            medarbetarval(falt, request, forvaltning=obj.forvaltning_id, behall=behall)
            las_valen_en_gang(falt)  # each signatory's row draws the same select
        return formset


class AttesteringInline(PersonfaltMixin, admin.TabularInline):
    model = Attestering
    extra = 0
    fields = ("omgang", "ordning", "attestant", "namn", "befattning", "attesterad", "innehall_hash", "makulerad")
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        # Every round's steps stay on the page, each naming its attestant: read with the rows.
        return super().get_queryset(request).select_related("attestant")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TjansteutlatandeForm(VersionForm):
    versioned_fields = services.HUVUDFALT

    class Meta:
        model = Tjansteutlatande
        fields = ("arende", "mall", *services.HUVUDFALT)

    def stale_message(self):
        return (
            "Någon annan har ändrat dokumentet efter att du öppnade sidan. Inget av det du skrev är sparat, "
            "men allt står kvar i formuläret. Jämför med den sparade versionen (öppna sidan i en ny flik) och "
            "spara igen för att ersätta den."
        )


class SkickaForm(SkickaForAttestForm):
    """The officer's form, naming the chefs the chain usually holds."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["forsta"].label = "Första attestant (avdelningschef)"
        self.fields["andra"].label = "Andra attestant (förvaltningschef)"


# What the PDF prints around the text (the header block and each page's running header) and the
# frozen content holds: (label, key, key within it). A resend that only moves the document to
# another nämnd or meeting is a change the chef must see.
HUVUDRADER = (
    ("Diarienummer", "diarienummer", None),
    ("Ärendemening", "arendemening", None),
    ("Förvaltning", "forvaltning", None),
    ("Avdelning", "avdelning", None),
    ("Handläggare", "handlaggare", "namn"),
    ("Telefon", "handlaggare", "telefon"),
    ("Nämnd", "namnd", None),
    ("Sammanträdesdatum", "sammantradesdatum", None),
)
_SAKNAS = object()


def _huvud(snapshot):
    """The header fields the snapshot holds, as "label: value" lines."""
    rader = []
    for etikett, nyckel, inre in HUVUDRADER:
        varde = snapshot.get(nyckel, _SAKNAS)
        if inre is not None:
            varde = varde.get(inre, _SAKNAS) if isinstance(varde, dict) else _SAKNAS
        if varde is not _SAKNAS:
            rader.append(f"{etikett}: {varde or '–'}")
    return rader


def _rader(snapshot):
    """The document as lines of plain text, for comparing two versions."""
    huvud = _huvud(snapshot)
    rader = [*huvud, ""] if huvud else []
    rader += [snapshot["titel"], snapshot["undertitel"]]
    for sektion in snapshot["sektioner"]:
        rader += ["", f"## {sektion['rubrik']}"]
        rader += [r for r in html_to_text(sektion["text"]).splitlines() if r.strip()]
        if sektion["visar_atgarder"]:
            for grupp in snapshot["atgardsgrupper"]:
                rader += ["".join(grupp["inledning"])]
                rader += [f"• {p['titel']}: {' '.join(p['stycken'])}" for p in grupp["punkter"]]
        rader += [r for r in html_to_text(sektion["avslutning"]).splitlines() if r.strip()]
    rader += ["", "## Undertecknare"] + [f"{u['namn']}, {u['befattning']}" for u in snapshot["undertecknare"]]
    rader += ["", "## Bilagor"]
    for bilaga in snapshot["bilagor"]:
        rader.append(f"{bilaga['nummer']}. {bilaga['titel']}")
        if bilaga["fil"]:
            # Another file under the same title is a change the chef must see; its checksum says
            # so (content frozen before the checksum was kept has none).
            summa = bilaga.get("sha256", "")
            rader.append(f"(uppladdad PDF, kontrollsumma {summa[:12]})" if summa else "(uppladdad PDF)")
        else:
            rader += [r for r in bilaga["text"].splitlines() if r.strip()]
    return rader


def _formatering(gammal, ny):
    """What `_rader` leaves out: how the sections' formatting changed between two versions, in
    words ("Bakgrund: ”Polisen” – fetstil tillagd"), never as markup. Sections are matched by
    their mall heading's key (their heading, in content frozen before keys were kept)."""
    fore = {s.get("nyckel") or s["rubrik"]: s for s in gammal["sektioner"]}
    rader = []
    for sektion in ny["sektioner"]:
        tidigare = fore.get(sektion.get("nyckel") or sektion["rubrik"], {})
        for del_ in ("text", "avslutning"):
            rader += [
                f"{sektion['rubrik']}: {rad}" for rad in formateringsandringar(tidigare.get(del_, ""), sektion[del_])
            ]
    if len(rader) > FORMATERING_VISAS:
        rest = len(rader) - FORMATERING_VISAS + 1
        rader = [*rader[: FORMATERING_VISAS - 1], f"… och {rest} ändringar till i formateringen."]
    return rader


# The formatting changes a comparison lists at most: a section rewritten in bold is one change to
# read about, not a thousand lines.
FORMATERING_VISAS = 20

SKICKADE = (
    TjansteutlatandeStatus.TILL_ATTEST,
    TjansteutlatandeStatus.ATTESTERAD,
    TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA,
    TjansteutlatandeStatus.BESLUTAD,
)


def versionens_tid(historisk):
    """The moment whose rows make up the version `historisk` (a history row of a document). A save
    writes the document's row and its sections', åtgärder's, bilagor's and undertecknare's some
    milliseconds apart: an edit its rows first and the document's last (`services._registrera_andring`),
    the save that creates a document its mall's sections after the document. So a row belongs to the
    version nearest to it in time: the rows written up to halfway to the next version (and at most
    `SAMMA_SPARNING` after this one), the next save's, just before its own row, not."""
    nasta = (
        Tjansteutlatande.history.filter(id=historisk.id, history_date__gt=historisk.history_date)
        .order_by("history_date")
        .values_list("history_date", flat=True)
        .first()
    )
    marginal = SAMMA_SPARNING if nasta is None else min(SAMMA_SPARNING, (nasta - historisk.history_date) / 2)
    return historisk.history_date + marginal


def _som_da(model, tid, ids):
    """The rows `ids` of a register (mall headings, åtgärder) as they were at `tid`, from their
    history; a row without a history row there (one loaded before it was versioned) as it is now."""
    rader = model.objects.in_bulk(ids)
    rader.update({rad.pk: rad for rad in model.history.as_of(tid).filter(id__in=ids)})
    return rader


def vid_versionen(obj):
    """What the old version `obj` of a document (simple_history's instance of a history row)
    printed, for its page: the content as the PDF reads it (`build_snapshot`'s shape).

    A version sent for attest, or past it, carries the content frozen when it was sent: exactly
    what the chefs read and attested, åtgärd texts and signatories' names as they were that day,
    so that is what the page shows. A draft is read from its sections', åtgärder's, bilagor's and
    undertecknare's own history as of the version (simple_history's `as_of`, `versionens_tid`),
    with the mall's headings and the åtgärder's texts of that time. A fixed number of queries,
    however many rows; kept on `obj`, which the page reads twice."""
    if "_vid_versionen" in obj.__dict__:
        return obj.__dict__["_vid_versionen"]
    historisk = getattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME)
    tid = versionens_tid(historisk)
    bilagor = list(Bilaga.history.as_of(tid).filter(tjansteutlatande_id=obj.pk))
    fryst = bool(historisk.status in SKICKADE and historisk.innehall)
    if fryst:
        innehall = historisk.innehall
    else:
        sektioner = list(Sektion.history.as_of(tid).filter(tjansteutlatande_id=obj.pk))
        val = list(TjansteutlatandeAtgard.history.as_of(tid).filter(tjansteutlatande_id=obj.pk))
        rubriker = _som_da(MallSektion, tid, {s.mall_sektion_id for s in sektioner})
        atgarder = _som_da(Atgard, tid, {v.atgard_id for v in val})
        for sektion in sektioner:
            sektion.mall_sektion = rubriker[sektion.mall_sektion_id]
        for v in val:
            v.atgard = atgarder[v.atgard_id]
        undertecknare = list(Undertecknare.history.as_of(tid).filter(tjansteutlatande_id=obj.pk))
        innehall = build_snapshot(
            obj, rader={"sektioner": sektioner, "atgard_val": val, "undertecknare": undertecknare, "bilagor": bilagor}
        )
    # An uploaded bilaga links the file that version had (`?version=`), found by its name.
    filer = {b.fil.name: b.fil.url for b in bilagor if b.fil}
    obj.__dict__["_vid_versionen"] = resultat = {
        "versionens_innehall": innehall,
        "versionens_fryst": fryst,
        "versionens_atgarder": [
            (AtgardTyp(grupp["typ"]).label, punkt["titel"])
            for grupp in innehall["atgardsgrupper"]
            for punkt in grupp["punkter"]
        ],
        "versionens_bilagor": [(bilaga, filer.get(bilaga["fil"])) for bilaga in innehall["bilagor"]],
    }
    return resultat


@admin.register(Tjansteutlatande)
class TjansteutlatandeAdmin(VisaIgenVidVagranMixin, DiarienummerSokMixin, ScopedAdminMixin, HistoryAdmin):
    """Officers edit here through the services; chefs read, compare and attest here."""

    form = TjansteutlatandeForm
    list_display = ("__str__", "status", "handlaggare_namn", "namnd", "sammantradesdatum", "andrad")
    list_select_related = ("arende", "handlaggare", "namnd")
    list_filter = ("status", "namnd", "sammantradesdatum", MinaFilter)
    search_fields = ("arende__diarienummer", "titel", "undertitel")
    readonly_fields = ("status", "version", "forhandsvisning", "andringar", "aterremiss_kommentar")
    # What the chef asked for when returning it: the document's page shows only the latest.
    historikens_texter = ("aterremiss_kommentar",)
    autocomplete_fields = ("arende", "handlaggare")
    inlines = [SektionInline, TjansteutlatandeAtgardInline, BilagaInline, UndertecknareInline, AttesteringInline]
    actions = ["skicka_valda_for_attest", "ladda_ned_pdf"]
    change_form_template = "admin/arenden/tjansteutlatande/change_form.html"
    list_defer = ("innehall",)
    handlaggare_namn = person_column("handlaggare", "handläggare")
    sok_egna = ("titel", "undertitel")  # and the case's diarienummer (DiarienummerSokMixin)
    forvaltning_via = "forvaltning"  # a document carries its case's förvaltning
    add_fieldsets = ((None, {"fields": ("arende", "mall", "titel", "undertitel", "namnd", "sammantradesdatum")}),)

    def scoped(self, qs, user):
        return qs.for_user_in_list(user)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        # An old version shows what it printed (`vid_versionen`); the difference against the
        # rounds sent since would tell what came after it.
        granskning = ("aterremiss_kommentar", "forhandsvisning")
        if not hasattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME):
            granskning = (*granskning, "andringar")
        return (
            (None, {"fields": ("arende", "mall", "status", "version", "expected_version")}),
            ("Sidhuvud", {"fields": ("handlaggare", "telefon", "namnd", "sammantradesdatum", "titel", "undertitel")}),
            ("Granskning", {"fields": granskning}),
        )

    object_history_form_template = "admin/arenden/tjansteutlatande/object_history_form.html"

    def render_history_view(self, request, template, context, **kwargs):
        original = context.get("original")
        if hasattr(original, SIMPLE_HISTORY_REVERSE_ATTR_NAME):  # an old version's page (history_form_view)
            context.update(vid_versionen(original))
        return super().render_history_view(request, template, context, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The ärende and the mall are the document's identity once it exists.
        return (*super().get_readonly_fields(request, obj), "arende", "mall")

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj else []

    def has_change_permission(self, request, obj=None):
        # On the agenda or decided, the document belongs to the meeting: nobody edits it here.
        if obj is not None and not obj.kan_andras:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        """Nobody deletes a document, superusers included (as no one deletes a case): a sent or
        attested one took its attestations with it and left its case "Redo för nämnd" with no
        document, and no service deletes even a draft."""
        return False

    # --- saving: every change goes through a service -------------------------------------

    def save_model(self, request, obj, form, change):
        if not change:
            tu = services.skapa_tjansteutlatande(
                user=request.user, **{f: form.cleaned_data.get(f) for f in self.add_fieldsets[0][1]["fields"]}
            )
            obj.pk = tu.pk
            obj._state.adding = False
            obj.refresh_from_db()
            return
        data = {f: form.cleaned_data[f] for f in services.HUVUDFALT if f in form.changed_data}
        if data:
            # Checked under the lock against what the page showed, as the officers' header form is.
            services.uppdatera_tjansteutlatande(
                tjansteutlatande=obj,
                data=data,
                expected_version=form.cleaned_data["expected_version"],
                visat=visade_varden(form, data),
                user=request.user,
            )

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change):
        tu, user = form.instance, request.user
        # What the admin's change message reads; the services did the saving.
        # A row someone else deleted meanwhile is among the deleted forms (RadFormSet), not deleted by this user.
        deleted = formset.deleted_forms
        formset.new_objects = [f.instance for f in formset.extra_forms if f.has_changed() and f not in deleted]
        formset.changed_objects = [
            (f.instance, f.changed_data) for f in formset.initial_forms if f.has_changed() and f not in deleted
        ]
        formset.deleted_objects = [f.instance for f in formset.initial_forms if f in deleted and f.instance.pk]
        if formset.model is Sektion:
            for f in formset.forms:
                if f.instance.pk and f.content_changed():
                    services.spara_sektion(
                        sektion=f.instance,
                        text=f.cleaned_data["text"],
                        avslutning=f.cleaned_data["avslutning"],
                        expected_version=f.cleaned_data["expected_version"],
                        user=user,
                    )
        elif formset.model is TjansteutlatandeAtgard:
            self._save_atgarder(tu, formset, user)
        elif formset.model in (Bilaga, Undertecknare):
            # A row counts as changed against what the page showed (RadForm); the version it showed
            # goes along, so that a row someone changed meanwhile is refused, not written over.
            for f in formset.deleted_forms:
                if f.instance.pk:
                    services.spara_dokumentdel(
                        tjansteutlatande=tu,
                        obj=f.instance,
                        user=user,
                        ta_bort=True,
                        expected_version=f.cleaned_data.get("expected_version") or "",
                    )
            for f in formset.forms:
                if f not in formset.deleted_forms and f.has_changed():
                    services.spara_dokumentdel(
                        tjansteutlatande=tu,
                        obj=f.instance,
                        user=user,
                        expected_version=f.cleaned_data.get("expected_version") or "",
                    )

    def _save_atgarder(self, tu, formset, user):
        if not any(f.has_changed() for f in formset.forms):
            # The åtgärder as the page showed them: the list and its order stay as they are
            # stored, also when someone has reordered or added to them since.
            return
        for f in formset.initial_forms:
            if f.instance.pk is None:
                continue  # removed by someone else after the page was made: nothing to remove
            before = f.initial.get("atgard")
            if f in formset.deleted_forms or "atgard" in f.changed_data:
                services.ta_bort_atgard(tjansteutlatande=tu, atgard=Atgard.objects.get(pk=before), user=user)
        for f in formset.forms:
            new = f not in formset.initial_forms and f.has_changed()
            if f not in formset.deleted_forms and (new or "atgard" in f.changed_data):
                services.lagg_till_atgard(tjansteutlatande=tu, atgard=f.cleaned_data["atgard"], user=user)
        wanted = sorted(
            (f.cleaned_data.get("ordning") or 0, i, f.cleaned_data["atgard"].pk)
            for i, f in enumerate(formset.forms)
            if f not in formset.deleted_forms and f.cleaned_data.get("atgard")
        )
        order = [atgard_id for _, _, atgard_id in wanted]
        if order != list(tu.atgard_val.order_by("ordning", "pk").values_list("atgard_id", flat=True)):
            services.ordna_atgarder(tjansteutlatande=tu, atgard_ids=order, user=user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "namnd" in form.base_fields:
            # A document goes to the nämnd its case's förvaltning answers to (the services check it).
            if obj is not None:
                namnder = Namnd.objects.filter(forvaltningar=obj.forvaltning_id)
            elif request.user.is_superuser:
                namnder = Namnd.objects.all()
            else:
                egna = Arende.objects.for_user(request.user).values("forvaltning")
                namnder = Namnd.objects.filter(forvaltningar__in=egna).distinct()
            form.base_fields["namnd"].queryset = namnder
        if obj is not None and "handlaggare" in form.base_fields:
            # Someone with a role who works in the case's förvaltning; the one the document names stays a
            # choice.
            medarbetarval(
                form.base_fields["handlaggare"],
                request,
                forvaltning=obj.forvaltning_id,
                behall=[obj.handlaggare_id],
                behover_roll=True,
            )
        return form

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            obj._granskare = request.user  # whose last read version `andringar` compares with
            hinder = obj.attest_hinder(request.user)
            context.update(
                kan_attestera=hinder is None,
                kan_skicka=self._kan_skicka(request, obj),
                # The officers' confirmation, which the advice of `forfattar_hinder` names.
                kan_dra_tillbaka=obj.kan_dras_tillbaka_av(request.user),
                forfattar_hinder=self._forfattar_hinder(request.user, obj) if hinder else None,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _forfattar_hinder(self, user, obj):
        """What the chef whose step it is, having written the text or answering for it as its
        handläggare, is told on the page their queue links to (as the queue tells it:
        `AttestKoAdmin.din_attest`); None for anyone else."""
        if obj.status != TjansteutlatandeStatus.TILL_ATTEST or not may_attest(user):
            return None
        nasta = obj.next_attestering
        if nasta is None or nasta.attestant_id != user.pk:
            return None
        if user.pk not in obj.forfattar_ids():
            return None
        ansvarig = obj.ansvarig_handlaggare
        return forfattar_hinder(
            ar_handlaggare=obj.ar_handlaggare(user),
            kan_dra_tillbaka=obj.kan_dras_tillbaka_av(user),
            annan_handlaggare=None if ansvarig.pk == user.pk else display_name(ansvarig),
        )

    # --- review: preview and difference ---------------------------------------------------

    def _innehall(self, obj):
        if hasattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME):
            return vid_versionen(obj)["versionens_innehall"]
        return obj.innehall if obj.status in SKICKADE and obj.innehall else build_snapshot(obj)

    @admin.display(description="förhandsvisning")
    def forhandsvisning(self, obj):
        snapshot = self._innehall(obj)
        delar = []
        for sektion in snapshot["sektioner"]:
            delar.append(format_html("<h3>{}</h3>", sektion["rubrik"]))
            delar.append(mark_safe(sanitize_html(sektion["text"])))  # noqa: S308 - sanitised just now
            if sektion["visar_atgarder"]:
                for grupp in snapshot["atgardsgrupper"]:
                    delar.append(format_html("<p>{}</p>", "".join(grupp["inledning"])))
                    delar.append(
                        format_html(
                            "<ul>{}</ul>",
                            format_html_join("", "<li>{}</li>", ((" ".join(p["stycken"]),) for p in grupp["punkter"])),
                        )
                    )
            delar.append(mark_safe(sanitize_html(sektion["avslutning"])))  # noqa: S308 - sanitised just now
        return format_html('<div class="forhandsvisning">{}</div>', mark_safe("".join(str(d) for d in delar)))

    @admin.display(description="ändringar sedan förra attestversionen")
    def andringar(self, obj):
        versioner = services.skickade_versioner(obj)
        if obj.status in SKICKADE and obj.innehall:
            ny, ny_namn = obj.innehall, "Skickad för attest nu"
            tidigare = versioner[1:]
        else:
            ny, ny_namn = build_snapshot(obj), "Nuvarande utkast"
            tidigare = versioner
        if not tidigare:
            return "Dokumentet har inte skickats för attest tidigare."
        # The version the chef read last (`render_change_form` names them), else the round before.
        granskare = obj.__dict__.get("_granskare")
        lasta = services.lasta_omgangar(obj, granskare) if granskare is not None else set()
        egen = next((v for v in tidigare if v[0].attest_omgang in lasta), None)
        rad, gammal = egen or tidigare[0]
        gammal_namn = f"Skickad för attest {timezone.localtime(rad.history_date):%Y-%m-%d %H:%M}"
        if egen is not None:
            gammal_namn += ", som du läste senast"
        fore, efter = _rader(gammal), _rader(ny)
        formatering = _formatering(gammal, ny)
        if fore == efter and not formatering:
            return f"Inga ändringar i texten eller formateringen sedan versionen {gammal_namn.lower()}."
        if fore == efter:
            delar = [format_html("<p>Texten är oförändrad sedan versionen {}.</p>", gammal_namn.lower())]
        else:
            tabell = difflib.HtmlDiff(wrapcolumn=80).make_table(
                fore, efter, gammal_namn, ny_namn, context=True, numlines=1
            )
            delar = [mark_safe(tabell)]  # noqa: S308 - difflib escapes the text it compares
        if formatering:
            delar.append(
                format_html(
                    '<div class="formatering"><p><strong>Formateringen har ändrats</strong> '
                    "(fetstil, kursiv stil, listor och fotnoter, som texten ovan inte visar):</p><ul>{}</ul></div>",
                    format_html_join("", "<li>{}</li>", ((rad,) for rad in formatering)),
                )
            )
        return mark_safe("".join(str(d) for d in delar))  # noqa: S308 - each part escaped above

    # --- the attest steps -----------------------------------------------------------------

    def get_urls(self):
        def view(fn):
            return self.admin_site.admin_view(fn)

        return [
            path("<path:object_id>/attestera/", view(self.attestera_view), name="arenden_tjansteutlatande_attestera"),
            path(
                "<path:object_id>/aterremittera/",
                view(self.aterremittera_view),
                name="arenden_tjansteutlatande_aterremittera",
            ),
            path("<path:object_id>/skicka/", view(self.skicka_view), name="arenden_tjansteutlatande_skicka"),
            *super().get_urls(),
        ]

    def _change_url(self, obj):
        return reverse("admin:arenden_tjansteutlatande_change", args=[obj.pk])

    def _hamta_for_attest(self, request, object_id):
        obj = self.get_object(request, object_id)  # 404 outside the user's scope
        if not (self.has_view_permission(request, obj) and may_attest(request.user)):
            raise PermissionDenied
        return obj

    def _bekrafta(
        self,
        request,
        obj,
        *,
        rubrik,
        text,
        knapp,
        kommentar=None,
        kommentar_fel=None,
        form=None,
        innehall_hash=None,
        skickas_inte=False,
    ):
        context = {
            "kommentar_fel": kommentar_fel,
            "skickas_inte": skickas_inte,
            "innehall_hash": innehall_hash,
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": rubrik,
            "text": text,
            "knapp": knapp,
            "kommentar": kommentar,
            "form": form,
            "tillbaka": self._change_url(obj),
        }
        return TemplateResponse(request, "admin/arenden/tjansteutlatande/bekrafta.html", context)

    def _last_innehall(self, request, obj):
        """The hash of the content the chef read, carried from the document's page (its links
        name it) through the confirmation's form; None when the document was sent again since
        the page they came from, which sends them back to read it."""
        if request.method == "POST":
            return request.POST.get("innehall_hash", "")
        last = request.GET.get("innehall", obj.innehall_hash)
        return last if last == obj.innehall_hash else None

    def attestera_view(self, request, object_id):
        obj = self._hamta_for_attest(request, object_id)
        hinder = obj.attest_hinder(request.user)
        last = self._last_innehall(request, obj)
        if hinder or last is None:
            self.message_user(request, hinder or services.InnehalletAndrat.MEDDELANDE, messages.ERROR)
            return redirect(self._change_url(obj))
        if request.method == "POST":
            try:
                services.attestera(tjansteutlatande=obj, user=request.user, innehall_hash=last)
            except services.WorkflowError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return redirect(self._change_url(obj))
            slut = " Dokumentet är nu attesterat." if obj.is_attested else " Nästa attestant har fått det."
            self.message_user(request, f"Du har attesterat ”{obj}”.{slut}", messages.SUCCESS)
            return redirect(reverse("admin:arenden_attestko_changelist"))
        return self._bekrafta(
            request,
            obj,
            rubrik=f"Attestera {obj}",
            knapp="Attestera",
            text=f"Du godkänner innehållet som skickades för attest (kontrollsumma {last[:16]}).",
            innehall_hash=last,
        )

    def aterremittera_view(self, request, object_id):
        obj = self._hamta_for_attest(request, object_id)
        hinder = obj.aterremiss_hinder(request.user)
        last = self._last_innehall(request, obj)
        kommentar = request.POST.get("kommentar", "")
        if hinder or last is None:
            if request.method == "POST" and kommentar.strip():
                return self._kommentaren_kvar(request, obj, kommentar, hinder or services.InnehalletAndrat.MEDDELANDE)
            self.message_user(request, hinder or services.InnehalletAndrat.MEDDELANDE, messages.ERROR)
            return redirect(self._change_url(obj))
        kommentar_fel = None
        if request.method == "POST":
            form = AterremissForm(request.POST)
            if not form.is_valid():
                kommentar_fel = form.errors["kommentar"]  # shown beside it, the text kept to be shortened
            else:
                try:
                    services.aterremittera(
                        tjansteutlatande=obj, user=request.user, kommentar=kommentar, innehall_hash=last
                    )
                except services.InnehalletAndrat as exc:
                    return self._kommentaren_kvar(request, obj, kommentar, str(exc))
                except services.WorkflowError as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                else:
                    meddelande, niva = (
                        f"”{obj}” är återremitterat till {display_name(obj.handlaggare)}.",
                        messages.SUCCESS,
                    )
                    if hinder := obj.handlaggarens_hinder():
                        meddelande, niva = f"{meddelande} {hinder}", messages.WARNING
                    self.message_user(request, meddelande, niva)
                    return redirect(reverse("admin:arenden_attestko_changelist"))
        text = "Dokumentet går tillbaka till handläggaren som utkast. Skriv vad som behöver ändras."
        if hinder := obj.handlaggarens_hinder():
            text += f" {hinder}"
        return self._aterremiss_sida(
            request,
            obj,
            kommentar,
            text=text,
            innehall_hash=last,
            kommentar_fel=kommentar_fel,
        )

    def _aterremiss_sida(self, request, obj, kommentar, **kwargs):
        """The Återremittera page, with the comment as the chef has written it so far."""
        return self._bekrafta(
            request, obj, rubrik=f"Återremittera {obj}", knapp="Återremittera", kommentar=kommentar, **kwargs
        )

    def _kommentaren_kvar(self, request, obj, kommentar, fel):
        """A return refused once the chef has written its comment: the document was changed, taken
        back or sent anew while they wrote, or someone else acted on their step. Sent back to the
        document's page, they lost what they wrote; here it stays, with why, for them to copy once
        they have read the document as it is now. There is nothing to send it with."""
        self.message_user(request, fel, messages.ERROR)
        return self._aterremiss_sida(
            request,
            obj,
            kommentar,
            text="Kommentaren är inte skickad, men står kvar nedan så att du kan kopiera den. Läs dokumentet som "
            "det är nu innan du attesterar eller återremitterar det.",
            skickas_inte=True,
        )

    def _kan_skicka(self, request, obj):
        return (
            request.user.has_perm("arenden.skicka_tjansteutlatande_for_attest")
            and self.has_change_permission(request, obj)
            and obj.status == TjansteutlatandeStatus.UTKAST
        )

    def has_skicka_permission(self, request):
        return request.user.has_perm("arenden.skicka_tjansteutlatande_for_attest")

    def skicka_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if not (self.has_skicka_permission(request) and self.has_change_permission(request, obj)):
            raise PermissionDenied
        form = SkickaForm(request.POST or None, forvalda=services.standard_attestanter(obj), tjansteutlatande=obj)
        if request.method == "POST" and form.is_valid():
            try:
                services.skicka_for_attest(tjansteutlatande=obj, user=request.user, attestanter=form.attestanter)
            except services.WorkflowError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                namn = " → ".join(map(display_name, form.attestanter))
                self.message_user(request, f"”{obj}” är skickat för attest till {namn}.", messages.SUCCESS)
                return redirect(self._change_url(obj))
        saknade = services.saknade_sektioner(obj)
        text = "Innehållet fryses när du skickar; en ändring efteråt makulerar attesten."
        if saknade:
            text += f" Obligatoriska sektioner som är tomma: {', '.join(saknade)}."
        return self._bekrafta(
            request, obj, rubrik=f"Skicka {obj} för attest", knapp="Skicka för attest", text=text, form=form
        )

    @admin.action(
        description="Skicka valda för attest (avdelningschef, sedan förvaltningschef)", permissions=["skicka"]
    )
    def skicka_valda_for_attest(self, request, queryset):
        for obj in queryset:
            try:
                services.skicka_for_attest(tjansteutlatande=obj, user=request.user)
            except services.WorkflowError as exc:
                self.message_user(request, f"{obj}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"”{obj}” är skickat för attest.", messages.SUCCESS)

    @admin.action(description="Ladda ned valda tjänsteutlåtanden som PDF (zip)")
    def ladda_ned_pdf(self, request, queryset):
        documents = queryset.filter(pk__in=Tjansteutlatande.objects.for_user(request.user)).select_related("arende")
        # Each draft is rendered while the request waits: a bound on the number, and an overall
        # deadline (pdf.ZIP_TIDSGRANS) below gunicorn's timeout, keep it within the server's time.
        antal = documents.count()
        if antal > pdf.ZIP_HOGST:
            self.message_user(
                request,
                f"Välj högst {pdf.ZIP_HOGST} dokument att ladda ned på en gång (du valde {antal}). Ett "
                "sammanträdes alla dokument finns i dess mötespaket.",
                messages.ERROR,
            )
            return None
        try:
            data = pdf.zip_of(documents)
        except pdf.PdfError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="tjansteutlatanden.zip"'
        return response


def _may_attest(request):
    """Whether the user sees the attest queue, which every admin page asks twice for its menu.
    Anyone but a superuser holds exactly the permissions Django has read for the request's user
    to draw that menu, so no query is needed; a superuser has every permission by Django's rule,
    so may_attest asks the database for the role, once a request. Attesting asks may_attest."""
    user = request.user
    if not user.is_superuser:
        return user.is_active and f"arenden.{ATTESTERA}" in user.get_all_permissions()
    if not hasattr(request, "_may_attest"):
        request._may_attest = may_attest(user)
    return request._may_attest


@admin.register(AttestKo)
class AttestKoAdmin(SafeInputAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """A chef's queue: the documents whose next step in the attest chain is theirs.

    A document the chef wrote in (or is the handläggare of) stays in the list, with why they
    cannot attest it and what unblocks it (`forfattar_hinder`), rather than being left out: its
    chain waits at their step, they cannot return it, and left out it would wait there with
    nobody told. The chef learns it from the list, not by being refused on the document's page."""

    list_display = ("dokument", "din_attest", "status", "handlaggare_namn", "sammantradesdatum", "andrad")
    list_display_links = None
    # The case's handläggare too: the note names them when a chef cannot attest (`din_attest`).
    list_select_related = ("arende__handlaggare", "handlaggare")
    list_defer = ("innehall",)
    handlaggare_namn = person_column("handlaggare", "handläggare")
    actions = None

    def get_queryset(self, request):
        # The queue's ids first, as values: as a subquery PostgreSQL guessed a queue of 3 rows
        # (its test is a subquery per document) and joined every user to each of the 600 it had
        # at 200,000 ärenden, work that grows with the city's users.
        ko = Tjansteutlatande.objects.for_user(request.user).awaiting_attest_by(request.user)
        ids = list(ko.values_list("pk", flat=True))
        # Who wrote what is asked of the list's rows only, in the list's own query.
        return super().get_queryset(request).filter(pk__in=ids).with_forfattare_flags(request.user)

    @admin.display(description="tjänsteutlåtande")
    def dokument(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:arenden_tjansteutlatande_change", args=[obj.pk]), obj)

    @admin.display(description="din attest")
    def din_attest(self, obj):
        if obj.user_is_handlaggare or obj.user_wrote_text:
            hinder = forfattar_hinder(
                ar_handlaggare=bool(obj.user_is_handlaggare),
                kan_dra_tillbaka=bool(obj.user_kan_dra_tillbaka),
                annan_handlaggare=None if obj.user_ar_ansvarig else display_name(obj.ansvarig_handlaggare),
            )
            return format_html("<strong>{}</strong>", hinder)
        return "Väntar på dig"

    def has_module_permission(self, request):
        return _may_attest(request)

    def has_view_permission(self, request, obj=None):
        return _may_attest(request)

    def changelist_view(self, request, extra_context=None):
        # Django's "Välj väntar på min attest för visning" is no Swedish: titled as the menu names it.
        return super().changelist_view(request, {"title": "Väntar på min attest", **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect(reverse("admin:arenden_tjansteutlatande_change", args=[object_id]))


@admin.register(Attestering)
class AttesteringAdmin(DiarienummerSokMixin, ReadOnlyAdminMixin, ScopedAdminMixin, HistoryAdmin):
    """Attestations are written only by the services: the admin shows them."""

    ordering = NYASTE_RADER
    scope_path = "tjansteutlatande__arende"
    list_display = ("tjansteutlatande", "ordning", "namn", "befattning", "attesterad", "makulerad")
    list_select_related = ("tjansteutlatande__arende",)
    list_defer = ("tjansteutlatande__innehall",)
    list_filter = ("attesterad",)
    search_fields = ("namn", "tjansteutlatande__arende__diarienummer")
    sok_egna, sok_via = ("namn",), "tjansteutlatande"


@admin.register(Sektion)
class SektionAdmin(SektionLasesMixin, DiarienummerSokMixin, ReadOnlyAdminMixin, ScopedAdminMixin, HistoryAdmin):
    """Each section's own page shows its history: who changed which words, and when. Texts are
    edited on the document's page, where the version check and the attest rules apply."""

    ordering = NYASTE_RADER
    scope_path = "tjansteutlatande__arende"
    list_display = ("__str__", "tjansteutlatande", "version")
    list_select_related = ("mall_sektion", "tjansteutlatande__arende")
    list_defer = ("text", "avslutning", "tjansteutlatande__innehall")
    search_fields = ("tjansteutlatande__arende__diarienummer", "mall_sektion__rubrik")
    sok_via = "tjansteutlatande"

    def egna_villkor(self, bit):
        # The mall's headings are a handful of rows: their ids, so that the section's own key answers.
        rubriker = MallSektion.objects.filter(rubrik__icontains=bit).values_list("pk", flat=True)
        return Q(mall_sektion_id__in=list(rubriker))
