"""The åtgärder each ärende's documents report on, kept on the ärende's row beside its places
(PostgreSQL only; SQLite asks the documents each time).

An åtgärd's page lists the documents the user may see that report on it. Asked through the
åtgärd's links, every document that reports on it anywhere in the city cost three index probes
(the link, the document, its ärende's scope): some 900 documents for an åtgärd of the register
and 8.5 ms at 200,000 ärenden, growing with the diarium, for the officer's 15. With
`arenden_arende.atgarder` (the åtgärder's ids, sorted) and a GIN index on it, PostgreSQL finds
the cases that report on the åtgärd and those in the user's scope in two indexes and reads only
the rows in both.

Kept by the triggers that keep `drogscener` (0012): a document's åtgärd added, changed or
removed, and a new ärende (which `generate_volume` writes after its documents). An åtgärd's
places do not change which åtgärder a case reports on. Not a model field, as `drogscener`.
"""

from django.db import migrations

ATGARDER = """
CREATE OR REPLACE FUNCTION arenden_atgarder(a_id bigint) RETURNS bigint[]
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
  SELECT coalesce(array_agg(DISTINCT v.atgard_id ORDER BY v.atgard_id), '{}')
  FROM arenden_tjansteutlatandeatgard v
  JOIN arenden_tjansteutlatande t ON t.id = v.tjansteutlatande_id
  WHERE t.arende_id = a_id
$$;
"""


def triggerfunktioner(med_atgarder):
    """The bodies of 0012's two trigger functions that read a case's documents, keeping
    `atgarder` too or (back to 0012) only `drogscener`."""
    ny = "NEW.atgarder := arenden_atgarder(NEW.id);" if med_atgarder else ""
    satt = ", atgarder = arenden_atgarder(a.id)" if med_atgarder else ""
    return f"""
CREATE OR REPLACE FUNCTION arenden_arende_drogscener_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.drogscener := arenden_drogscener(NEW.id);
  {ny}
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION arenden_dokumentatgard_drogscener_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tu_id bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.tjansteutlatande_id ELSE NEW.tjansteutlatande_id END;
BEGIN
  IF NOT arenden_sokvektor_uppskjuten() THEN
    UPDATE arenden_arende a SET drogscener = arenden_drogscener(a.id){satt}
    FROM arenden_tjansteutlatande t WHERE t.id = tu_id AND a.id = t.arende_id;
  END IF;
  RETURN NULL;
END $$;
"""


def skapa(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE arenden_arende ADD COLUMN atgarder bigint[] NOT NULL DEFAULT '{}'")
    schema_editor.execute(ATGARDER, params=None)
    schema_editor.execute(triggerfunktioner(med_atgarder=True), params=None)  # several statements
    # Existing cases: only those whose documents report on an åtgärd.
    schema_editor.execute(
        "UPDATE arenden_arende a SET atgarder = arenden_atgarder(a.id) WHERE a.id IN ("
        " SELECT t.arende_id FROM arenden_tjansteutlatandeatgard v"
        " JOIN arenden_tjansteutlatande t ON t.id = v.tjansteutlatande_id)"
    )
    schema_editor.execute("CREATE INDEX arende_atgarder_gin ON arenden_arende USING gin (atgarder)")


def ta_bort(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(triggerfunktioner(med_atgarder=False), params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS arenden_atgarder(bigint)")
    schema_editor.execute("ALTER TABLE arenden_arende DROP COLUMN IF EXISTS atgarder")  # and its index


class Migration(migrations.Migration):
    dependencies = [("arenden", "0024_exportens_avtryck")]

    operations = [migrations.RunPython(skapa, ta_bort)]
