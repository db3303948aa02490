"""Django's database sessions (SESSION_ENGINE), with the read that every request makes written
out once: the ORM built and compiled the same one-row query anew for each request, which cost
the app some three times what the database takes to answer it. Writing, expiry and
`clearsessions` are Django's own."""

import functools

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def load(self):
        connection = connections[router.db_for_read(self.model)]
        with connection.cursor() as cursor:
            cursor.execute(
                _lasfraga(self.model, connection.alias),
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            rad = cursor.fetchone()
        if rad is None:
            # Unknown or expired: as Django's store, forget the key so that a new one is made.
            self._session_key = None
            return {}
        return self.decode(rad[0])


@functools.cache
def _lasfraga(model, alias):
    quote = connections[alias].ops.quote_name
    falt = model._meta.get_field
    return (
        f"SELECT {quote(falt('session_data').column)} FROM {quote(model._meta.db_table)} "
        f"WHERE {quote(falt('session_key').column)} = %s AND {quote(falt('expire_date').column)} > %s"
    )
