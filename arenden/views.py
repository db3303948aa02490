from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render

from .models import Arende, Foredragningspunkt, is_namndsekreterare
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
