from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from . import pdf, services
from .models import (
    Arende,
    Attestering,
    Avdelning,
    Bilaga,
    Forvaltning,
    Mall,
    MallSektion,
    Namnd,
    Profil,
    Sektion,
    Skrivelse,
    Tjansteutlatande,
    TjansteutlatandeAtgard,
    Undertecknare,
)

User = get_user_model()


class ProfilInline(admin.StackedInline):
    model = Profil
    can_delete = False
    verbose_name_plural = "profil"


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [ProfilInline]
    list_display = ("username", "first_name", "last_name", "befattning", "is_staff")
    list_select_related = ("profil",)
    show_full_result_count = False

    @admin.display(description="befattning")
    def befattning(self, obj):
        profil = getattr(obj, "profil", None)
        return profil.befattning if profil else ""


@admin.register(Namnd)
class NamndAdmin(SimpleHistoryAdmin):
    search_fields = ("namn",)


@admin.register(Forvaltning)
class ForvaltningAdmin(SimpleHistoryAdmin):
    list_display = ("namn", "diarieprefix", "namnd", "chef")
    list_select_related = ("namnd", "chef")
    search_fields = ("namn", "diarieprefix")


@admin.register(Avdelning)
class AvdelningAdmin(SimpleHistoryAdmin):
    list_display = ("namn", "forvaltning", "chef")
    list_select_related = ("forvaltning", "chef")
    list_filter = ("forvaltning",)
    search_fields = ("namn",)


class MallSektionInline(admin.TabularInline):
    model = MallSektion
    extra = 0
    fields = ("ordning", "rubrik", "obligatorisk", "visar_atgarder", "nyckel", "vagledning")


@admin.register(Mall)
class MallAdmin(SimpleHistoryAdmin):
    list_display = ("namn", "aktiv")
    inlines = [MallSektionInline]


class SkrivelseInline(admin.StackedInline):
    model = Skrivelse
    extra = 0


class TjansteutlatandeLinkInline(admin.TabularInline):
    model = Tjansteutlatande
    extra = 0
    fields = ("titel", "status", "sammantradesdatum")
    readonly_fields = ("titel", "status", "sammantradesdatum")
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Arende)
class ArendeAdmin(SimpleHistoryAdmin):
    list_display = ("diarienummer", "arendemening", "status", "handlaggare", "avdelning", "registrerad")
    list_select_related = ("handlaggare", "avdelning")
    list_filter = ("status", "forvaltning", "avdelning", "handlaggare", "registrerad")
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

    def get_readonly_fields(self, request, obj=None):
        # A number, once given, is the case's identity in the diarium.
        if obj and obj.pk:
            return ("diarienummer", "forvaltning", "status")
        return self.readonly_fields

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


class SektionInline(admin.StackedInline):
    model = Sektion
    extra = 0
    fields = ("mall_sektion", "text", "avslutning")
    can_delete = False
    show_change_link = True


class TjansteutlatandeAtgardInline(admin.TabularInline):
    model = TjansteutlatandeAtgard
    extra = 0
    fields = ("ordning", "atgard")
    autocomplete_fields = ("atgard",)


class BilagaInline(admin.TabularInline):
    model = Bilaga
    extra = 0
    fields = ("ordning", "titel", "fil", "text")


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


@admin.register(Tjansteutlatande)
class TjansteutlatandeAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "status", "handlaggare", "namnd", "sammantradesdatum", "andrad")
    list_select_related = ("arende", "handlaggare", "namnd")
    list_filter = ("status", "namnd", "sammantradesdatum", "handlaggare")
    search_fields = ("arende__diarienummer", "titel", "undertitel")
    readonly_fields = ("status", "version")
    autocomplete_fields = ("arende", "handlaggare")
    inlines = [SektionInline, TjansteutlatandeAtgardInline, BilagaInline, UndertecknareInline, AttesteringInline]
    show_full_result_count = False
    list_per_page = 50
    actions = ["ladda_ned_pdf"]

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


@admin.register(Skrivelse)
class SkrivelseAdmin(SimpleHistoryAdmin):
    list_display = ("titel", "arende", "forfattare", "beredning_datum")
    list_select_related = ("arende",)
    search_fields = ("titel", "forfattare", "arende__diarienummer")
    autocomplete_fields = ("arende",)
    show_full_result_count = False


@admin.register(Attestering)
class AttesteringAdmin(SimpleHistoryAdmin):
    list_display = ("tjansteutlatande", "ordning", "namn", "befattning", "attesterad", "makulerad")
    list_select_related = ("tjansteutlatande__arende",)
    list_filter = ("attesterad",)
    search_fields = ("namn", "tjansteutlatande__arende__diarienummer")
    readonly_fields = (
        "tjansteutlatande", "omgang", "ordning", "attestant", "namn", "befattning",
        "attesterad", "innehall_hash", "makulerad",
    )
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(Sektion)
class SektionAdmin(SimpleHistoryAdmin):
    """Each section's own page shows its history: who changed which words, and when."""

    list_display = ("__str__", "tjansteutlatande", "version")
    list_select_related = ("mall_sektion", "tjansteutlatande__arende")
    search_fields = ("tjansteutlatande__arende__diarienummer", "mall_sektion__rubrik")
    readonly_fields = ("tjansteutlatande", "mall_sektion", "version")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
