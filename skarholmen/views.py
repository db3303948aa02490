"""Project-wide views: the officers' login, and the error views."""

import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.template import loader
from django.views.defaults import server_error as django_server_error

from .auth import InloggningsForm

# Seconds after which the browser (or a client) may try again while the database restarts.
RETRY_AFTER = 30


def database_unavailable(request):
    """503 with a Swedish page when the database cannot be reached (restart, failover, network).
    The page needs no database: no user, no session, no context processors."""
    headers = {"Retry-After": str(RETRY_AFTER)}
    if request.content_type == "application/json":
        # The editor saves sections with JSON and shows the "fel" text beside the section.
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
