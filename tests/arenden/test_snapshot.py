from django.db import connection
from django.test.utils import CaptureQueriesContext

from arenden.models import Sektion, Tjansteutlatande
from arenden.snapshot import SNAPSHOT_PREFETCH, SNAPSHOT_SELECT, build_snapshot, snapshot_hash


def test_snapshot_holds_what_the_document_prints(demo):
    snap = build_snapshot(demo)
    assert snap["diarienummer"] == "SKHLM 2024/123"
    assert snap["handlaggare"] == {"namn": "Anette Petersson", "telefon": "08-50824420"}
    assert [s["rubrik"] for s in snap["sektioner"]][:2] == ["Förvaltningens förslag till beslut", "Sammanfattning"]
    assert [g["typ"] for g in snap["atgardsgrupper"]] == ["social", "situationell"]
    assert [len(g["punkter"]) for g in snap["atgardsgrupper"]] == [10, 7]
    assert snap["bilagor"][0]["titel"] == "Skrivelse; Öppna drogscener"


def test_hash_is_stable_and_follows_the_content(demo):
    snap = build_snapshot(demo)
    assert snapshot_hash(snap) == snapshot_hash(build_snapshot(demo)) == demo.innehall_hash
    snap["titel"] = "Annan titel"
    assert snapshot_hash(snap) != demo.innehall_hash


def test_snapshot_of_a_prefetched_batch_reads_nothing_more(demo):
    batch = list(Tjansteutlatande.objects.select_related(*SNAPSHOT_SELECT).prefetch_related(*SNAPSHOT_PREFETCH))
    with CaptureQueriesContext(connection) as ctx:
        snaps = [build_snapshot(tu) for tu in batch]
    assert len(ctx) == 0
    assert snaps[0] == build_snapshot(demo)


def test_one_documents_snapshot_reads_as_many_queries_whatever_its_length(demo):
    from arenden.models import TjansteutlatandeAtgard
    from tests.factories import AtgardFactory

    def queries():
        tu = Tjansteutlatande.objects.select_related(*SNAPSHOT_SELECT).get(pk=demo.pk)
        with CaptureQueriesContext(connection) as ctx:
            build_snapshot(tu)
        return len(ctx)

    before = queries()
    start = demo.atgard_val.count()
    for n in range(5):
        TjansteutlatandeAtgard.objects.create(tjansteutlatande=demo, atgard=AtgardFactory(), ordning=start + n + 1)
    assert queries() == before <= len(SNAPSHOT_PREFETCH) + 2
    # Nothing is kept on the instance: built again, it reads what changed in between.
    Sektion.objects.filter(pk=demo.sektioner.first().pk).update(text="<p>Ändrad sedan.</p>")
    assert "<p>Ändrad sedan.</p>" in [s["text"] for s in build_snapshot(demo)["sektioner"]]
