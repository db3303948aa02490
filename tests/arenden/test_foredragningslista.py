import datetime
import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction

from arenden import services
from arenden.models import Foredragningspunkt, Sammantrade
from tests.arenden.meeting import attesterat_dokument, sammantrade, sekreterare
from tests.factories import TjansteutlatandeFactory, UserFactory


@pytest.fixture
def sekr(db):
    return sekreterare()


def test_attested_document_goes_on_the_list_with_the_meetings_date(sekr):
    mote = sammantrade()
    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)

    tu.refresh_from_db()
    assert punkt.nummer == 1
    assert tu.status == "pa_foredragningslista"
    assert tu.sammantradesdatum == mote.datum
    assert tu.arende.status == "pa_foredragningslista"
    senaste = tu.history.first()
    assert senaste.history_user == sekr
    assert "föredragningslistan" in senaste.history_change_reason
    assert punkt.history.first().history_user == sekr


@pytest.mark.parametrize("status", ["utkast", "till_attest"])
def test_only_attested_documents_can_be_put_on_the_list(sekr, status):
    mote = sammantrade()
    tu = TjansteutlatandeFactory(status=status)
    with pytest.raises(services.WorkflowError, match="Bara attesterade"):
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    tu.refresh_from_db()
    assert tu.status == status
    assert not Foredragningspunkt.objects.exists()


def test_a_document_cannot_go_on_two_lists(sekr):
    tu = attesterat_dokument()
    services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    andra = sammantrade(datum=datetime.date(2024, 6, 13))
    with pytest.raises(services.WorkflowError, match="Bara attesterade"):
        services.satt_pa_foredragningslista(sammantrade=andra, tjansteutlatande=tu, user=sekr)


def test_information_item_needs_a_title(sekr):
    mote = sammantrade()
    with pytest.raises(services.WorkflowError, match="rubrik"):
        services.satt_pa_foredragningslista(sammantrade=mote, titel="  ", user=sekr)
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, titel="Förvaltningschefen informerar", user=sekr)
    assert punkt.rubrik == "Förvaltningschefen informerar"
    with pytest.raises(IntegrityError):
        Foredragningspunkt.objects.create(sammantrade=mote, nummer=9)


def test_reordering_renumbers_the_items(sekr):
    mote = sammantrade()
    a, b, c = (
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
        for _ in range(3)
    )
    services.ordna_foredragningslista(sammantrade=mote, punkt_ids=[c.pk, a.pk, b.pk], user=sekr)
    assert list(mote.punkter.order_by("nummer").values_list("pk", "nummer")) == [(c.pk, 1), (a.pk, 2), (b.pk, 3)]
    c.refresh_from_db()
    assert c.history.first().history_change_reason == "Föredragningslistan omordnad"
    assert c.history.first().history_user == sekr


def test_reordering_with_a_stale_list_is_refused(sekr):
    mote = sammantrade()
    a = services.satt_pa_foredragningslista(sammantrade=mote, titel="Information", user=sekr)
    services.satt_pa_foredragningslista(sammantrade=mote, titel="Mer information", user=sekr)
    with pytest.raises(services.WorkflowError, match="Ladda om"):
        services.ordna_foredragningslista(sammantrade=mote, punkt_ids=[a.pk], user=sekr)
    assert list(mote.punkter.order_by("nummer").values_list("nummer", flat=True)) == [1, 2]


def test_a_move_made_from_an_order_a_colleague_changed_meanwhile_is_refused(sekr):
    mote = sammantrade()
    a, b, c = (services.satt_pa_foredragningslista(sammantrade=mote, titel=t, user=sekr) for t in "ABC")
    sedd = [a.pk, b.pk, c.pk]  # the order both secretaries' pages showed
    services.ordna_foredragningslista(sammantrade=mote, punkt_ids=[a.pk, c.pk, b.pk], sedd_ordning=sedd, user=sekr)
    rader = b.history.count()

    with pytest.raises(services.ConflictError, match="Någon annan har ändrat föredragningslistan medan du arbetade"):
        services.ordna_foredragningslista(
            sammantrade=mote, punkt_ids=[b.pk, a.pk, c.pk], sedd_ordning=sedd, user=sekreterare("sekr2")
        )

    assert list(mote.punkter.order_by("nummer").values_list("titel", flat=True)) == ["A", "C", "B"]
    assert b.history.count() == rader
    # The same move sent twice (a second click) finds the order it asks for: no conflict.
    services.ordna_foredragningslista(sammantrade=mote, punkt_ids=[a.pk, c.pk, b.pk], sedd_ordning=sedd, user=sekr)
    assert list(mote.punkter.order_by("nummer").values_list("titel", flat=True)) == ["A", "C", "B"]


def test_a_move_made_from_a_list_that_lost_or_gained_an_item_is_refused(sekr):
    mote = sammantrade()
    a, b = (services.satt_pa_foredragningslista(sammantrade=mote, titel=t, user=sekr) for t in "AB")
    services.satt_pa_foredragningslista(sammantrade=mote, titel="C", user=sekr)  # after the page was made
    with pytest.raises(services.ConflictError, match="listan visar nu den sparade ordningen"):
        services.ordna_foredragningslista(
            sammantrade=mote, punkt_ids=[b.pk, a.pk], sedd_ordning=[a.pk, b.pk], user=sekr
        )
    assert list(mote.punkter.order_by("nummer").values_list("titel", flat=True)) == ["A", "B", "C"]


def test_a_meeting_change_writes_only_the_changed_fields_and_refuses_what_others_changed(sekr):
    mote = sammantrade()
    skarholmen = mote.namnd
    visat = {"tid": mote.tid, "plats": mote.plats, "datum": mote.datum, "namnd": skarholmen}
    services.uppdatera_sammantrade(sammantrade=mote, data={"plats": "Rådhuset"}, visat=visat, user=sekr)
    services.uppdatera_sammantrade(
        sammantrade=mote, data={"tid": datetime.time(19, 0)}, visat=visat, user=sekreterare("sekr2")
    )
    mote.refresh_from_db()
    assert (mote.plats, mote.tid) == ("Rådhuset", datetime.time(19, 0))

    with pytest.raises(services.ConflictError, match="Någon annan har ändrat plats medan du arbetade"):
        services.uppdatera_sammantrade(sammantrade=mote, data={"plats": "Sätra"}, visat=visat, user=sekr)
    services.satt_pa_foredragningslista(sammantrade=mote, titel="Information", user=sekr)
    with pytest.raises(services.WorkflowError, match="Mötet har fått punkter"):
        services.uppdatera_sammantrade(
            sammantrade=mote, data={"datum": datetime.date(2024, 6, 13)}, visat=visat, user=sekr
        )
    mote.refresh_from_db()
    assert (mote.datum, mote.plats) == (datetime.date(2024, 5, 23), "Rådhuset")
    assert mote.history.first().history_change_reason == "Ändrat: tid"


def test_removing_an_item_returns_the_document_and_renumbers(sekr):
    mote = sammantrade()
    tu = attesterat_dokument()
    forsta = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    andra = services.satt_pa_foredragningslista(sammantrade=mote, titel="Information", user=sekr)

    services.ta_bort_fran_foredragningslista(punkt=forsta, user=sekr)

    tu.refresh_from_db()
    andra.refresh_from_db()
    assert tu.status == "attesterad"
    assert tu.arende.status == "redo_for_namnd"
    assert andra.nummer == 1
    borttagen = Foredragningspunkt.history.filter(id=forsta.pk, history_type="-").get()
    assert borttagen.history_user == sekr


def test_a_decided_item_keeps_the_number_its_protokollsutdrag_names(sekr):
    mote = sammantrade()
    a = services.satt_pa_foredragningslista(sammantrade=mote, titel="Information", user=sekr)
    b = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
    c = services.satt_pa_foredragningslista(sammantrade=mote, titel="Mer information", user=sekr)
    services.registrera_beslut(punkt=b, beslut="Nämnden godkänner förvaltningens svar.", user=sekr)
    rader = b.history.count()

    with pytest.raises(services.WorkflowError, match="Punkt 2 är beslutad"):
        services.ordna_foredragningslista(sammantrade=mote, punkt_ids=[b.pk, a.pk, c.pk], user=sekr)
    with pytest.raises(services.WorkflowError, match="Punkt 2 är beslutad"):
        services.ta_bort_fran_foredragningslista(punkt=a, user=sekr)
    assert list(mote.punkter.order_by("nummer").values_list("pk", "nummer")) == [(a.pk, 1), (b.pk, 2), (c.pk, 3)]
    assert b.history.count() == rader

    # What leaves the decided item's number alone is still done, and writes no row for it.
    services.ordna_foredragningslista(sammantrade=mote, punkt_ids=[str(a.pk), str(b.pk), str(c.pk)], user=sekr)
    services.ta_bort_fran_foredragningslista(punkt=c, user=sekr)
    assert list(mote.punkter.order_by("nummer").values_list("pk", "nummer")) == [(a.pk, 1), (b.pk, 2)]
    assert b.history.count() == rader


def test_reordering_with_ids_that_are_no_items_is_refused_in_swedish(sekr):
    mote = sammantrade()
    a = services.satt_pa_foredragningslista(sammantrade=mote, titel="Information", user=sekr)
    for fel in (["abc"], [str(a.pk), "abc"], [""], ["٣"]):
        with pytest.raises(services.WorkflowError, match="Ladda om"):
            services.ordna_foredragningslista(sammantrade=mote, punkt_ids=fel, user=sekr)


def test_a_secretary_of_another_namnd_changes_nothing_on_this_meeting(sekr):
    from arenden.models import Namnd
    from tests.factories import ForvaltningFactory

    mote = sammantrade()
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, titel="Information", user=sekr)
    farsta = ForvaltningFactory(diarieprefix="FARST", namnd=Namnd.objects.create(namn="Farsta stadsdelsnämnd"))
    annan = sekreterare("farsta_sekr", forvaltning=farsta)
    for handling in (
        lambda: services.satt_pa_foredragningslista(sammantrade=mote, titel="Farstas", user=annan),
        lambda: services.ordna_foredragningslista(sammantrade=mote, punkt_ids=[punkt.pk], user=annan),
        lambda: services.ta_bort_fran_foredragningslista(punkt=punkt, user=annan),
        lambda: services.registrera_beslut(punkt=punkt, beslut="Beslutat i Farsta.", user=annan),
        lambda: services.bestall_export(sammantrade=mote, typ="zip", user=annan),
    ):
        with pytest.raises(services.WorkflowError, match="annan nämnd"):
            handling()
    assert list(mote.punkter.values_list("titel", "beslutad")) == [("Information", None)]
    assert not mote.exporter.exists()


def test_a_document_sent_to_another_namnd_than_its_forvaltnings_never_reaches_its_agenda(sekr):
    from arenden.models import Namnd
    from tests.factories import ForvaltningFactory

    farsta = Namnd.objects.create(namn="Farsta stadsdelsnämnd")
    farsta_sekr = sekreterare("farsta_sekr", forvaltning=ForvaltningFactory(diarieprefix="FARST", namnd=farsta))
    mote = sammantrade(namnd=farsta)
    tu = attesterat_dokument(namnd=farsta)  # a Skärholmen case's document addressed to Farsta
    with pytest.raises(services.WorkflowError, match="den nämnd som .* svarar till, inte till Farsta"):
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=farsta_sekr)
    tu.refresh_from_db()
    assert tu.status == "attesterad" and tu.arende.status == "redo_for_namnd"
    assert not mote.punkter.exists()


def test_only_a_secretary_changes_the_list(db):
    mote = sammantrade()
    tu = attesterat_dokument()
    handlaggare = UserFactory(is_staff=True)
    with pytest.raises(services.WorkflowError, match="nämndsekreterare"):
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=handlaggare)
    tu.refresh_from_db()
    assert tu.status == "attesterad"


def test_beslut_is_prefilled_from_the_attested_proposal(demo):
    assert services.forslag_till_beslut(demo) == (
        "Stadsdelsnämnden godkänner förvaltningens tjänsteutlåtande som svar på skrivelsen."
    )


def test_a_footnote_in_the_proposal_stays_apart_from_the_sentence_on_the_agenda_and_in_the_beslut(sekr):
    # The footnote's text was run into the word it follows ("tjänsteutlåtandeSe bilaga 1"), on the
    # printed agenda and in the beslut prefilled for the secretary.
    from arenden import pdf
    from arenden.snapshot import build_snapshot, snapshot_hash
    from tests.arenden.pdftext import pages

    tu = attesterat_dokument(titel="Parklekar")
    forslag = tu.sektioner.get(mall_sektion__nyckel="forslag_till_beslut")
    forslag.text = (
        '<p>Stadsdelsnämnden godkänner tjänsteutlåtandet<span class="fotnot">Se bilaga 1.</span> '
        "som svar på skrivelsen.</p>"
    )
    forslag.save()
    tu.innehall = build_snapshot(tu)
    tu.innehall_hash = snapshot_hash(tu.innehall)
    tu.save()

    assert services.forslag_till_beslut(tu) == (
        "Stadsdelsnämnden godkänner tjänsteutlåtandet (Se bilaga 1.) som svar på skrivelsen."
    )
    mote = sammantrade()
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    agenda = " ".join(" ".join(pages(pdf.render_foredragningslista(mote))).split())
    assert "godkänner tjänsteutlåtandet (Se bilaga 1.) som svar på skrivelsen." in agenda


@pytest.mark.django_db(transaction=True)
def test_secretaries_adding_at_the_same_time_get_distinct_numbers():
    """The meeting row is locked while a number is given (on SQLite the write lock does it)."""
    sekr = sekreterare()
    mote = sammantrade()
    start = threading.Barrier(4)
    fel = []

    def add(i):
        try:
            start.wait()
            services.satt_pa_foredragningslista(sammantrade=mote, titel=f"Information {i}", user=sekr)
        except Exception as exc:  # collected and asserted below
            fel.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fel == []
    assert sorted(mote.punkter.values_list("nummer", flat=True)) == [1, 2, 3, 4]


def test_a_decision_on_an_item_removed_meanwhile_is_refused_in_swedish(sekr):
    punkt = services.satt_pa_foredragningslista(
        sammantrade=sammantrade(), tjansteutlatande=attesterat_dokument(), user=sekr
    )
    services.ta_bort_fran_foredragningslista(punkt=punkt, user=sekr)
    with pytest.raises(services.WorkflowError, match="Punkten har tagits bort från föredragningslistan"):
        services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr)


def test_a_document_taken_off_the_list_has_its_attested_date_again(sekr):
    tu = attesterat_dokument(sammantradesdatum=datetime.date(2024, 6, 13))
    attesterad_dag = tu.innehall["sammantradesdatum"]
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    tu.refresh_from_db()
    assert tu.sammantradesdatum == datetime.date(2024, 5, 23)

    services.ta_bort_fran_foredragningslista(punkt=punkt, user=sekr)

    tu.refresh_from_db()
    assert (tu.status, tu.sammantradesdatum.isoformat()) == ("attesterad", attesterad_dag)
    assert tu.history.first().sammantradesdatum == datetime.date(2024, 6, 13)


def _vantar_pa_las(trad, sekunder=60):
    """Whether `trad` waits for a row lock the test holds (its backend shows it)."""
    slut = time.monotonic() + sekunder
    while trad.is_alive() and time.monotonic() < slut:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


@pytest.mark.postgresql  # row locks: SQLite's one writer at a time leaves nothing to see
@pytest.mark.django_db(transaction=True)
def test_a_decision_takes_the_meeting_before_its_item():
    """A decision locks the meeting first, as every change of its list does, and holds no item
    while it waits for it: a removal or a new order that holds the meeting can still take the
    items it renumbers, then the decision reads the list they committed."""
    sekr = sekreterare()
    mote = sammantrade()
    punkter = [
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
        for _ in range(2)
    ]
    utfall = []

    def besluta():
        try:
            services.registrera_beslut(punkt=punkter[1], beslut="Nämnden godkänner.", user=sekr)
            utfall.append("beslutad")
        except Exception as exc:  # collected and asserted below
            utfall.append(exc)
        finally:
            connection.close()

    trad = threading.Thread(target=besluta)
    with transaction.atomic():
        Sammantrade.objects.select_for_update().get(pk=mote.pk)  # another change of the list
        trad.start()
        assert _vantar_pa_las(trad), f"the decision did not wait for the meeting: {utfall}"
        # The decision waits holding no item: the list's change can take every one.
        list(Foredragningspunkt.objects.select_for_update(nowait=True).filter(sammantrade=mote))
    trad.join()
    assert utfall == ["beslutad"]
    punkt = Foredragningspunkt.objects.get(pk=punkter[1].pk)
    assert (punkt.nummer, punkt.beslut) == (2, "Nämnden godkänner.")


def test_an_item_removed_twice_is_told_in_swedish(sekr):
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), titel="Information", user=sekr)
    services.ta_bort_fran_foredragningslista(punkt=punkt, user=sekr)
    with pytest.raises(services.WorkflowError, match="Punkten har tagits bort från föredragningslistan"):
        services.ta_bort_fran_foredragningslista(punkt=punkt, user=sekr)  # the second click


def test_removing_an_item_before_a_decided_one_points_to_bordlagg(sekr):
    mote = sammantrade()
    tu = attesterat_dokument()
    a = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    b = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
    c = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
    services.registrera_beslut(punkt=b, beslut="Nämnden godkänner.", user=sekr)

    with pytest.raises(services.WorkflowError, match="punkt 1 kan inte tas bort .* välj Bordlägg"):
        services.ta_bort_fran_foredragningslista(punkt=a, user=sekr)
    tu.refresh_from_db()
    assert tu.status == "pa_foredragningslista"
    assert list(mote.punkter.order_by("nummer").values_list("pk", "nummer")) == [(a.pk, 1), (b.pk, 2), (c.pk, 3)]

    # Postponed, it keeps its number like the decided item; an item after both still comes off.
    services.bordlagg(punkt=a, user=sekr)
    services.ta_bort_fran_foredragningslista(punkt=c, user=sekr)
    assert list(mote.punkter.order_by("nummer").values_list("pk", "nummer", "bordlagd")) == [
        (a.pk, 1, True),
        (b.pk, 2, False),
    ]


@pytest.mark.postgresql  # row locks: SQLite's one writer at a time leaves nothing to see
@pytest.mark.django_db(transaction=True)
def test_a_move_compares_the_order_it_was_made_from_under_the_meetings_lock():
    """Two secretaries' moves from the same page: the second waits for the meeting while the
    first renumbers, then finds another order than its page showed and writes nothing."""
    sekr = sekreterare()
    mote = sammantrade()
    a, b, c = (services.satt_pa_foredragningslista(sammantrade=mote, titel=t, user=sekr) for t in "ABC")
    sedd = [a.pk, b.pk, c.pk]
    utfall = []

    def flytta_upp_b():
        try:
            services.ordna_foredragningslista(
                sammantrade=mote, punkt_ids=[b.pk, a.pk, c.pk], sedd_ordning=sedd, user=sekr
            )
            utfall.append("ordnad")
        except Exception as exc:  # collected and asserted below
            utfall.append(exc)
        finally:
            connection.close()

    trad = threading.Thread(target=flytta_upp_b)
    with transaction.atomic():
        Sammantrade.objects.select_for_update().get(pk=mote.pk)  # the first move holds the meeting
        trad.start()
        assert _vantar_pa_las(trad), f"the move did not wait for the meeting: {utfall}"
        services.ordna_foredragningslista(sammantrade=mote, punkt_ids=[a.pk, c.pk, b.pk], sedd_ordning=sedd, user=sekr)
    trad.join()
    assert len(utfall) == 1 and isinstance(utfall[0], services.ConflictError), utfall
    assert list(mote.punkter.order_by("nummer").values_list("titel", flat=True)) == ["A", "C", "B"]
