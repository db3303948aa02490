from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from arenden.constants import ArendeStatus, Roll, TjansteutlatandeStatus
from arenden.models import (
    Arende,
    Attestering,
    DiarieSekvens,
    Foredragningspunkt,
    Sektion,
    Skrivelse,
    Tjansteutlatande,
)
from arenden.snapshot import SNAPSHOT_PREFETCH, SNAPSHOT_SELECT, build_snapshot, snapshot_hash
from tests.arenden.test_demo_data import historik_utan_orsak

# The document's states in the order real use passes through them, as its history shows them.
TU_STATES = {
    TjansteutlatandeStatus.UTKAST: ["utkast"],
    TjansteutlatandeStatus.TILL_ATTEST: ["utkast", "till_attest"],
    TjansteutlatandeStatus.ATTESTERAD: ["utkast", "till_attest", "attesterad"],
    TjansteutlatandeStatus.BESLUTAD: ["utkast", "till_attest", "attesterad", "pa_foredragningslista", "beslutad"],
}


def test_volume_generator_writes_cases_with_history_and_gapless_numbers(db):
    out = StringIO()
    call_command("generate_volume", arenden=120, batch=50, atgarder=30, stdout=out)
    assert "ärenden/s" in out.getvalue()
    assert Arende.objects.count() == 120
    assert Arende.history.filter(history_type="+").count() == 120
    assert Skrivelse.history.filter(history_type="+").count() == Skrivelse.objects.count() == 120
    # Every series the generator used runs 1..N without holes, and the system continues after it.
    for serie in DiarieSekvens.objects.all():
        numbers = sorted(
            Arende.objects.filter(forvaltning__diarieprefix=serie.prefix, ar=serie.ar).values_list(
                "lopnummer", flat=True
            )
        )
        assert numbers == list(range(1, serie.senaste + 1))
    assert Sektion.history.count() == Sektion.objects.count() > 0
    # The people it creates have their roles in their history, as the admin leaves it.
    folk = get_user_model().objects.filter(username__startswith="vol-")
    assert folk.count() == 13 * 30
    for user in folk.filter(username__endswith="-3"):
        senaste = user.history.order_by("history_id").last()
        assert (
            {rad.group.name for rad in senaste.groups.all()}
            == {g.name for g in user.groups.all()}
            == {
                Roll.ATTESTANT,
                Roll.NAMNDSEKRETERARE,
                Roll.REGISTRATOR,
            }
        )
        assert senaste.is_staff
    assert Attestering.objects.exclude(attesterad=None).filter(innehall_hash="").count() == 0


def test_volume_history_passes_through_each_state_in_order(db):
    call_command("generate_volume", arenden=120, batch=50, atgarder=30, stdout=StringIO())
    seen = set()
    for tu in Tjansteutlatande.objects.all():
        rows = list(tu.history.order_by("history_date", "history_id"))
        assert [r.status for r in rows] == TU_STATES[tu.status]
        assert [r.history_type for r in rows] == ["+"] + ["~"] * (len(rows) - 1)
        assert rows[0].innehall is None
        seen.add(tu.status)
    assert seen == set(TU_STATES)
    for arende in Arende.objects.all():
        last = arende.history.order_by("-history_date", "-history_id").first()
        assert last.status == arende.status


def test_volume_frozen_content_is_what_the_database_holds(db):
    """The generator freezes content from its own batch data; it must equal what
    build_snapshot reads back from the stored rows, as the attest service would freeze it."""
    call_command("generate_volume", arenden=60, batch=25, atgarder=30, stdout=StringIO())
    tus = (
        Tjansteutlatande.objects.exclude(innehall=None)
        .select_related(*SNAPSHOT_SELECT)
        .prefetch_related(*SNAPSHOT_PREFETCH)
    )
    assert tus.exists()
    for tu in tus:
        assert tu.innehall == build_snapshot(tu)
        assert tu.innehall_hash == snapshot_hash(tu.innehall)
        for a in tu.attesteringar.exclude(attesterad=None):
            assert a.innehall_hash == tu.innehall_hash
            assert a.history.order_by("history_id").last().history_user_id == a.attestant_id


def test_decided_cases_are_on_a_meeting_with_the_decision(db):
    call_command("generate_volume", arenden=80, atgarder=30, stdout=StringIO())
    beslutade = Tjansteutlatande.objects.filter(status=TjansteutlatandeStatus.BESLUTAD)
    assert beslutade.exists()
    for tu in beslutade.select_related("arende"):
        punkt = Foredragningspunkt.objects.select_related("sammantrade").get(tjansteutlatande=tu)
        assert punkt.arende_id == tu.arende_id and punkt.is_decided and punkt.beslut
        assert punkt.sammantrade.namnd_id == tu.namnd_id
        assert punkt.sammantrade.datum == tu.sammantradesdatum
        assert tu.arende.status == ArendeStatus.AVSLUTAT
    # Each meeting numbers its items 1..N.
    for mote_id in Foredragningspunkt.objects.values_list("sammantrade", flat=True).distinct():
        nummer = sorted(Foredragningspunkt.objects.filter(sammantrade=mote_id).values_list("nummer", flat=True))
        assert nummer == list(range(1, len(nummer) + 1))


def test_volume_generator_can_run_twice(db):
    call_command("generate_volume", arenden=40, atgarder=30, stdout=StringIO())
    call_command("generate_volume", arenden=40, atgarder=30, stdout=StringIO())
    assert Arende.objects.count() == 80
    assert Arende.objects.values("diarienummer").distinct().count() == 80
    # Meetings of the first run are joined, not repeated, by the second.
    for mote_id in Foredragningspunkt.objects.values_list("sammantrade", flat=True).distinct():
        nummer = sorted(Foredragningspunkt.objects.filter(sammantrade=mote_id).values_list("nummer", flat=True))
        assert nummer == list(range(1, len(nummer) + 1))


def test_volume_generator_runs_beside_the_demo_data(demo):
    call_command("generate_volume", arenden=130, atgarder=30, stdout=StringIO())
    assert Arende.objects.filter(forvaltning__diarieprefix="SKHLM").count() > 4
    assert Arende.objects.get(diarienummer="SKHLM 2024/123").tjansteutlatanden.get() == demo


def test_volume_people_work_in_their_roles(db, django_user_model):
    from arenden.models import may_attest
    from atgarder.models import Atgard

    call_command("generate_volume", arenden=200, atgarder=30, stdout=StringIO())
    skhlm = Arende.objects.filter(forvaltning__diarieprefix="SKHLM")
    officer = django_user_model.objects.get(username="vol-skhlm-4")
    synliga = Arende.objects.for_user(officer)
    assert synliga.exists()
    assert set(synliga) == set(skhlm.filter(avdelning=officer.profil.avdelning) | skhlm.filter(handlaggare=officer))
    chef = django_user_model.objects.get(username="vol-skhlm-1")
    assert chef.is_staff and may_attest(chef)
    assert set(Arende.objects.for_user(chef)) == set(skhlm)
    # Every åtgärd works at a place, and its history has the link.
    assert not Atgard.objects.filter(titel__startswith="Åtgärd ", drogscener=None).exists()
    atgard = Atgard.objects.filter(titel__startswith="Åtgärd ").first()
    assert atgard.history.first().drogscener.exists()


def test_generated_cases_are_found_by_the_search(db, django_user_model):
    """The generator writes with COPY and the per-text search triggers off; each case's vector
    must still be exactly what the triggers give a case written through the services."""
    from django.db import connection

    from arenden.search import sok_arenden

    call_command("generate_volume", arenden=60, batch=25, atgarder=30, stdout=StringIO())
    diarie = django_user_model.objects.create_superuser("diarie", "diarie@example.org", "x")
    tu = Tjansteutlatande.objects.filter(atgard_val__isnull=False).select_related("arende").first()
    titel = tu.atgard_val.select_related("atgard").first().atgard.titel
    assert tu.arende.diarienummer in [a.diarienummer for a in sok_arenden(diarie, titel)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE sokvektor IS NULL), "
                "count(*) FILTER (WHERE sokvektor IS DISTINCT FROM arenden_sokvektor(id, arendemening)), "
                "count(*) FILTER (WHERE drogscener IS DISTINCT FROM arenden_drogscener(id)), "
                "count(*) FILTER (WHERE drogscener <> '{}'), "
                "count(*) FILTER (WHERE atgarder IS DISTINCT FROM arenden_atgarder(id)), "
                "count(*) FILTER (WHERE atgarder <> '{}') "
                "FROM arenden_arende"
            )
            utan_sok, felaktiga_sok, felaktiga_platser, med_platser, felaktiga_atgarder, med_atgarder = (
                cursor.fetchone()
            )
            assert (utan_sok, felaktiga_sok, felaktiga_platser, felaktiga_atgarder) == (0, 0, 0, 0)
            assert med_platser > 0 and med_atgarder > 0


def _series_are_gapless():
    for serie in DiarieSekvens.objects.all():
        numbers = sorted(
            Arende.objects.filter(forvaltning__diarieprefix=serie.prefix, ar=serie.ar).values_list(
                "lopnummer", flat=True
            )
        )
        assert numbers == list(range(1, serie.senaste + 1)), serie.prefix


@pytest.mark.django_db(transaction=True)
def test_volume_generator_writes_from_several_processes_on_postgresql(roller):
    """Committed data, as outside tests: each process takes its own förvaltningar's series."""
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="kräver PostgreSQL"):
            call_command("generate_volume", arenden=10, workers=2, stdout=StringIO())
        return
    out = StringIO()
    call_command("generate_volume", arenden=260, batch=40, atgarder=30, workers=2, stdout=out)
    assert "Klart: 260 ärenden" in out.getvalue()
    assert Arende.objects.count() == 260
    assert Arende.history.filter(history_type="+").count() == 260
    assert Arende.objects.values("diarienummer").distinct().count() == 260
    # Both processes wrote: every stadsdel has cases, in every series numbered without a hole.
    assert Arende.objects.values("forvaltning").distinct().count() == 13
    _series_are_gapless()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM arenden_arende WHERE sokvektor IS NULL")
        assert cursor.fetchone() == (0,)


def test_several_processes_are_refused_inside_a_transaction(db):
    with pytest.raises(CommandError, match="transaktion|PostgreSQL"):
        call_command("generate_volume", arenden=10, workers=2, stdout=StringIO())
    assert not Arende.objects.exists()


def test_series_follow_the_committed_cases_when_a_batch_fails(db, monkeypatch):
    from arenden.management.commands import generate_volume

    original, calls = generate_volume.Command.create_batch, []

    def fail_on_third(self, n):
        calls.append(n)
        if len(calls) == 3:
            raise RuntimeError("avbrott")
        return original(self, n)

    monkeypatch.setattr(generate_volume.Command, "create_batch", fail_on_third)
    with pytest.raises(RuntimeError):
        call_command("generate_volume", arenden=100, batch=25, atgarder=30, stdout=StringIO())
    assert Arende.objects.count() == 50
    assert DiarieSekvens.objects.exists()
    _series_are_gapless()


def test_the_generator_is_refused_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="körs inte med PRODUCTION=true"):
        call_command("generate_volume", arenden=10, stdout=StringIO())
    assert not Arende.objects.exists()


def test_the_series_continue_after_the_generator_without_going_back(db):
    from arenden.management.commands.generate_volume import Command

    DiarieSekvens.objects.create(prefix="SKHLM", ar=2024, senaste=9)  # a registration meanwhile
    generator = Command()
    generator.counters = {("SKHLM", 2024): 5, ("SKHLM", 2023): 40}
    generator.update_series()
    assert dict(DiarieSekvens.objects.values_list("ar", "senaste")) == {2024: 9, 2023: 40}


def test_every_history_row_of_the_generator_gives_a_reason(db):
    """The nämnder, förvaltningar and mall the generator creates are in their history as
    volume data, as its people, places and cases are: a row without a reason would read as
    someone's edit of the organisation."""
    call_command("generate_volume", arenden=20, batch=20, atgarder=5, stdout=StringIO())
    assert historik_utan_orsak() == {}


@pytest.mark.postgresql  # PostgreSQL's planner statistics
def test_the_generator_leaves_statistics_for_the_size_it_ended_at(db):
    # The statistics of the last doubling left the histories out: a case's history page was
    # planned as if the case had thousands of rows there, and took a second instead of 10 ms.
    def tuples(table):
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            return cursor.fetchone()[0]

    call_command("generate_volume", arenden=40, batch=20, atgarder=30, stdout=StringIO())
    assert tuples("arenden_historicalarende") == Arende.history.count()
    assert tuples("arenden_arende") == Arende.objects.count()
