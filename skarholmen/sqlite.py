"""SQLite, the embedded database of `make run` and the tests, told to compare letters as Swedish
users do. Its LIKE (Django's contains and icontains) ignores case for ASCII letters only, so a
search for "öppna" did not find "Öppna drogscener". Each connection gets a LIKE that folds the
case of every letter; PostgreSQL's searches have their own indexes and are not touched.

Its `lower()` likewise lowers ASCII letters only, and the register's unique names are an index
over `lower(...)` (atgarder.models.namnnyckel): each connection gets a `lower` that lowers every
letter, as PostgreSQL's does, so that "SÄTRA centrum" meets "Sätra centrum". A tool that writes
to the file without it (the sqlite3 shell) would index such a name under another key."""

import functools
import re

from django.db.backends.signals import connection_created


@functools.lru_cache(maxsize=256)
def _monster(pattern, escape):
    """A LIKE pattern as a regular expression over case-folded text."""
    delar, i = [], 0
    while i < len(pattern):
        tecken = pattern[i]
        if escape and tecken == escape and i + 1 < len(pattern):
            delar.append(re.escape(pattern[i + 1].casefold()))
            i += 2
            continue
        delar.append(".*" if tecken == "%" else "." if tecken == "_" else re.escape(tecken.casefold()))
        i += 1
    return re.compile("".join(delar), re.DOTALL)


def _like(pattern, value, escape=None):
    if pattern is None or value is None:
        return None
    return _monster(pattern, escape).fullmatch(str(value).casefold()) is not None


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _pa_sqlite(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("like", 2, _like, deterministic=True)
        connection.connection.create_function("like", 3, _like, deterministic=True)
        connection.connection.create_function("lower", 1, _lower, deterministic=True)


connection_created.connect(_pa_sqlite, dispatch_uid="skarholmen.sqlite.like")
