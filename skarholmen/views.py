"""Project-wide error views."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.defaults import server_error as django_server_error

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
