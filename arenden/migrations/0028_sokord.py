"""The diarium's words, for the search's "Menade du …?" (PostgreSQL only; SQLite offers words of
the ärendemeningar instead, arenden/search.py).

A word that is misspelt ("drogsener") or only part of a compound ("kameror" in
"trygghetskameror") finds nothing in the full-text search: its vector holds stemmed words, whole.
`arenden_sokord` holds every distinct word of the texts the vector is built from, as written (in
small letters), one row a word, and a GIN trigram index finds those most like a searched one.
It says nothing about which cases hold a word: the search checks each word it would offer with
the user's own scoped search (`search.sokforslag`), so a word of a case the user may not see, or
of none any more, is never offered. So a word is only ever added, never counted or deleted, and
the table stays as small as the diarium's vocabulary, whatever the number of cases.

Words are added by triggers on the same texts as `sokvektor` (0005), so every writer adds them:
an ärende's ärendemening, a skrivelse's title and text, a section's text and closing, an åtgärd's
title. `generate_volume` turns the per-text triggers off for a batch (as 0005's) and adds the
batch's words itself. Words of 4 to 40 letters only: shorter ones are not worth suggesting, and
numbers, mail addresses and HTML are not words.
"""

from django.db import migrations, models

FUNKTIONER = """
-- The words of a text as written: 'simple' keeps each in small letters, unstemmed, and leaves out
-- HTML tags and entities; numbers, mail addresses, paths and hyphenated compounds (whose parts
-- are words of their own) have a digit or a punctuation mark. Cut as the vector's sections are.
CREATE OR REPLACE FUNCTION arenden_ord(t text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT o FROM unnest(tsvector_to_array(to_tsvector('simple', left(coalesce(t, ''), 200000)))) o
  WHERE length(o) BETWEEN 4 AND 40 AND o !~ '[[:digit:][:punct:][:space:]]'
$$;

-- In the words' order, so that two transactions adding the same new words wait for each other
-- instead of deadlocking; a word already there costs one look in the primary key.
CREATE OR REPLACE FUNCTION arenden_spara_ord(t text) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO arenden_sokord (ord) SELECT o FROM arenden_ord(t) o ORDER BY o ON CONFLICT DO NOTHING
$$;

CREATE OR REPLACE FUNCTION arenden_sokord_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT arenden_sokvektor_uppskjuten() THEN
    IF TG_TABLE_NAME = 'arenden_arende' THEN
      PERFORM arenden_spara_ord(NEW.arendemening);
    ELSIF TG_TABLE_NAME = 'arenden_skrivelse' THEN
      PERFORM arenden_spara_ord(concat_ws(' ', NEW.titel, NEW.text));
    ELSIF TG_TABLE_NAME = 'arenden_sektion' THEN
      PERFORM arenden_spara_ord(concat_ws(' ', NEW.text, NEW.avslutning));
    ELSE
      PERFORM arenden_spara_ord(NEW.titel);
    END IF;
  END IF;
  RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER arende_sokord AFTER INSERT ON arenden_arende
  FOR EACH ROW EXECUTE FUNCTION arenden_sokord_trg();
CREATE TRIGGER arende_sokord_andrad AFTER UPDATE ON arenden_arende
  FOR EACH ROW WHEN (OLD.arendemening IS DISTINCT FROM NEW.arendemening)
  EXECUTE FUNCTION arenden_sokord_trg();
CREATE TRIGGER skrivelse_sokord AFTER INSERT ON arenden_skrivelse
  FOR EACH ROW EXECUTE FUNCTION arenden_sokord_trg();
CREATE TRIGGER skrivelse_sokord_andrad AFTER UPDATE ON arenden_skrivelse
  FOR EACH ROW WHEN (OLD.titel IS DISTINCT FROM NEW.titel OR OLD.text IS DISTINCT FROM NEW.text)
  EXECUTE FUNCTION arenden_sokord_trg();
CREATE TRIGGER sektion_sokord AFTER INSERT ON arenden_sektion
  FOR EACH ROW EXECUTE FUNCTION arenden_sokord_trg();
CREATE TRIGGER sektion_sokord_andrad AFTER UPDATE ON arenden_sektion
  FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text OR OLD.avslutning IS DISTINCT FROM NEW.avslutning)
  EXECUTE FUNCTION arenden_sokord_trg();
CREATE TRIGGER atgard_sokord AFTER INSERT ON atgarder_atgard
  FOR EACH ROW EXECUTE FUNCTION arenden_sokord_trg();
CREATE TRIGGER atgard_sokord_andrad AFTER UPDATE ON atgarder_atgard
  FOR EACH ROW WHEN (OLD.titel IS DISTINCT FROM NEW.titel)
  EXECUTE FUNCTION arenden_sokord_trg();
"""

TRIGGER_TABELLER = {
    "arende_sokord": "arenden_arende",
    "arende_sokord_andrad": "arenden_arende",
    "skrivelse_sokord": "arenden_skrivelse",
    "skrivelse_sokord_andrad": "arenden_skrivelse",
    "sektion_sokord": "arenden_sektion",
    "sektion_sokord_andrad": "arenden_sektion",
    "atgard_sokord": "atgarder_atgard",
    "atgard_sokord_andrad": "atgarder_atgard",
}

# The words of every text there is (also used by the tests, to check that the triggers and
# generate_volume left none out).
FYLL = """
INSERT INTO arenden_sokord (ord)
SELECT DISTINCT o FROM (
  SELECT arendemening FROM arenden_arende
  UNION ALL SELECT concat_ws(' ', titel, text) FROM arenden_skrivelse
  UNION ALL SELECT concat_ws(' ', text, avslutning) FROM arenden_sektion
  UNION ALL SELECT titel FROM atgarder_atgard
) texter (t), arenden_ord(t) o
ON CONFLICT DO NOTHING
"""


def skapa(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE TABLE arenden_sokord (ord text PRIMARY KEY)")
    schema_editor.execute(FUNKTIONER, params=None)  # several statements: no parameters
    schema_editor.execute(TRIGGERS, params=None)
    # Existing texts: one pass over the diarium, the index built after.
    schema_editor.execute(FYLL)
    schema_editor.execute("CREATE INDEX arenden_sokord_trgm ON arenden_sokord USING gin (ord gin_trgm_ops)")


def ta_bort(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for namn, tabell in TRIGGER_TABELLER.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {namn} ON {tabell}")
    for funktion in ("arenden_sokord_trg()", "arenden_spara_ord(text)", "arenden_ord(text)"):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {funktion}")
    schema_editor.execute("DROP TABLE IF EXISTS arenden_sokord")


class Migration(migrations.Migration):
    dependencies = [
        ("arenden", "0027_historik_per_anvandare"),
        ("atgarder", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Sokord",
            fields=[
                ("ord", models.TextField(primary_key=True, serialize=False, verbose_name="ord")),
            ],
            options={
                "verbose_name": "sökord",
                "verbose_name_plural": "sökord",
                "db_table": "arenden_sokord",
                "managed": False,
            },
        ),
        migrations.RunPython(skapa, ta_bort),
    ]
