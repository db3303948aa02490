"""Ärenden and their skrivelser."""

from datetime import timedelta
from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.views.main import ALL_VAR, ORDER_VAR
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from .. import services
from ..models import (
    SIFFROR,
    Arende,
    Avdelning,
    Foredragningspunkt,
    Forvaltning,
    Sammantrade,
    Skrivelse,
    Tjansteutlatande,
    ar_som_haller,
    diarienummer_haller,
    display_name,
    forvaltningar_for,
)
from ..tidslinje import tidslinje
from .common import (
    BORDLAGD_HANDLING_LANK,
    NYASTE_RADER,
    PDF_UPLOAD,
    DiarienummerSokMixin,
    HistoryAdmin,
    MinaFilter,
    ObjektAdminMixin,
    ObjektForm,
    RadForm,
    RadFormSet,
    ScopedAdminMixin,
    VersioneradAdminMixin,
    _bytta_falt,
    arenden_som_syns,
    medarbetarval,
    person_column,
    sokord,
)

# A save of the case's page writes the case's history row and then its skrivelser's, and a
# registration the case and then its skrivelse: one save, rows some milliseconds apart. Those rows
# belong to the version the save made; what was saved after the case's next version, or this
# long after, does not.
SAMMA_SPARNING = timedelta(seconds=5)


def vid_versionen(historisk):
    """The case's skrivelser, documents and the nämnd's decisions as they stood when the version `historisk` (a history
    row of an ärende) was saved, read from their own history (simple_history's `as_of`): a
    skrivelse since changed, moved or removed, or a document since renamed, shows as it was, and
    what came later is not there. Five queries at most, however many rows."""
    nasta = (
        Arende.history.filter(id=historisk.id, history_date__gt=historisk.history_date)
        .order_by("history_date")
        .values_list("history_date", flat=True)
        .first()
    )
    tid = historisk.history_date + SAMMA_SPARNING
    if nasta is not None:
        tid = min(tid, nasta - timedelta(microseconds=1))
    skrivelser = Skrivelse.history.as_of(tid).filter(arende_id=historisk.id).order_by("beredning_datum", "id")
    dokument = Tjansteutlatande.history.as_of(tid).filter(arende_id=historisk.id).order_by("skapad", "id")
    beslut = list(
        Foredragningspunkt.history.as_of(tid)
        .filter(arende_id=historisk.id, beslutad__isnull=False)
        .order_by("beslutad", "id")
    )
    moten = Sammantrade.objects.select_related("namnd").in_bulk({punkt.sammantrade_id for punkt in beslut})
    return {
        "versionens_skrivelser": list(skrivelser),
        "versionens_dokument": [(tu, getattr(tu, SIMPLE_HISTORY_REVERSE_ATTR_NAME).history_id) for tu in dokument],
        "versionens_beslut": [(punkt, moten.get(punkt.sammantrade_id)) for punkt in beslut],
    }


class ArendeForm(ObjektForm):
    versioned_fields = services.ARENDE_FALT
    benamning = "ärendet"

    def clean_citerade(self):
        # The diarium's search offers the case itself among the cases it may cite; picked, it
        # would stand in its own list and history as a reference to another case.
        citerade = self.cleaned_data.get("citerade")
        if self.instance.pk and citerade is not None and any(a.pk == self.instance.pk for a in citerade):
            raise ValidationError("Ett ärende kan inte hänvisa till sig självt.", code="sig_sjalvt")
        return citerade


class SkrivelseFormSet(RadFormSet):
    def save_new(self, form, commit=True):
        # Registered on the case's page, as the officers' page registers one (their history's reason).
        form.instance._change_reason = services.SKRIVELSE_REGISTRERAD
        return super().save_new(form, commit)


class SkrivelseInline(admin.StackedInline):
    model = Skrivelse
    form = RadForm
    formset = SkrivelseFormSet
    extra = 0
    fields = ("titel", "forfattare", "beredning_datum", "text", "fil", "expected_version")
    formfield_overrides = PDF_UPLOAD

    def has_delete_permission(self, request, obj=None):
        # A registered skrivelse is an allmän handling in the diarium (SkrivelseAdmin).
        return False


class TjansteutlatandeLinkInline(admin.TabularInline):
    model = Tjansteutlatande
    extra = 0
    fields = ("titel", "status", "sammantradesdatum")
    readonly_fields = ("titel", "status", "sammantradesdatum")
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class BeslutInline(admin.TabularInline):
    """The nämnd's decisions on the case, each with its protokollsutdrag."""

    model = Foredragningspunkt
    fk_name = "arende"
    verbose_name = "beslut"
    verbose_name_plural = "beslut"
    extra = 0
    fields = ("sammantrade", "nummer", "beslut", "beslutad", "utdrag", "bordlagd_handling")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sammantrade__namnd").filter(beslutad__isnull=False)

    @admin.display(description="protokollsutdrag")
    def utdrag(self, obj):
        if not obj.protokollsutdrag:
            return "–"
        return format_html('<a href="{}">Ladda ner</a>', reverse("arenden:protokollsutdrag", args=[obj.pk]))

    @admin.display(description="handling")
    def bordlagd_handling(self, obj):
        # A postponed item's document as the nämnd had it; the case's document has moved on since.
        if not obj.handling:
            return "–"
        return format_html(
            '<a href="{}">{}</a>', reverse("arenden:bordlagd_handling", args=[obj.pk]), BORDLAGD_HANDLING_LANK
        )


@admin.register(Arende)
class ArendeAdmin(VersioneradAdminMixin, ScopedAdminMixin, HistoryAdmin):
    form = ArendeForm
    ordering = ("-ar", "-lopnummer", "-pk")  # the diarium's order, which the search reads in
    list_display = ("diarienummer", "arendemening", "status", "handlaggare_namn", "avdelning", "registrerad")
    list_select_related = ("handlaggare", "avdelning")
    list_filter = ("status", "forvaltning", "avdelning", MinaFilter, "registrerad")
    search_fields = ("diarienummer", "arendemening")
    readonly_fields = ("status",)
    # The diarium is searched for a case to cite, never listed whole on the page.
    autocomplete_fields = ("handlaggare", "citerade")
    date_hierarchy = None
    handlaggare_namn = person_column("handlaggare", "handläggare")
    citerade_som_syns = arenden_som_syns("citerade", "citerade ärenden")
    inlines = [SkrivelseInline, TjansteutlatandeLinkInline]
    fieldsets = (
        (None, {"fields": ("diarienummer", "forvaltning", "arendemening", "status", "expected_version")}),
        ("Ansvar", {"fields": ("handlaggare", "avdelning", "registrerad")}),
        ("Hänvisningar", {"fields": ("citerade", "citerade_utanfor_diariet")}),
    )

    def has_delete_permission(self, request, obj=None):
        """A diarium keeps every case it has numbered, superusers' included: a deleted case left a
        hole in its series, a number that could be typed in again for another case, and
        citations removed from other cases and åtgärder without a history row."""
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A case is registered, and kept, in the diarium of a förvaltning the user works in.
        if not request.user.is_superuser and db_field.name in ("forvaltning", "avdelning"):
            egna = forvaltningar_for(request.user)
            kwargs["queryset"] = (
                Forvaltning.objects.filter(pk__in=egna)
                if db_field.name == "forvaltning"
                else Avdelning.objects.filter(forvaltning__in=egna).select_related("forvaltning")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    object_history_form_template = "admin/arenden/arende/object_history_form.html"

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # A registered case's number is shown, without the field's help on registering.
        fieldsets = _bytta_falt(fieldsets, {"diarienummer": "diarienummer_som_text"})
        # An old version shows the case as it was (`vid_versionen`), not the events since.
        if hasattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME):
            return fieldsets
        return (*fieldsets, ("Händelser", {"fields": ("tidslinje",)}))

    def render_history_view(self, request, template, context, **kwargs):
        historisk = getattr(context.get("original"), SIMPLE_HISTORY_REVERSE_ATTR_NAME, None)
        if historisk is not None:  # an old version's page (history_form_view)
            context.update(vid_versionen(historisk))
        return super().render_history_view(request, template, context, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        """Each word stands in the diarienummer or the ärendemening, as in Django's own search.

        A year among the words ("2019", "SKHLM 2019") is in thousands of the oldest cases'
        numbers. As one condition PostgreSQL walked the diarium newest first to reach them,
        testing every case: the superuser's list took 1.1 s at 200,000 ärenden, a chef's 93 ms.
        So on PostgreSQL, in the list's own order, that word's parts (the year, the running
        number, the ärendemening: `diarienummer_haller`) are read one by one, each in that order
        from its index and cut where the page's count stops (`sokgrans`), and the list shows
        their union. Other words, and a list in a column's order, search as Django does."""
        ord_ = sokord(search_term)
        grans = self.sokgrans(request)  # None for the autocomplete's search, which has no page
        i_listans_ordning = grans is not None and ORDER_VAR not in request.GET and ALL_VAR not in request.GET
        ar = None
        if connection.vendor == "postgresql" and i_listans_ordning:
            # Three digits at least: no trigram index serves a shorter word, and a part without an
            # index that matches few cases would itself walk the diarium ("1": 1 s).
            ar = next((bit for bit in ord_ if len(bit) >= 3 and SIFFROR.fullmatch(bit) and ar_som_haller(bit)), None)
        for bit in ord_:
            if bit != ar:  # each word in one of search_fields, as Django's search asks
                queryset = queryset.filter(Q(*[(f"{f}__icontains", bit) for f in self.search_fields], _connector=Q.OR))
        if ar is None:
            return queryset, False
        delar = [
            queryset.filter(villkor).order_by(*self.ordering).values("pk")[: grans + 1]
            for villkor in (*diarienummer_haller(ar), Q(arendemening__icontains=ar))
        ]
        return queryset.filter(pk__in=delar[0].union(*delar[1:], all=True)), False

    def get_inlines(self, request, obj):
        # The decisions show once there are any (a protokollsutdrag per decided item).
        if obj and obj.beslutspunkter.filter(beslutad__isnull=False).exists():
            return [*self.inlines, BeslutInline]
        return self.inlines

    def get_readonly_fields(self, request, obj=None):
        # A number, once given, is the case's identity in the diarium.
        if obj and obj.pk:
            lasta = ("diarienummer", "diarienummer_som_text", "forvaltning", "tidslinje")
            return (*super().get_readonly_fields(request, obj), *lasta)
        return super().get_readonly_fields(request, obj)

    @admin.display(description="diarienummer")
    def diarienummer_som_text(self, obj):
        """The number of a registered case. Django shows a read-only field with its help text,
        which tells how a number is given on registering ("Lämna tomt så delar systemet ut nästa
        nummer"): on a case that has one it read as if it could still be left empty."""
        return obj.diarienummer

    @admin.display(description="tidslinje")
    def tidslinje(self, obj):
        # The same list of events as on the officer's page of the case.
        return render_to_string("arenden/_tidslinje.html", {"tidslinje": tidslinje(obj)})

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "diarienummer" in form.base_fields:
            form.base_fields["diarienummer"].required = False
        if "handlaggare" in form.base_fields:
            # Someone with a role who works in the case's förvaltning (a new case's is checked on saving, by
            # `services.registrera_arende`); the one the case has stays a choice.
            medarbetarval(
                form.base_fields["handlaggare"],
                request,
                forvaltning=obj.forvaltning_id if obj else None,
                behall=[obj.handlaggare_id] if obj else (),
                behover_roll=True,
            )
        return form

    def save_model(self, request, obj, form, change):
        if change:
            # Only the fields the form changed are written, never the status; a new handläggare
            # takes the case's draft along.
            behallna = services.andra_arende(
                arende=obj,
                falt=form.changed_data,
                user=request.user,
                expected_version=form.cleaned_data["expected_version"],
            )
            for tu in behallna:
                varning = (
                    f"Tjänsteutlåtandet ”{tu.titel}” har status ”{tu.get_status_display()}” och behåller "
                    f"handläggaren {display_name(tu.handlaggare)}: ett dokument som har skickats för attest "
                    "ändras inte."
                )
                # Told once the save is stored, as the diarienummer below.
                transaction.on_commit(partial(messages.warning, request, varning))
            return
        services.registrera_arende(arende=obj, user=request.user)
        # Told once the case, its skrivelser included, is stored: a failure after this point
        # gives the number back, and a number already written down would go to the next case.
        transaction.on_commit(lambda: messages.info(request, f"Ärendet fick diarienummer {obj.diarienummer}."))


class SkrivelseForm(ObjektForm):
    versioned_fields = services.SKRIVELSE_FALT
    benamning = "skrivelsen"


@admin.register(Skrivelse)
class SkrivelseAdmin(ObjektAdminMixin, DiarienummerSokMixin, ScopedAdminMixin, HistoryAdmin):
    """The ärende's page shows its skrivelser as rows with their own checksum; here the
    skrivelse's fields carry one too (SkrivelseForm), so that a save from either page made over
    a change saved from the other is refused, and only the fields the user changed are written."""

    form = SkrivelseForm
    ordering = NYASTE_RADER
    scope_path = "arende"
    list_display = ("titel", "arende", "forfattare", "beredning_datum")
    list_select_related = ("arende",)
    list_defer = ("text",)
    search_fields = ("titel", "forfattare", "arende__diarienummer")
    sok_egna = ("titel", "forfattare")
    autocomplete_fields = ("arende",)
    formfield_overrides = PDF_UPLOAD

    def has_delete_permission(self, request, obj=None):
        """A registered skrivelse is an allmän handling: the diarium keeps it, superusers'
        deletes included, as it keeps its case (arkivlagen; only a gallring decision removes
        records). Deleted, the case would lose what it answers, its history the skrivelse's
        file, and Bilaga 1 of the answer its source. A mistaken one is corrected on its page,
        or moved to the case it belongs to, which its history records."""
        return False

    def andra(self, request, obj, form, *, falt, expected_version):
        services.andra_skrivelse(skrivelse=obj, falt=falt, expected_version=expected_version, user=request.user)
