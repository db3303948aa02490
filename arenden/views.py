from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from . import pdf
from .models import Tjansteutlatande


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
