"""Which cases report on a drogscen or an åtgärd, after every kind of change that decides it. On
PostgreSQL this reads the ärende's `drogscener` and `atgarder` columns, kept by triggers
(migrations 0012 and 0025); on SQLite it asks the documents' åtgärder. Both must give the same
answer."""

import pytest
from django.db import connection

from arenden.models import Arende, TjansteutlatandeAtgard
from tests.factories import ArendeFactory, AtgardFactory, DrogscenFactory, TjansteutlatandeFactory


def rapporterande(scen):
    return set(Arende.objects.rapporterar_om(scen).values_list("pk", flat=True))


def rapporterar_pa(atgard):
    return set(Arende.objects.rapporterar_pa(atgard).values_list("pk", flat=True))


def test_a_documents_atgard_added_changed_and_removed(db):
    satra, vart = DrogscenFactory(), DrogscenFactory()
    vid_satra, vid_vart = AtgardFactory(), AtgardFactory()
    vid_satra.drogscener.add(satra)
    vid_vart.drogscener.add(vart)
    tu = TjansteutlatandeFactory(arende=ArendeFactory())
    annat = TjansteutlatandeFactory(arende=ArendeFactory())
    assert rapporterande(satra) == set()

    val = tu.atgard_val.create(atgard=vid_satra)
    assert rapporterande(satra) == rapporterar_pa(vid_satra) == {tu.arende_id}
    assert rapporterande(vart) == rapporterar_pa(vid_vart) == set()

    val.atgard = vid_vart
    val.save()
    assert rapporterande(satra) == rapporterar_pa(vid_satra) == set()
    assert rapporterande(vart) == rapporterar_pa(vid_vart) == {tu.arende_id}

    annat.atgard_val.create(atgard=vid_vart)
    TjansteutlatandeAtgard.objects.filter(pk=val.pk).delete()
    assert rapporterande(vart) == rapporterar_pa(vid_vart) == {annat.arende_id}


def test_an_atgards_places_added_and_removed(db):
    satra, skarholmen = DrogscenFactory(), DrogscenFactory()
    atgard = AtgardFactory()
    tu = TjansteutlatandeFactory(arende=ArendeFactory())
    tu.atgard_val.create(atgard=atgard)
    assert rapporterande(satra) == set()

    assert rapporterar_pa(atgard) == {tu.arende_id}  # an åtgärd without places is reported on too

    atgard.drogscener.add(satra, skarholmen)
    assert rapporterande(satra) == rapporterande(skarholmen) == {tu.arende_id}

    atgard.drogscener.remove(satra)
    assert rapporterande(satra) == set()
    assert rapporterande(skarholmen) == {tu.arende_id}


def test_a_case_with_two_documents_reports_while_either_does(db):
    scen = DrogscenFactory()
    atgard = AtgardFactory()
    atgard.drogscener.add(scen)
    arende = ArendeFactory()
    forsta, andra = TjansteutlatandeFactory(arende=arende), TjansteutlatandeFactory(arende=arende)
    forsta.atgard_val.create(atgard=atgard)
    andra.atgard_val.create(atgard=atgard)
    forsta.delete()
    assert rapporterande(scen) == rapporterar_pa(atgard) == {arende.pk}
    andra.delete()
    assert rapporterande(scen) == rapporterar_pa(atgard) == set()


@pytest.mark.postgresql  # the column exists on PostgreSQL only
def test_the_column_holds_each_place_once_in_order(db):
    forsta, andra = DrogscenFactory(), DrogscenFactory()
    a, b = AtgardFactory(), AtgardFactory()
    a.drogscener.add(andra, forsta)
    b.drogscener.add(andra)
    tu = TjansteutlatandeFactory(arende=ArendeFactory())
    tu.atgard_val.create(atgard=a)
    tu.atgard_val.create(atgard=b)
    with connection.cursor() as cursor:
        cursor.execute("SELECT drogscener, atgarder FROM arenden_arende WHERE id = %s", [tu.arende_id])
        assert cursor.fetchone() == (sorted([forsta.pk, andra.pk]), sorted([a.pk, b.pk]))
