"""PostgreSQL's plan for a query, for tests that an index serves it."""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def planner_off(*settings):
    """Tiny tables: with sequential scans (and `settings`) off, PostgreSQL's planner shows which
    indexes it could use."""
    settings = ("enable_seqscan", *settings)
    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET {setting} = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for setting in settings:
                cursor.execute(f"RESET {setting}")


def plan(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())
