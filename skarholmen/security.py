"""Login throttling glue for django-axes: the client's address behind the city's reverse proxy,
and the Swedish page a locked-out user sees."""

from django.conf import settings
from django.shortcuts import render


def username(request, credentials):
    """The user name axes records for a failed login, cut to its column's 255 characters and
    without NUL (which PostgreSQL refuses): no real user name is longer, and a hostile one must
    give the login page's error, not a server error."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(raw).replace("\x00", "")[:255]


def client_ip(request):
    """The address of the browser, not of the proxy in front of the app.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For, so
    with TRUSTED_PROXY_COUNT = n the client is the n-th entry from the right; anything further
    left was written by the client itself and cannot be trusted. Without proxies (n = 0), or
    when the header is shorter than it must be, it is the connection's own address."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def lockout(request, response, credentials):
    """AXES_LOCKOUT_CALLABLE: a Swedish 429 page (the officers' and the admin's login alike)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"antal": settings.AXES_FAILURE_LIMIT, "minuter": minutes}
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
