from django.contrib import admin

from arenden.admin.common import HistoryAdmin

from .models import Aktor, Atgard, Drogscen, Utfall


class UtfallInline(admin.TabularInline):
    model = Utfall
    extra = 0


@admin.register(Atgard)
class AtgardAdmin(HistoryAdmin):
    list_display = ("titel", "typ", "period_start", "period_slut", "drogscener_text", "andrad")
    list_filter = ("typ", "drogscener", "aktorer")
    search_fields = ("titel", "beskrivning")
    filter_horizontal = ("aktorer", "drogscener")
    # The diarium is searched for a case to cite, never listed whole on the page.
    autocomplete_fields = ("citerade_arenden",)
    inlines = [UtfallInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("drogscener")

    @admin.display(description="drogscener")
    def drogscener_text(self, obj):
        return ", ".join(d.namn for d in obj.drogscener.all())


@admin.register(Drogscen)
class DrogscenAdmin(HistoryAdmin):
    list_display = ("namn", "omrade", "fokusar")
    list_filter = ("fokusar",)
    search_fields = ("namn", "omrade", "beskrivning")


@admin.register(Aktor)
class AktorAdmin(HistoryAdmin):
    list_display = ("namn",)
    search_fields = ("namn",)
