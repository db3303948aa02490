"""An index on the places a case reports on, for a scope that is the whole diarium (PostgreSQL only).

The drogscen page lists the user's cases that report on the place (`arenden_arende.drogscener`,
0012), newest first, part by part of the user's scope from the scope's list indexes, which carry
the places (0013). A superuser's scope is the whole diarium, read in the list's order from
`arende_nyast_idx`: for a place that few cases report on, a new one say, PostgreSQL read the
whole diarium to find them (92 ms at 200,000 ärenden, growing with the diarium). With this index
it looks those few up and sorts them (0.1 ms); for a place that many cases report on it still
reads in the list's order and stops at the page, and the scope indexes still serve the others.
"""

from django.db import migrations


def skapa(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX arende_drogscener_gin ON arenden_arende USING gin (drogscener)")


def ta_bort(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX arende_drogscener_gin")


class Migration(migrations.Migration):
    dependencies = [("arenden", "0013_drogscen_index")]

    operations = [migrations.RunPython(skapa, ta_bort)]
