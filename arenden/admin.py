import difflib
import re
from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR, ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import ModelChange, ModelDelta
from simple_history.utils import get_m2m_reverse_field_name

from atgarder.models import Atgard

from . import pdf, services
from .constants import ExportTyp, TjansteutlatandeStatus
from .forms import ManyIdsField, PdfUploadField
from .html import html_to_text, sanitize_html
from .models import (
    Arende,
    Attestering,
    AttestKo,
    Avdelning,
    Bilaga,
    Foredragningspunkt,
    Forvaltning,
    Mall,
    MallSektion,
    Namnd,
    Profil,
    Sammantrade,
    Sammantradesexport,
    Sektion,
    Skrivelse,
    Tjansteutlatande,
    TjansteutlatandeAtgard,
    Undertecknare,
    diarienummer_haller,
    is_namndsekreterare,
    may_attest,
)
from .search import MAX_SOKTEXT
from .snapshot import build_snapshot
from .urls_per_id import url_per_id

User = get_user_model()


class BegransadPaginator(Paginator):
    """Counts at most `grans` rows (GRANS unless told). An admin list counts what its filters
    match to number its pages; at city scale that is tens of thousands of rows read for every
    page shown. Past the limit the list says "fler än 1000" (templates/admin/pagination.html)
    and the first pages can be browsed; a filter or a search narrows it.

    A search counts only as far as the page after the one shown (`ListMixin.get_paginator`), in
    the list's order, so that PostgreSQL reads the matches from the order's index and stops
    there: counting up to GRANS of them read every match in the user's scope from the trigram
    indexes first (a chef's 931 cases with "parklekar" at 200,000 ärenden: 8.4 ms, now 3.3)."""

    GRANS = 1000

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, grans=None):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.grans = grans or self.GRANS
        self.i_ordning = grans is not None

    @cached_property
    def count(self):
        rader = self.object_list if self.i_ordning else self.object_list.order_by()
        return rader[: self.grans + 1].count()

    @property
    def begransad(self):
        return self.count > self.grans


class SafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget looks up whatever value a refused form sent back, so an id
    like "1.5" (or one beyond 64 bits) made the re-rendered page fail; it shows only real ids."""

    def optgroups(self, name, value, attr=None):
        pk = self.field.remote_field.model._meta.pk
        ids = []
        for v in value:
            try:
                number = int(pk.to_python(v))
            except (ValidationError, TypeError, ValueError):
                continue
            if -(2**63) <= number < 2**63:
                ids.append(v)
        return super().optgroups(name, ids, attr)


class SafeAutocompleteMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ListCheckboxMixin:
    """The list's checkbox per row written directly: Django renders it through the form widget
    templates, a third of the time of a 50-row list. The same HTML, attribute for attribute."""

    def action_checkbox(self, obj):
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )


class RowLinkChangeList(ChangeList):
    """Each row's link carries the list's search and filters, as Django writes it, but put
    together once for the page: Django's `add_preserved_filters` resolves every row's URL again
    to learn whether it is the list itself, a tenth of a searched or filtered 50-row list's time.
    The rows' links are the only reader of `preserved_filters` on a ChangeList. The change page's
    URL is reversed once for the list too (`url_per_id`), not once a row.

    The list also leaves out the fields its admin names in `list_defer`: texts and frozen
    documents that no column shows, whose reading and decoding was most of a list's time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.row_filters, self.preserved_filters = self.preserved_filters, ""

    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        return qs.defer(*self.model_admin.list_defer) if self.model_admin.list_defer else qs

    @cached_property
    def change_url(self):
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
        return url_per_id(name, current_app=self.model_admin.admin_site.name)

    def url_for_result(self, result):
        pk = getattr(result, self.pk_attname)
        url = self.change_url(pk) if isinstance(pk, int) else super().url_for_result(result)
        return f"{url}?{self.row_filters}" if self.row_filters else url

    def get_results(self, request):
        super().get_results(request)
        if self.paginator.begransad:
            # Not counted to its end, so not known to be within list_max_show_all: never whole.
            self.can_show_all = False
            if self.show_all:
                self.result_list = self.paginator.page(self.page_num).object_list


class ListMixin:
    """The admin's lists: rows as RowLinkChangeList writes them, counted by BegransadPaginator."""

    list_defer = ()  # fields the list leaves out (RowLinkChangeList)
    paginator = BegransadPaginator

    def get_changelist(self, request, **kwargs):
        return RowLinkChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        grans = None
        if request.GET.get(SEARCH_VAR, "").strip():
            try:
                sida = max(int(request.GET.get(PAGE_VAR, 1)), 1)
            except ValueError:
                sida = 1  # as the ChangeList reads it
            grans = min(sida * per_page, self.paginator.GRANS)
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page, grans=grans)


class SafeInputAdminMixin(ListCheckboxMixin, ListMixin, SafeAutocompleteMixin):
    """What a hostile or broken request can send to any admin page without a server error: a
    search text is cut to MAX_SOKTEXT (SQLite refuses LIKE patterns over 50 kB), ids in a
    multiple choice beyond the 64-bit range are refused as unknown (SQLite cannot compare them),
    and an autocomplete field shows a refused value without looking it up."""

    formfield_overrides = {models.ManyToManyField: {"form_class": ManyIdsField}}

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_term[:MAX_SOKTEXT])


class HistoryAdmin(SafeInputAdminMixin, SimpleHistoryAdmin):
    """The history pages of every admin: 50 rows a page, newest first, in Swedish
    (templates/simple_history/object_history_list.html). A case at city scale gathers hundreds
    of history rows, and each row on a page is diffed against the next."""

    history_list_per_page = 50

    def history_view_title(self, request, obj):
        return f"Historik: {obj}"

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """simple_history's diff of each row against the one before it, with the many-to-many
        fields read for the whole page in one query each (simple_history reads them with two
        queries a row, which made a page of 50 rows cost 150 queries for an åtgärd)."""
        records = list(historical_records)
        history_model = self.model.history.model
        m2m_fields = [f.name for f in getattr(history_model, "_history_m2m_fields", ())]
        m2m_rows = {}
        for field in m2m_fields:
            target = get_m2m_reverse_field_name(self.model._meta.get_field(field))
            rows = defaultdict(list)
            for row in (
                getattr(history_model, field)
                .model.objects.filter(history__in=records)
                .select_related(target)
                .order_by(target)
            ):
                rows[row.history_id].append({target: getattr(row, target)})
            m2m_rows[field] = rows
        newer = None
        for record in records:
            if newer is not None:
                delta = newer.diff_against(
                    record, excluded_fields=m2m_fields, foreign_keys_are_objs=foreign_keys_are_objs
                )
                changes = list(delta.changes)
                for field in m2m_fields:
                    old, new = m2m_rows[field][record.history_id], m2m_rows[field][newer.history_id]
                    if old != new:
                        changes.append(ModelChange(field, old, new))
                changes.sort(key=lambda change: change.field)
                delta = ModelDelta(changes, [c.field for c in changes], record, newer)
                helper = self.get_historical_record_context_helper(request, newer)
                newer.history_delta_changes = helper.context_for_delta_changes(delta)
            newer = record


class MinaFilter(admin.SimpleListFilter):
    """"Mina" instead of a list of every handläggare: a city has thousands of users, and the
    admin's related-field filter would list them all on every page of the list."""

    title = "handläggare"
    parameter_name = "handlaggare"

    def lookups(self, request, model_admin):
        return [("mina", "Mina")]

    def queryset(self, request, queryset):
        if self.value() == "mina":
            return queryset.filter(handlaggare=request.user)
        return queryset


# A diarienummer in a search, "SKHLM 2024/12" or "2024/12": searched whole, not word by word.
DIARIENUMMERDEL = re.compile(r"(?:[^\W\d]+[ -])?\d{4}\s*/\s*\d+")
# A word of letters only: in a diarienummer ("SKHLM 2024/12") letters stand only in the prefix.
BOKSTAVER = re.compile(r"[^\W\d_]+")


class DiarienummerSokMixin:
    """A list of rows that belong to a case or a document, searched in the rows' own fields
    (`sok_egna`, contains, served by trigram indexes on PostgreSQL) or in their case's
    diarienummer. Each word must match; a term shaped like a diarienummer ("SKHLM 2024/12",
    "2024/12") is one word. The admin's own search ORs across the join to the ärende, which no
    index serves: 0.6–2.6 s a page at 200,000 ärenden. Here a word of letters is tested on the
    row's förvaltning (`nummer_villkor`); for any other term the cases whose number holds it are
    looked up first (a trigram index; for the rows of a case, `diarienummer_haller`'s parts: a
    year from its index, a running number from one of its own), and when they are few, as for a
    number, their rows' keys join the row's own conditions, which one BitmapOr of indexes
    answers. A part in thousands of numbers (the year "2019") is checked against the hashed set
    instead."""

    sok_egna = ()
    sok_via = "arende"  # the row's key to its case, or "tjansteutlatande" to its document
    forvaltning_via = None  # the row's lookup to its förvaltning, if not its case's (or document's)
    SOK_NYCKLAR = 500  # keys up to which they go into the query itself

    def get_search_results(self, request, queryset, search_term):
        search_term = search_term[:MAX_SOKTEXT].strip()  # as SafeInputAdminMixin does for the others
        if not search_term:
            return queryset, False
        bits = [*DIARIENUMMERDEL.findall(search_term), *smart_split(DIARIENUMMERDEL.sub(" ", search_term))]
        for bit in bits:
            if bit[0] in "\"'" and bit[-1] == bit[0]:
                bit = unescape_string_literal(bit)
            queryset = queryset.filter(self.egna_villkor(bit) | self.nummer_villkor(bit))
        return queryset, False

    def egna_villkor(self, bit):
        return Q(*[Q(**{f"{falt}__icontains": bit}) for falt in self.sok_egna], _connector=Q.OR)

    def nummer_villkor(self, bit):
        """The rows whose case's diarienummer holds `bit`. A word of letters can only stand in the
        prefix, so it names the förvaltningar whose prefix holds it (none, for most words) and each
        row is tested on its förvaltning: with a prefix in 15,000 numbers at 200,000 ärenden, a
        chef's document list took 130 ms against the hashed set of those cases, and takes 41 ms.
        Other terms are looked up in the cases' numbers, for a case's rows by the parts of
        `diarienummer_haller`."""
        if BOKSTAVER.fullmatch(bit):
            forvaltningar = list(Forvaltning.objects.filter(diarieprefix__icontains=bit).values_list("pk", flat=True))
            via = self.forvaltning_via or f"{self.sok_via}__forvaltning"
            return Q(**{f"{via}_id__in": forvaltningar})
        # A document's rows (sections, attestations) reach the case through their document: for
        # them the 25,000 cases of a year would first be turned into their documents, which
        # PostgreSQL did by reading every document (35 ms, twice a page), where testing each
        # row's case in the list's order found a page within a few thousand rows (25 ms).
        delar = diarienummer_haller(bit) if self.sok_via == "arende" else (Q(diarienummer__icontains=bit),)
        return Q(*[Q(**{f"{self.sok_via}_id__in": self.nycklar(villkor)}) for villkor in delar], _connector=Q.OR)

    def nycklar(self, villkor):
        """The keys of the cases (or their documents) that meet `villkor`: a list when there are
        at most SOK_NYCKLAR, else the query for them."""
        rader = Arende.objects.filter(villkor).order_by().values("pk")
        if self.sok_via == "tjansteutlatande":
            rader = Tjansteutlatande.objects.filter(arende__in=rader).order_by().values("pk")
        ids = [rad["pk"] for rad in rader[: self.SOK_NYCKLAR + 1]]
        return ids if len(ids) <= self.SOK_NYCKLAR else rader


# Lists of rows that belong to a document or a case, newest first: the primary key's index gives
# that order, where the models' own orderings (a section by its place in the mall, a skrivelse by
# its date) sort every row of the user's scope for a page: 1.5 million sections at 200,000 ärenden.
NYASTE_RADER = ("-pk",)


class ScopedAdminMixin:
    """Rows outside the user's scope do not exist for them: lists leave them out and their
    pages are a 404, as in the officers' views."""

    scope_path = None  # the lookup to the ärende; None where the queryset scopes itself (`scoped`)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_active and request.user.is_superuser:
            # The whole diarium: no `id IN (every id)` for the database to hash on every page.
            return qs
        if self.scope_path is None:
            return self.scoped(qs, request.user)  # not `id IN (every case's id)`
        return qs.filter(**{f"{self.scope_path}__in": Arende.objects.for_user(request.user).values("pk")})

    def scoped(self, qs, user):
        return qs.for_user(user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("Finns inte, eller ligger utanför dina ärenden.")
        return obj

    def _in_scope(self, request, object_id):
        # The history pages fall back to history rows of deleted objects, which would show
        # anything to anyone with a view permission: only superusers may read those.
        if not request.user.is_superuser:
            self.get_object(request, unquote(object_id))

    def history_view(self, request, object_id, extra_context=None):
        self._in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._in_scope(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """Pages that only show: what they list is written by the services, never here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VersionForm(forms.ModelForm):
    """Carries the version the user started from (a hidden field) and refuses a save made from
    an outdated one. The user's input stays in the form; the hidden version is moved up to the
    saved one, so saving once more after reading the message replaces the other change on purpose."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    versioned_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def content_changed(self):
        return any(f in self.versioned_fields for f in self.changed_data)

    def stale_message(self):
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.content_changed():
            expected = cleaned.get("expected_version")
            if expected != self.instance.version:
                self.data = self.data.copy()
                self.data[self.add_prefix("expected_version")] = self.instance.version
                raise ValidationError(self.stale_message(), code="stale")
        return cleaned


class ProfilInline(admin.StackedInline):
    model = Profil
    can_delete = False
    verbose_name_plural = "profil"


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(SafeInputAdminMixin, DjangoUserAdmin):
    inlines = [ProfilInline]
    list_display = ("username", "first_name", "last_name", "befattning", "is_staff")
    list_select_related = ("profil",)
    show_full_result_count = False

    @admin.display(description="befattning")
    def befattning(self, obj):
        profil = getattr(obj, "profil", None)
        return profil.befattning if profil else ""


@admin.register(Namnd)
class NamndAdmin(HistoryAdmin):
    search_fields = ("namn",)


@admin.register(Forvaltning)
class ForvaltningAdmin(HistoryAdmin):
    list_display = ("namn", "diarieprefix", "namnd", "chef")
    list_select_related = ("namnd", "chef")
    search_fields = ("namn", "diarieprefix")

    def get_readonly_fields(self, request, obj=None):
        # Its cases' numbers carry the prefix (and the searches rely on it, `nummer_villkor`):
        # once it has cases, the prefix is theirs too.
        if obj and obj.pk and obj.arenden.exists():
            return ("diarieprefix",)
        return ()


@admin.register(Avdelning)
class AvdelningAdmin(HistoryAdmin):
    list_display = ("namn", "forvaltning", "chef")
    list_select_related = ("forvaltning", "chef")
    list_filter = ("forvaltning",)
    search_fields = ("namn",)


class MallSektionInline(admin.TabularInline):
    model = MallSektion
    extra = 0
    fields = ("ordning", "rubrik", "obligatorisk", "visar_atgarder", "nyckel", "vagledning")


@admin.register(Mall)
class MallAdmin(HistoryAdmin):
    list_display = ("namn", "aktiv")
    inlines = [MallSektionInline]


# Every uploaded PDF, whichever admin page it comes through, is checked like the officers' uploads.
PDF_UPLOAD = {**SafeInputAdminMixin.formfield_overrides, models.FileField: {"form_class": PdfUploadField}}


class SkrivelseInline(admin.StackedInline):
    model = Skrivelse
    extra = 0
    formfield_overrides = PDF_UPLOAD


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
    fields = ("sammantrade", "nummer", "beslut", "beslutad", "utdrag")
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


@admin.register(Arende)
class ArendeAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ("diarienummer", "arendemening", "status", "handlaggare", "avdelning", "registrerad")
    list_select_related = ("handlaggare", "avdelning")
    list_filter = ("status", "forvaltning", "avdelning", MinaFilter, "registrerad")
    search_fields = ("diarienummer", "arendemening")
    readonly_fields = ("status",)
    filter_horizontal = ("citerade",)
    autocomplete_fields = ("handlaggare",)
    date_hierarchy = None
    inlines = [SkrivelseInline, TjansteutlatandeLinkInline]
    show_full_result_count = False
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("diarienummer", "forvaltning", "arendemening", "status")}),
        ("Ansvar", {"fields": ("handlaggare", "avdelning", "registrerad")}),
        ("Hänvisningar", {"fields": ("citerade", "citerade_utanfor_diariet")}),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets
        return (*self.fieldsets, ("Händelser", {"fields": ("tidslinje",)}))
    def get_inlines(self, request, obj):
        # The decisions show once there are any (a protokollsutdrag per decided item).
        if obj and obj.beslutspunkter.filter(beslutad__isnull=False).exists():
            return [*self.inlines, BeslutInline]
        return self.inlines

    def get_readonly_fields(self, request, obj=None):
        # A number, once given, is the case's identity in the diarium.
        if obj and obj.pk:
            return ("diarienummer", "forvaltning", "status", "tidslinje")
        return self.readonly_fields

    @admin.display(description="tidslinje")
    def tidslinje(self, obj):
        rader = [
            (
                timezone.localtime(h["tid"]).strftime("%Y-%m-%d %H:%M"),
                h["handelse"],
                (h["anvandare"].get_full_name() or h["anvandare"].get_username()) if h["anvandare"] else "–",
                h["detalj"],
            )
            for h in services.tidslinje(obj)
        ]
        if not rader:
            return "Inga händelser."
        return format_html(
            '<table class="tidslinje"><thead><tr><th>Tid</th><th>Händelse</th><th>Vem</th><th>Detalj</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rader),
        )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "diarienummer" in form.base_fields:
            form.base_fields["diarienummer"].required = False
        return form

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        services.registrera_arende(arende=obj, user=request.user)
        messages.info(request, f"Ärendet fick diarienummer {obj.diarienummer}.")


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


class SektionInline(admin.StackedInline):
    model = Sektion
    form = SektionForm
    extra = 0
    fields = ("mall_sektion", "text", "avslutning", "expected_version")
    readonly_fields = ("mall_sektion",)
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # a document's sections come from its mall


class TjansteutlatandeAtgardInline(SafeAutocompleteMixin, admin.TabularInline):
    model = TjansteutlatandeAtgard
    extra = 0
    fields = ("ordning", "atgard")
    autocomplete_fields = ("atgard",)


class BilagaInline(admin.TabularInline):
    model = Bilaga
    extra = 0
    fields = ("ordning", "titel", "fil", "text")
    formfield_overrides = PDF_UPLOAD


class UndertecknareInline(admin.TabularInline):
    model = Undertecknare
    extra = 0
    fields = ("ordning", "anvandare", "namn", "befattning")


class AttesteringInline(admin.TabularInline):
    model = Attestering
    extra = 0
    fields = ("omgang", "ordning", "attestant", "namn", "befattning", "attesterad", "innehall_hash", "makulerad")
    readonly_fields = fields
    can_delete = False

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


class SkickaForm(forms.Form):
    forsta = forms.ModelChoiceField(User.objects.none(), label="Första attestant (avdelningschef)")
    andra = forms.ModelChoiceField(
        User.objects.none(), label="Andra attestant (förvaltningschef)", required=False
    )

    def __init__(self, *args, attestanter, **kwargs):
        super().__init__(*args, **kwargs)
        qs = (
            User.objects.filter(is_active=True, groups__permissions__codename="attestera_tjansteutlatande")
            .distinct()
            .order_by("last_name", "first_name")
        )
        for name in ("forsta", "andra"):
            self.fields[name].queryset = qs
            self.fields[name].label_from_instance = lambda u: u.get_full_name() or u.get_username()
        if attestanter:
            self.fields["forsta"].initial = attestanter[0].pk
        if len(attestanter) > 1:
            self.fields["andra"].initial = attestanter[1].pk

    @property
    def attestanter(self):
        return [u for u in (self.cleaned_data["forsta"], self.cleaned_data.get("andra")) if u]


def _deleted(form):
    return form.cleaned_data.get("DELETE", False) if hasattr(form, "cleaned_data") else False


def _rader(snapshot):
    """The document as lines of plain text, for comparing two versions."""
    rader = [snapshot["titel"], snapshot["undertitel"]]
    for sektion in snapshot["sektioner"]:
        rader += ["", f"## {sektion['rubrik']}"]
        rader += [r for r in html_to_text(sektion["text"]).splitlines() if r.strip()]
        if sektion["visar_atgarder"]:
            for grupp in snapshot["atgardsgrupper"]:
                rader += ["".join(grupp["inledning"])]
                rader += [f"• {p['titel']}: {' '.join(p['stycken'])}" for p in grupp["punkter"]]
        rader += [r for r in html_to_text(sektion["avslutning"]).splitlines() if r.strip()]
    rader += ["", "## Undertecknare"] + [f"{u['namn']}, {u['befattning']}" for u in snapshot["undertecknare"]]
    rader += ["", "## Bilagor"] + [f"{b['nummer']}. {b['titel']}" for b in snapshot["bilagor"]]
    return rader


SKICKADE = (
    TjansteutlatandeStatus.TILL_ATTEST,
    TjansteutlatandeStatus.ATTESTERAD,
    TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA,
    TjansteutlatandeStatus.BESLUTAD,
)


@admin.register(Tjansteutlatande)
class TjansteutlatandeAdmin(DiarienummerSokMixin, ScopedAdminMixin, HistoryAdmin):
    """Officers edit here through the services; chefs read, compare and attest here."""

    form = TjansteutlatandeForm
    list_display = ("__str__", "status", "handlaggare", "namnd", "sammantradesdatum", "andrad")
    list_select_related = ("arende", "handlaggare", "namnd")
    list_filter = ("status", "namnd", "sammantradesdatum", MinaFilter)
    search_fields = ("arende__diarienummer", "titel", "undertitel")
    readonly_fields = ("status", "version", "forhandsvisning", "andringar", "aterremiss_kommentar")
    autocomplete_fields = ("arende", "handlaggare")
    inlines = [SektionInline, TjansteutlatandeAtgardInline, BilagaInline, UndertecknareInline, AttesteringInline]
    show_full_result_count = False
    list_per_page = 50
    actions = ["skicka_valda_for_attest", "ladda_ned_pdf"]
    change_form_template = "admin/arenden/tjansteutlatande/change_form.html"
    list_defer = ("innehall",)
    sok_egna = ("titel", "undertitel")  # and the case's diarienummer (DiarienummerSokMixin)
    forvaltning_via = "forvaltning"  # a document carries its case's förvaltning
    add_fieldsets = ((None, {"fields": ("arende", "mall", "titel", "undertitel", "namnd", "sammantradesdatum")}),)

    def scoped(self, qs, user):
        return qs.for_user_in_list(user)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return (
            (None, {"fields": ("arende", "mall", "status", "version", "expected_version")}),
            ("Sidhuvud", {"fields": ("handlaggare", "telefon", "namnd", "sammantradesdatum", "titel", "undertitel")}),
            ("Granskning", {"fields": ("aterremiss_kommentar", "forhandsvisning", "andringar")}),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The ärende and the mall are the document's identity once it exists.
        return (*self.readonly_fields, "arende", "mall")

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj else []

    def has_change_permission(self, request, obj=None):
        # On the agenda or decided, the document belongs to the meeting: nobody edits it here.
        if obj is not None and obj.status in (
            TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA, TjansteutlatandeStatus.BESLUTAD
        ):
            return False
        return super().has_change_permission(request, obj)

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
            services.uppdatera_tjansteutlatande(
                tjansteutlatande=obj, data=data, expected_version=form.cleaned_data["expected_version"],
                user=request.user,
            )

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change):
        tu, user = form.instance, request.user
        # What the admin's change message reads; the services did the saving.
        formset.new_objects = [f.instance for f in formset.extra_forms if f.has_changed() and not _deleted(f)]
        formset.changed_objects = [
            (f.instance, f.changed_data) for f in formset.initial_forms if f.has_changed() and not _deleted(f)
        ]
        formset.deleted_objects = [f.instance for f in formset.initial_forms if _deleted(f)]
        if formset.model is Sektion:
            for f in formset.forms:
                if f.instance.pk and f.content_changed():
                    services.spara_sektion(
                        sektion=f.instance, text=f.cleaned_data["text"], avslutning=f.cleaned_data["avslutning"],
                        expected_version=f.cleaned_data["expected_version"], user=user,
                    )
        elif formset.model is TjansteutlatandeAtgard:
            self._save_atgarder(tu, formset, user)
        elif formset.model in (Bilaga, Undertecknare):
            for f in formset.deleted_forms:
                if f.instance.pk:
                    services.spara_dokumentdel(tjansteutlatande=tu, obj=f.instance, user=user, ta_bort=True)
            for f in formset.forms:
                if f not in formset.deleted_forms and f.has_changed():
                    services.spara_dokumentdel(tjansteutlatande=tu, obj=f.instance, user=user)

    def _save_atgarder(self, tu, formset, user):
        for f in formset.initial_forms:
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

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.ConflictError:
            # Someone saved between our form check and the locked write; everything rolled back.
            # Render again: the form check now sees the newer version and keeps the user's input.
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.WorkflowError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect(request.get_full_path())

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                kan_attestera=obj.can_be_attested_by(request.user),
                kan_skicka=self._kan_skicka(request, obj),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- review: preview and difference ---------------------------------------------------

    def _innehall(self, obj):
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
            tidigare = versioner[1] if len(versioner) > 1 else None
        else:
            ny, ny_namn = build_snapshot(obj), "Nuvarande utkast"
            tidigare = versioner[0] if versioner else None
        if tidigare is None:
            return "Dokumentet har inte skickats för attest tidigare."
        rad, gammal = tidigare
        gammal_namn = f"Skickad för attest {timezone.localtime(rad.history_date):%Y-%m-%d %H:%M}"
        fore, efter = _rader(gammal), _rader(ny)
        if fore == efter:
            return f"Inga ändringar i texten sedan versionen {gammal_namn.lower()}."
        tabell = difflib.HtmlDiff(wrapcolumn=80).make_table(fore, efter, gammal_namn, ny_namn, context=True, numlines=1)
        return mark_safe(tabell)  # noqa: S308 - difflib escapes the text it compares

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

    def _bekrafta(self, request, obj, *, rubrik, text, knapp, kommentar=None, form=None):
        context = {
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

    def attestera_view(self, request, object_id):
        obj = self._hamta_for_attest(request, object_id)
        hinder = obj.attest_hinder(request.user)
        if hinder:
            self.message_user(request, hinder, messages.ERROR)
            return redirect(self._change_url(obj))
        if request.method == "POST":
            try:
                services.attestera(tjansteutlatande=obj, user=request.user)
            except services.WorkflowError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return redirect(self._change_url(obj))
            slut = " Dokumentet är nu attesterat." if obj.is_attested else " Nästa attestant har fått det."
            self.message_user(request, f"Du har attesterat ”{obj}”.{slut}", messages.SUCCESS)
            return redirect(reverse("admin:arenden_attestko_changelist"))
        return self._bekrafta(
            request, obj, rubrik=f"Attestera {obj}", knapp="Attestera",
            text=f"Du godkänner innehållet som skickades för attest (kontrollsumma {obj.innehall_hash[:16]}).",
        )

    def aterremittera_view(self, request, object_id):
        obj = self._hamta_for_attest(request, object_id)
        hinder = obj.attest_hinder(request.user)
        if hinder:
            self.message_user(request, hinder.replace("attestera", "återremittera"), messages.ERROR)
            return redirect(self._change_url(obj))
        kommentar = request.POST.get("kommentar", "")
        if request.method == "POST":
            try:
                services.aterremittera(tjansteutlatande=obj, user=request.user, kommentar=kommentar)
            except services.WorkflowError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request, f"”{obj}” är återremitterat till {obj.handlaggare.get_full_name()}.", messages.SUCCESS
                )
                return redirect(reverse("admin:arenden_attestko_changelist"))
        return self._bekrafta(
            request, obj, rubrik=f"Återremittera {obj}", knapp="Återremittera", kommentar=kommentar,
            text="Dokumentet går tillbaka till handläggaren som utkast. Skriv vad som behöver ändras.",
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
        form = SkickaForm(request.POST or None, attestanter=services.standard_attestanter(obj))
        if request.method == "POST" and form.is_valid():
            try:
                services.skicka_for_attest(tjansteutlatande=obj, user=request.user, attestanter=form.attestanter)
            except services.WorkflowError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                namn = " → ".join(u.get_full_name() or u.get_username() for u in form.attestanter)
                self.message_user(request, f"”{obj}” är skickat för attest till {namn}.", messages.SUCCESS)
                return redirect(self._change_url(obj))
        saknade = services.saknade_sektioner(obj)
        text = "Innehållet fryses när du skickar; en ändring efteråt makulerar attesten."
        if saknade:
            text += f" Obligatoriska sektioner som är tomma: {', '.join(saknade)}."
        return self._bekrafta(request, obj, rubrik=f"Skicka {obj} för attest", knapp="Skicka för attest",
                              text=text, form=form)

    @admin.action(description="Skicka valda för attest (avdelningschef, sedan förvaltningschef)",
                  permissions=["skicka"])
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
        return user.is_active and "arenden.attestera_tjansteutlatande" in user.get_all_permissions()
    if not hasattr(request, "_may_attest"):
        request._may_attest = may_attest(user)
    return request._may_attest


@admin.register(AttestKo)
class AttestKoAdmin(SafeInputAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """A chef's queue: the documents whose next step in the attest chain is theirs."""

    list_display = ("dokument", "status", "handlaggare", "sammantradesdatum", "andrad")
    list_display_links = None
    list_select_related = ("arende", "handlaggare")
    list_defer = ("innehall",)
    list_per_page = 50
    show_full_result_count = False
    actions = None

    def get_queryset(self, request):
        # The queue's ids first, as values: as a subquery PostgreSQL guessed a queue of 3 rows
        # (its test is a subquery per document) and joined every user to each of the 600 it had
        # at 200,000 ärenden, work that grows with the city's users.
        ko = Tjansteutlatande.objects.for_user(request.user).awaiting_attest_by(request.user)
        return super().get_queryset(request).filter(pk__in=list(ko.values_list("pk", flat=True)))

    @admin.display(description="tjänsteutlåtande")
    def dokument(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:arenden_tjansteutlatande_change", args=[obj.pk]), obj)

    def has_module_permission(self, request):
        return _may_attest(request)

    def has_view_permission(self, request, obj=None):
        return _may_attest(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect(reverse("admin:arenden_tjansteutlatande_change", args=[object_id]))


@admin.register(Skrivelse)
class SkrivelseAdmin(DiarienummerSokMixin, ScopedAdminMixin, HistoryAdmin):
    ordering = NYASTE_RADER
    scope_path = "arende"
    list_display = ("titel", "arende", "forfattare", "beredning_datum")
    list_select_related = ("arende",)
    list_defer = ("text",)
    list_per_page = 50
    search_fields = ("titel", "forfattare", "arende__diarienummer")
    sok_egna = ("titel", "forfattare")
    autocomplete_fields = ("arende",)
    show_full_result_count = False
    formfield_overrides = PDF_UPLOAD


@admin.register(Attestering)
class AttesteringAdmin(DiarienummerSokMixin, ReadOnlyAdminMixin, ScopedAdminMixin, HistoryAdmin):
    """Attestations are written only by the services: the admin shows them."""

    ordering = NYASTE_RADER
    scope_path = "tjansteutlatande__arende"
    list_display = ("tjansteutlatande", "ordning", "namn", "befattning", "attesterad", "makulerad")
    list_select_related = ("tjansteutlatande__arende",)
    list_defer = ("tjansteutlatande__innehall",)
    list_per_page = 50
    list_filter = ("attesterad",)
    search_fields = ("namn", "tjansteutlatande__arende__diarienummer")
    sok_egna, sok_via = ("namn",), "tjansteutlatande"
    show_full_result_count = False


@admin.register(Sektion)
class SektionAdmin(DiarienummerSokMixin, ReadOnlyAdminMixin, ScopedAdminMixin, HistoryAdmin):
    """Each section's own page shows its history: who changed which words, and when. Texts are
    edited on the document's page, where the version check and the attest rules apply."""

    ordering = NYASTE_RADER
    scope_path = "tjansteutlatande__arende"
    list_display = ("__str__", "tjansteutlatande", "version")
    list_select_related = ("mall_sektion", "tjansteutlatande__arende")
    list_defer = ("text", "avslutning", "tjansteutlatande__innehall")
    list_per_page = 50
    search_fields = ("tjansteutlatande__arende__diarienummer", "mall_sektion__rubrik")
    show_full_result_count = False
    sok_via = "tjansteutlatande"

    def egna_villkor(self, bit):
        # The mall's headings are a handful of rows: their ids, so that the section's own key answers.
        rubriker = MallSektion.objects.filter(rubrik__icontains=bit).values_list("pk", flat=True)
        return Q(mall_sektion_id__in=list(rubriker))

# --- Sammanträden: the nämnd secretary's pages ---------------------------------------------------


class SammantradeExportForm(forms.Form):
    typ = forms.ChoiceField(choices=ExportTyp.choices)


class NyPunktForm(forms.Form):
    tjansteutlatande = forms.ModelChoiceField(
        Tjansteutlatande.objects.none(),
        required=False,
        label="Attesterat tjänsteutlåtande",
        empty_label="– informationspunkt utan dokument –",
    )
    titel = forms.CharField(required=False, max_length=300, label="Rubrik (för informationspunkt)")

    def __init__(self, *args, sammantrade, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tjansteutlatande"].queryset = (
            Tjansteutlatande.objects.filter(status=TjansteutlatandeStatus.ATTESTERAD, namnd=sammantrade.namnd)
            .select_related("arende")
            .order_by("arende__ar", "arende__lopnummer")
        )


class BeslutForm(forms.Form):
    beslut = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        label="Nämndens beslut",
        help_text="Förifyllt med förvaltningens förslag till beslut. Ändra om nämnden beslutade något annat.",
    )


class ForedragningspunktInline(admin.TabularInline):
    """The föredragningslista. Items change only through the services, by the buttons here."""

    model = Foredragningspunkt
    fk_name = "sammantrade"
    extra = 0
    can_delete = False
    fields = ("nummer", "arendet", "status", "beslut", "atgarder")
    readonly_fields = fields
    ordering = ("nummer",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return is_namndsekreterare(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tjansteutlatande__arende", "arende")

    @admin.display(description="ärende")
    def arendet(self, obj):
        if not obj.tjansteutlatande_id:
            return format_html("{} <em>(information)</em>", obj.titel)
        url = reverse("admin:arenden_tjansteutlatande_change", args=[obj.tjansteutlatande_id])
        return format_html('<a href="{}">{}</a><br>{}', url, obj.rubrik, obj.diarienummer)

    @admin.display(description="dokumentets status")
    def status(self, obj):
        return obj.tjansteutlatande.get_status_display() if obj.tjansteutlatande_id else "–"

    @admin.display(description="åtgärder")
    def atgarder(self, obj):
        if obj.pk is None:  # an item row of a refused form, never saved: nothing to act on yet
            return "–"
        if obj.is_decided:
            url = reverse("arenden:protokollsutdrag", args=[obj.pk])
            return format_html('<a href="{}">Protokollsutdrag</a>', url)

        # Buttons inside the meeting's change form: formaction posts them to the item's own
        # admin view (with the form's CSRF token), never to the change form itself.
        def knapp(namn, text, *args):
            return (reverse(f"admin:arenden_sammantrade_{namn}", args=[obj.sammantrade_id, obj.pk, *args]), text)

        knappar = [knapp("flytta", "▲ Upp", "upp"), knapp("flytta", "▼ Ned", "ned"), knapp("ta_bort", "Ta bort")]
        html = format_html_join(
            " ",
            '<button type="submit" class="button" formaction="{}" formmethod="post" formnovalidate>{}</button>',
            knappar,
        )
        beslut_url = reverse("admin:arenden_sammantrade_beslut", args=[obj.sammantrade_id, obj.pk])
        return format_html('{} <a class="button" href="{}">Registrera beslut</a>', html, beslut_url)


@admin.register(Sammantrade)
class SammantradeAdmin(HistoryAdmin):
    list_display = ("__str__", "datum", "tid", "plats")
    list_select_related = ("namnd",)
    list_filter = ("namnd",)
    date_hierarchy = "datum"
    inlines = [ForedragningspunktInline]
    show_full_result_count = False
    change_form_template = "admin/arenden/sammantrade/change_form.html"

    # The meetings are the nämnd secretaries' own: the role decides, not model permissions.
    def has_module_permission(self, request):
        return is_namndsekreterare(request.user)

    def has_view_permission(self, request, obj=None):
        return is_namndsekreterare(request.user)

    def has_add_permission(self, request):
        return is_namndsekreterare(request.user)

    def has_change_permission(self, request, obj=None):
        return is_namndsekreterare(request.user)

    def has_delete_permission(self, request, obj=None):
        # A meeting with items would leave their documents stranded on a list that is gone.
        return is_namndsekreterare(request.user) and not (obj and obj.punkter.exists())

    def get_readonly_fields(self, request, obj=None):
        # The documents on the list carry the meeting's date in their header.
        if obj and obj.punkter.exists():
            return ("namnd", "datum")
        return ()

    def get_urls(self):
        def view(fn, post_only=False):
            return self.admin_site.admin_view(require_POST(fn) if post_only else fn)

        punkt = "<int:pk>/punkt/<int:punkt_pk>"
        return [
            path("<int:pk>/lagg-till/", view(self.lagg_till_view, True), name="arenden_sammantrade_lagg_till"),
            path(f"{punkt}/flytta/<str:riktning>/", view(self.flytta_view, True), name="arenden_sammantrade_flytta"),
            path(f"{punkt}/ta-bort/", view(self.ta_bort_view, True), name="arenden_sammantrade_ta_bort"),
            path(f"{punkt}/beslut/", view(self.beslut_view), name="arenden_sammantrade_beslut"),
            path("<int:pk>/ordna/", view(self.ordna_view, True), name="arenden_sammantrade_ordna"),
            path(
                "<int:pk>/foredragningslista.pdf",
                view(self.foredragningslista_view),
                name="arenden_sammantrade_foredragningslista",
            ),
            path("<int:pk>/export/", view(self.export_view, True), name="arenden_sammantrade_export"),
            path("export/<int:export_pk>/", view(self.export_status_view), name="arenden_sammantrade_export_status"),
            path(
                "export/<int:export_pk>/ladda-ner/",
                view(self.export_ladda_ner_view),
                name="arenden_sammantrade_export_ladda_ner",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        mote = self.get_object(request, object_id)
        if mote is not None and is_namndsekreterare(request.user):
            extra_context["ny_punkt_form"] = NyPunktForm(sammantrade=mote)
            extra_context["exporter"] = list(mote.exporter.select_related("bestalld_av")[:5])
            extra_context["export_typer"] = ExportTyp.choices
        return super().change_view(request, object_id, form_url, extra_context)

    # The secretary's actions: each checks the role, calls one service and reports the outcome.

    def _mote(self, request, pk):
        if not is_namndsekreterare(request.user):
            raise PermissionDenied
        return get_object_or_404(Sammantrade.objects.select_related("namnd"), pk=pk)

    def _punkt(self, mote, punkt_pk):
        punkter = Foredragningspunkt.objects.select_related("sammantrade")
        return get_object_or_404(punkter, pk=punkt_pk, sammantrade=mote)

    def _tillbaka(self, mote):
        return redirect("admin:arenden_sammantrade_change", mote.pk)

    def _utfor(self, request, fn, ok):
        try:
            fn()
        except services.WorkflowError as exc:
            messages.error(request, str(exc))
            return False
        messages.success(request, ok)
        return True

    def lagg_till_view(self, request, pk):
        mote = self._mote(request, pk)
        form = NyPunktForm(request.POST, sammantrade=mote)
        if not form.is_valid():
            messages.error(request, "Det valda tjänsteutlåtandet kan inte sättas på listan: det är inte attesterat.")
            return self._tillbaka(mote)
        data = form.cleaned_data
        self._utfor(
            request,
            lambda: services.satt_pa_foredragningslista(
                sammantrade=mote, tjansteutlatande=data["tjansteutlatande"], titel=data["titel"], user=request.user
            ),
            "Punkten är tillagd sist på föredragningslistan.",
        )
        return self._tillbaka(mote)

    def flytta_view(self, request, pk, punkt_pk, riktning):
        mote = self._mote(request, pk)
        punkt = self._punkt(mote, punkt_pk)
        ids = list(mote.punkter.order_by("nummer").values_list("pk", flat=True))
        i = ids.index(punkt.pk)
        j = i - 1 if riktning == "upp" else i + 1
        if 0 <= j < len(ids):
            ids[i], ids[j] = ids[j], ids[i]
            self._utfor(
                request,
                lambda: services.ordna_foredragningslista(sammantrade=mote, punkt_ids=ids, user=request.user),
                "Föredragningslistan är omnumrerad.",
            )
        return self._tillbaka(mote)

    def ordna_view(self, request, pk):
        mote = self._mote(request, pk)
        ids = request.POST.getlist("punkt")
        self._utfor(
            request,
            lambda: services.ordna_foredragningslista(sammantrade=mote, punkt_ids=ids, user=request.user),
            "Föredragningslistan är omnumrerad.",
        )
        return self._tillbaka(mote)

    def ta_bort_view(self, request, pk, punkt_pk):
        mote = self._mote(request, pk)
        punkt = self._punkt(mote, punkt_pk)
        self._utfor(
            request,
            lambda: services.ta_bort_fran_foredragningslista(punkt=punkt, user=request.user),
            f"Punkt {punkt.nummer} är borttagen och listan omnumrerad.",
        )
        return self._tillbaka(mote)

    def beslut_view(self, request, pk, punkt_pk):
        mote = self._mote(request, pk)
        punkt = self._punkt(mote, punkt_pk)
        if request.method == "POST":
            form = BeslutForm(request.POST)
            if form.is_valid() and self._utfor(
                request,
                lambda: services.registrera_beslut(punkt=punkt, beslut=form.cleaned_data["beslut"], user=request.user),
                f"Beslutet för punkt {punkt.nummer} är registrerat och protokollsutdraget skapat.",
            ):
                return self._tillbaka(mote)
        else:
            forslag = services.forslag_till_beslut(punkt.tjansteutlatande) if punkt.tjansteutlatande_id else ""
            form = BeslutForm(initial={"beslut": forslag or "Informationen antecknas."})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": mote,
            "punkt": punkt,
            "form": form,
            "title": f"Registrera beslut – punkt {punkt.nummer}",
        }
        return TemplateResponse(request, "admin/arenden/sammantrade/beslut.html", context)

    def foredragningslista_view(self, request, pk):
        from . import pdf

        mote = self._mote(request, pk)
        response = HttpResponse(pdf.render_foredragningslista(mote), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{pdf.foredragningslista_filename(mote)}"'
        return response

    def export_view(self, request, pk):
        mote = self._mote(request, pk)
        form = SammantradeExportForm(request.POST)
        if form.is_valid():
            self._utfor(
                request,
                lambda: services.bestall_export(sammantrade=mote, typ=form.cleaned_data["typ"], user=request.user),
                "Exporten är beställd. Du kan lämna sidan; den finns här när den är klar.",
            )
        return self._tillbaka(mote)

    def _export(self, request, export_pk):
        if not is_namndsekreterare(request.user):
            raise PermissionDenied
        return get_object_or_404(Sammantradesexport.objects.select_related("sammantrade"), pk=export_pk)

    def export_status_view(self, request, export_pk):
        export = self._export(request, export_pk)
        fil = reverse("admin:arenden_sammantrade_export_ladda_ner", args=[export.pk]) if export.fil else ""
        return JsonResponse(
            {
                "status": export.status,
                "status_text": export.get_status_display(),
                "klara": export.klara,
                "totalt": export.totalt,
                "fel": export.fel,
                "fil": fil,
            }
        )

    def export_ladda_ner_view(self, request, export_pk):
        export = self._export(request, export_pk)
        if not export.fil:
            raise Http404("Exporten är inte klar.")
        return FileResponse(export.fil.open("rb"), as_attachment=True, filename=export.fil.name.rsplit("/", 1)[-1])
