"""Project-wide views: the officers' login and logout, and the error views."""

import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.template import loader
from django.utils.formats import number_format
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import server_error as django_server_error

from .auth import InloggningsForm

# Seconds after which the browser (or a client) may try again while the database restarts.
RETRY_AFTER = 30


def database_unavailable(request):
    """503 with a Swedish page when the database cannot be reached (restart, failover, network).
    The page needs no database: no user, no session, no context processors."""
    headers = {"Retry-After": str(RETRY_AFTER)}
    if _vill_ha_json(request):
        # The editor shows the "fel" text beside the section or the new åtgärd's form.
        message = "Databasen går inte att nå just nu. Din text finns kvar; försök spara igen om en halv minut."
        return JsonResponse({"fel": message}, status=503, headers=headers)
    return HttpResponse(loader.get_template("503.html").render(), status=503, headers=headers)


def server_error(request):
    """handler500: Django calls it while handling the exception, from any view or middleware, so
    a database outage anywhere in the request becomes a 503 the user can wait out."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        return database_unavailable(request)
    return django_server_error(request)


def for_stor_begaran():
    """Why a request larger than Django takes (DATA_UPLOAD_MAX_MEMORY_SIZE) is refused, with the
    limit in megabytes and in pages: a page of running text is some 3,000 characters, sent as
    HTML in which each å, ä and ö takes two bytes, so about 3,500 bytes."""
    grans = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if grans >= 2**20:
        storlek = f"{grans / 2**20:.1f}".removesuffix(".0").replace(".", ",") + " MB"
    else:
        storlek = f"{max(grans // 2**10, 1)} kB"
    sidor = max(grans // 3500, 1)
    if sidor >= 100:
        sidor -= sidor % 100
    antal = number_format(sidor, force_grouping=True)  # 1 000: the Swedish format's grouping
    return (
        f"Texten är för lång för att sparas: servern tar emot högst {storlek} åt gången, omkring {antal} "
        f"{'sida' if sidor == 1 else 'sidor'} text. Korta texten eller lägg den långa delen som bilaga."
    )


def _vill_ha_json(request):
    """The editor's requests: its sections and åtgärder go as JSON, and a new åtgärd as a form
    (multipart) that asks for JSON back. A browser's own page request prefers HTML."""
    return (
        request.content_type == "application/json"
        or request.get_preferred_type(["text/html", "application/json"]) == "application/json"
    )


def bad_request(request, exception):
    """handler400. A body past DATA_UPLOAD_MAX_MEMORY_SIZE is refused by Django where it is first
    read, which for a form is CsrfViewMiddleware looking for the token, before any view runs: so
    it is answered here, for every page alike, and with 413. The editor gets its shape ({"fel": …}),
    which it shows beside what was typed (still in its form, as nothing was stored); a page gets
    the same words on a page of its own. Any other 400 is Django's, with the Swedish 400.html."""
    if not isinstance(exception, RequestDataTooBig):
        return django_bad_request(request, exception)
    if _vill_ha_json(request):
        return JsonResponse({"fel": for_stor_begaran()}, status=413)
    return HttpResponse(loader.get_template("413.html").render({"fel": for_stor_begaran()}), status=413)


class Inloggning(LoginView):
    """The officers' login (Django's, with a Swedish page). A user already signed in goes on to
    where `next` leads; a `next` that leads back to this page leads to the start page instead:
    Django answered it with a server error ("Redirection loop for authenticated user")."""

    template_name = "registration/login.html"
    authentication_form = InloggningsForm
    redirect_authenticated_user = True

    def get_redirect_url(self):
        url = super().get_redirect_url()
        return "" if url and urlsplit(url).path == resolve_url(settings.LOGIN_URL) else url


class Utloggning(LogoutView):
    """The officers' logout, sent with POST by every page's button. An address opened with GET (an
    old bookmark, a typed address) asks first, in Swedish, where Django answered with an empty
    405; someone already logged out goes to the login page, which after the button says so (on a
    shared computer the next person sees that the last one is gone)."""

    http_method_names = ["get", "post", "options"]

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # After the logout, which empties the session: the message goes in the new one.
        messages.success(request, "Du är utloggad.")
        return response

    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(settings.LOGIN_URL)
        return render(request, "registration/logga_ut.html")
