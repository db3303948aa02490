from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from . import pdf
from .models import Arende, Foredragningspunkt, Tjansteutlatande, is_namndsekreterare
from .search import MAX_TRAFFAR, sok_arenden


@login_required
def sok(request):
    """The diarium search: every logged-in user, within the cases they may see."""
    fraga = request.GET.get("q", "").strip()
    traffar = sok_arenden(request.user, fraga) if fraga else []
    return render(
        request,
        "arenden/sok.html",
        {"fraga": fraga, "traffar": traffar, "max_traffar": MAX_TRAFFAR, "title": "Sök i diariet"},
    )


@login_required
def protokollsutdrag(request, pk):
    """A decided item's protokollsutdrag, for the secretaries and whoever may see the case."""
    synliga = Q(arende__in=Arende.objects.for_user(request.user))
    if is_namndsekreterare(request.user):
        synliga = Q()
    punkt = get_object_or_404(Foredragningspunkt.objects.filter(synliga).select_related("sammantrade"), pk=pk)
    if not punkt.protokollsutdrag:
        raise Http404("Protokollsutdraget finns inte.")
    return FileResponse(
        punkt.protokollsutdrag.open("rb"),
        content_type="application/pdf",
        filename=punkt.protokollsutdrag.name.rsplit("/", 1)[-1],
    )


@login_required
def tjansteutlatande_pdf(request, pk):
    """The document as the nämnd receives it. Outside the user's cases it does not exist (404)."""
    tu = get_object_or_404(Tjansteutlatande.objects.for_user(request.user).select_related("arende"), pk=pk)
    try:
        data = pdf.render_tjansteutlatande(tu)
    except pdf.PdfError as error:
        return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("ladda_ned") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{pdf.pdf_filename(tu)}"'
    return response
