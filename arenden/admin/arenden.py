"""Ärenden and their skrivelser."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from .. import services
from ..models import (
    Arende,
    Foredragningspunkt,
    Skrivelse,
    Tjansteutlatande,
    display_name,
)
from ..tidslinje import tidslinje
from .common import (
    NYASTE_RADER,
    PDF_UPLOAD,
    DiarienummerSokMixin,
    HistoryAdmin,
    MinaFilter,
    ScopedAdminMixin,
    person_column,
)


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
    list_display = ("diarienummer", "arendemening", "status", "handlaggare_namn", "avdelning", "registrerad")
    list_select_related = ("handlaggare", "avdelning")
    list_filter = ("status", "forvaltning", "avdelning", MinaFilter, "registrerad")
    search_fields = ("diarienummer", "arendemening")
    readonly_fields = ("status",)
    filter_horizontal = ("citerade",)
    autocomplete_fields = ("handlaggare",)
    date_hierarchy = None
    handlaggare_namn = person_column("handlaggare", "handläggare")
    inlines = [SkrivelseInline, TjansteutlatandeLinkInline]
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
                display_name(h["anvandare"]) or "–",
                h["detalj"],
            )
            for h in tidslinje(obj)
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


@admin.register(Skrivelse)
class SkrivelseAdmin(DiarienummerSokMixin, ScopedAdminMixin, HistoryAdmin):
    ordering = NYASTE_RADER
    scope_path = "arende"
    list_display = ("titel", "arende", "forfattare", "beredning_datum")
    list_select_related = ("arende",)
    list_defer = ("text",)
    search_fields = ("titel", "forfattare", "arende__diarienummer")
    sok_egna = ("titel", "forfattare")
    autocomplete_fields = ("arende",)
    formfield_overrides = PDF_UPLOAD
