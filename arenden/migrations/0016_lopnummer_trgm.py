from django.db import migrations

# The running numbers as text, for a search of digits in the diarienummer
# (arenden.models.diarienummer_haller): "lopnummer"::text is the expression Django writes for
# Cast("lopnummer", TextField()), and a GIN index with gin_trgm_ops over it answers the LIKE.
# PostgreSQL only, as the other trigram indexes (0004).
INDEX = "arenden_arende_lopnummer_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {INDEX} ON arenden_arende USING gin (("lopnummer"::text) gin_trgm_ops)'
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("arenden", "0015_sammantrade_ordning"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
