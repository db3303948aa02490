"""Sammanträden: the nämnd secretary's pages."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, Value, Window
from django.db.models.functions import Lag
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from .. import pdf, services
from ..constants import ExportTyp, TjansteutlatandeStatus
from ..forms import visade_varden
from ..models import (
    Foredragningspunkt,
    Sammantrade,
    Sammantradesexport,
    Tjansteutlatande,
    is_namndsekreterare,
    namnder_for,
)
from ..views import lagrad_fil
from .common import BORDLAGD_HANDLING_LANK, HistoryAdmin, ScopedAdminMixin, VisaIgenVidVagranMixin, visa_sparat


class SammantradeExportForm(forms.Form):
    typ = forms.ChoiceField(choices=ExportTyp.choices)


def _visa(varde):
    """A meeting's field value as the page shows it."""
    if isinstance(varde, datetime.time):
        return f"{varde:%H:%M}"
    return "–" if varde in (None, "") else str(varde)


class SammantradeForm(forms.ModelForm):
    """The meeting's own form. Once a meeting has items its nämnd and date are read-only, and
    Django then skips the (nämnd, date, time) constraint, so a new time that clashes with another
    meeting of the day reached the database as an error page; it is checked here.

    Two secretaries may have the meeting open at once. A field counts as changed when it differs
    from what the page showed (a hidden copy of each field, Django's `show_hidden_initial`, as in
    `VersionForm`), and only changed fields are saved: compared with the database, or saved as a
    whole row, a colleague's change made after the page was opened went back to the old value.
    A field the user changed that someone else changed too is refused with the user's input kept;
    the other fields then show what is stored, so saving again writes exactly the user's change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in services.SAMMANTRADESFALT:
                if name in self.fields:
                    self.fields[name].show_hidden_initial = True

    def visat(self):
        """What the page showed for each of the meeting's fields (its hidden copy), as values."""
        return visade_varden(self, services.SAMMANTRADESFALT)

    def clean(self):
        cleaned = super().clean()
        data = {f: cleaned[f] for f in self.changed_data if f in services.SAMMANTRADESFALT and f in cleaned}
        if not self.instance.pk or not data:
            return cleaned
        # The meeting is locked here, as putting a document on its list locks it, and the lock is
        # held until this save commits (the admin saves in one transaction): what is compared
        # here is what the save finds, and an item put on the list meanwhile would carry the old
        # date in its document's header.
        sparad = Sammantrade.objects.select_for_update().get(pk=self.instance.pk)
        fel = []
        nytt = {f for f in data if getattr(sparad, f) != data[f]}
        if {"namnd", "datum"} & nytt and sparad.punkter.exists():
            fel.append(ValidationError(services.MOTET_HAR_PUNKTER, code="punkter"))
        if andrade := services.andrat_av_andra(sparad, data, self.visat()):
            sparat = "; ".join(
                f"{Sammantrade._meta.get_field(f).verbose_name} ”{_visa(getattr(sparad, f))}”" for f in andrade
            )
            fel.append(
                ValidationError(
                    f"Någon annan har ändrat mötet efter att du öppnade sidan (sparat nu: {sparat}). Din ändring "
                    "är inte sparad men står kvar i formuläret, som i övrigt visar det som är sparat nu. Spara "
                    "igen för att ersätta det sparade med din ändring.",
                    code="stale",
                )
            )
            visa_sparat(
                self, services.SAMMANTRADESFALT, lambda f: getattr(sparad, Sammantrade._meta.get_field(f).attname)
            )
        if fel:
            raise ValidationError(fel)
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if "namnd" in self.fields or not self.instance.namnd_id:
            return  # the whole constraint was in the form and is checked already
        try:
            self.instance.validate_constraints()
        except ValidationError as error:
            self._update_errors(error)


def _ny_punkt_nyckel(mote):
    return f"ny_punkt_{mote.pk}"


def _fokus_nyckel(mote):
    return f"punkt_fokus_{mote.pk}"


# The keyboard focus on the meeting's page after its last item was removed: the list's heading.
FOKUS_RUBRIK = "rubrik"


def _behall_skrivet(request, mote, form, fel=None):
    """A refused new item's rubrik and chosen document, kept for the meeting's page the refusal
    leads back to, with the refusal that belongs beside the chosen document (`fel`)."""
    valt = form.data.get("tjansteutlatande", "")
    request.session[_ny_punkt_nyckel(mote)] = {
        "titel": form.data.get("titel", "")[:10_000],
        "tjansteutlatande": valt if valt.isdigit() else None,
        "fel": fel,
    }


def motet_hallet(mote):
    """The warning for a list or a meeting date of a meeting already held: it may be right (the
    secretary records a meeting afterwards), but is more often the wrong meeting or year."""
    return f"Sammanträdet {mote.datum.isoformat()} har redan hållits"


class NyPunktForm(forms.Form):
    tjansteutlatande = forms.ModelChoiceField(
        Tjansteutlatande.objects.none(),
        required=False,
        label="Attesterat tjänsteutlåtande",
        empty_label="– informationspunkt utan dokument –",
    )
    titel = forms.CharField(required=False, max_length=300, label="Rubrik (för informationspunkt)")

    def __init__(self, *args, sammantrade, fel=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sammantrade = sammantrade
        # A refusal of the document chosen before, shown beside the list it was chosen from.
        self.fel = fel
        if fel:
            self.fields["tjansteutlatande"].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": "ny_punkt_fel"}
            )
        # Addressed to the meeting's nämnd by a förvaltning that answers to it (as the service checks).
        # One postponed at this meeting stays its item there and goes to a later meeting.
        self.fields["tjansteutlatande"].queryset = (
            Tjansteutlatande.objects.filter(
                status=TjansteutlatandeStatus.ATTESTERAD,
                namnd=sammantrade.namnd,
                forvaltning__namnd=sammantrade.namnd,
            )
            .exclude(foredragningspunkter__sammantrade=sammantrade)
            .select_related("arende")
            .order_by("arende__ar", "arende__lopnummer")
        )

    def clean_tjansteutlatande(self):
        tu = self.cleaned_data["tjansteutlatande"]
        if tu is not None and (fel := tu.arende.fel_i_sammantradesdagen(self.sammantrade.datum)):
            raise ValidationError(fel, code="fore_registreringen")
        return tu


class BeslutForm(forms.Form):
    beslut = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        label="Nämndens beslut",
        help_text="Förifyllt med förvaltningens förslag till beslut. Ändra om nämnden beslutade något annat.",
    )


LISTANS_SIDA = "listan"  # the page of the list's changes on the meeting's history page (`p`: its own)


def _listans_handelse(rad):
    """What a history row of an item records, in the secretary's words: the item's own row
    holds its state after the change, and the one before it (`forra_*`) what it changed from."""
    if rad.history_type == "+":
        return "Tillagd på listan"
    if rad.history_type == "-":
        return "Borttagen från listan"
    if rad.beslutad and rad.forra_beslutad is None:
        return "Bordlagd" if rad.bordlagd else "Beslut registrerat"
    if rad.forra_nummer is not None and rad.nummer != rad.forra_nummer:
        return f"Flyttad från punkt {rad.forra_nummer}"
    return "Ändrad"


def listans_historik(mote, sida):
    """A page of the changes of the meeting's föredragningslista (its items' history rows: added,
    moved, removed, decided, postponed), newest first, as the history pages show theirs. What
    each row changed from (its item's row before it) and the document's title and number are read
    with the rows: one query for the page, whatever it holds."""
    forra = {"partition_by": [F("id")], "order_by": [F("history_date").asc(), F("history_id").asc()]}
    rader = (
        Foredragningspunkt.history.filter(sammantrade_id=mote.pk)
        .select_related("history_user")
        .annotate(
            forra_nummer=Window(Lag("nummer"), **forra),
            forra_beslutad=Window(Lag("beslutad"), **forra),
            dokumentets_titel=F("tjansteutlatande__titel"),
            arendets_diarienummer=F("arende__diarienummer"),
        )
        .order_by("-history_date", "-history_id")
    )
    paginator = Paginator(rader, HistoryAdmin.history_list_per_page)
    page_obj = paginator.get_page(sida)
    for rad in page_obj.object_list:
        # Postponed: the title the meeting had, as the item's `rubrik`.
        rubrik = rad.handling_titel if rad.handling else (rad.dokumentets_titel or rad.titel)
        rad.punkt = f"{rad.nummer}. {rubrik}"
        rad.listans_handelse = _listans_handelse(rad)
        if rad.listans_handelse in ("Bordlagd", "Beslut registrerat"):
            rad.listans_beslut = rad.beslut
    return {
        "listans_sida": page_obj,
        "listans_sidor": paginator.get_elided_page_range(page_obj.number),
        "listans_var": LISTANS_SIDA,
    }


class ForedragningspunktInline(admin.TabularInline):
    """The föredragningslista. Items change only through the services, by the buttons here."""

    model = Foredragningspunkt
    fk_name = "sammantrade"
    template = "admin/arenden/sammantrade/punkter.html"  # an empty list says so
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
        qs = super().get_queryset(request).select_related("sammantrade", "tjansteutlatande__arende", "arende")
        # A nämnd that several förvaltningar answer to has each one's documents on its list, and
        # a document's page is its own förvaltning's (a 404 for the other's secretary): whether
        # the reader may open it is read with the items, in the same query, not once per item.
        dokument = self.admin_site.get_model_admin(Tjansteutlatande)
        if not dokument.has_view_or_change_permission(request):
            return qs.annotate(kan_oppnas=Value(False))
        return qs.annotate(kan_oppnas=Exists(dokument.get_queryset(request).filter(pk=OuterRef("tjansteutlatande_id"))))

    @admin.display(description="ärende")
    def arendet(self, obj):
        if not obj.tjansteutlatande_id:
            return format_html("{} <em>(information)</em>", obj.titel)
        if not getattr(obj, "kan_oppnas", False):  # named, not linked: the link would be a 404
            return format_html("{}<br>{}", obj.rubrik, obj.diarienummer)
        url = reverse("admin:arenden_tjansteutlatande_change", args=[obj.tjansteutlatande_id])
        return format_html('<a href="{}">{}</a><br>{}', url, obj.rubrik, obj.diarienummer)

    @admin.display(description="dokumentets status")
    def status(self, obj):
        if obj.bordlagd:  # the document itself has gone on, to a later meeting
            return "Bordlagd"
        return obj.tjansteutlatande.get_status_display() if obj.tjansteutlatande_id else "–"

    # The item the keyboard focus goes to when the page is shown after a move or a removal:
    # (the item's pk, its button), or FOKUS_RUBRIK; set per request by SammantradeAdmin.
    fokus = None

    @admin.display(description="åtgärder")
    def atgarder(self, obj):
        if obj.pk is None:  # an item row of a refused form, never saved: nothing to act on yet
            return "–"
        # Every item has the same buttons: their names say which item they act on ("Upp, punkt 2"),
        # for the ear; the eye sees the row. The name starts with the visible text, which is what
        # a speech user says to press it.
        punkt = f", punkt {obj.nummer}"
        if obj.is_decided:
            url = reverse("arenden:protokollsutdrag", args=[obj.pk])
            utdrag = format_html('<a href="{}" aria-label="Protokollsutdrag{}">Protokollsutdrag</a>', url, punkt)
            if not obj.handling:
                return utdrag
            # The item's title leads to the document as it is now; this is what the nämnd had.
            url = reverse("arenden:bordlagd_handling", args=[obj.pk])
            lank = BORDLAGD_HANDLING_LANK
            return format_html('{}<br><a href="{}" aria-label="{}{}">{}</a>', utdrag, url, lank, punkt, lank)

        # Buttons inside the meeting's change form: formaction posts them to the item's own
        # admin view (with the form's CSRF token), never to the change form itself.
        def knapp(namn, pil, text, *args):
            url = reverse(f"admin:arenden_sammantrade_{namn}", args=[obj.sammantrade_id, obj.pk, *args])
            fokus = " autofocus" if self.fokus == (obj.pk, args[0] if args else namn) else ""
            return (url, text, punkt, fokus, pil, text)

        knappar = [
            knapp("flytta", "▲ ", "Upp", "upp"),
            knapp("flytta", "▼ ", "Ned", "ned"),
            knapp("ta_bort", "", "Ta bort"),
        ]
        html = format_html_join(
            " ",
            '<button type="submit" class="button" formaction="{}" formmethod="post" formnovalidate '
            'aria-label="{}{}"{}>{}{}</button>',
            knappar,
        )
        if obj.sammantrade.is_future():  # the services refuse it too: the nämnd has not met
            return format_html("{} <br><em>Beslut registreras från sammanträdesdagen.</em>", html)
        # Each opens a page of its own to confirm on: a decision closes the case.
        sidor = [("beslut", "Registrera beslut")]
        if obj.tjansteutlatande_id:
            sidor.append(("bordlagg", "Bordlägg"))
        lankar = format_html_join(
            " ",
            '<a class="button" href="{}" aria-label="{}{}">{}</a>',
            (
                (reverse(f"admin:arenden_sammantrade_{namn}", args=[obj.sammantrade_id, obj.pk]), text, punkt, text)
                for namn, text in sidor
            ),
        )
        return format_html("{} {}", html, lankar)


@admin.register(Sammantrade)
class SammantradeAdmin(VisaIgenVidVagranMixin, ScopedAdminMixin, HistoryAdmin):
    """A secretary prepares their own nämnd's meetings; another nämnd's are not there for them,
    neither their pages nor their history (a 404), as with cases outside one's scope.

    The nämnd's meeting of a day and time is one: a colleague may store it after the form found
    it free and before this save writes, and the page is then shown again with the form's own
    refusal and what the secretary typed (VisaIgenVidVagranMixin), not an error page."""

    list_display = ("__str__", "datum", "tid", "plats")
    list_select_related = ("namnd",)
    list_filter = ("namnd",)
    date_hierarchy = "datum"
    inlines = [ForedragningspunktInline]
    change_form_template = "admin/arenden/sammantrade/change_form.html"
    object_history_template = "admin/arenden/sammantrade/object_history.html"
    form = SammantradeForm

    # The meetings are the nämnd secretaries' own: the role decides, not model permissions.
    def has_module_permission(self, request):
        return is_namndsekreterare(request.user)

    def has_view_permission(self, request, obj=None):
        return is_namndsekreterare(request.user)

    def has_add_permission(self, request):
        return is_namndsekreterare(request.user)

    def has_change_permission(self, request, obj=None):
        return is_namndsekreterare(request.user)

    def get_object(self, request, object_id, from_field=None):
        if not is_namndsekreterare(request.user):
            raise PermissionDenied  # the pages are the role's: refused, not "not found"
        return super().get_object(request, object_id, from_field)

    def scoped(self, qs, user):
        return qs.for_user(user).select_related("namnd")  # each page names the nämnd

    def has_delete_permission(self, request, obj=None):
        return is_namndsekreterare(request.user)

    def get_deleted_objects(self, objs, request):
        """A meeting with items is protected, and its delete page (and the list's action) names
        them: their documents would be left on a list that is gone, and a decided item is part
        of the nämnd's record. Refused by a permission instead, the page told the secretary that
        their account might not delete meetings at all. `ta_bort_sammantrade` refuses it too."""
        deleted, count, perms_needed, protected = super().get_deleted_objects(objs, request)
        punkter = Foredragningspunkt.objects.filter(sammantrade__in=list(objs)).select_related(
            "sammantrade__namnd", "tjansteutlatande"
        )
        protected = [
            *protected,
            *(
                f"{p.sammantrade}, punkt {p.nummer} på föredragningslistan: {p.rubrik}"
                for p in punkter.order_by("sammantrade__datum", "sammantrade_id", "nummer")
            ),
        ]
        return deleted, count, perms_needed, protected

    # Both ways of deleting (the meeting's page, the list's action) remove its exports' files.
    def delete_model(self, request, obj):
        services.ta_bort_sammantrade(sammantrade=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for mote in queryset:
            services.ta_bort_sammantrade(sammantrade=mote, user=request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # The documents on the list carry the meeting's date in their header.
        if obj and obj.punkter.exists():
            if request.method == "POST":
                # Posted from a page shown while the meeting had no items: the fields stay in the
                # form, which refuses a change of them instead of ignoring it under "Ändrade".
                return (*readonly, *(f for f in ("namnd", "datum") if f not in request.POST))
            return (*readonly, "namnd", "datum")
        return readonly

    def save_model(self, request, obj, form, change):
        # A date chosen now for a meeting already held: told once the save has gone through.
        request._motet_hallet = obj.is_held() and (not change or "datum" in form.changed_data)
        if not change:
            with services.utan_krock():
                super().save_model(request, obj, form, change)
            return
        # Only what the secretary changed, never the whole row: the row was read when the request
        # began, and a colleague may have saved another field since.
        data = {f: form.cleaned_data[f] for f in form.changed_data if f in services.SAMMANTRADESFALT}
        if data:
            with services.utan_krock():  # a time a colleague's new meeting took since the form's check
                services.uppdatera_sammantrade(sammantrade=obj, data=data, visat=form.visat(), user=request.user)

    def _varna_om_hallet(self, request, obj):
        if getattr(request, "_motet_hallet", False):
            messages.warning(
                request,
                f"{motet_hallet(obj)}. Det är sparat så, för att föra in ett sammanträde i efterhand; är "
                "datumet fel, rätta det innan något sätts på föredragningslistan.",
            )

    def response_add(self, request, obj, post_url_continue=None):
        self._varna_om_hallet(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        self._varna_om_hallet(request, obj)
        return super().response_change(request, obj)

    def get_urls(self):
        def view(fn, post_only=False):
            return self.admin_site.admin_view(require_POST(fn) if post_only else fn)

        punkt = "<int:pk>/punkt/<int:punkt_pk>"
        return [
            path("<int:pk>/lagg-till/", view(self.lagg_till_view, True), name="arenden_sammantrade_lagg_till"),
            path(f"{punkt}/flytta/<str:riktning>/", view(self.flytta_view, True), name="arenden_sammantrade_flytta"),
            path(f"{punkt}/ta-bort/", view(self.ta_bort_view, True), name="arenden_sammantrade_ta_bort"),
            path(f"{punkt}/beslut/", view(self.beslut_view), name="arenden_sammantrade_beslut"),
            path(f"{punkt}/bordlagg/", view(self.bordlagg_view), name="arenden_sammantrade_bordlagg"),
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
            # A refused addition comes back here by redirect, with what the secretary had typed.
            skrivet = request.session.pop(_ny_punkt_nyckel(mote), None) or {}
            fel = skrivet.pop("fel", None)
            extra_context["ny_punkt_form"] = NyPunktForm(sammantrade=mote, initial=skrivet or None, fel=fel)
            # The order the page shows: the ▲/▼ buttons send it with the move, so that a move made
            # from a list a colleague has changed since is refused instead of undoing theirs.
            extra_context["sedd_ordning"] = list(mote.punkter.order_by("nummer").values_list("pk", flat=True))
            extra_context["exporter"] = list(mote.exporter.select_related("bestalld_av")[:5])
            extra_context["export_typer"] = ExportTyp.choices
            # A meeting is deleted only while its list is empty (`get_deleted_objects`).
            extra_context["show_delete"] = not mote.punkter.exists()
            if request.method == "GET":
                request.punktfokus = self._punktfokus(request, mote, extra_context["sedd_ordning"])
        return super().change_view(request, object_id, form_url, extra_context)

    def _punktfokus(self, request, mote, ordning):
        """Where the keyboard focus goes on the meeting's page shown after a move or a removal,
        as ForedragningspunktInline.fokus: every press reloads the page, which otherwise put it
        at the top, and a keyboard user moving an item three places tabbed through the menu three
        times. A moved item keeps it on its button, or at an end of the list on its other move; a
        removed item passes it to the one that took its place, and the last one to the heading."""
        onskat = request.session.pop(_fokus_nyckel(mote), None)
        if not onskat:
            return None
        if "nummer" in onskat:  # removed
            if not ordning:
                return FOKUS_RUBRIK
            return ordning[min(onskat["nummer"], len(ordning)) - 1], "ta_bort"
        pk, knapp = onskat["punkt"], onskat["knapp"]
        if pk in ordning and len(ordning) > 1:
            if knapp == "upp" and ordning.index(pk) == 0:
                knapp = "ned"
            elif knapp == "ned" and ordning.index(pk) == len(ordning) - 1:
                knapp = "upp"
        return pk, knapp

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            inline.fokus = getattr(request, "punktfokus", None)
        return inlines

    def render_history_view(self, request, template, context, **kwargs):
        # The meeting's own changes, and below them its list's, which are its items' history.
        if context.get("page_obj") is not None:  # the list of changes, not an old version's page
            context.update(listans_historik(context["object"], request.GET.get(LISTANS_SIDA)))
            # Each table's page links keep the page the other one shows.
            egen, listans = context["page_obj"].number, context["listans_sida"].number
            context["historikens_behall"] = f"{LISTANS_SIDA}={listans}&" if listans > 1 else ""
            context["listans_behall"] = f"{context['page_var']}={egen}&" if egen > 1 else ""
        return super().render_history_view(request, template, context, **kwargs)

    def historikens_rader(self, context):
        return [*super().historikens_rader(context), *context["listans_sida"].object_list]

    # The secretary's actions: each checks the role, calls one service and reports the outcome.

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "namnd" and not request.user.is_superuser:
            kwargs["queryset"] = namnder_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _mote(self, request, pk):
        # The admin's own lookup: the role (403) and the scope (404) are decided in one place.
        return self.get_object(request, str(pk))

    def _punkt(self, request, mote, punkt_pk):
        """The meeting's item, or None with the secretary told why: a button pressed twice, or on
        a page shown before a colleague took the item off the list, finds it gone, and the
        meeting's page (not "Sidan finns inte") is where they see what the list holds now."""
        punkt = Foredragningspunkt.objects.select_related("sammantrade").filter(pk=punkt_pk, sammantrade=mote).first()
        if punkt is None:
            messages.error(request, services.BORTTAGEN_PUNKT)
        return punkt

    def _tillbaka(self, mote):
        return redirect("admin:arenden_sammantrade_change", mote.pk)

    def _utfor(self, request, fn, ok):
        try:
            fn()
        except (services.WorkflowError, pdf.PdfError) as exc:  # both say in Swedish why
            messages.error(request, str(exc))
            return False
        messages.success(request, ok)
        return True

    def lagg_till_view(self, request, pk):
        mote = self._mote(request, pk)
        form = NyPunktForm(request.POST, sammantrade=mote)
        if not form.is_valid():
            dokumentfel = None
            for fel in form.errors.as_data().get("tjansteutlatande", []):
                if fel.code == "invalid_choice":
                    messages.error(
                        request,
                        "Det valda tjänsteutlåtandet kan inte sättas på listan: det är inte längre ett attesterat "
                        "dokument till nämnden (det kan ha satts på en lista, eller ändrats så att attesten "
                        "makulerades, under tiden).",
                    )
                else:
                    dokumentfel = " ".join(fel.messages)
                    messages.error(request, dokumentfel)
            for fel in form.errors.get("titel", []):
                messages.error(request, f"Rubriken: {fel}")
            _behall_skrivet(request, mote, form, fel=dokumentfel)
            return self._tillbaka(mote)
        data = form.cleaned_data
        dokumentfel = None
        try:
            tillagd = self._utfor(
                request,
                lambda: services.satt_pa_foredragningslista(
                    sammantrade=mote, tjansteutlatande=data["tjansteutlatande"], titel=data["titel"], user=request.user
                ),
                "Punkten är tillagd sist på föredragningslistan.",
            )
        except ValidationError as exc:  # the document's case registered after the meeting: on its field
            tillagd, dokumentfel = False, " ".join(exc.messages)
            messages.error(request, dokumentfel)
        if not tillagd:
            _behall_skrivet(request, mote, form, fel=dokumentfel)
        elif mote.is_held():
            messages.warning(
                request, f"{motet_hallet(mote)}: punkten är förd till dess föredragningslista i efterhand."
            )
        return self._tillbaka(mote)

    def _ordna(self, request, mote, ids, sedd):
        # The order the page showed goes along: the service compares it under the meeting's lock.
        return self._utfor(
            request,
            lambda: services.ordna_foredragningslista(
                sammantrade=mote, punkt_ids=ids, sedd_ordning=sedd, user=request.user
            ),
            "Föredragningslistan är omnumrerad.",
        )

    def flytta_view(self, request, pk, punkt_pk, riktning):
        if riktning not in ("upp", "ned"):  # the page's ▲ and ▼; no other move is made
            raise Http404
        mote = self._mote(request, pk)
        punkt = self._punkt(request, mote, punkt_pk)
        if punkt is None:
            return self._tillbaka(mote)
        # The move is made in the order the page showed, not the one stored now: read here, before
        # any lock, two secretaries' moves from the same page each undid the other's.
        sedd = request.POST.getlist("sedd_ordning")
        ids = list(sedd)
        i = ids.index(str(punkt.pk)) if str(punkt.pk) in ids else -1
        j = i - 1 if riktning == "upp" else i + 1
        if i >= 0 and 0 <= j < len(ids):
            ids[i], ids[j] = ids[j], ids[i]
            flyttad = self._ordna(request, mote, ids, sedd)
        elif i < 0:  # a page without the item: the list has changed since it was made
            messages.error(request, services.LISTAN_ANDRAD)
            flyttad = False
        else:  # already at that end of the list
            flyttad = True
        if flyttad:
            request.session[_fokus_nyckel(mote)] = {"punkt": punkt.pk, "knapp": riktning}
        return self._tillbaka(mote)

    def ordna_view(self, request, pk):
        mote = self._mote(request, pk)
        self._ordna(request, mote, request.POST.getlist("punkt"), request.POST.getlist("sedd_ordning"))
        return self._tillbaka(mote)

    def ta_bort_view(self, request, pk, punkt_pk):
        mote = self._mote(request, pk)
        punkt = self._punkt(request, mote, punkt_pk)
        if punkt is None:
            return self._tillbaka(mote)
        if self._utfor(
            request,
            lambda: services.ta_bort_fran_foredragningslista(punkt=punkt, user=request.user),
            f"Punkt {punkt.nummer} är borttagen och listan omnumrerad.",
        ):
            request.session[_fokus_nyckel(mote)] = {"nummer": punkt.nummer}
        return self._tillbaka(mote)

    def _vagran(self, punkt):
        """Why the item may not get its outcome now, as the services will check (decided or
        postponed already, or the meeting's day not come), or None if it may."""
        try:
            services.kontrollera_oavgjord(punkt)
            services.kontrollera_motesdagen(punkt.sammantrade)
        except services.WorkflowError as exc:
            return str(exc)
        return None

    def _kan_avgoras(self, request, punkt):
        """Whether the item may get its outcome now. If not, the secretary is told why on the
        meeting's page, instead of given a page to confirm on whose form can only fail."""
        vagran = self._vagran(punkt)
        if vagran is not None:
            messages.error(request, vagran)
        return vagran is None

    def beslut_view(self, request, pk, punkt_pk):
        mote = self._mote(request, pk)
        punkt = self._punkt(request, mote, punkt_pk)
        if punkt is None or not self._kan_avgoras(request, punkt):
            return self._tillbaka(mote)
        if request.method == "POST":
            form = BeslutForm(request.POST)
            if form.is_valid():
                if self._utfor(
                    request,
                    lambda: services.registrera_beslut(
                        punkt=punkt, beslut=form.cleaned_data["beslut"], user=request.user
                    ),
                    f"Beslutet för punkt {punkt.nummer} är registrerat och protokollsutdraget skapat.",
                ):
                    return self._tillbaka(mote)
                # Refused. A colleague may have decided the item, or taken it off the list, after
                # it was read above: no edit of the text helps then, so the secretary goes back to
                # the meeting as opening the form now would, told why once (by the service). What
                # may succeed on a second try (an extract the renderer gave up on, a list reordered
                # meanwhile) shows the form again with the text kept and the item's number now.
                punkt = Foredragningspunkt.objects.select_related("sammantrade").filter(pk=punkt.pk).first()
                if punkt is None or self._vagran(punkt) is not None:
                    return self._tillbaka(mote)
        else:
            forslag = services.forslag_till_beslut(punkt.tjansteutlatande) if punkt.tjansteutlatande_id else ""
            form = BeslutForm(initial={"beslut": forslag or "Informationen antecknas."})
        if form.errors:  # the keyboard focus on the text to correct, its error read with it
            form.fields["beslut"].widget.attrs["autofocus"] = True
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": mote,
            "punkt": punkt,
            "form": form,
            "title": f"Registrera beslut – punkt {punkt.nummer}",
        }
        return TemplateResponse(request, "admin/arenden/sammantrade/beslut.html", context)

    def bordlagg_view(self, request, pk, punkt_pk):
        """Asks first, as a decision does: the item keeps its number and gets no beslut at this meeting."""
        mote = self._mote(request, pk)
        punkt = self._punkt(request, mote, punkt_pk)
        if punkt is None:
            return self._tillbaka(mote)
        if request.method == "POST":
            self._utfor(
                request,
                lambda: services.bordlagg(punkt=punkt, user=request.user),
                f"Punkt {punkt.nummer} är bordlagd. Tjänsteutlåtandet kan sättas på ett senare sammanträdes "
                "föredragningslista.",
            )
            return self._tillbaka(mote)
        if not self._kan_avgoras(request, punkt):
            return self._tillbaka(mote)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": mote,
            "punkt": punkt,
            "beslut": services.BORDLAGGS,
            "title": f"Bordlägg – punkt {punkt.nummer}",
        }
        return TemplateResponse(request, "admin/arenden/sammantrade/bordlagg.html", context)

    def foredragningslista_view(self, request, pk):
        mote = self._mote(request, pk)
        try:
            innehall = pdf.render_foredragningslista(mote)
        except pdf.PdfError as exc:
            messages.error(request, str(exc))
            return self._tillbaka(mote)
        response = HttpResponse(innehall, content_type="application/pdf")
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
        else:  # the page's buttons send a known type; anything else is refused as any other refusal
            typer = " eller ".join(str(label) for label in ExportTyp.labels)
            messages.error(request, f"Exporten är inte beställd: okänd typ av export. Välj {typer}.")
        return self._tillbaka(mote)

    def _export(self, request, export_pk):
        if not is_namndsekreterare(request.user):
            raise PermissionDenied
        exporter = Sammantradesexport.objects.filter(sammantrade__in=Sammantrade.objects.for_user(request.user))
        return get_object_or_404(exporter.select_related("sammantrade"), pk=export_pk)

    def export_status_view(self, request, export_pk):
        export = self._export(request, export_pk)
        fil = reverse("admin:arenden_sammantrade_export_ladda_ner", args=[export.pk]) if export.fil else ""
        return JsonResponse(
            {
                # A job no worker is running shows as failed, with what to do (EXPORT_AVBRUTEN).
                "status": export.visad_status,
                "status_text": export.status_text,
                "klara": export.klara,
                "totalt": export.totalt,
                "fel": export.fel_text,
                "fil": fil,
            }
        )

    def export_ladda_ner_view(self, request, export_pk):
        export = self._export(request, export_pk)
        if not export.fil:
            raise Http404("Exporten är inte klar.")
        # Named after the meeting, not the stored file: the archive gives a second export of the
        # same meeting a name of its own ("…_a1B2c3d.pdf").
        mote = export.sammantrade
        namn = pdf.motespaket_filename(mote) if export.typ == ExportTyp.PAKET else pdf.motes_zip_filename(mote)
        return lagrad_fil(
            request,
            export.fil,
            namn,
            as_attachment=True,
            vad="Export",
            var=f"export {export.pk}",
            sammanhang=str(export.sammantrade),
            rubrik="Exporten saknas",
            # Unlike a protokollsutdrag, the export is made again from the meeting's record.
            meddelande="Den exporterade filen saknas i arkivet. Beställ exporten igen.",
        )
