"""What the förvaltning's admin lists and pages share: lists that count only as far as they
show, searches that indexes answer, the user's scope, history, and forms that check the version."""

import re
from collections import defaultdict

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR, ChangeList
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import ModelChoiceIterator
from django.http import Http404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME
from simple_history.models import ModelChange, ModelDelta
from simple_history.template_utils import HistoricalRecordContextHelper
from simple_history.utils import get_m2m_reverse_field_name

from skarholmen.historik import borja_historikrad, skriv_historikrad

from .. import services
from ..constants import Hinder
from ..forms import ManyIdsField, PdfUploadField, visa_sparat
from ..models import (
    Arende,
    Forvaltning,
    Tjansteutlatande,
    diarienummer_haller,
    display_name,
    display_name_from,
    dolda_arenden,
    forvaltningar_for,
    hinder_som_chef,
    hinder_som_medarbetare,
    skrivet_diarienummer,
    valbara_chefer,
    valbara_medarbetare,
)
from ..search import soktext
from ..urls_per_id import url_per_id


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


class OnlyRealIds:
    """Django's autocomplete widgets look up whatever value a refused form sent back, so an id
    like "1.5" (or one beyond 64 bits) made the re-rendered page fail; these show only real ids."""

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


class SafeAutocompleteSelect(OnlyRealIds, AutocompleteSelect):
    # A people field's förvaltning (`medarbetarval`): its autocomplete lists who works there.
    forvaltning = None

    def get_url(self):
        url = super().get_url()
        return url if self.forvaltning is None else f"{url}?{urlencode({'forvaltning': self.forvaltning})}"


class SafeAutocompleteSelectMultiple(OnlyRealIds, AutocompleteSelectMultiple):
    pass


class SafeAutocompleteMixin:
    """Fields that pick a row: an autocomplete shows only real ids, and a field that picks an
    ärende takes only the cases the user may see (`Arende.objects.for_user`), as its autocomplete
    lists them. The form's own choices were the whole diarium: a posted id of another
    förvaltning's case was saved (a skrivelse written into it), and a refused form showed that
    case's number and title."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        _scope_arenden(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        _scope_arenden(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _lasta_arendefalt(self, request, obj):
        """The fields picking ärenden that the page shows read only (the user may read the object,
        not change it), each with its display (`arenden_som_syns`): Django writes out every case
        such a field holds by number and ärendemening, another förvaltning's too."""
        if obj is None or self.has_change_permission(request, obj):
            return {}
        return {
            f.name: f"{f.name}{SOM_SYNS}"
            for f in self.model._meta.many_to_many
            if f.related_model is Arende and hasattr(self, f"{f.name}{SOM_SYNS}")
        }

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        byt = self._lasta_arendefalt(request, obj)
        if not byt:
            return fieldsets
        # Read here, where the user is known; the display only reads it off the object.
        obj.__dict__[SOM_SYNS] = {visning: _arenden_som_syns(obj, request.user, f) for f, visning in byt.items()}
        return _bytta_falt(fieldsets, byt)

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *self._lasta_arendefalt(request, obj).values())

    def save_related(self, request, form, formsets, change):
        # The cases outside the user's scope that a row already cites are neither shown in its
        # field nor posted back: they are kept, where saving the field would drop them unseen.
        if change and not request.user.is_superuser:
            synliga = Arende.objects.for_user(request.user).values("pk")
            for field in form.instance._meta.many_to_many:
                if field.related_model is Arende and field.name in form.cleaned_data:
                    dolda = getattr(form.instance, field.name).exclude(pk__in=synliga)
                    form.cleaned_data[field.name] = [*form.cleaned_data[field.name], *dolda]
        super().save_related(request, form, formsets, change)


# The name of a read-only page's display of a field picking ärenden: "citerade" + SOM_SYNS.
SOM_SYNS = "_som_syns"


def _arenden_som_syns(obj, user, falt):
    """The cases the field `falt` of `obj` holds, as a read-only page shows them: those in the
    user's scope by name, the others counted (`dolda_arenden`), as on the history pages."""
    alla = list(getattr(obj, falt).all())
    synliga = set(Arende.objects.for_user(user).filter(pk__in=[a.pk for a in alla]).values_list("pk", flat=True))
    namn = [str(a) for a in alla if a.pk in synliga]
    if len(alla) > len(namn):
        namn.append(dolda_arenden(len(alla) - len(namn)))
    return ", ".join(namn)


def arenden_som_syns(falt, description):
    """The display of the field `falt` on a page that shows it read only (SafeAutocompleteMixin):
    an admin whose model cites ärenden names it `<falt>_som_syns`."""

    @admin.display(description=description)
    def visning(self, obj):
        # The admin's empty value: a display's None is shown as "None".
        return obj.__dict__.get(SOM_SYNS, {}).get(f"{falt}{SOM_SYNS}") or self.get_empty_value_display()

    return visning


# The people fields whose person must work in the case's förvaltning (`kontrollera_medarbetare`),
# as (app, model, field): what their autocomplete names (`medarbetarval`, UserAdmin).
MEDARBETARFALT = {
    ("arenden", "arende", "handlaggare"),
    ("arenden", "tjansteutlatande", "handlaggare"),
    ("arenden", "undertecknare", "anvandare"),
}
# Those of them that must open the case, and so hold a role (`med_roll`).
HANDLAGGARFALT = {("arenden", "arende", "handlaggare"), ("arenden", "tjansteutlatande", "handlaggare")}
ANNAN_FORVALTNING = "Välj någon som arbetar i ärendets förvaltning (vars avdelning hör till den)."


def person_choice_label(user):
    """How the admin's lists and fields that pick a person name them: by name, as the rest of the
    system does (`display_name`), with the username in parentheses, which tells two people of the
    same name apart ("Anette Lind (anette)"); an account with no name by its username alone.
    Django names a user by the username only, so a chef picking a handläggare read login names."""
    namn = display_name_from(user.first_name, user.last_name, "")
    return f"{namn} ({user.get_username()})" if namn else user.get_username()


def med_avslutat_konto(namn, person):
    """`namn` of `person`, marked "(avslutat konto)" once their account is closed, as the lists
    that pick a person mark one a row still holds (`markera_behallna`): a chef reading who wrote
    a document learns that the handläggare has left, and cannot be asked to take it up."""
    if person is None or person.is_active:
        return namn
    return f"{namn} ({Hinder.AVSLUTAT_KONTO.label})"


def medarbetarval(field, request, *, forvaltning=None, behall=(), behover_roll=False):
    """Let a people field (MEDARBETARFALT) offer only those who may be chosen for it
    (`valbara_medarbetare`): active accounts of people who work in `forvaltning` (the case's; on a
    new case's page, where it is not chosen yet, in any förvaltning the user works in), and for a
    handläggare (`behover_roll`) with a role. The people in `behall` that it already holds stay
    choices, chosen before the rule or since moved, left or without a role, until someone changes
    the field; the list names why one may no longer be chosen (`markera_behallna`). Its autocomplete
    lists the same people (UserAdmin), each named as here (`person_choice_label`)."""
    field.label_from_instance = person_choice_label
    if forvaltning is not None:
        forvaltningar = [forvaltning]
    elif request.user.is_superuser:
        forvaltningar = Forvaltning.objects.values("pk")
    else:
        forvaltningar = forvaltningar_for(request.user)
    valbara = valbara_medarbetare(forvaltningar, behover_roll=behover_roll)
    behall = [pk for pk in behall if pk is not None]
    personer = valbara | valbara.model._default_manager.filter(pk__in=behall) if behall else valbara
    if behall and forvaltning is not None:
        # Asked when the list is drawn, for all those it holds at once (a row each, on a list of
        # signatories): who may still be chosen, most of them, has no hinder; only the others
        # are asked why, one by one.
        fria = []

        def hinder(person):
            if not fria:
                fria.append(set(valbara.filter(pk__in=behall).values_list("pk", flat=True)))
            if person.pk in fria[0]:
                return None
            return hinder_som_medarbetare(person, Forvaltning.objects.get(pk=forvaltning), behover_roll=behover_roll)

        markera_behallna(field, behall, hinder)
    field.queryset = personer.order_by("last_name", "first_name", "username")
    field.error_messages["invalid_choice"] = ANNAN_FORVALTNING
    widget = getattr(field.widget, "widget", field.widget)  # inside the admin's wrapper
    if isinstance(widget, SafeAutocompleteSelect):
        widget.forvaltning = forvaltning


class ListadeIterator(ModelChoiceIterator):
    """The choices a field lists: its `listade`, fewer than the queryset it takes a value from."""

    def __init__(self, field):
        super().__init__(field)
        self.queryset = field.listade


def las_valen_en_gang(field):
    """Let the choices of `field` be read once for every form of a page that draws it: each row
    of an inline draws the same select from its own copy of the field, and each copy read the
    queryset again (a query a row, and the labels' own, `markera_behallna`, each time). The copies
    share what the field holds besides its widget, so they share the rows read by the first."""
    lasta = []

    class Iterator(field.iterator):
        def __iter__(self):
            if not lasta:
                lasta.append(list(super().__iter__()))
            return iter(lasta[0])

        def __len__(self):
            return len(list(iter(self)))

        def __bool__(self):
            return len(self) > 0

    field.iterator = Iterator
    field.widget.choices = field.choices


def chefsval(field, *, behall=None):
    """Let a förvaltning's or an avdelning's chef field list those who may be made chef
    (`valbara_chefer`: active accounts), and the chef the row holds (`behall`, a user id), named
    "(avslutat konto)" once they have left (`markera_behallna`). The field still takes anyone: one it
    does not list, as on a page shown before their account was closed, is refused by the model's
    rule (`kontrollera_chef`) saying why, not as an unknown choice. Each is named by name and
    username (`person_choice_label`)."""
    field.label_from_instance = person_choice_label
    listade = valbara_chefer()
    if behall is not None:
        listade = listade | listade.model._default_manager.filter(pk=behall)
        markera_behallna(field, [behall], hinder_som_chef)
    field.listade = listade.order_by("last_name", "first_name", "username")
    field.iterator = ListadeIterator
    field.widget.choices = field.choices


def markera_behallna(field, behall, hinder):
    """Name each person of `behall` (ids of those a row holds in the field) who may no longer be
    chosen with why, by the rule that refuses them as a new choice (`hinder(person)`, a Hinder),
    after the name the field gives them: "Anette Lind (anette) (avslutat konto)". Asked once a
    person, when the list is drawn."""
    behall = {pk for pk in behall if pk is not None}
    namn = field.label_from_instance
    skal = {}

    def etikett(person):
        if person.pk not in behall:
            return namn(person)
        if person.pk not in skal:
            skal[person.pk] = hinder(person)
        return f"{namn(person)} ({skal[person.pk].label})" if skal[person.pk] else namn(person)

    field.label_from_instance = etikett


def medarbetare_i_sokning(request, queryset):
    """The users an autocomplete of a people field (MEDARBETARFALT) may list: those who may be
    chosen for it (`valbara_medarbetare`) in a förvaltning the user works in (any, for a superuser),
    in the field's own when its page names it (`medarbetarval`), sorted by surname. Other searches
    of users are left as they are, within the users the admin shows (`synliga_personer`)."""
    match = request.resolver_match
    kalla = tuple(request.GET.get(namn) for namn in ("app_label", "model_name", "field_name"))
    if match is None or match.url_name != "autocomplete" or kalla not in MEDARBETARFALT:
        return queryset
    forvaltningar = Forvaltning.objects.all() if request.user.is_superuser else forvaltningar_for(request.user)
    forvaltning = request.GET.get("forvaltning", "")
    if forvaltning:
        # As OnlyRealIds: a number SQLite can compare, or none of them.
        ok = forvaltning.isascii() and forvaltning.isdigit() and int(forvaltning) < 2**63
        forvaltningar = forvaltningar.filter(pk=int(forvaltning)) if ok else forvaltningar.none()
    personer = valbara_medarbetare(forvaltningar.values("pk"), behover_roll=kalla in HANDLAGGARFALT)
    # Named by name (`person_choice_label`), in the order of the lists by name (`medarbetarval`).
    return queryset.filter(pk__in=personer.values("pk")).order_by("last_name", "first_name", "username")


def _scope_arenden(db_field, request, kwargs):
    # A field picking a document is scoped as one picking its case: an old version's page of a
    # section or an attestation, which simple_history shows as a form, listed every document of
    # the city by number and title in its select.
    if db_field.related_model in (Arende, Tjansteutlatande) and "queryset" not in kwargs:
        kwargs["queryset"] = db_field.related_model.objects.for_user(request.user)


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


def person_column(field, description):
    """A list column that names the person in `field` as the rest of the system does
    (`display_name`), sorted by surname, where Django's own column shows the username; one who
    has left is marked so (`med_avslutat_konto`)."""

    @admin.display(description=description, ordering=f"{field}__last_name")
    def column(self, obj):
        person = getattr(obj, field)
        return med_avslutat_konto(display_name(person), person) or None  # None: the admin's empty value

    return column


# The name of a page's read-only display of a field picking a person: "handlaggare" + SOM_PERSON.
SOM_PERSON = "_som_person"


def _person_som_syns(falt, tom):
    @admin.display(description=falt.verbose_name)
    def visning(obj):
        person = getattr(obj, falt.name)
        # A display's None reads "None".
        return med_avslutat_konto(person_choice_label(person), person) if person else tom

    return visning


class PersonfaltMixin:
    """A field picking a person that a page shows read only (to someone who may read the object
    but not change it; an attestant, always) names them as the lists that pick one do
    (`person_choice_label`), where Django's display names the username. The admin, and each
    inline with this mixin, has a display `<falt>_som_person` for each field of its model that
    picks a user; the page shows it in place of each such field that Django draws read only, on
    the page and in its inlines, once it has decided which those are (`_visa_personer`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = get_user_model()
        self.personfalt = [f.name for f in self.model._meta.fields if f.many_to_one and f.related_model is user]
        for falt in self.personfalt:
            visning = _person_som_syns(self.model._meta.get_field(falt), self.get_empty_value_display())
            setattr(self, f"{falt}{SOM_PERSON}", visning)

    def render_change_form(self, request, context, *args, **kwargs):
        _visa_personer(context)
        return super().render_change_form(request, context, *args, **kwargs)

    def render_history_view(self, request, template, context, **kwargs):
        _visa_personer(context)  # an old version's page
        return super().render_history_view(request, template, context, **kwargs)


def _visa_personer(context):
    """Swap each person field that the page's form and inlines draw read only for its display."""
    adminform = context.get("adminform")
    if adminform is not None:
        _byt_lasta(adminform, adminform.model_admin, adminform.readonly_fields)
    for formset in context.get("inline_admin_formsets", ()):
        # An inline the user may not change is drawn read only whole (Django's InlineAdminFormSet),
        # unless they may add to it: its new rows share the fieldsets and pick their person, so
        # only its own read-only fields are swapped (its stored rows name the username then).
        kan_skriva = formset.has_change_permission or formset.has_add_permission
        lasta = formset.readonly_fields if kan_skriva else flatten_fieldsets(formset.fieldsets)
        _byt_lasta(formset, formset.opts, lasta)


def _byt_lasta(ritning, model_admin, lasta):
    byt = {falt: f"{falt}{SOM_PERSON}" for falt in getattr(model_admin, "personfalt", ()) if falt in lasta}
    if byt:
        ritning.fieldsets = _bytta_falt(ritning.fieldsets, byt)
        ritning.readonly_fields = [*ritning.readonly_fields, *byt.values()]  # as Django keeps them


def _bytta_falt(fieldsets, byt):
    """`fieldsets` with each field named in `byt` swapped for the one it names."""

    def falt(rad):
        return tuple(byt.get(f, f) for f in rad) if isinstance(rad, list | tuple) else byt.get(rad, rad)

    return [(namn, {**val, "fields": [falt(rad) for rad in val["fields"]]}) for namn, val in fieldsets]


class ListMixin:
    """The admin's lists: rows as RowLinkChangeList writes them, counted by BegransadPaginator."""

    list_defer = ()  # fields the list leaves out (RowLinkChangeList)
    paginator = BegransadPaginator
    list_per_page = 50
    # Django's "N in all" beside a filtered or searched list counts the whole table once more.
    show_full_result_count = False

    def get_changelist(self, request, **kwargs):
        return RowLinkChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        grans = self.sokgrans(request)
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page, grans=grans)

    def sokgrans(self, request):
        """How far a searched list counts (BegransadPaginator): to the end of the page shown (the
        ChangeList pages by list_per_page); None for a list without a search, which counts to GRANS."""
        if not request.GET.get(SEARCH_VAR, "").strip():
            return None
        try:
            sida = max(int(request.GET.get(PAGE_VAR, 1)), 1)
        except ValueError:
            sida = 1  # as the ChangeList reads it
        return min(sida * self.list_per_page, self.paginator.GRANS)


class SafeInputAdminMixin(ListCheckboxMixin, ListMixin, SafeAutocompleteMixin):
    """What a hostile or broken request can send to any admin page without a server error: a
    search text is read through `soktext`, ids in a multiple choice beyond the 64-bit range are
    refused as unknown (SQLite cannot compare them), and an autocomplete field shows a refused
    value without looking it up."""

    formfield_overrides = {models.ManyToManyField: {"form_class": ManyIdsField}}

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, soktext(search_term))


class SvenskaAndringar(HistoricalRecordContextHelper):
    """A history row's changes as the page shows them: a choice by its Swedish label, yes/no,
    dates as 2024-05-23 (times in Europe/Stockholm), a person by name and username
    (`person_choice_label`) and an empty value as "–".

    An ärende the row refers to (a case an åtgärd or another case cites, the case a skrivelse
    belongs to) is named only if its id is in `synliga`, the page's cases that the user may see;
    the others are counted as the officers' pages count them (`dolda_arenden`): their diarienummer
    and ärendemening are what the scope keeps from the user. `synliga` None names every case (a
    superuser's page); left out, none is named."""

    def __init__(self, *args, synliga=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.synliga = synliga

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if field.many_to_many:
            value = super().prepare_delta_change_value(change, value)
            if field.related_model is not Arende or self.synliga is None:
                return value
            namngivna = [arende for arende in value if arende.pk in self.synliga]
            dolda = len(value) - len(namngivna)
            if not dolda:
                return namngivna
            return [*namngivna, f"och {dolda_arenden(dolda)}" if namngivna else dolda_arenden(dolda)]
        if value is None or value == "":
            return "–"
        if field.related_model is Arende and self.synliga is not None and value.pk not in self.synliga:
            return dolda_arenden(1)
        if isinstance(value, get_user_model()):  # not simple_history's DeletedObject, which has no name
            return person_choice_label(value)
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        if isinstance(value, bool):
            return "Ja" if value else "Nej"
        if isinstance(field, models.DateTimeField):
            return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime("%Y-%m-%d %H:%M")
        if isinstance(field, models.DateField):
            return value.isoformat()
        return value


# What a related model's name (`__str__`) reads besides its own row, read with it rather than once
# per name: a permission is named with its model's content type.
NAMNET_LASER = {Permission: ("content_type",)}


def _versionens_m2m(obj, historisk):
    """An old version's many-to-many fields as that version had them: simple_history shows them
    as they are now (an åtgärd's cited cases, a user's roles). The version's own m2m history rows
    are put in the instance's prefetch cache, which both the form and the read-only display read."""
    cache = obj.__dict__.setdefault("_prefetched_objects_cache", {})
    for field in getattr(type(historisk), "_history_m2m_fields", ()):
        target = get_m2m_reverse_field_name(field)
        ids = getattr(historisk, field.name).values_list(f"{target}_id", flat=True)
        related = field.related_model
        cache[field.name] = related.objects.filter(pk__in=ids).select_related(*NAMNET_LASER.get(related, ()))


class HistoryAdmin(PersonfaltMixin, SafeInputAdminMixin, SimpleHistoryAdmin):
    """The history pages of every admin: 50 rows a page, newest first, in Swedish
    (templates/simple_history/object_history_list.html). A case at city scale gathers hundreds
    of history rows, and each row on a page is diffed against the next."""

    history_list_per_page = 50
    # Text that a service writes and no form edits, which simple_history's diff leaves out with
    # every field that is not editable: shown on the row that wrote it, not where it is cleared.
    historikens_texter = ()

    def history_view_title(self, request, obj):
        return f"Historik: {obj}"

    def get_historical_record_context_helper(self, request, historical_record, synliga=frozenset()):
        return SvenskaAndringar(self.model, historical_record, synliga=synliga)

    def revert_disabled(self, request, obj=None):
        return True

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # simple_history joins each row's author, then names the rows' tracked foreign keys to
        # join: for a model with none (a user, a role, a nämnd) that call, without names, dropped
        # the join, and the page read each row's author with a query of its own.
        return super().get_history_queryset(request, history_manager, pk_name, object_id).select_related("history_user")

    def render_history_view(self, request, template, context, **kwargs):
        if context.get("page_obj") is not None:  # the list of changes, not an old version's page
            context["lankade_personer"] = self.lankade_personer(request, self.historikens_rader(context))
        return super().render_history_view(request, template, context, **kwargs)

    def historikens_rader(self, context):
        """The history rows a page of changes shows, whose authors it names."""
        return context["page_obj"].object_list

    def lankade_personer(self, request, records):
        """The ids of the people who made the page's changes whose own page the user may open
        (UserAdmin, within its scope): the others are named without a link, which would lead to a
        404 (or a 403, for someone who may not read users). One query for the page, none for a
        superuser."""
        ids = {record.history_user_id for record in records if record.history_user_id is not None}
        personer = self.admin_site.get_model_admin(get_user_model())
        if not ids or not personer.has_view_or_change_permission(request):
            return set()
        if request.user.is_active and request.user.is_superuser:
            return ids
        return set(personer.get_queryset(request).filter(pk__in=ids).order_by().values_list("pk", flat=True))

    def get_form(self, request, obj=None, change=False, **kwargs):
        historisk = getattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None)
        if historisk is not None:  # an old version's page (history_form_view)
            _versionens_m2m(obj, historisk)
        return super().get_form(request, obj, change=change, **kwargs)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # An old version is shown, never saved back. simple_history saves whatever is posted to
        # this page, button or not: that would go round the services and what they guard (a
        # case's status, a meeting's date once it has items, a document's attest).
        if request.method != "GET":
            raise PermissionDenied
        request._gammal_version = True
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_fields(self, request, obj=None):
        # On an old version's page read only, in the order the fields have on the object's page.
        if getattr(request, "_gammal_version", False) and not self.has_change_permission(request, obj):
            request._gammal_version = False
            try:
                return super().get_fields(request, obj)
            finally:
                request._gammal_version = True
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        """On an old version's page, every field of a reader who may not change the object, as
        Django's change view shows them. simple_history's page gave them the form's boxes and
        lists instead, and a list of a foreign key offered every row of its table, unscoped: a
        chef reading a section's old version found every document of the city listed, other
        förvaltningar's titles and diarienummer included."""
        readonly = super().get_readonly_fields(request, obj)
        if not getattr(request, "_gammal_version", False) or self.has_change_permission(request, obj):
            return readonly
        request._gammal_version = False  # the fieldsets ask this again, for the form's own fields
        try:
            alla = flatten_fieldsets(self.get_fieldsets(request, obj))
        finally:
            request._gammal_version = True
        # The form's own hidden fields (the version the page showed) stay in the form.
        egna = set(self.form.declared_fields) - {f.name for f in self.model._meta.get_fields()}
        return (*readonly, *(f for f in alla if f not in readonly and f not in egna))

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """simple_history's diff of each row against the one before it, with the many-to-many
        fields read for the whole page in one query each (simple_history reads them with two
        queries a row, which made a page of 50 rows cost 150 queries for an åtgärd). The ärenden
        the page's changes refer to are checked against the user's scope once for the page
        (`synliga_pa_sidan`), and those outside it are counted, not named (SvenskaAndringar)."""
        records = list(historical_records)
        history_model = self.model.history.model
        m2m_fields = [f.name for f in getattr(history_model, "_history_m2m_fields", ())]
        # simple_history compares the editable fields only; a status is set by the services alone
        # (not editable in any form), and its change is what a reader of the history looks for.
        lasta_val = [f.attname for f in history_model.tracked_fields if f.choices and not f.editable]
        m2m_rows = {}
        for field in m2m_fields:
            model_field = self.model._meta.get_field(field)
            target = get_m2m_reverse_field_name(model_field)
            namnet = [f"{target}__{f}" for f in NAMNET_LASER.get(model_field.related_model, ())]
            rows = defaultdict(list)
            for row in (
                getattr(history_model, field)
                .model.objects.filter(history__in=records)
                .select_related(target, *namnet)
                .order_by(target)
            ):
                rows[row.history_id].append({target: getattr(row, target)})
            m2m_rows[field] = rows
        deltas, newer = [], None
        for record in records:
            if newer is not None:
                delta = newer.diff_against(
                    record, excluded_fields=m2m_fields, foreign_keys_are_objs=foreign_keys_are_objs
                )
                changes = list(delta.changes)
                for field in lasta_val:
                    if getattr(record, field) != getattr(newer, field):
                        changes.append(ModelChange(field, getattr(record, field), getattr(newer, field)))
                for field in self.historikens_texter:
                    if getattr(newer, field) and getattr(record, field) != getattr(newer, field):
                        changes.append(ModelChange(field, getattr(record, field), getattr(newer, field)))
                for field in m2m_fields:
                    old, new = m2m_rows[field][record.history_id], m2m_rows[field][newer.history_id]
                    if old != new:
                        changes.append(ModelChange(field, old, new))
                changes.sort(key=lambda change: change.field)
                deltas.append(ModelDelta(changes, [c.field for c in changes], record, newer))
            newer = record
        synliga = self.synliga_pa_sidan(request, deltas)
        for delta in deltas:
            helper = self.get_historical_record_context_helper(request, delta.new_record, synliga=synliga)
            delta.new_record.history_delta_changes = helper.context_for_delta_changes(delta)

    def synliga_pa_sidan(self, request, deltas):
        """The ids of the ärenden that the page's changes refer to and the user may see: one query
        for the page, whatever its rows (besides the lookup of the förvaltningar whose every case
        the user sees, which `for_user` makes on every page it scopes); None for a superuser, who
        sees the whole diarium."""
        if request.user.is_active and request.user.is_superuser:
            return None
        ids = set()
        for delta in deltas:
            for change in delta.changes:
                field = self.model._meta.get_field(change.field)
                if field.related_model is not Arende:
                    continue
                for value in (change.old, change.new):
                    if field.many_to_many:
                        target = get_m2m_reverse_field_name(field)
                        ids.update(row[target].pk for row in value)
                    elif value is not None:
                        ids.add(value.pk)  # an Arende, or simple_history's DeletedObject
        if not ids:
            return set()
        return set(Arende.objects.for_user(request.user).filter(pk__in=ids).values_list("pk", flat=True))


class MinaFilter(admin.SimpleListFilter):
    """ "Mina" instead of a list of every handläggare: a city has thousands of users, and the
    admin's related-field filter would list them all on every page of the list."""

    title = "handläggare"
    parameter_name = "handlaggare"

    def lookups(self, request, model_admin):
        return [("mina", "Mina")]

    def queryset(self, request, queryset):
        if self.value() == "mina":
            return queryset.filter(handlaggare=request.user)
        return queryset


# A diarienummer in a search, "SKHLM 2024/12" or "2024/12", with the label it may be copied with
# ("Dnr SKHLM 2024/12", `skrivet_diarienummer`): searched whole, not word by word.
DIARIENUMMERDEL = re.compile(
    r"(?:(?:dnr|diarienr|diarienummer)\b[.:]?\s*)?(?:[^\W\d]+[ -])?\d{4}\s*/\s*\d+", re.IGNORECASE
)
# A diarienummer as a PDF's file name writes it ("SKHLM-2024-12", "skhlm 2024-12"), outside quotes:
# one word if `skrivet_diarienummer` knows its prefix, else the words it was typed as ("budget 2024-2025").
FILNAMNSNUMMER = re.compile(r"(?<![\w\"'-])[^\W\d_]+[\s-]*\d{4}-\d+(?![\w\"'-])")
# A word of letters only: in a diarienummer ("SKHLM 2024/12") letters stand only in the prefix.
BOKSTAVER = re.compile(r"[^\W\d_]+")


def sokord(search_term):
    """The words of an admin search, each of which must match: quoted phrases as one word, as
    Django's own search reads them, and a diarienummer ("SKHLM 2024/12", "2024/12",
    "SKHLM-2024-12") whole."""
    search_term = soktext(search_term).strip()  # as SafeInputAdminMixin reads it for the others
    ord_ = []
    # A number typed with a hyphen or spaces around its slash is searched as the diarium writes it.
    nummer = [skrivet_diarienummer(bit) or bit for bit in DIARIENUMMERDEL.findall(search_term)]

    def filnamnsnummer(match):
        if skrivet := skrivet_diarienummer(match[0]):
            nummer.append(skrivet)
            return " "
        return match[0]

    resten = FILNAMNSNUMMER.sub(filnamnsnummer, DIARIENUMMERDEL.sub(" ", search_term))
    for bit in [*nummer, *smart_split(resten)]:
        if bit[0] in "\"'" and bit[-1] == bit[0]:
            bit = unescape_string_literal(bit)
        # The brackets, quotes or full stop a number was copied with ("(SKHLM 2024/12).") are
        # left beside it, and are no word to find.
        if any(tecken.isalnum() for tecken in bit):
            ord_.append(bit)
    return ord_


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
        for bit in sokord(search_term):
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


class NotAChangeMixin:
    """A hidden version that says how old the page is: never itself a change the user made."""

    widget = forms.HiddenInput

    def has_changed(self, initial, data):
        return False


class VersionField(NotAChangeMixin, forms.IntegerField):
    pass


class ChecksumField(NotAChangeMixin, forms.CharField):
    pass


class VersionForm(forms.ModelForm):
    """Carries the version the user started from (a hidden field) and refuses a save made from
    an outdated one. The user's input stays in the form; the hidden version is moved up to the
    saved one, so saving once more after reading the message replaces the other change on purpose.

    A field counts as changed when it differs from what the page showed (a hidden copy of each
    field, Django's `show_hidden_initial`), not from what is stored when the form is posted:
    compared with the database, whatever someone else saved after the page was opened would
    count as the user's change and be written back over theirs, or be refused as a conflict the
    user never made. After a refusal the fields the user left alone show what is stored now, and
    the hidden copies hold it too, so saving again writes exactly the user's own changes."""

    expected_version = VersionField(required=False)
    versioned_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read before the form is cleaned: cleaning copies the posted values onto the instance.
        self.saved_version = self.current_version() if self.instance.pk else None
        if self.instance.pk:
            self.fields["expected_version"].initial = self.saved_version
        for name in self.versioned_fields:
            field = self.fields.get(name)
            # A file field is changed only by a new upload (or clearing it), whatever was shown.
            if field is not None and not isinstance(field, forms.FileField):
                field.show_hidden_initial = True

    def current_version(self):
        return self.instance.version

    def content_changed(self):
        return any(f in self.versioned_fields for f in self.changed_data)

    def stale_message(self):
        raise NotImplementedError

    def show_stored(self):
        """Move the hidden version, the hidden copies and the fields the user did not change to
        what is stored now; the fields the user changed keep what they typed."""
        visa_sparat(self, self.versioned_fields, lambda name: self[name].initial)
        self.data[self.add_prefix("expected_version")] = self.saved_version

    def is_stale(self):
        return self.instance.pk is not None and self.cleaned_data.get("expected_version") != self.saved_version

    def clean(self):
        cleaned = super().clean()
        if self.content_changed() and self.is_stale():
            meddelande = self.stale_message()
            self.show_stored()
            raise ValidationError(meddelande, code="stale")
        return cleaned


class ObjektForm(VersionForm):
    """The main form of a page whose object has no version number (an åtgärd, an ärende): its
    version is a checksum of the `versioned_fields` as stored (`services.objektversion`), which
    the service that saves it checks again under the row's lock. The page's admin saves only the
    fields the user changed (VersioneradAdminMixin)."""

    expected_version = ChecksumField(required=False)
    benamning = None  # the object in Swedish, definite form: "åtgärden"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.versioned_fields:
            field = self.fields.get(name)
            if isinstance(field, forms.ModelMultipleChoiceField) and field.queryset.model is Arende:
                # The hidden copy shows only the cases the field offers (SafeAutocompleteMixin):
                # one outside the user's scope is neither named nor numbered on the page, and is
                # kept when the field is saved.
                visade = [getattr(rad, "pk", rad) for rad in self.initial.get(name) or ()]
                self.initial[name] = list(field.queryset.filter(pk__in=visade).values_list("pk", flat=True))

    def current_version(self):
        return services.objektversion(self.instance, self.versioned_fields)

    def stale_message(self):
        return (
            f"Någon annan har ändrat {self.benamning} efter att du öppnade sidan. Inget av det du skrev är sparat, "
            "men allt står kvar i formuläret; fälten du inte ändrade visar det som är sparat nu. Spara igen för "
            "att ersätta det sparade med dina ändringar."
        )


class VisaIgenVidVagranMixin:
    """A change page whose save a service may refuse under its lock: as a conflict (someone saved
    between the form's check and the locked write), which the page shows again with the form's
    own refusal, or by a rule (a WorkflowError or ValidationError), which the page shows on the
    form as it was posted (`med_vagran`). Everything rolled back either way; a redirect would
    drop all the user typed."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.ConflictError:
            # The form's check now sees the newer version and keeps the input.
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except (services.WorkflowError, ValidationError) as exc:
                vagran = exc
        except (services.WorkflowError, ValidationError) as exc:
            vagran = exc
        request._sparande_vagrat = vagran
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        vagran = getattr(request, "_sparande_vagrat", None)
        return form if vagran is None else med_vagran(form, vagran)


class EnHistorikradMixin:
    """One save of the page is one row in its object's history: simple_history writes the
    object's fields (save_model) and each add or remove of a many-to-many field it tracks
    (save_related) as rows of their own, so that a case's new title and cited cases, or a role
    swapped for another, read as three changes. The row holds the state after both, with the user
    and reason of the save (`skarholmen.historik.en_historikrad`)."""

    def save_form(self, request, form, change):
        obj = super().save_form(request, form, change)
        borja_historikrad(obj)
        return obj

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        skriv_historikrad(form.instance)


class VersioneradAdminMixin(EnHistorikradMixin, VisaIgenVidVagranMixin):
    """A change page whose main form is an ObjektForm (or a mall's, which has none) and whose rows
    are RadForms: the many-to-many fields the user left alone are not written back (the page may
    show older ones than are stored now), and a save refused under the lock (RadFormSet.save, the
    services) shows the page again (VisaIgenVidVagranMixin)."""

    def save_related(self, request, form, formsets, change):
        if change:
            for field in form.instance._meta.many_to_many:
                if field.name not in form.changed_data:
                    form.cleaned_data.pop(field.name, None)
        super().save_related(request, form, formsets, change)


def med_vagran(form, vagran):
    """The form class `form`, refusing with what a service said when it refused the save (a
    WorkflowError or ValidationError): on the field it names (a ValidationError's field, a
    ConflictError's `falt`), else above the form. What the user typed stays in the form."""
    if isinstance(vagran, ValidationError):
        fel = list(vagran.error_dict.items()) if hasattr(vagran, "error_dict") else [(None, vagran.messages)]
    else:
        fel = [(getattr(vagran, "falt", None), [str(vagran)])]

    class Vagrad(form):
        def clean(self):
            for falt, meddelanden in fel:
                self.add_error(falt if falt in self.fields else None, meddelanden)
            return super().clean()

    return Vagrad


class ObjektAdminMixin(VersioneradAdminMixin):
    """A change page whose ObjektForm names the fields it versions: a changed object is written
    by `andra`, which checks the page's version again under the row's lock and writes only the
    fields the user changed. An object that needs no rule of its own to be saved (a drogscen, a
    nämnd) goes through `services.andra_objekt`, with the change permission the page itself
    asks for; a page whose model has a service of its own (an åtgärd, a mall, a skrivelse)
    overrides `andra` to call it. An object that is added has nothing to be written over and is
    saved as Django saves it."""

    def save_model(self, request, obj, form, change):
        if not change:
            with services.utan_krock():  # a name the form found free may have been taken since
                super().save_model(request, obj, form, change)
            return
        self.andra(request, obj, form, falt=form.changed_data, expected_version=form.cleaned_data["expected_version"])

    def andra(self, request, obj, form, *, falt, expected_version):
        services.andra_objekt(
            obj=obj,
            falt=falt,
            versionerade=form.versioned_fields,
            user=request.user,
            perm=f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}",
            benamning=form.benamning,
            expected_version=expected_version,
        )


# The hidden version of a row that was deleted after the page showed it, once the user was told.
BORTTAGEN = "borttagen"


class RadForm(VersionForm):
    """A row of a document's list on its page: a bilaga, an undertecknare, an åtgärd. The rows
    have no version number; their version is a checksum of what the row holds
    (`services.radversion`), named by the page that showed it. Every field of the row is compared
    with what the page showed.

    A row that someone deleted after the page was opened (`borttagen`, set by RadFormSet) is
    refused, whatever the user did with it, and stays on the page as they left it. Its hidden
    version becomes BORTTAGEN, so that saving again after reading the message saves the rest of
    the page without it (RadFormSet counts it as deleted); a user who may not delete rows can
    only reload the page."""

    expected_version = ChecksumField(required=False)
    borttagen = False
    borttagen_namn = None  # the row as the document held it last, when it was the document's

    def __init__(self, *args, **kwargs):
        self.versioned_fields = tuple(f for f in self._meta.fields or () if f != "expected_version")
        super().__init__(*args, **kwargs)

    @property
    def utgar(self):
        """A deleted row that the user was told of and saved again: left out of the save."""
        return (
            self.borttagen
            and DELETION_FIELD_NAME in self.fields
            and getattr(self, "cleaned_data", {}).get("expected_version") == BORTTAGEN
        )

    def clean(self):
        if not self.borttagen:
            return super().clean()
        if self.utgar:
            return self.cleaned_data
        raden = f"”{self.borttagen_namn}”" if self.borttagen_namn else "raden"
        meddelande = (
            f"Någon annan har tagit bort {raden} efter att du öppnade sidan. Inget av det du skrev är sparat, "
            "men allt står kvar."
        )
        if DELETION_FIELD_NAME in self.fields:
            self.data = self.data.copy()
            self.data[self.add_prefix("expected_version")] = BORTTAGEN
            meddelande += (
                " Spara igen för att spara resten av sidan utan raden, eller ladda om sidan för att se "
                "dokumentet som det är nu."
            )
        else:
            meddelande += " Kopiera det du vill behålla och ladda om sidan för att se dokumentet som det är nu."
        raise ValidationError(meddelande, code="borttagen")

    def current_version(self):
        return services.radversion(self.instance)

    def stale_message(self):
        # The instance still holds what is stored: cleaning has not copied the user's values yet.
        sparat = "; ".join(
            f"{self.instance._meta.get_field(name).verbose_name} ”{getattr(self.instance, name) or ''}”"
            for name in self.changed_data
            if name in self.versioned_fields
        )
        return (
            f"Någon annan har ändrat ”{self.instance}” efter att du öppnade sidan. Din ändring är inte sparad "
            f"men står kvar i raden, som i övrigt visar det som är sparat nu (sparat: {sparat}). "
            "Spara igen för att ersätta det sparade med din ändring."
        )


class RadFormSet(forms.BaseInlineFormSet):
    """The rows of a document's list. A row deleted on an outdated page that someone changed
    after the page was opened is refused like a changed one: the deletion would take their
    change with it. (A deleted row's own form errors do not count in Django's formsets.)

    A row the page showed that someone has deleted since is found here and refused by its form
    (RadForm): Django's formset refused it with "Välj ett giltigt alternativ" on the row's
    hidden id, which the page does not show."""

    sidans_rader = None  # the page's rows, each with its own object (`get_queryset`)

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if self.is_bound and i < self.initial_form_count() and form.instance.pk is None:
            form.borttagen = True
            form.borttagen_namn = self._senast_sparad(form)
            # Its id is only carried on: no longer a choice of a stored row.
            form.fields[self.model._meta.pk.name] = forms.CharField(required=False, widget=forms.HiddenInput)
        return form

    def _senast_sparad(self, form):
        """The deleted row as this document held it last, from its history; None for an id that
        was never one of the document's rows (a row of another document is not named to the user)."""
        historik = getattr(self.model, "history", None)
        try:
            pk = self.model._meta.pk.to_python(form.data.get(form.add_prefix(self.model._meta.pk.name)))
        except ValidationError:
            return None
        if historik is None or not isinstance(pk, int) or not -(2**63) <= pk < 2**63:  # as OnlyRealIds
            return None
        senaste = historik.filter(**{self.model._meta.pk.attname: pk, self.fk.attname: self.instance.pk}).first()
        return str(senaste.instance) if senaste else None

    def _should_delete_form(self, form):
        return super()._should_delete_form(form) or getattr(form, "utgar", False)

    def get_queryset(self):
        # Django's admin draws each row of a posted page beside the object at its place in this
        # list (InlineAdminFormSet zips them with `initial_forms`): with a row deleted since the
        # page was made, each row after it came with its neighbour's object and the last one was
        # not drawn at all, with what the user typed in it. Once the page is checked (`clean`),
        # each row comes with its own object, and a deleted one with none.
        if self.sidans_rader is not None:
            return self.sidans_rader
        return super().get_queryset()

    def save(self, commit=True):
        """Django's save of the rows, on the pages that let it write them (an åtgärd's utfall, an
        ärende's skrivelser, a mall's sections, a user's profile). Each row's form was checked
        before the page's object was locked, so a row someone saved in between would be written
        over: each row to be changed or deleted is read again here under its own lock, in the
        transaction that writes it, after the page's save locked the object (its service).
        A conflict rolls the page back and shows it again with the row's refusal
        (VersioneradAdminMixin)."""
        skrivs = [
            f for f in self.initial_forms if f.instance.pk is not None and (f.has_changed() or f in self.deleted_forms)
        ]
        if skrivs:
            lagrade = (
                self.model._default_manager.select_for_update().order_by("pk").in_bulk([f.instance.pk for f in skrivs])
            )
            for f in skrivs:
                services.kontrollera_radversion(
                    lagrade.get(f.instance.pk), f.instance, f.cleaned_data.get("expected_version")
                )
        # A row's unique heading or name, checked by its form, may have been taken since.
        with services.utan_krock():
            return super().save(commit)

    def clean(self):
        self.sidans_rader = [f.instance if f.instance.pk is not None else None for f in self.initial_forms]
        super().clean()
        self._kontrollera_unika_rader()
        for form in self.initial_forms:
            if self.can_delete and self._should_delete_form(form) and form.is_stale():
                meddelande = (
                    f"Någon annan har ändrat ”{form.instance}” efter att du öppnade sidan, så den är inte "
                    "borttagen. Raden visar nu det som är sparat; spara igen för att ta bort den ändå."
                )
                form.show_stored()
                raise ValidationError(meddelande, code="stale")

    def _kontrollera_unika_rader(self):
        """Refuse a row that a unique constraint naming the page's object (a mall's section
        headings) forbids beside a row stored since the page was opened: Django checks a row's
        constraints without the inline's foreign key, so it reached the database. The rows the
        page shows are compared with each other by Django's formset."""
        sidans = [f.instance.pk for f in self.initial_forms if f.instance.pk is not None]
        for form in self.forms:
            if form.errors or not form.has_changed() or self._should_delete_form(form):
                continue
            for constraint in self.model._meta.total_unique_constraints:
                if self.fk.name not in constraint.fields or constraint.condition is not None:
                    continue
                varden = {
                    namn: getattr(form.instance, self.model._meta.get_field(namn).attname) for namn in constraint.fields
                }
                if None not in varden.values() and (
                    self.model._default_manager.filter(**varden).exclude(pk__in=sidans).exists()
                ):
                    form.add_error(None, form.instance.unique_error_message(self.model, constraint.fields))


# Every uploaded PDF, whichever admin page it comes through, is checked like the officers' uploads.
PDF_UPLOAD = {**SafeInputAdminMixin.formfield_overrides, models.FileField: {"form_class": PdfUploadField}}

# The link to a postponed item's kept document (`Foredragningspunkt.handling`), beside its
# protokollsutdrag on the meeting's page and the case's.
BORDLAGD_HANDLING_LANK = "Handlingen som nämnden hade (PDF)"
