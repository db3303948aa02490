"""One stored full-text vector per ärende (PostgreSQL only; SQLite searches with LIKE).

Until now each source table had its own GIN expression index (0003), so a search had to find
the matching sections, skrivelser and åtgärder and then join them back to their ärenden: at
200,000 ärenden that took 0.5–1.2 s. Now `arenden_arende.sokvektor` holds the whole case's
words, weighted by where they stand (A ärendemening, B skrivelser, C the sections' text, D the
titles of the åtgärder reported on), and one GIN index answers the search.

The column is kept by triggers, not by the application, so every writer keeps it right without
knowing about search: the services, the admin, a history revert, a fixture, a data migration,
a plain `QuerySet.update()`. `generate_volume` switches the source tables' triggers off for its
own transaction (`SET LOCAL skarholmen.sokvektor_uppskjuten = 'on'`) and writes each batch's
ärenden last, when their row trigger sees all their texts at once.

The column is not a model field: Django never reads or writes it (lists would otherwise fetch
every case's vector), and simple_history does not copy it into the history table.
"""

from django.db import migrations

SPRAK = "swedish"

FUNKTIONER = f"""
-- Each part is cut (100,000 characters; the sections 200,000, some 30,000 words, several times a
-- long tjänsteutlåtande) so that no case's vector can pass PostgreSQL's 1 MB limit, which would
-- refuse the save that wrote the text.
-- It reads one case's rows, for which an index scan is always right; without the SET the plan
-- it keeps per connection can be one made while the tables were small (a new installation, the
-- first batches of generate_volume) and scan whole tables for every case.
CREATE OR REPLACE FUNCTION arenden_sokvektor(a_id bigint, a_arendemening text) RETURNS tsvector
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
  SELECT setweight(to_tsvector('{SPRAK}', coalesce(a_arendemening, '')), 'A')
      || setweight(to_tsvector('{SPRAK}', left(coalesce((
           SELECT string_agg(coalesce(s.titel, '') || ' ' || coalesce(s.text, ''), ' ')
           FROM arenden_skrivelse s WHERE s.arende_id = a_id), ''), 100000)), 'B')
      || setweight(to_tsvector('{SPRAK}', left(coalesce((
           SELECT string_agg(coalesce(k.text, '') || ' ' || coalesce(k.avslutning, ''), ' ')
           FROM arenden_sektion k JOIN arenden_tjansteutlatande t ON t.id = k.tjansteutlatande_id
           WHERE t.arende_id = a_id), ''), 200000)), 'C')
      || setweight(to_tsvector('{SPRAK}', left(coalesce((
           SELECT string_agg(g.titel, ' ')
           FROM arenden_tjansteutlatandeatgard v
           JOIN arenden_tjansteutlatande t ON t.id = v.tjansteutlatande_id
           JOIN atgarder_atgard g ON g.id = v.atgard_id
           WHERE t.arende_id = a_id), ''), 100000)), 'D')
$$;

CREATE OR REPLACE FUNCTION arenden_sokvektor_uppskjuten() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('skarholmen.sokvektor_uppskjuten', true), '') = 'on'
$$;

CREATE OR REPLACE FUNCTION arenden_uppdatera_sokvektor(a_id bigint) RETURNS void
LANGUAGE sql AS $$
  UPDATE arenden_arende SET sokvektor = arenden_sokvektor(id, arendemening) WHERE id = a_id
$$;

-- The ärende's own row: a new case, or a changed ärendemening.
CREATE OR REPLACE FUNCTION arenden_arende_sokvektor_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.arendemening IS DISTINCT FROM OLD.arendemening THEN
    NEW.sokvektor := arenden_sokvektor(NEW.id, NEW.arendemening);
  END IF;
  RETURN NEW;
END $$;

-- A skrivelse added, changed or removed.
CREATE OR REPLACE FUNCTION arenden_skrivelse_sokvektor_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT arenden_sokvektor_uppskjuten() THEN
    IF TG_OP <> 'INSERT' THEN PERFORM arenden_uppdatera_sokvektor(OLD.arende_id); END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.arende_id IS DISTINCT FROM OLD.arende_id) THEN
      PERFORM arenden_uppdatera_sokvektor(NEW.arende_id);
    END IF;
  END IF;
  RETURN NULL;
END $$;

-- A section or an åtgärd of a document added, changed or removed: the document's ärende.
CREATE OR REPLACE FUNCTION arenden_dokumentdel_sokvektor_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tu_id bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.tjansteutlatande_id ELSE NEW.tjansteutlatande_id END;
BEGIN
  IF NOT arenden_sokvektor_uppskjuten() THEN
    PERFORM arenden_uppdatera_sokvektor(t.arende_id) FROM arenden_tjansteutlatande t WHERE t.id = tu_id;
  END IF;
  RETURN NULL;
END $$;

-- An åtgärd renamed: every ärende whose document reports on it.
CREATE OR REPLACE FUNCTION atgarder_atgard_sokvektor_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT arenden_sokvektor_uppskjuten() THEN
    UPDATE arenden_arende a SET sokvektor = arenden_sokvektor(a.id, a.arendemening)
    WHERE a.id IN (
      SELECT t.arende_id FROM arenden_tjansteutlatandeatgard v
      JOIN arenden_tjansteutlatande t ON t.id = v.tjansteutlatande_id
      WHERE v.atgard_id = NEW.id
    );
  END IF;
  RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER arende_sokvektor BEFORE INSERT OR UPDATE OF arendemening ON arenden_arende
  FOR EACH ROW EXECUTE FUNCTION arenden_arende_sokvektor_trg();
CREATE TRIGGER skrivelse_sokvektor AFTER INSERT OR DELETE ON arenden_skrivelse
  FOR EACH ROW EXECUTE FUNCTION arenden_skrivelse_sokvektor_trg();
CREATE TRIGGER skrivelse_sokvektor_andrad AFTER UPDATE ON arenden_skrivelse
  FOR EACH ROW WHEN (OLD.titel IS DISTINCT FROM NEW.titel OR OLD.text IS DISTINCT FROM NEW.text
                     OR OLD.arende_id IS DISTINCT FROM NEW.arende_id)
  EXECUTE FUNCTION arenden_skrivelse_sokvektor_trg();
CREATE TRIGGER sektion_sokvektor AFTER INSERT OR DELETE ON arenden_sektion
  FOR EACH ROW EXECUTE FUNCTION arenden_dokumentdel_sokvektor_trg();
CREATE TRIGGER sektion_sokvektor_andrad AFTER UPDATE ON arenden_sektion
  FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text OR OLD.avslutning IS DISTINCT FROM NEW.avslutning)
  EXECUTE FUNCTION arenden_dokumentdel_sokvektor_trg();
CREATE TRIGGER tjansteutlatandeatgard_sokvektor AFTER INSERT OR DELETE ON arenden_tjansteutlatandeatgard
  FOR EACH ROW EXECUTE FUNCTION arenden_dokumentdel_sokvektor_trg();
CREATE TRIGGER tjansteutlatandeatgard_sokvektor_andrad AFTER UPDATE ON arenden_tjansteutlatandeatgard
  FOR EACH ROW WHEN (OLD.atgard_id IS DISTINCT FROM NEW.atgard_id)
  EXECUTE FUNCTION arenden_dokumentdel_sokvektor_trg();
CREATE TRIGGER atgard_sokvektor AFTER UPDATE ON atgarder_atgard
  FOR EACH ROW WHEN (OLD.titel IS DISTINCT FROM NEW.titel)
  EXECUTE FUNCTION atgarder_atgard_sokvektor_trg();
"""

GAMLA_INDEX = {
    "arenden_arende_fts": ("arenden_arende", "COALESCE(\"arendemening\", '')"),
    "arenden_skrivelse_fts": ("arenden_skrivelse", "COALESCE(\"titel\", '') || ' ' || COALESCE(\"text\", '')"),
    "arenden_sektion_fts": ("arenden_sektion", "COALESCE(\"text\", '') || ' ' || COALESCE(\"avslutning\", '')"),
    "atgarder_atgard_fts": ("atgarder_atgard", "COALESCE(\"titel\", '')"),
}

TRIGGER_TABELLER = {
    "arende_sokvektor": "arenden_arende",
    "skrivelse_sokvektor": "arenden_skrivelse",
    "skrivelse_sokvektor_andrad": "arenden_skrivelse",
    "sektion_sokvektor": "arenden_sektion",
    "sektion_sokvektor_andrad": "arenden_sektion",
    "tjansteutlatandeatgard_sokvektor": "arenden_tjansteutlatandeatgard",
    "tjansteutlatandeatgard_sokvektor_andrad": "arenden_tjansteutlatandeatgard",
    "atgard_sokvektor": "atgarder_atgard",
}


def skapa(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE arenden_arende ADD COLUMN sokvektor tsvector")
    schema_editor.execute(FUNKTIONER, params=None)  # several statements: no parameters
    schema_editor.execute(TRIGGERS, params=None)
    # Existing cases: one pass over the diarium (about 2 minutes for 200,000 on two cores).
    schema_editor.execute("UPDATE arenden_arende SET sokvektor = arenden_sokvektor(id, arendemening)")
    schema_editor.execute("CREATE INDEX arenden_arende_sokvektor ON arenden_arende USING gin (sokvektor)")
    for namn in GAMLA_INDEX:
        schema_editor.execute(f"DROP INDEX IF EXISTS {namn}")


def ta_bort(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for namn, tabell in TRIGGER_TABELLER.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {namn} ON {tabell}")
    for funktion in (
        "atgarder_atgard_sokvektor_trg()",
        "arenden_dokumentdel_sokvektor_trg()",
        "arenden_skrivelse_sokvektor_trg()",
        "arenden_arende_sokvektor_trg()",
        "arenden_uppdatera_sokvektor(bigint)",
        "arenden_sokvektor_uppskjuten()",
        "arenden_sokvektor(bigint, text)",
    ):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {funktion}")
    schema_editor.execute("ALTER TABLE arenden_arende DROP COLUMN IF EXISTS sokvektor")
    for namn, (tabell, uttryck) in GAMLA_INDEX.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {namn} ON {tabell} USING gin (to_tsvector('{SPRAK}'::regconfig, {uttryck}))"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("arenden", "0004_ordning_och_sokindex"),
        ("atgarder", "0001_initial"),
    ]

    operations = [migrations.RunPython(skapa, ta_bort)]
