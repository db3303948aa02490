"""The organisation: users and their profiles, nämnder, förvaltningar, avdelningar, mallar."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from .. import services
from ..constants import Roll
from ..models import (
    Avdelning,
    Forvaltning,
    Mall,
    MallSektion,
    Namnd,
    Profil,
    display_name,
    synliga_personer,
)
from .common import (
    EnHistorikradMixin,
    HistoryAdmin,
    ObjektAdminMixin,
    ObjektForm,
    RadForm,
    RadFormSet,
    ScopedAdminMixin,
    chefsval,
    medarbetare_i_sokning,
    person_choice_label,
    person_column,
)

User = get_user_model()


class ProfilInline(admin.StackedInline):
    model = Profil
    form = RadForm
    formset = RadFormSet
    can_delete = False
    verbose_name_plural = "profil"
    fields = ("befattning", "telefon", "avdelning", "expected_version")


class AnvandareForm(ObjektForm, UserChangeForm):
    versioned_fields = (
        "username",
        "first_name",
        "last_name",
        "email",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
        "date_joined",
    )
    benamning = "användaren"


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(ObjektAdminMixin, ScopedAdminMixin, HistoryAdmin, DjangoUserAdmin):
    """A person's name, roles and profile (title, telephone, avdelning: what their documents and
    attestations print) carry the checksum of what the page showed, the profile as a row of its
    own: a save from an older page is refused, and only what the user changed is written. The
    "Historik" page shows who gave or took away which role or right, and when.

    Every role reads users (`auth.view_user`: the autocompletes of the people fields ask this
    admin), but only those who work in a förvaltning the reader works in, and themselves
    (`synliga_personer`): anyone else is left out of the list, and their page, history and old
    versions are a 404. A superuser sees everyone."""

    form = AnvandareForm
    fieldsets = (
        (None, {"fields": ("username", "password", "expected_version")}),
        *DjangoUserAdmin.fieldsets[1:],
    )
    # Written by each login: the page showed the one before, and saving it put that one back.
    readonly_fields = ("last_login",)
    inlines = [ProfilInline]
    list_display = ("username", "first_name", "last_name", "befattning", "is_staff")
    list_select_related = ("profil",)

    def scoped(self, qs, user):
        # The people-field autocompletes' own rule (`medarbetare_i_sokning`) lists fewer still.
        return qs.filter(synliga_personer(user))

    def get_search_results(self, request, queryset, search_term):
        # By username, first or last name (and e-mail): Django's search_fields for users.
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        return medarbetare_i_sokning(request, queryset), distinct

    def autocomplete_text(self, obj):
        # As the lists that pick a person name them (skarholmen/adminsite.py): the autocomplete's
        # results, and the value it shows chosen (the field's `label_from_instance`), alike.
        return person_choice_label(obj)

    @admin.display(description="befattning")
    def befattning(self, obj):
        profil = getattr(obj, "profil", None)
        return profil.befattning if profil else ""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        gammal = getattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None) is not None
        if obj is None or not (gammal or not self.has_change_permission(request, obj)):
            return fieldsets
        # An old version (history_form_view): the history keeps no password, and the one
        # simple_history would fill in is today's, with a reset link that leads nowhere from here.
        # A page the user may only read: the reset link leads to a refusal.
        return [(namn, {**val, "fields": [f for f in val["fields"] if f != "password"]}) for namn, val in fieldsets]

    def has_delete_permission(self, request, obj=None):
        """People are made inactive (the "Aktiv" box), never deleted: a deleted user would be
        taken out of every history row they wrote (who changed what), and out of the
        signatories, chefs and exports that name them, without a history row of their own."""
        return False


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(EnHistorikradMixin, HistoryAdmin, DjangoGroupAdmin):
    """The role groups. The code knows a role by its name (`Roll`): a role renamed here would
    take from its members, with no word said, what the code gives that role (a chef's view of
    the förvaltning's cases), so a role's name is read only. A group that someone is in is not
    deleted: its memberships would go without a row in any member's history (the database
    removes them, not a change of the person). Its "Historik" shows who gave or took which right
    from the role, and when."""

    ROLLNAMN = frozenset({Roll.HANDLAGGARE, *Roll.FORVALTNINGSROLLER})

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.name in self.ROLLNAMN:
            return (*super().get_readonly_fields(request, obj), "name")
        return super().get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        # No list action: each group is judged on its own page.
        if obj is None or obj.name in self.ROLLNAMN or obj.user_set.exists():
            return False
        return super().has_delete_permission(request, obj)


# The organisation is kept by superusers. Each page carries a checksum of its fields (ObjektForm)
# and saves only what the user changed (ObjektAdminMixin): a förvaltning's or an avdelning's chef
# is the attest chain of its documents, and a save from an older page would put back the chef
# someone had just replaced.


class NamndForm(ObjektForm):
    versioned_fields = ("namn",)
    benamning = "nämnden"


class ForvaltningForm(ObjektForm):
    versioned_fields = services.FORVALTNING_FALT
    benamning = "förvaltningen"


class AvdelningForm(ObjektForm):
    versioned_fields = services.AVDELNING_FALT
    benamning = "avdelningen"


class ChefsvalMixin:
    """The chef field lists those who may be made chef and the one the row has, named
    "(avslutat konto)" once they have left (`chefsval`): the list no longer offers someone the save
    would refuse, and a row whose chef has left still opens and saves with them."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "chef" in form.base_fields:
            chefsval(form.base_fields["chef"], behall=obj.chef_id if obj else None)
        return form


@admin.register(Namnd)
class NamndAdmin(ObjektAdminMixin, HistoryAdmin):
    form = NamndForm
    search_fields = ("namn",)


@admin.register(Forvaltning)
class ForvaltningAdmin(ChefsvalMixin, ObjektAdminMixin, HistoryAdmin):
    form = ForvaltningForm
    list_display = ("namn", "diarieprefix", "namnd", "chef_namn")
    list_select_related = ("namnd", "chef")
    search_fields = ("namn", "diarieprefix")
    chef_namn = person_column("chef", "chef")

    def andra(self, request, obj, form, *, falt, expected_version):
        services.andra_forvaltning(forvaltning=obj, falt=falt, user=request.user, expected_version=expected_version)

    def get_readonly_fields(self, request, obj=None):
        # Its cases' numbers carry the prefix (and the searches rely on it, `nummer_villkor`):
        # once it has cases, the prefix is theirs too.
        readonly = super().get_readonly_fields(request, obj)
        if obj and obj.pk and obj.arenden.exists():
            return (*readonly, "diarieprefix")
        return readonly


@admin.register(Avdelning)
class AvdelningAdmin(ChefsvalMixin, ObjektAdminMixin, HistoryAdmin):
    form = AvdelningForm
    list_display = ("namn", "forvaltning", "chef_namn")
    list_select_related = ("forvaltning", "chef")
    list_filter = ("forvaltning",)
    search_fields = ("namn",)
    chef_namn = person_column("chef", "chef")

    def andra(self, request, obj, form, *, falt, expected_version):
        services.andra_avdelning(avdelning=obj, falt=falt, user=request.user, expected_version=expected_version)

    def get_deleted_objects(self, objs, request):
        """An avdelning that someone works in is protected, as a foreign key with PROTECT would
        be: the database would empty their profiles' avdelning in one UPDATE, with no row in their
        history, and take from them, unsaid, the förvaltning's cases the avdelning gave them. The
        page names them; each is moved on their own page first, which their history records."""
        deleted, count, perms_needed, protected = super().get_deleted_objects(objs, request)
        profiler = Profil.objects.filter(avdelning__in=list(objs)).select_related("user", "avdelning")
        protected = [
            *protected,
            *(f"medarbetare: {display_name(p.user)} ({p.avdelning})" for p in profiler.order_by("user__last_name")),
        ]
        return deleted, count, perms_needed, protected


class MallSektionInline(admin.TabularInline):
    model = MallSektion
    form = RadForm
    formset = RadFormSet
    extra = 0
    fields = ("ordning", "rubrik", "obligatorisk", "visar_atgarder", "nyckel", "vagledning", "expected_version")


class MallForm(ObjektForm):
    versioned_fields = services.MALL_FALT
    benamning = "mallen"


@admin.register(Mall)
class MallAdmin(ObjektAdminMixin, HistoryAdmin):
    """The mall's own fields carry the checksum of what the page showed (MallForm), as its
    headings do theirs (the rows' RadForm): a save from a page opened before someone else's is
    refused with the user's input kept, and only the fields the user changed are written."""

    form = MallForm
    list_display = ("namn", "aktiv")
    inlines = [MallSektionInline]

    def andra(self, request, obj, form, *, falt, expected_version):
        services.andra_mall(mall=obj, falt=falt, expected_version=expected_version, user=request.user)
