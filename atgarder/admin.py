from django.contrib import admin

from arenden.admin.common import (
    HistoryAdmin,
    ObjektAdminMixin,
    ObjektForm,
    RadForm,
    RadFormSet,
    arenden_som_syns,
)

from . import services
from .models import Aktor, Atgard, Drogscen, Utfall


class AtgardForm(ObjektForm):
    versioned_fields = services.ATGARD_FALT
    benamning = "åtgärden"


class UtfallInline(admin.TabularInline):
    model = Utfall
    form = RadForm
    formset = RadFormSet
    extra = 0
    fields = ("antal", "enhet", "ar", "expected_version")


@admin.register(Atgard)
class AtgardAdmin(ObjektAdminMixin, HistoryAdmin):
    """Officers and chefs edit the register here. Documents print an åtgärd as it stands until
    they are sent for attest: a save from a page opened before someone else's is refused, not
    written over theirs (AtgardForm, the rows' RadForm)."""

    form = AtgardForm
    list_display = ("titel", "typ", "period_start", "period_slut", "drogscener_text", "andrad")
    list_filter = ("typ", "drogscener", "aktorer")
    search_fields = ("titel", "beskrivning")
    filter_horizontal = ("aktorer", "drogscener")
    # The diarium is searched for a case to cite, never listed whole on the page.
    autocomplete_fields = ("citerade_arenden",)
    inlines = [UtfallInline]
    citerade_arenden_som_syns = arenden_som_syns("citerade_arenden", "citerade ärenden")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("drogscener")

    def andra(self, request, obj, form, *, falt, expected_version):
        # The many-to-many fields follow in `save_related`, under the row's lock the service took.
        services.andra_atgard(atgard=obj, falt=falt, expected_version=expected_version, user=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Utfall:
            return super().save_formset(request, form, formset, change)
        # What each row showed, read before the rows are written (the version check keeps it what is stored).
        visat = {
            f: str(Utfall(**{n: f.initial.get(n) for n in UtfallInline.fields[:3]})) for f in formset.initial_forms
        }
        super().save_formset(request, form, formset, change)
        andringar = []
        for f in formset.forms:
            if f.borttagen:
                continue  # deleted by someone else after the page was opened (RadForm)
            if f in visat and f in formset.deleted_forms:
                andringar.append(f"borttaget {visat[f]}")
            elif f in visat and f.has_changed():
                andringar.append(f"{visat[f]} → {f.instance}")
            elif f not in visat and f.has_changed() and f not in formset.deleted_forms:
                andringar.append(f"tillagt {f.instance}")
        services.registrera_utfall(atgard=form.instance, user=request.user, andringar=andringar)

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


class DrogscenForm(ObjektForm):
    versioned_fields = ("namn", "omrade", "beskrivning", "barnverksamheter", "fokusar")
    benamning = "drogscenen"


class AktorForm(ObjektForm):
    versioned_fields = ("namn",)
    benamning = "aktören"


@admin.register(Drogscen)
class DrogscenAdmin(ObjektAdminMixin, KvarIAtgarderMixin, HistoryAdmin):
    """Officers keep the register's places here, as the åtgärder: a save from a page opened
    before someone else's is refused, not written over theirs (DrogscenForm)."""

    form = DrogscenForm
    atgard_falt = "drogscener"
    list_display = ("namn", "omrade", "fokusar")
    list_filter = ("fokusar",)
    search_fields = ("namn", "omrade", "beskrivning")


@admin.register(Aktor)
class AktorAdmin(ObjektAdminMixin, KvarIAtgarderMixin, HistoryAdmin):
    form = AktorForm
    atgard_falt = "aktorer"
    list_display = ("namn",)
    search_fields = ("namn",)
