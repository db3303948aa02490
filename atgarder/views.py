"""The measure register as officers see it: drogscener with their åtgärder and the ärenden
that reported on them, each åtgärd with its history, and the editor's search and create."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from arenden.models import Arende, Tjansteutlatande, TjansteutlatandeAtgard, dolda_arenden
from arenden.urls_per_id import url_per_id

from .constants import AtgardTyp
from .forms import AtgardSokForm
from .models import Atgard, Drogscen

# Fields whose change the åtgärd page lists; m2m changes show as their own history rows.
HISTORIKFALT = ("typ", "titel", "beskrivning", "period_start", "period_slut")
SOKTRAFFAR = 30
ARENDEN_PER_SIDA = 50
ARENDEN_GRANS = 1000  # the ärenden a drogscen page counts and pages through
DOKUMENT_GRANS = 1000  # the documents an åtgärd page counts and pages through


@require_safe
@login_required
def drogscener(request):
    scener = Drogscen.objects.annotate(antal_atgarder=Count("atgarder")).order_by("namn")
    return render(request, "atgarder/drogscener.html", {"drogscener": scener})


def _atgardsrader(scen):
    """The place's åtgärder as the page shows them: finished rows, with actors and outputs as
    text and the links made from one `reverse()`. Going through the prefetched relations from
    the template (twice a row, a new queryset each time) and a `{% url %}` per row cost more
    than the queries did."""
    atgarder = list(
        scen.atgarder.prefetch_related(
            Prefetch("aktorer", to_attr="aktorlista"), Prefetch("utfall", to_attr="utfallslista")
        ).order_by("titel", "pk")
    )
    atgard_url = url_per_id("atgarder:atgard")
    return [
        {
            "pk": a.pk,
            "typ": a.typ,
            "titel": a.titel,
            "url": atgard_url(a.pk),
            "period": a.period,
            "aktorer": ", ".join(ak.namn for ak in a.aktorlista),
            "utfall": [f"{u.antal} {u.enhet} {u.ar}" for u in a.utfallslista],
        }
        for a in atgarder
    ]


@require_safe
@login_required
def drogscen(request, pk):
    """A drogscen: its åtgärder, grouped social/situational, and the ärenden that reported on it."""
    scen = get_object_or_404(Drogscen, pk=pk)
    rader = _atgardsrader(scen)
    grupper = [{"typ": typ, "namn": typ.label, "atgarder": [a for a in rader if a["typ"] == typ]} for typ in AtgardTyp]
    return render(
        request,
        "atgarder/drogscen.html",
        {"drogscen": scen, "grupper": grupper, **_rapporterande_arenden(request, scen)},
    )


def _rapporterande_arenden(request, scen):
    """A page of the user's ärenden whose documents report on an åtgärd at the place, newest first.

    One query reads the ids of at most ARENDEN_GRANS + 1 of them (`nyaste_sida`), which gives
    both the count (shown as "fler än 1000" past the limit, as the admin's lists do) and the
    page, whose rows are then read by id: counting and paging with the whole join twice made the page cost
    0.4 s at 200,000 ärenden. Past the limit the newest ARENDEN_GRANS can be browsed; the
    diarium search finds the older ones."""
    # Each of the user's cases, read newest first part by part of their scope (`nyaste_ids`), is
    # checked on its own row (`rapporterar_om`): through its documents' åtgärder that was two
    # index probes a case, and a join through the place made PostgreSQL read every document
    # that reports on any of its åtgärder (20,000 at 200,000 ärenden) into a hash first.
    sida, begransad = Arende.objects.rapporterar_om(scen).nyaste_sida(
        request.user, request.GET.get("sida"), ARENDEN_PER_SIDA, ARENDEN_GRANS
    )
    rader = Arende.objects.only("diarienummer", "arendemening", "status").in_bulk(list(sida.object_list))
    arende_url = url_per_id("arenden:arende")
    return {
        "sida": sida,
        "arenden": [{"arende": rader[pk], "url": arende_url(pk)} for pk in sida.object_list if pk in rader],
        "arenden_begransad": begransad,
        "arenden_grans": ARENDEN_GRANS,
    }


def _historik(atgard):
    """History rows newest first, each with the fields it changed against the row before it."""
    rader = list(atgard.history.select_related("history_user").order_by("history_date", "history_id"))
    ut, forra = [], None
    for rad in rader:
        andrade = []
        if forra is not None:
            andrade = [
                Atgard._meta.get_field(f).verbose_name for f in HISTORIKFALT if getattr(rad, f) != getattr(forra, f)
            ]
        ut.append({"rad": rad, "andrade": andrade})
        forra = rad
    return list(reversed(ut))


@require_safe
@login_required
def atgard(request, pk):
    """An åtgärd with its places, actors, outputs, the documents that used it and its history."""
    synliga = Arende.objects.for_user(request.user).order_by("-ar")
    atgard = get_object_or_404(
        Atgard.objects.prefetch_related(
            "aktorer", "drogscener", "utfall", Prefetch("citerade_arenden", queryset=synliga, to_attr="citerade")
        ),
        pk=pk,
    )
    # The cases the åtgärd cites that the user may not see are counted, not named.
    dolda = atgard.citerade_arenden.count() - len(atgard.citerade)
    dolda_citerade = dolda_arenden(dolda) if dolda else ""
    return render(
        request,
        "atgarder/atgard.html",
        {
            "atgard": atgard,
            "dolda_citerade": dolda_citerade,
            "historik": _historik(atgard),
            **_redovisande_dokument(request, atgard),
        },
    )


def _redovisande_dokument(request, atgard):
    """A page of the documents the user may see that report on the åtgärd, newest first, paged
    as the drogscen page pages its ärenden: the ids of at most DOKUMENT_GRANS + 1 give both the
    count ("fler än 1000" past the limit) and the page, whose rows are then read by id. Listed
    whole, an åtgärd of the register held some 950 of them at 200,000 ärenden.

    The documents are looked for only in the cases in the user's scope that report on the
    åtgärd (`rapporterar_pa`: on PostgreSQL two indexes, the scope's and the åtgärder's, read
    together), not by probing the scope of every document in the city that reports on it."""
    arenden = Arende.objects.for_user(request.user).rapporterar_pa(atgard).values("pk")
    ids = list(
        Tjansteutlatande.objects.filter(
            arende__in=arenden,
            pk__in=TjansteutlatandeAtgard.objects.filter(atgard=atgard).values("tjansteutlatande_id"),
        )
        .order_by("-skapad", "-pk")
        .values_list("pk", flat=True)[: DOKUMENT_GRANS + 1]
    )
    sida = Paginator(ids[:DOKUMENT_GRANS], ARENDEN_PER_SIDA).get_page(request.GET.get("sida"))
    rader = (
        Tjansteutlatande.objects.select_related("arende")
        .only("titel", "status", "arende__diarienummer")
        .in_bulk(list(sida.object_list))
    )
    arende_url = url_per_id("arenden:arende")
    pa_sidan = [rader[pk] for pk in sida.object_list if pk in rader]
    return {
        "sida": sida,
        "dokument": [{"tu": tu, "url": arende_url(tu.arende_id)} for tu in pa_sidan],
        "dokument_begransad": len(ids) > DOKUMENT_GRANS,
        "dokument_grans": DOKUMENT_GRANS,
    }


def atgard_json(atgard):
    """An åtgärd as the editor lists it among the document's chosen ones."""
    return {
        "id": atgard.pk,
        "titel": atgard.titel,
        "typ": atgard.typ,
        "typ_namn": atgard.get_typ_display(),
        "period": atgard.period,
        "beskrivning": atgard.beskrivning[:300],
    }


def traff_json(atgard):
    """An åtgärd as a hit in the register, with the aktörer and drogscener it is searched by."""
    return {
        **atgard_json(atgard),
        "aktorer": [a.namn for a in atgard.aktorer.all()],
        "drogscener": [d.namn for d in atgard.drogscener.all()],
    }


@require_safe
@login_required
def sok(request):
    """The editor's search over the register by text, typ, drogscen and aktör."""
    form = AtgardSokForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"fel": "Ogiltig sökning."}, status=400)
    qs = Atgard.objects.all()
    data = form.cleaned_data
    # Each word typed, in the title or the description: officers type a few words ("ordningsvakter
    # skärholmen"), not a phrase, and an asterisk for "any ending" is left out.
    for ord_ in data["q"].replace("*", " ").split():
        qs = qs.filter(Q(titel__icontains=ord_) | Q(beskrivning__icontains=ord_))
    if data["typ"]:
        qs = qs.filter(typ=data["typ"])
    if data["drogscen"]:
        qs = qs.filter(drogscener=data["drogscen"])
    if data["aktor"]:
        qs = qs.filter(aktorer=data["aktor"])
    traffar = list(qs.distinct().prefetch_related("aktorer", "drogscener").order_by("typ", "titel")[: SOKTRAFFAR + 1])
    return JsonResponse({"traffar": [traff_json(a) for a in traffar[:SOKTRAFFAR]], "fler": len(traffar) > SOKTRAFFAR})
