from io import StringIO

from django.core.management import call_command

from arenden.models import Arende, Attestering, DiarieSekvens, Sektion, Tjansteutlatande
from arenden.snapshot import snapshot_hash


def test_volume_generator_writes_cases_with_history_and_gapless_numbers(db):
    out = StringIO()
    call_command("generate_volume", arenden=120, batch=50, stdout=out)
    assert "ärenden/s" in out.getvalue()
    assert Arende.objects.count() == 120
    assert Arende.history.filter(history_type="+").count() == 120
    # Every series the generator used runs 1..N without holes, and the system continues after it.
    for serie in DiarieSekvens.objects.all():
        numbers = sorted(
            Arende.objects.filter(forvaltning__diarieprefix=serie.prefix, ar=serie.ar).values_list(
                "lopnummer", flat=True
            )
        )
        assert numbers == list(range(1, serie.senaste + 1))
    tus = Tjansteutlatande.objects.exclude(innehall=None)
    assert tus.exists()
    for tu in tus[:10]:
        assert snapshot_hash(tu.innehall) == tu.innehall_hash
        assert tu.history.count() == 2  # created, then sent for attest
    assert Sektion.history.count() == Sektion.objects.count() > 0
    assert Attestering.objects.exclude(attesterad=None).filter(innehall_hash="").count() == 0


def test_volume_generator_can_run_twice(db):
    call_command("generate_volume", arenden=20, stdout=StringIO())
    call_command("generate_volume", arenden=20, stdout=StringIO())
    assert Arende.objects.count() == 40
    assert Arende.objects.values("diarienummer").distinct().count() == 40


def test_volume_generator_runs_beside_the_demo_data(demo):
    call_command("generate_volume", arenden=30, stdout=StringIO())
    assert Arende.objects.filter(forvaltning__diarieprefix="SKHLM").count() > 4
    assert Arende.objects.get(diarienummer="SKHLM 2024/123").tjansteutlatanden.get() == demo
