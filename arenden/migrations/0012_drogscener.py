"""The drogscener each ärende's documents report on, kept on the ärende's row (PostgreSQL only;
SQLite asks the åtgärder each time).

A drogscen page lists the user's ärenden whose documents report on an åtgärd at the place.
Asked through the åtgärder, every one of the user's cases cost two index probes (its document,
then the document's åtgärder): some 4,300 cases and 50 ms at 200,000 ärenden, 21,000 and 130 ms
at a million. With `arenden_arende.drogscener` (the places' ids, sorted) the check is a test on
the row the list reads anyway.

As `sokvektor` (0005), the column is kept by triggers, so every writer keeps it right: a
document's åtgärd added, changed or removed; an åtgärd's places changed; a new ärende (which
`generate_volume` writes after its documents, with the per-row triggers off for its batch).
It is not a model field, so Django never reads it and simple_history does not copy it.
"""

from django.db import migrations

FUNKTIONER = """
CREATE OR REPLACE FUNCTION arenden_drogscener(a_id bigint) RETURNS bigint[]
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
  SELECT coalesce(array_agg(DISTINCT p.drogscen_id ORDER BY p.drogscen_id), '{}')
  FROM arenden_tjansteutlatandeatgard v
  JOIN arenden_tjansteutlatande t ON t.id = v.tjansteutlatande_id
  JOIN atgarder_atgard_drogscener p ON p.atgard_id = v.atgard_id
  WHERE t.arende_id = a_id
$$;

-- A new case: its documents may already be there (generate_volume writes them first).
CREATE OR REPLACE FUNCTION arenden_arende_drogscener_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.drogscener := arenden_drogscener(NEW.id);
  RETURN NEW;
END $$;

-- An åtgärd of a document added, changed or removed: the document's ärende.
CREATE OR REPLACE FUNCTION arenden_dokumentatgard_drogscener_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tu_id bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.tjansteutlatande_id ELSE NEW.tjansteutlatande_id END;
BEGIN
  IF NOT arenden_sokvektor_uppskjuten() THEN
    UPDATE arenden_arende a SET drogscener = arenden_drogscener(a.id)
    FROM arenden_tjansteutlatande t WHERE t.id = tu_id AND a.id = t.arende_id;
  END IF;
  RETURN NULL;
END $$;

-- An åtgärd's place added or removed: every ärende whose document reports on the åtgärd.
CREATE OR REPLACE FUNCTION atgarder_atgardsplats_drogscener_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  atgard bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.atgard_id ELSE NEW.atgard_id END;
BEGIN
  UPDATE arenden_arende a SET drogscener = arenden_drogscener(a.id)
  WHERE a.id IN (
    SELECT t.arende_id FROM arenden_tjansteutlatandeatgard v
    JOIN arenden_tjansteutlatande t ON t.id = v.tjansteutlatande_id
    WHERE v.atgard_id = atgard
  );
  RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER arende_drogscener BEFORE INSERT ON arenden_arende
  FOR EACH ROW EXECUTE FUNCTION arenden_arende_drogscener_trg();
CREATE TRIGGER tjansteutlatandeatgard_drogscener AFTER INSERT OR DELETE ON arenden_tjansteutlatandeatgard
  FOR EACH ROW EXECUTE FUNCTION arenden_dokumentatgard_drogscener_trg();
CREATE TRIGGER tjansteutlatandeatgard_drogscener_andrad AFTER UPDATE ON arenden_tjansteutlatandeatgard
  FOR EACH ROW WHEN (OLD.atgard_id IS DISTINCT FROM NEW.atgard_id
                     OR OLD.tjansteutlatande_id IS DISTINCT FROM NEW.tjansteutlatande_id)
  EXECUTE FUNCTION arenden_dokumentatgard_drogscener_trg();
CREATE TRIGGER atgardsplats_drogscener AFTER INSERT OR DELETE OR UPDATE ON atgarder_atgard_drogscener
  FOR EACH ROW EXECUTE FUNCTION atgarder_atgardsplats_drogscener_trg();
"""

TRIGGER_TABELLER = {
    "arende_drogscener": "arenden_arende",
    "tjansteutlatandeatgard_drogscener": "arenden_tjansteutlatandeatgard",
    "tjansteutlatandeatgard_drogscener_andrad": "arenden_tjansteutlatandeatgard",
    "atgardsplats_drogscener": "atgarder_atgard_drogscener",
}


def skapa(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE arenden_arende ADD COLUMN drogscener bigint[] NOT NULL DEFAULT '{}'")
    schema_editor.execute(FUNKTIONER, params=None)  # several statements: no parameters
    schema_editor.execute(TRIGGERS, params=None)
    # Existing cases: only those whose documents report on an åtgärd at a place.
    schema_editor.execute(
        "UPDATE arenden_arende a SET drogscener = arenden_drogscener(a.id) WHERE a.id IN ("
        " SELECT t.arende_id FROM arenden_tjansteutlatandeatgard v"
        " JOIN arenden_tjansteutlatande t ON t.id = v.tjansteutlatande_id"
        " JOIN atgarder_atgard_drogscener p ON p.atgard_id = v.atgard_id)"
    )


def ta_bort(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for namn, tabell in TRIGGER_TABELLER.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {namn} ON {tabell}")
    for funktion in (
        "atgarder_atgardsplats_drogscener_trg()",
        "arenden_dokumentatgard_drogscener_trg()",
        "arenden_arende_drogscener_trg()",
        "arenden_drogscener(bigint)",
    ):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {funktion}")
    schema_editor.execute("ALTER TABLE arenden_arende DROP COLUMN IF EXISTS drogscener")


class Migration(migrations.Migration):
    dependencies = [
        ("arenden", "0011_arende_status_per_forvaltning_index"),
        ("atgarder", "0001_initial"),
    ]

    operations = [migrations.RunPython(skapa, ta_bort)]
