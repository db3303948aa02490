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


class KvarIAtgarderMixin:
    """A place or an actor that an åtgärd names is protected, as a foreign key with PROTECT
    would be: deleting it would take it out of the åtgärd without a row in the åtgärd's history
    (the database removes the link itself). The admin lists the åtgärder and deletes nothing."""

    atgard_falt = None  # the åtgärd's many-to-many field that names these

    def get_deleted_objects(self, objs, request):
        deleted, count, perms_needed, protected = super().get_deleted_objects(objs, request)
        anvander = Atgard.objects.filter(**{f"{self.atgard_falt}__in": list(objs)}).distinct().order_by("titel")
        protected = [*protected, *(f"åtgärd: {atgard}" for atgard in anvander)]
        return deleted, count, perms_needed, protected


@admin.register(Drogscen)
class DrogscenAdmin(KvarIAtgarderMixin, HistoryAdmin):
    atgard_falt = "drogscener"
    list_display = ("namn", "omrade", "fokusar")
    list_filter = ("fokusar",)
    search_fields = ("namn", "omrade", "beskrivning")


@admin.register(Aktor)
class AktorAdmin(KvarIAtgarderMixin, HistoryAdmin):
    atgard_falt = "aktorer"
    list_display = ("namn",)
    search_fields = ("namn",)
