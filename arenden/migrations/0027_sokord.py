"""The words the diarium holds, for the search's "Menade du …?" (PostgreSQL only; SQLite offers
words of the ärendemeningar instead, arenden/search.py).

A word that is misspelt ("drogsener") or only part of a compound ("kameror" in
"trygghetskameror") finds nothing in the full-text search: its vector holds stemmed words, whole.
The words as written are kept in `arenden_sokord`, one row per word and group of cases (its
förvaltning, avdelning and handläggare, the columns every condition of a user's scope is on) with
the number of the group's cases that hold it, and a GIN trigram index finds the words most like
a searched one. Kept per group, not for the whole diarium, so that a user is offered only words of
cases they may see.

Kept by triggers, as `sokvektor` (0005), so that every writer keeps it right:
- each case's words (`arenden_arende.sokord`, sorted, not a model field) are read from the same
  texts as its vector, whenever the vector is written for a changed text (0005's triggers SET it)
  or the ärendemening changes, and for a new case;
- statement triggers with transition tables add and take away the changed cases' words in the
  groups' counts, so a batch of `generate_volume` (COPY) is counted once per word and group, and
  an edit that adds one word changes one row.
Words of 4 to 40 letters only: shorter ones are not worth suggesting, and numbers, mail addresses
and paths are not words.
"""

from django.db import migrations, models

import django.db.models.deletion
from django.conf import settings

FUNKTIONER = """
-- The same texts, and the same cuts, as arenden_sokvektor (0005), without stemming: 'simple'
-- keeps each word as written, in small letters, and leaves out HTML tags and entities.
CREATE OR REPLACE FUNCTION arenden_sokord(a_id bigint, a_arendemening text) RETURNS text[]
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
  SELECT coalesce(array_agg(o ORDER BY o), '{}')
  FROM unnest(tsvector_to_array(
         to_tsvector('simple', coalesce(a_arendemening, ''))
      || to_tsvector('simple', left(coalesce((
           SELECT string_agg(coalesce(s.titel, '') || ' ' || coalesce(s.text, ''), ' ')
           FROM arenden_skrivelse s WHERE s.arende_id = a_id), ''), 100000))
      || to_tsvector('simple', left(coalesce((
           SELECT string_agg(coalesce(k.text, '') || ' ' || coalesce(k.avslutning, ''), ' ')
           FROM arenden_sektion k JOIN arenden_tjansteutlatande t ON t.id = k.tjansteutlatande_id
           WHERE t.arende_id = a_id), ''), 200000))
      || to_tsvector('simple', left(coalesce((
           SELECT string_agg(g.titel, ' ')
           FROM arenden_tjansteutlatandeatgard v
           JOIN arenden_tjansteutlatande t ON t.id = v.tjansteutlatande_id
           JOIN atgarder_atgard g ON g.id = v.atgard_id
           WHERE t.arende_id = a_id), ''), 100000))
  )) o
  WHERE length(o) BETWEEN 4 AND 40 AND o !~ '[[:digit:][:punct:][:space:]]'
$$;

CREATE OR REPLACE FUNCTION arenden_arende_sokord_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.sokord := arenden_sokord(NEW.id, NEW.arendemening);
  RETURN NEW;
END $$;

"""

RAKNARE = """
-- The changed cases' words, taken from their old groups and added to their new ones. Rows are
-- upserted in one order, so that two saves of cases of one group wait for each other instead of
-- deadlocking; a word no case of the group holds any more is deleted.
CREATE OR REPLACE FUNCTION arenden_sokord_raknare_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tomma bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    {upsert_ny}
  ELSIF TG_OP = 'DELETE' THEN
    {upsert_borttagen}
  ELSE
    {upsert_andrad}
  END IF;
  IF tomma IS NOT NULL THEN
    DELETE FROM arenden_sokord WHERE id = ANY(tomma) AND antal <= 0;
  END IF;
  RETURN NULL;
END $$;
"""

# One statement for each kind of change: the transition tables differ, the counting does not.
UPSERT = """
    WITH andring (ord, forvaltning_id, avdelning_id, handlaggare_id, delta) AS ({andring}),
    skrivna AS (
      INSERT INTO arenden_sokord AS s (ord, forvaltning_id, avdelning_id, handlaggare_id, antal)
      SELECT ord, forvaltning_id, avdelning_id, handlaggare_id, sum(delta) FROM andring
      GROUP BY ord, forvaltning_id, avdelning_id, handlaggare_id
      HAVING sum(delta) <> 0
      ORDER BY ord, forvaltning_id, avdelning_id, handlaggare_id
      ON CONFLICT (ord, forvaltning_id, (coalesce(avdelning_id, 0)), (coalesce(handlaggare_id, 0)))
      DO UPDATE SET antal = s.antal + EXCLUDED.antal
      RETURNING s.id, s.antal
    )
    SELECT array_agg(id) INTO tomma FROM skrivna WHERE antal <= 0;"""

NY = "SELECT o, n.forvaltning_id, n.avdelning_id, n.handlaggare_id, 1 FROM nya n, unnest(n.sokord) o"
BORTTAGEN = "SELECT o, g.forvaltning_id, g.avdelning_id, g.handlaggare_id, -1 FROM gamla g, unnest(g.sokord) o"
# Only the cases whose words or group changed: a status change moves no word.
ANDRAD = """
      WITH andrade AS (
        SELECT g.sokord AS g_ord, g.forvaltning_id AS g_fv, g.avdelning_id AS g_avd, g.handlaggare_id AS g_hl,
               n.sokord AS n_ord, n.forvaltning_id AS n_fv, n.avdelning_id AS n_avd, n.handlaggare_id AS n_hl
        FROM gamla g JOIN nya n ON n.id = g.id
        WHERE n.sokord IS DISTINCT FROM g.sokord OR n.forvaltning_id IS DISTINCT FROM g.forvaltning_id
           OR n.avdelning_id IS DISTINCT FROM g.avdelning_id OR n.handlaggare_id IS DISTINCT FROM g.handlaggare_id
      )
      SELECT o, n_fv, n_avd, n_hl, 1 FROM andrade, unnest(n_ord) o
      UNION ALL
      SELECT o, g_fv, g_avd, g_hl, -1 FROM andrade, unnest(g_ord) o"""

RAKNARE = RAKNARE.format(
    upsert_ny=UPSERT.format(andring=NY),
    upsert_borttagen=UPSERT.format(andring=BORTTAGEN),
    upsert_andrad=UPSERT.format(andring=ANDRAD),
)

TRIGGERS = """
CREATE TRIGGER arende_sokord BEFORE INSERT ON arenden_arende
  FOR EACH ROW EXECUTE FUNCTION arenden_arende_sokord_trg();
-- 0005's triggers SET sokvektor exactly when a text of the case changed; Django's save SETs the
-- ärendemening every time, so that one is compared.
CREATE TRIGGER arende_sokord_text BEFORE UPDATE OF sokvektor ON arenden_arende
  FOR EACH ROW EXECUTE FUNCTION arenden_arende_sokord_trg();
CREATE TRIGGER arende_sokord_arendemening BEFORE UPDATE OF arendemening ON arenden_arende
  FOR EACH ROW WHEN (OLD.arendemening IS DISTINCT FROM NEW.arendemening)
  EXECUTE FUNCTION arenden_arende_sokord_trg();
CREATE TRIGGER arende_sokord_ny AFTER INSERT ON arenden_arende
  REFERENCING NEW TABLE AS nya FOR EACH STATEMENT EXECUTE FUNCTION arenden_sokord_raknare_trg();
CREATE TRIGGER arende_sokord_andrad AFTER UPDATE ON arenden_arende
  REFERENCING OLD TABLE AS gamla NEW TABLE AS nya FOR EACH STATEMENT EXECUTE FUNCTION arenden_sokord_raknare_trg();
CREATE TRIGGER arende_sokord_borttagen AFTER DELETE ON arenden_arende
  REFERENCING OLD TABLE AS gamla FOR EACH STATEMENT EXECUTE FUNCTION arenden_sokord_raknare_trg();
"""

TRIGGER_NAMN = [
    "arende_sokord",
    "arende_sokord_text",
    "arende_sokord_arendemening",
    "arende_sokord_ny",
    "arende_sokord_andrad",
    "arende_sokord_borttagen",
]


def skapa(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE arenden_arende ADD COLUMN sokord text[] NOT NULL DEFAULT '{}'")
    schema_editor.execute(
        """CREATE TABLE arenden_sokord (
             id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
             ord text NOT NULL,
             forvaltning_id bigint NOT NULL,
             avdelning_id bigint,
             handlaggare_id integer,
             antal integer NOT NULL
           )"""
    )
    schema_editor.execute(FUNKTIONER, params=None)  # several statements: no parameters
    schema_editor.execute(RAKNARE, params=None)
    # Existing cases: one pass over the diarium, then the groups' counts in one.
    schema_editor.execute("UPDATE arenden_arende SET sokord = arenden_sokord(id, arendemening)")
    schema_editor.execute(
        "INSERT INTO arenden_sokord (ord, forvaltning_id, avdelning_id, handlaggare_id, antal)"
        " SELECT o, forvaltning_id, avdelning_id, handlaggare_id, count(*)"
        " FROM arenden_arende, unnest(sokord) o GROUP BY 1, 2, 3, 4"
    )
    schema_editor.execute(
        "CREATE UNIQUE INDEX arenden_sokord_grupp ON arenden_sokord"
        " (ord, forvaltning_id, (coalesce(avdelning_id, 0)), (coalesce(handlaggare_id, 0)))"
    )
    schema_editor.execute("CREATE INDEX arenden_sokord_trgm ON arenden_sokord USING gin (ord gin_trgm_ops)")
    schema_editor.execute(TRIGGERS, params=None)


def ta_bort(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for namn in TRIGGER_NAMN:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {namn} ON arenden_arende")
    for funktion in ("arenden_sokord_raknare_trg()", "arenden_arende_sokord_trg()", "arenden_sokord(bigint, text)"):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {funktion}")
    schema_editor.execute("DROP TABLE IF EXISTS arenden_sokord")
    schema_editor.execute("ALTER TABLE arenden_arende DROP COLUMN IF EXISTS sokord")


class Migration(migrations.Migration):
    dependencies = [
        ("arenden", "0026_diarienummer_ascii_siffror"),
        ("atgarder", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Sokord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("ord", models.TextField(verbose_name="ord")),
                ("antal", models.PositiveIntegerField(verbose_name="antal ärenden")),
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
