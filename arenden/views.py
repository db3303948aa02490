"""The officers' pages: their cases, registering a skrivelse, the document editor, preview and
sending for attest. Views fetch through `for_user` (outside a user's scope is a 404) and call
one service each; every rule lives in services.py."""

import json
import logging
import re
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from atgarder import services as atgarder_services
from atgarder.forms import NyAtgardForm, editorns_formular
from atgarder.models import Atgard
from atgarder.views import atgard_json, traff_json

from . import pdf, services
from .constants import ArendeStatus, Roll, TjansteutlatandeStatus
from .forms import (
    DraTillbakaForm,
    NyttTjansteutlatandeForm,
    SkickaForAttestForm,
    SkrivelseForm,
    UppgifterForm,
    lagg_till_vagran,
    person_label,
    visa_sparat,
)
from .models import (
    ANDRA_TJANSTEUTLATANDE,
    BYT_ATTESTANT,
    Arende,
    Attestering,
    Bilaga,
    Foredragningspunkt,
    Sammantrade,
    Skrivelse,
    Tjansteutlatande,
    TjansteutlatandeAtgard,
    display_name,
    display_name_from,
    is_namndsekreterare,
    roller,
)
from .search import RANKADE, filtrera, sok_arenden, sokforslag, soktext
from .snapshot import SNAPSHOT_SELECT
from .tidslinje import tidslinje
from .urls_per_id import url_per_id

logger = logging.getLogger(__name__)

REGISTRERANDE_ROLLER = {Roll.REGISTRATOR, Roll.HANDLAGGARE}
PER_SIDA = 50
ARENDEN_GRANS = 1000  # the cases Mina ärenden counts and pages through


def _fragor(**parametrar):
    """A list's other query parameters for its page links (templates/_sidor.html)."""
    return urlencode(parametrar, quote_via=quote) + "&"


def _forslagslankar(user, fraga, **parametrar):
    """The searches to offer for `fraga`, which found nothing, as links that run them with the
    page's other parameters (`sokforslag`): the extra lookups are made only then."""
    return [
        {"text": text, "url": "?" + urlencode({"q": text, **parametrar}, quote_via=quote)}
        for text in sokforslag(user, fraga)
    ]


def kan_registrera(user):
    return user.is_superuser or bool(roller(user) & REGISTRERANDE_ROLLER)


def nasta_steg(arende_status, tu_status, aterremitterat=False):
    """What the case waits for, in the words of the start page. A draft a chef returned says so:
    the officer has a comment to act on, not a text to finish."""
    if arende_status == ArendeStatus.AVSLUTAT:
        return "Inget – ärendet är avslutat"
    if tu_status is None:
        return "Skapa tjänsteutlåtande"
    if aterremitterat and tu_status == TjansteutlatandeStatus.UTKAST:
        return "Återremitterat: ändra och skicka för attest igen"
    return {
        TjansteutlatandeStatus.UTKAST: "Skriv färdigt och skicka för attest",
        TjansteutlatandeStatus.TILL_ATTEST: "Väntar på attest",
        TjansteutlatandeStatus.ATTESTERAD: "Sätts på föredragningslista",
        TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA: "Behandlas på sammanträdet",
        TjansteutlatandeStatus.BESLUTAD: "Protokollsutdrag och avslut",
    }.get(tu_status, "")


@require_safe
@login_required
def start(request):
    """Mina ärenden: newest first, filtered by status and a search over number and text.

    The page of ids (`nyaste_sida`; "fler än 1000" past ARENDEN_GRANS, as the admin's lists and
    the drogscen page say) comes first and its rows are then read by id: the cost follows the
    page, not the number of cases the user has."""
    arenden = Arende.objects.all()
    status = request.GET.get("status", "")
    if status in ArendeStatus.values:
        arenden = arenden.filter(status=status)
    else:
        status = ""
    q = soktext(request.GET.get("q", "").strip())
    if q:
        # The diarium search's match (full text over indexes on PostgreSQL), newest first here.
        arenden = filtrera(arenden, q)
    sida, begransad = arenden.nyaste_sida(request.user, request.GET.get("sida"), PER_SIDA, ARENDEN_GRANS, i_delar=not q)
    # Plain values, not model instances: the page shows 50 rows of text, and building and
    # resolving instances for them was most of its cost.
    radvarden = {
        a["pk"]: a
        for a in Arende.objects.filter(pk__in=list(sida.object_list))
        .order_by()
        .values(
            "pk",
            "diarienummer",
            "arendemening",
            "status",
            "handlaggare__first_name",
            "handlaggare__last_name",
            "handlaggare__username",
        )
    }
    pa_sidan = [radvarden[pk] for pk in sida.object_list if pk in radvarden]
    # Each case's newest document, read for the page's cases in one query: as three subqueries
    # of the list's query they cost more to build than the database takes to answer them.
    senaste_tu = {}
    if pa_sidan:
        for tu in (
            Tjansteutlatande.objects.filter(arende__in=[a["pk"] for a in pa_sidan])
            .order_by("-skapad", "-pk")
            .annotate(aterremitterat=~Q(aterremiss_kommentar=""))
            .values("arende_id", "pk", "status", "sammantradesdatum", "aterremitterat")
        ):
            senaste_tu.setdefault(tu["arende_id"], tu)
    arende_url, redigera_url = url_per_id("arenden:arende"), url_per_id("arenden:redigera")
    # Every row's document is in the user's scope and a draft may change, so of the rule an edit
    # is checked by (Tjansteutlatande.kan_andras_av) the permission is left: once for the page.
    skriver = request.user.has_perm(ANDRA_TJANSTEUTLATANDE)
    statustext = dict(ArendeStatus.choices)
    rader = []
    for a in pa_sidan:
        tu = senaste_tu.get(a["pk"])
        rader.append(
            {
                "diarienummer": a["diarienummer"],
                "arendemening": a["arendemening"],
                "status": statustext.get(a["status"], a["status"]),
                "url": arende_url(a["pk"]),
                # The next step links to the editor only while it is the officer's: writing, for
                # those who may write.
                "redigera_url": (
                    redigera_url(tu["pk"]) if skriver and tu and tu["status"] == TjansteutlatandeStatus.UTKAST else ""
                ),
                "sammantrade": tu["sammantradesdatum"].isoformat() if tu and tu["sammantradesdatum"] else "–",
                "nasta_steg": nasta_steg(a["status"], tu["status"] if tu else None, tu and tu["aterremitterat"]),
                "handlaggare": display_name_from(
                    a["handlaggare__first_name"], a["handlaggare__last_name"], a["handlaggare__username"]
                )
                or "–",
            }
        )
    return render(
        request,
        "arenden/start.html",
        {
            "rader": rader,
            "sida": sida,
            "begransad": begransad,
            "grans": ARENDEN_GRANS,
            "status": status,
            "q": q,
            "statusval": ArendeStatus.choices,
            "fragor": _fragor(q=q, status=status),
            "forslag": _forslagslankar(request.user, q, **({"status": status} if status else {}))
            if q and not rader
            else [],
            "kan_registrera": kan_registrera(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def registrera(request):
    """Register a case from a skrivelse; the system hands out the diarienummer."""
    if not kan_registrera(request.user):
        raise PermissionDenied
    form = SkrivelseForm(request.POST or None, request.FILES or None)
    profil = getattr(request.user, "profil", None)
    avdelning = profil.avdelning if profil else None
    if avdelning is None:
        # The avdelning says whose diarium (and number series) the case goes in.
        messages.error(
            request,
            "Ditt konto hör inte till någon avdelning, så det går inte att veta i vilken förvaltnings diarium "
            "ärendet ska registreras. Be systemförvaltningen lägga in din avdelning.",
        )
    elif request.method == "POST" and form.is_valid():
        user = request.user
        forvaltning = avdelning.forvaltning
        skrivelse = form.save(commit=False)
        arende = Arende(
            forvaltning=forvaltning,
            arendemening=form.cleaned_data["arendemening"],
            handlaggare=user if Roll.HANDLAGGARE in roller(user) else None,
            avdelning=avdelning,
        )
        try:
            services.registrera_skrivelse(arende=arende, skrivelse=skrivelse, user=user)
        except (services.WorkflowError, ValidationError) as exc:
            form.add_error(None, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"Ärendet är registrerat med diarienummer {arende.diarienummer}.")
            return redirect("arenden:arende", pk=arende.pk)
    fil = form.cleaned_data.get("fil") if form.is_bound and form.errors else None
    if fil:
        # A browser never fills a file field in again: corrected and sent once more, the form
        # would register the skrivelse without the PDF the officer believes is attached.
        form.add_error(
            "fil", f"Filen ”{fil.name}” är inte sparad, eftersom formuläret inte kunde skickas. Välj den igen."
        )
    return render(request, "arenden/registrera.html", {"form": form})


def _arende_or_404(request, pk):
    qs = Arende.objects.for_user(request.user).select_related("forvaltning", "avdelning", "handlaggare")
    return get_object_or_404(qs, pk=pk)


# What each page of a document reads along with it. Only that: PostgreSQL took 1.3 ms to plan
# the seven tables of every relation the pages use together, to execute it in 0.1 ms.
EDITOR = ("arende", "handlaggare", "namnd")
SKICKA = ("arende", "arende__forvaltning", "arende__avdelning", "mall", "handlaggare", "namnd")


def _tu_or_404(request, pk, select_related=()):
    qs = Tjansteutlatande.objects.for_user(request.user)
    if select_related:  # select_related() with no names would follow every relation
        qs = qs.select_related(*select_related)
    return get_object_or_404(qs, pk=pk)


@require_safe
@login_required
def arende(request, pk):
    """The case: skrivelse, tjänsteutlåtande, bilagor and timeline."""
    return _arende_sida(request, _arende_or_404(request, pk))


def _arende_sida(request, arende, form=None, status=200):
    """The case's page; `form` is a new-document form refused with what the user typed."""
    # Not the frozen content (tens of kilobytes of JSON for a long document): the page shows none of it.
    tjansteutlatanden = list(
        arende.tjansteutlatanden.defer("innehall").select_related("mall").prefetch_related("bilagor")
    )
    # The form only to those the service lets start a document; others read the case.
    if form is None and not tjansteutlatanden and arende.kan_fa_dokument_av(request.user):
        skrivelse = arende.skrivelser.first()
        form = NyttTjansteutlatandeForm(initial={"titel": skrivelse.titel if skrivelse else arende.arendemening})
    return render(
        request,
        "arenden/arende.html",
        {
            "arende": arende,
            "skrivelser": arende.skrivelser.all(),
            "tjansteutlatanden": tjansteutlatanden,
            "redigerbara": {tu.pk for tu in tjansteutlatanden if tu.kan_andras_av(request.user)},
            "form": form,
            "tidslinje": tidslinje(arende, dokument=tjansteutlatanden),
        },
        status=status,
    )


@require_POST
@login_required
def skapa_tjansteutlatande(request, pk):
    """A refused form is shown again on the case's page with why, and with what was typed."""
    arende = _arende_or_404(request, pk)
    form = NyttTjansteutlatandeForm(request.POST)
    if not form.is_valid():
        return _arende_sida(request, arende, form, status=400)
    try:
        tu = services.skapa_tjansteutlatande(arende=arende, user=request.user, **form.cleaned_data)
    except services.DokumentetFinns as exc:
        # The form sent again, or a colleague was first: on to the document the case has.
        messages.error(request, str(exc))
        if exc.tjansteutlatande.kan_andras_av(request.user):
            return redirect("arenden:redigera", pk=exc.tjansteutlatande.pk)
        return redirect("arenden:arende", pk=arende.pk)
    except services.WorkflowError as exc:
        form.add_error(None, str(exc))
        return _arende_sida(request, arende, form, status=409)
    except ValidationError as exc:  # a field's value the service refused (the meeting's day)
        lagg_till_vagran(form, exc)
        return _arende_sida(request, arende, form, status=400)
    messages.success(request, "Tjänsteutlåtandet är skapat. Skriv under varje rubrik.")
    return redirect("arenden:redigera", pk=tu.pk)


@require_safe
@login_required
def skrivelse_fil(request, pk):
    """The uploaded skrivelse, served only to those who may see the case."""
    skrivelser = Skrivelse.objects.filter(arende__in=Arende.objects.for_user(request.user)).select_related("arende")
    skrivelse = get_object_or_404(skrivelser, pk=pk)
    fil = _versionens_fil(request, skrivelse)
    return lagrad_fil(
        request,
        fil,
        f"skrivelse-{pk}.pdf",
        vad="Skrivelse",
        var=f"skrivelse {skrivelse.pk}",
        sammanhang=f"{skrivelse.arende.diarienummer} · Skrivelse: {skrivelse.titel}",
        rubrik="Skrivelsen saknas",
        meddelande="Skrivelsens fil saknas i arkivet. Kontakta systemförvaltningen.",
    )


@require_safe
@login_required
def bilaga_fil(request, pk):
    """An uploaded bilaga, served to those who may see its document (and so its case)."""
    bilagor = Bilaga.objects.filter(tjansteutlatande__in=Tjansteutlatande.objects.for_user(request.user))
    bilaga = get_object_or_404(bilagor.select_related("tjansteutlatande__arende"), pk=pk)
    fil = _versionens_fil(request, bilaga)
    return lagrad_fil(
        request,
        fil,
        f"bilaga-{pk}.pdf",
        vad="Bilaga",
        var=f"bilaga {bilaga.pk}",
        sammanhang=f"{bilaga.tjansteutlatande.arende.diarienummer} · Bilaga {bilaga}",
        rubrik="Bilagan saknas",
        meddelande="Bilagans fil saknas i arkivet. Kontakta systemförvaltningen.",
    )


def _versionens_fil(request, obj):
    """The uploaded file `obj` holds, or with `?version=<history id>` the one that old version of
    it held (an old version's page links it), or a 404."""
    version = request.GET.get("version")
    if version is None:
        namn = obj.fil.name
    elif not version.isdigit() or len(version) > 18:
        raise Http404
    else:
        namn = obj.history.filter(history_id=int(version)).values_list("fil", flat=True).first()
    if not namn:
        raise Http404
    return obj.fil.field.attr_class(obj, obj.fil.field, namn)


def _valda_atgarder(tu):
    return list(
        TjansteutlatandeAtgard.objects.filter(tjansteutlatande=tu).select_related("atgard").order_by("ordning", "pk")
    )


def _aterremiss(tu):
    """The return whose comment the document carries, as its history tells it: who returned it,
    and when (`vem`, `nar`); None when it carries no comment (never returned, or sent again)."""
    if not tu.aterremiss_kommentar:
        return None
    rad = (
        tu.history.filter(history_change_reason=services.ATERREMITTERAT)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
        .first()
    )
    return {"vem": rad.history_user if rad else None, "nar": rad.history_date if rad else None}


def _redigera_sida(request, tu, uppgifter=None, status=200):
    sektioner = list(tu.sektioner.select_related("mall_sektion").order_by("mall_sektion__ordning", "pk"))
    if uppgifter is None:
        uppgifter = UppgifterForm(
            initial={
                "titel": tu.titel,
                "undertitel": tu.undertitel,
                "sammantradesdatum": tu.sammantradesdatum,
                "version": tu.version,
            },
            auto_id="uppgift_%s",
        )
    sokformular, nyformular = editorns_formular()
    return render(
        request,
        "arenden/redigera.html",
        {
            "tu": tu,
            "sektioner": sektioner,
            "valda": _valda_atgarder(tu),
            "uppgifter": uppgifter,
            "sokformular": sokformular,
            "nyformular": nyformular,
            "kan_dra_tillbaka": tu.kan_dras_tillbaka_av(request.user),
            "aterremiss": _aterremiss(tu),
        },
        status=status,
    )


@require_safe
@login_required
@never_cache
def redigera(request, pk):
    """The editor: one field per mall section, in order, and the measure register. A document on
    a meeting's list, or decided, can no longer change: it is shown as it reads instead.

    Never kept by the browser: its copy, shown again by the Back button, held the texts and
    versions from before the officer's saves, and the next save was refused as someone else's."""
    tu = _tu_or_404(request, pk, EDITOR)
    if not tu.kan_andras:
        messages.info(request, f"Tjänsteutlåtandet är {tu.get_status_display().lower()} och kan inte längre ändras.")
        return redirect("arenden:forhandsgranska", pk=tu.pk)
    if not tu.kan_andras_av(request.user):
        # Those who read the case's documents without writing them (attestants, secretaries,
        # registrators) would otherwise learn it only when a save is refused.
        messages.info(request, "Du har inte behörighet att ändra tjänsteutlåtandet. Här visas det som det ser ut.")
        return redirect("arenden:forhandsgranska", pk=tu.pk)
    return _redigera_sida(request, tu)


@require_http_methods(["GET", "POST"])
@login_required
def uppgifter(request, pk):
    """Save the header fields; what was typed is shown again when the save is refused. After a
    conflict the form carries what is saved now (the version, the hidden copies, the fields the
    officer left alone), so that saving again replaces exactly the officer's changes."""
    tu = _tu_or_404(request, pk, EDITOR)
    if request.method == "GET":  # the address the form posted to, reloaded or bookmarked
        return redirect("arenden:redigera", pk=tu.pk)
    form = UppgifterForm(request.POST, auto_id="uppgift_%s")
    if form.is_valid():
        # Only what the officer changed on the page: a field left alone is not written back over
        # what someone else saved after the page was opened.
        visat = form.visat()
        falt = [f for f in form.FALT if visat is None or f in form.changed_data]
        try:
            services.uppdatera_tjansteutlatande(
                tjansteutlatande=tu,
                data={f: form.cleaned_data[f] for f in falt},
                expected_version=form.cleaned_data["version"],
                visat=visat,
                user=request.user,
            )
        except services.ConflictError as exc:
            form.add_error(None, str(exc))
            tu.refresh_from_db()
            visa_sparat(form, form.FALT, lambda f: getattr(tu, f))
            form.data["version"] = exc.current_version
        except (services.WorkflowError, ValidationError) as exc:
            tu.refresh_from_db(fields=["status"])
            if not tu.kan_andras:
                # Put on a meeting's list (or decided) since the page was opened: an editor made
                # again would offer sections that no save can change. What was typed is told with why.
                typed = ", ".join(f"{form.fields[f].label.lower()} ”{form.data.get(f, '')}”" for f in falt)
                messages.error(request, f"{exc} Det du skrev sparades inte: {typed}." if typed else str(exc))
                return redirect("arenden:forhandsgranska", pk=tu.pk)
            lagg_till_vagran(form, exc)
        else:
            messages.success(request, "Dokumentets uppgifter är sparade.")
            return redirect("arenden:redigera", pk=tu.pk)
    return _redigera_sida(request, tu, uppgifter=form, status=409 if form.non_field_errors() else 400)


def _json_body(request):
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return _hela_tecken(data) if isinstance(data, dict) else None


ENSAMMA_SURROGAT = re.compile("[\ud800-\udfff]")


def _hela_tecken(value):
    """JSON's texts with each lone UTF-16 surrogate (half a character, as text pasted from some
    PDFs carries, which JSON can escape and no database can store) as U+FFFD; a whole pair is one
    character once parsed."""
    if isinstance(value, str):
        return ENSAMMA_SURROGAT.sub("\ufffd", value)
    if isinstance(value, list):
        return [_hela_tecken(v) for v in value]
    if isinstance(value, dict):
        return {_hela_tecken(k): _hela_tecken(v) for k, v in value.items()}
    return value


@require_POST
@login_required
def spara_sektion(request, pk, sektion_pk):
    """Save one section without leaving the page. 409 with both texts when someone else saved first."""
    tu = _tu_or_404(request, pk)
    sektion = get_object_or_404(tu.sektioner.select_related("mall_sektion"), pk=sektion_pk)
    data = _json_body(request)
    if data is None or not isinstance(data.get("text"), str) or not _heltal(data.get("version")):
        return JsonResponse({"fel": "Felaktig begäran: text och version behövs."}, status=400)
    avslutning = data.get("avslutning")
    if avslutning is not None and not isinstance(avslutning, str):
        return JsonResponse({"fel": "Felaktig begäran: avslutningen ska vara text."}, status=400)
    try:
        sektion = services.spara_sektion(
            sektion=sektion,
            text=data["text"],
            avslutning=avslutning,
            expected_version=data["version"],
            user=request.user,
        )
    except services.ConflictError as exc:
        return JsonResponse(
            {
                "fel": str(exc),
                "konflikt": True,
                **_vem_sparade(exc, request.user),
                "current_text": exc.current_text,
                "current_avslutning": exc.current_avslutning,
                "your_text": exc.your_text,
                "your_avslutning": exc.your_avslutning,
                "current_version": exc.current_version,
            },
            status=409,
        )
    except services.WorkflowError as exc:
        return JsonResponse({"fel": str(exc)}, status=400)
    tu.refresh_from_db(fields=["status"])
    return JsonResponse(
        {
            "version": sektion.version,
            "text": sektion.text,
            "avslutning": sektion.avslutning,
            "status": tu.get_status_display(),
            "utkast": tu.status == TjansteutlatandeStatus.UTKAST,
        }
    )


def _vem_sparade(konflikt, user):
    """The editor's words for who saved the stored text of a section and when: a heading for its
    comparison and a line for its status."""
    av, nar = konflikt.sparad_av, konflikt.sparad
    if nar is not None:
        nar = timezone.localtime(nar)
        nar = f" kl. {nar:%H:%M}" if nar.date() == timezone.localdate() else f" {nar:%Y-%m-%d %H:%M}"
    if av is not None and av == user:
        var = "i en annan flik eller ett annat fönster"
        return {
            "konflikt_rubrik": f"Du har själv sparat den här sektionen {var}{nar or ''}",
            "konflikt_status": f"du har sparat sektionen {var} under tiden.",
        }
    vem = display_name(av) if av is not None else "Någon annan"
    return {
        "konflikt_rubrik": f"{vem} har sparat den här sektionen{nar or ''}",
        "konflikt_status": f"{vem} har sparat sektionen under tiden.",
    }


def _heltal(value):
    """A whole number of JSON's. Not true or false, which Python counts as 1 and 0: a version
    sent as true was taken for version 1, and an åtgärd's id as the åtgärd with id 1."""
    return isinstance(value, int) and not isinstance(value, bool)


def _idlista(value):
    return isinstance(value, list) and all(_heltal(i) for i in value)


@require_POST
@login_required
def atgarder(request, pk):
    """Add, remove or reorder the document's åtgärder: {"lagg_till": id} | {"ta_bort": id} |
    {"ordning": [ids], "sedd_ordning": [ids]}, the new order and the one the user moved from.
    Answers with the list as stored, also when the change is refused (400, 404, 409)."""
    tu = _tu_or_404(request, pk)
    data = _json_body(request)
    if data is None:
        return JsonResponse({"fel": "Felaktig begäran."}, status=400)
    andring = next((n for n in ("lagg_till", "ta_bort") if _heltal(data.get(n))), None)
    try:
        if andring is not None:
            atgard = Atgard.objects.filter(pk=data[andring]).first()
            if atgard is None:
                return _register_svar(tu, {"fel": "Åtgärden finns inte i registret."}, status=404)
            if andring == "lagg_till":
                services.lagg_till_atgard(tjansteutlatande=tu, atgard=atgard, user=request.user)
            else:
                services.ta_bort_atgard(tjansteutlatande=tu, atgard=atgard, user=request.user)
        elif _idlista(data.get("ordning")) and _idlista(data.get("sedd_ordning")):
            if any(len(set(ids)) != len(ids) for ids in (data["ordning"], data["sedd_ordning"])):
                # No page sends one. Answered as a conflict, it told of a colleague's change that
                # was never made, and sent the officer to reload a page that was not out of date.
                fel = "Felaktig begäran: ordningen tar upp samma åtgärd mer än en gång."
                return _register_svar(tu, {"fel": fel}, status=400)
            services.ordna_atgarder(
                tjansteutlatande=tu, atgard_ids=data["ordning"], sedd_ordning=data["sedd_ordning"], user=request.user
            )
        else:
            return JsonResponse({"fel": "Felaktig begäran."}, status=400)
    except services.ConflictError as exc:
        return _register_svar(tu, {"fel": str(exc), "konflikt": True}, status=409)
    except services.WorkflowError as exc:
        # Refused (one already added or already removed, a document that can no longer change):
        # the list as stored goes along, so that the page shows what holds.
        return _register_svar(tu, {"fel": str(exc)}, status=400)
    return _register_svar(tu)


@require_POST
@login_required
def ny_atgard(request, pk):
    """Create an åtgärd in the register and add it last in the document, in one transaction: a
    refusal of either (a field, the role, a document locked meanwhile) stores nothing, and the
    page keeps what was typed. Answers with the document's list as stored."""
    tu = _tu_or_404(request, pk)
    form = NyAtgardForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"fel": {f: [str(e) for e in errs] for f, errs in form.errors.items()}}, status=400)
    try:
        atgard = atgarder_services.skapa_atgard(user=request.user, tjansteutlatande=tu, **form.cleaned_data)
    except PermissionDenied as exc:
        return JsonResponse({"fel": {"__all__": [str(exc)]}}, status=403)
    except ValidationError as exc:
        return JsonResponse(
            {"fel": exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}}, status=400
        )
    except services.WorkflowError as exc:
        return _register_svar(tu, {"fel": str(exc)}, status=400)
    return _register_svar(tu, {"atgard": traff_json(atgard)}, status=201)


def _register_svar(tu, data=None, status=200):
    """The document's åtgärder as stored, and its status: a change voids an attest, which the
    editor's page then says."""
    tu.refresh_from_db(fields=["status"])
    valda = [atgard_json(v.atgard) for v in _valda_atgarder(tu)]
    return JsonResponse(
        {
            **(data or {}),
            "valda": valda,
            "status": tu.get_status_display(),
            "utkast": tu.status == TjansteutlatandeStatus.UTKAST,
        },
        status=status,
    )


@require_safe
@login_required
def forhandsgranska(request, pk):
    tu = _tu_or_404(request, pk, ("arende",))
    return render(request, "arenden/forhandsgranska.html", {"tu": tu, "kan_redigera": tu.kan_andras_av(request.user)})


# The preview frame gets the PDF's own stylesheet plus forhandsvisning.css for what a browser
# needs where WeasyPrint's paged media does the work (footnotes stay where they are written, in
# brackets, instead of moving to the page foot); the document's own <style> holds only the
# PDF's @page rules (running header, page numbers), which a screen ignores, so it is left out
# and the frame needs no inline style at all.
PREVIEW_HEAD = '<link rel="stylesheet" href="{css}"><link rel="stylesheet" href="{preview_css}">'
INLINE_STYLE = re.compile(r"<style>.*?</style>", re.S)


@require_safe
@login_required
@xframe_options_sameorigin
def forhandsgranska_dokument(request, pk):
    """The HTML the PDF is made from, shown in the preview's frame. It holds only sanitised text;
    the policy still forbids scripts in it."""

    tu = _tu_or_404(request, pk, SNAPSHOT_SELECT)
    head = PREVIEW_HEAD.format(css=static("pdf/dokument.css"), preview_css=static("css/forhandsvisning.css"))
    html = INLINE_STYLE.sub("", pdf.document_html(tu)).replace("</head>", head + "</head>", 1)
    response = HttpResponse(html)
    response["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; frame-ancestors 'self'"
    )
    return response


@require_http_methods(["GET", "POST"])
@login_required
def skicka_for_attest(request, pk):
    """Choose the attestants, see what is missing, send; then see where it is in the chain."""
    tu = _tu_or_404(request, pk, SKICKA)
    form = SkickaForAttestForm(request.POST or None, forvalda=services.standard_attestanter(tu), tjansteutlatande=tu)
    if request.method == "POST" and form.is_valid():
        try:
            services.skicka_for_attest(tjansteutlatande=tu, user=request.user, attestanter=form.attestanter)
        except services.WorkflowError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Tjänsteutlåtandet är skickat för attest.")
            return redirect("arenden:skicka_for_attest", pk=tu.pk)
    kedja = (
        list(
            Attestering.objects.filter(tjansteutlatande=tu, omgang=tu.attest_omgang, makulerad__isnull=True)
            .select_related("attestant", "attestant__profil")
            .order_by("ordning")
        )
        if tu.attest_omgang
        else []
    )
    nasta = next((a for a in kedja if not a.attesterad), None)
    # A chain stored before the sending kept every author out of it can wait at someone who
    # wrote the text, who can neither attest nor return it: the step says so, and what to do.
    fast_hos, fast_hos_handlaggare = None, False
    if nasta is not None and nasta.attestant_id in tu.forfattar_ids():
        fast_hos = nasta.namn or person_label(nasta.attestant)
        fast_hos_handlaggare = tu.ar_handlaggare(nasta.attestant)
    return render(
        request,
        "arenden/skicka_for_attest.html",
        {
            "tu": tu,
            "form": form,
            "saknade": services.tomma_sektioner(tu),
            "kedja": [{"steg": a, "namn": a.namn or person_label(a.attestant), "aktuell": a == nasta} for a in kedja],
            "fast_hos": fast_hos,
            "fast_hos_handlaggare": fast_hos_handlaggare,
            "byt_attestant": BYT_ATTESTANT,
            # The form only to those the service lets send it; others read the chain and what is missing.
            "kan_skickas": tu.kan_skickas_av(request.user),
            "ar_utkast": tu.status == TjansteutlatandeStatus.UTKAST,
            "kan_redigera": tu.kan_andras_av(request.user),
            "kan_dra_tillbaka": tu.kan_dras_tillbaka_av(request.user),
            "aterremiss": _aterremiss(tu),
        },
    )


REDAN_UTKAST = "Tjänsteutlåtandet är redan ett utkast och kan ändras."


@require_http_methods(["GET", "POST"])
@login_required
def dra_tillbaka(request, pk):
    """Take a document back from attest unchanged, after a page that says what that does: the
    attestations given in this round are void, and the document is a draft in the editor again."""
    tu = _tu_or_404(request, pk, EDITOR)
    # Its handläggare's act alone (`services.dra_tillbaka_fran_attest` says why); the page offers
    # it to nobody else.
    if not (tu.ar_handlaggare(request.user) and request.user.has_perm(ANDRA_TJANSTEUTLATANDE)):
        raise PermissionDenied
    # Bound on every POST: an empty one (no round named) is refused, not taken for a GET.
    form = DraTillbakaForm(request.POST if request.method == "POST" else None, initial={"omgang": tu.attest_omgang})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                dragen = services.dra_tillbaka_fran_attest(
                    tjansteutlatande=tu, user=request.user, omgang=form.cleaned_data["omgang"]
                )
            except services.WorkflowError as exc:
                messages.error(request, str(exc))
                return redirect("arenden:skicka_for_attest", pk=tu.pk)
            if dragen:
                messages.success(
                    request,
                    "Tjänsteutlåtandet är draget tillbaka från attest och är ett utkast igen; texten är "
                    "oförändrad. Skicka det för attest när du vill, till samma eller andra attestanter.",
                )
            else:  # a second click, or an attestant returned it meanwhile
                messages.info(request, REDAN_UTKAST)
            return redirect("arenden:redigera", pk=tu.pk)
        status = 400
    elif tu.status == TjansteutlatandeStatus.UTKAST:
        messages.info(request, REDAN_UTKAST)
        return redirect("arenden:redigera", pk=tu.pk)
    elif tu.status != TjansteutlatandeStatus.TILL_ATTEST:
        messages.error(
            request, f"Tjänsteutlåtandet har status ”{tu.get_status_display()}” och kan inte dras tillbaka från attest."
        )
        return redirect("arenden:skicka_for_attest", pk=tu.pk)
    givna = [steg for steg in tu.current_attesteringar if steg.attesterad]
    return render(
        request,
        "arenden/dra_tillbaka.html",
        {"tu": tu, "form": form, "givna": givna, "kan_redigera": tu.kan_andras_av(request.user)},
        status=status,
    )


@require_safe
@login_required
def inloggad(request):
    """Asked by every officer page before it sends a form (sida.js): a form posted after the
    session ended would go to the login page, and what was typed in it with it. Logged out, the
    answer is the redirect to the login page, and the page keeps the form and says so."""
    return HttpResponse(status=204)


@login_required
def sok(request):
    """The diarium search: every logged-in user, within the cases they may see."""
    fraga = soktext(request.GET.get("q", "").strip())
    sida = sok_arenden(request.user, fraga, request.GET.get("sida")) if fraga else None
    forslag = _forslagslankar(request.user, fraga) if sida is not None and not sida.paginator.count else []
    return render(
        request,
        "arenden/sok.html",
        {
            "fraga": fraga,
            "sida": sida,
            "forslag": forslag,
            "fragor": _fragor(q=fraga),
            "max_traffar": RANKADE,
            "title": "Sök i diariet",
        },
    )


def _punkt_or_404(request, pk):
    """A meeting's item, for the case's readers and the secretaries of the meeting's nämnd;
    anyone else gets a 404. The files the nämnd's record keeps on an item are served through it."""
    synliga = Q(arende__in=Arende.objects.for_user(request.user))
    if is_namndsekreterare(request.user):
        synliga |= Q(sammantrade__in=Sammantrade.objects.for_user(request.user))
    return get_object_or_404(Foredragningspunkt.objects.filter(synliga).select_related("sammantrade", "arende"), pk=pk)


def lagrad_fil(request, fil, filnamn, *, as_attachment=False, **saknas):
    """A stored file (a PDF, or a meeting's zip) as a download named `filnamn`, its type read
    from the name, or, when the archive lacks it, the Swedish page of `saknas_i_arkivet` with
    `saknas`."""
    try:
        stored = fil.open("rb")
    except FileNotFoundError:
        return saknas_i_arkivet(request, fil, **saknas)
    return FileResponse(stored, as_attachment=as_attachment, filename=filnamn)


def saknas_i_arkivet(request, fil, *, vad, var, sammanhang, rubrik, meddelande):
    """A stored file (a skrivelse, a bilaga, a meeting's record or export) is not in the
    archive. The user is told in Swedish what lacks it (`sammanhang`: the case or the meeting
    item), and the error is logged for systemförvaltningen with the file's name (never shown on
    the page). A 503, not a 500: the server works, the archive is what needs restoring."""
    logger.error("%s saknas i arkivet: %s, fil %s", vad, var, fil.name)
    return render(
        request,
        "arenden/fil_saknas.html",
        {"sammanhang": sammanhang, "meddelande": meddelande, "title": rubrik},
        status=503,
    )


def _punktens_sammanhang(punkt):
    rad = f"{punkt.sammantrade}, punkt {punkt.nummer}"
    return f"{rad} · {punkt.diarienummer}" if punkt.diarienummer else rad


@login_required
def protokollsutdrag(request, pk):
    """A decided item's protokollsutdrag, for the secretaries and whoever may see the case."""
    punkt = _punkt_or_404(request, pk)
    if not punkt.protokollsutdrag:
        raise Http404("Protokollsutdraget finns inte.")
    return lagrad_fil(
        request,
        punkt.protokollsutdrag,
        punkt.protokollsutdrag.name.rsplit("/", 1)[-1],
        vad="Protokollsutdrag",
        var=f"punkt {punkt.pk}",
        sammanhang=_punktens_sammanhang(punkt),
        rubrik="Protokollsutdraget saknas",
        meddelande="Protokollsutdraget saknas i arkivet. Kontakta systemförvaltningen.",
    )


@require_safe
@login_required
def bordlagd_handling(request, pk):
    """A postponed item's document as the nämnd had it at that meeting (`Foredragningspunkt.handling`),
    for those who may fetch the item's protokollsutdrag. Only the kept copy: an item with none
    (not postponed, or postponed before migration 0019) has nothing here, and its document is
    the case's own download. The copy cannot be made again, so one missing from the archive is
    told as such, and logged."""
    punkt = _punkt_or_404(request, pk)
    if not punkt.handling:
        raise Http404("Punkten har ingen sparad handling.")
    try:
        data = pdf.punktens_pdf(punkt)
    except pdf.PdfError as error:
        return saknas_i_arkivet(
            request,
            punkt.handling,
            vad="Bordlagd handling",
            var=f"punkt {punkt.pk}",
            sammanhang=_punktens_sammanhang(punkt),
            rubrik="Handlingen saknas",
            meddelande=str(error),
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, pdf.handling_filename(punkt))
    return response


@login_required
def tjansteutlatande_pdf(request, pk):
    """The document as the nämnd receives it. Outside the user's cases it does not exist (404)."""
    tu = _tu_or_404(request, pk, ("arende",))
    try:
        data = pdf.render_tjansteutlatande(tu)
    except pdf.PdfError as error:
        return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("ladda_ned") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{pdf.pdf_filename(tu)}"'
    return response
