import datetime
import io
import logging
import os
import re
import threading
import time
import zipfile

import pikepdf
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.backends.signals import connection_created
from django.utils import timezone
from pypdf import PdfReader

from arenden import pdf, services
from arenden.constants import EXPORT_AVBRUTEN, EXPORT_ERSATT, EXPORT_INAKTUELL
from arenden.models import Bilaga, Sammantradesexport, sammantraden
from arenden.snapshot import build_snapshot, snapshot_hash
from tests.arenden.meeting import attesterat_dokument, sammantrade, sekreterare
from tests.arenden.pdftext import pages, squash
from tests.arenden.world import build_world
from tests.factories import UserFactory, pdf_bytes


def _mote_med_tre_punkter(demo, sekr):
    """The demo case first, then two more attested documents, and an information item."""
    mote = sammantrade()
    for tu in [demo, attesterat_dokument(titel="Trygghetsvandringar"), attesterat_dokument(titel="Parklekar")]:
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    services.satt_pa_foredragningslista(sammantrade=mote, titel="Förvaltningschefen informerar", user=sekr)
    return mote


def _text(page):
    return re.sub(r"\s+", " ", page.extract_text())


def _status(client, export):
    return client.get(f"/admin/arenden/sammantrade/export/{export.pk}/").json()


@pytest.mark.django_db(transaction=True)
def test_packet_is_built_by_the_job_queue_and_can_be_downloaded(client, demo):
    sekr = sekreterare()
    client.force_login(sekr)
    mote = _mote_med_tre_punkter(demo, sekr)

    response = client.post(f"/admin/arenden/sammantrade/{mote.pk}/export/", {"typ": "paket"})
    assert response.status_code == 302
    export = Sammantradesexport.objects.get()
    assert _status(client, export) | {"fil": None} == {
        "status": "vantar",
        "status_text": "Väntar",
        "klara": 0,
        "totalt": 3,
        "fel": "",
        "fil": None,
    }
    # The meeting page shows the job while it waits; the secretary may leave and come back. It
    # counts the documents it renders, of the list's four items: the information item has none.
    assert "0 av 3 handlingar" in client.get(f"/admin/arenden/sammantrade/{mote.pk}/change/").content.decode()

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    status = _status(client, export)
    assert (status["status"], status["klara"], status["totalt"], status["fel"]) == ("klar", 3, 3, "")
    response = client.get(status["fil"])
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content)))

    # The agenda comes first.
    forsta = _text(reader.pages[0])
    assert "Föredragningslista" in forsta and "Skärholmens stadsdelsnämnd" in forsta
    # One outline entry per item (after the agenda and the table of contents).
    # Top level: agenda, contents, then one entry per item (each document's own bookmarks nested beneath).
    outline = [
        (item.title, reader.get_destination_page_number(item)) for item in reader.outline if not isinstance(item, list)
    ]
    assert any(isinstance(item, list) for item in reader.outline)
    assert [t for t, _ in outline[:2]] == ["Föredragningslista", "Innehåll"]
    punkter = outline[2:]
    assert [t.split(".")[0] for t, _ in punkter] == ["1", "2", "3"]
    assert "SKHLM 2024/123" in punkter[0][0]
    # The table of contents gives the page where each item starts; the outline agrees, and the
    # document found there is the item's.
    toc_page = reader.pages[outline[1][1]]
    toc = _text(toc_page)
    sidor = [int(s) for s in re.findall(r"^\s*\d+\. .*? (\d+)\s*$", toc_page.extract_text(), re.M)]
    assert sidor == [index + 1 for _, index in punkter], toc
    starts = [index for _, index in punkter] + [len(reader.pages)]
    titlar = ["Öppna drogscener", "Trygghetsvandringar", "Parklekar"]
    for nr, titel in enumerate(titlar):
        item_pages = " ".join(_text(reader.pages[i]) for i in range(starts[nr], starts[nr + 1]))
        assert titel in _text(reader.pages[starts[nr]])
        # The header carries the meeting's date, also for a document attested before it had one.
        assert "2024-05-23" in _text(reader.pages[starts[nr]])
        # Every item carries its attestation table.
        assert "Detta dokument har godkänts digitalt av följande personer" in item_pages
    assert "Lisa Kinnari" in " ".join(_text(reader.pages[i]) for i in range(starts[0], starts[1]))


def test_zip_has_one_pdf_per_item_named_by_number_and_diarienummer(demo):
    sekr = sekreterare()
    mote = _mote_med_tre_punkter(demo, sekr)
    export = services.bestall_export(sammantrade=mote, typ="zip", user=sekr)

    services.kor_export(export_id=export.pk)

    export.refresh_from_db()
    assert (export.status, export.klara, export.totalt) == ("klar", 3, 3)
    with zipfile.ZipFile(export.fil.open("rb")) as arkiv:
        namn = arkiv.namelist()
        assert namn[0] == "00-foredragningslista-2024-05-23.pdf"
        assert namn[1].startswith("01-SKHLM-2024-123-")
        assert [n[:3] for n in namn[1:]] == ["01-", "02-", "03-"]
        for n in namn:
            assert arkiv.read(n).startswith(b"%PDF")
        assert "Öppna drogscener" in _text(PdfReader(io.BytesIO(arkiv.read(namn[1]))).pages[0])


def test_a_failing_item_is_named_and_the_job_fails(demo):
    sekr = sekreterare()
    mote = sammantrade()
    trasig = attesterat_dokument(titel="Trasig bilaga")
    bilaga = Bilaga(tjansteutlatande=trasig, ordning=1, titel="Inskannad karta")
    bilaga.fil.save("karta.pdf", ContentFile(b"%PDF-1.7 this is not a PDF"), save=True)
    trasig.innehall = build_snapshot(trasig)
    trasig.innehall_hash = snapshot_hash(trasig.innehall)
    trasig.save()
    for tu in [demo, trasig]:
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    export = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)

    with pytest.raises(Exception):  # noqa: B017 - the job fails with the renderer's own error
        services.kor_export(export_id=export.pk)

    export.refresh_from_db()
    assert export.status == "misslyckad"
    assert export.klara == 1
    assert export.fel.startswith(f"Punkt 2 ({trasig.arende.diarienummer} Trasig bilaga) kunde inte skapas")
    # Why, in Swedish, and what to do: not pypdf's own words.
    assert "en uppladdad PDF-bilaga går inte att läsa" in export.fel and "Error" not in export.fel
    assert not export.fil


def test_a_server_fault_is_told_without_the_servers_words_or_paths(db, settings):
    sekr = sekreterare()
    mote = sammantrade()
    borta = attesterat_dokument(titel="Bilaga som försvann")
    bilaga = Bilaga(tjansteutlatande=borta, ordning=1, titel="Karta")
    bilaga.fil.save("karta.pdf", ContentFile(pdf_bytes()), save=True)
    borta.innehall = build_snapshot(borta)
    borta.innehall_hash = snapshot_hash(borta.innehall)
    borta.save()
    # The file store answers with an error of its own (here: a folder where the file was).
    sokvag = bilaga.fil.path
    bilaga.fil.storage.delete(bilaga.fil.name)
    os.mkdir(sokvag)
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=borta, user=sekr)
    export = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)

    with pytest.raises(pdf.PunktFel):
        services.kor_export(export_id=export.pk)

    export.refresh_from_db()
    assert export.status == "misslyckad"
    assert export.fel == (
        f"Punkt 1 ({borta.arende.diarienummer} Bilaga som försvann) kunde inte skapas: ett fel i systemet "
        "hindrade det. Försök igen, och kontakta systemförvaltningen om det upprepas."
    )
    assert str(settings.MEDIA_ROOT) not in export.fel


def test_agenda_pdf_lists_items_with_diarienummer_title_and_proposal(client, demo):
    sekr = sekreterare()
    client.force_login(sekr)
    mote = _mote_med_tre_punkter(demo, sekr)
    response = client.get(f"/admin/arenden/sammantrade/{mote.pk}/foredragningslista.pdf")
    assert response.status_code == 200
    text = " ".join(_text(p) for p in PdfReader(io.BytesIO(response.content)).pages)
    for expected in [
        "Skärholmens stadsdelsnämnd",
        "2024-05-23",
        "kl. 18.00",
        "Sessionssalen",
        "1. Öppna drogscener",
        "Dnr SKHLM 2024/123",
        "Stadsdelsnämnden godkänner förvaltningens tjänsteutlåtande som svar på skrivelsen.",
        "2. Trygghetsvandringar",
        "4. Förvaltningschefen informerar",
    ]:
        assert expected in text


@pytest.mark.parametrize(
    ("vem", "forvantat"),
    [("sekreterare", 302), ("handlaggare", 403), ("utan_admin", 302)],
)
def test_only_a_secretary_can_export(client, demo, vem, forvantat):
    sekr = sekreterare()
    mote = _mote_med_tre_punkter(demo, sekr)
    user = {
        "sekreterare": sekr,
        "handlaggare": UserFactory(username="handl", is_staff=True),
        "utan_admin": UserFactory(username="utan", is_staff=False),
    }[vem]
    client.force_login(user)
    for url in [
        f"/admin/arenden/sammantrade/{mote.pk}/export/",
        f"/admin/arenden/sammantrade/{mote.pk}/foredragningslista.pdf",
    ]:
        response = client.post(url, {"typ": "zip"}) if url.endswith("export/") else client.get(url)
        if vem == "sekreterare" and url.endswith("export/"):
            assert response.status_code == 302
            assert response["Location"].endswith(f"/sammantrade/{mote.pk}/change/")
        elif vem == "sekreterare":
            assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
            assert response.content.startswith(b"%PDF")
        elif vem == "utan_admin":
            # Not staff at all: the admin sends them to its login page.
            assert response.status_code == forvantat and "/login/" in response["Location"]
        else:
            assert response.status_code == forvantat
    assert Sammantradesexport.objects.count() == (1 if vem == "sekreterare" else 0)
    if vem != "sekreterare":
        with pytest.raises(services.WorkflowError):
            services.bestall_export(sammantrade=mote, typ="zip", user=user)


def test_a_list_changed_while_the_packet_is_built_does_not_mix_two_lists(demo):
    """The secretary removes the first item while the packet's documents render: the agenda,
    its contents and the bookmarks all show the list the job began with."""
    sekr = sekreterare()
    mote = _mote_med_tre_punkter(demo, sekr)
    forsta = mote.punkter.get(nummer=1)

    def under_tiden(klara):
        if klara == 1:
            services.ta_bort_fran_foredragningslista(punkt=forsta, user=sekr)

    paket = PdfReader(io.BytesIO(pdf.render_motespaket(mote, on_progress=under_tiden, samtidiga=1)))

    assert mote.punkter.count() == 3  # the list did change meanwhile
    bokmarken = [item.title for item in paket.outline if not isinstance(item, list)][2:]
    assert bokmarken == ["1. Öppna drogscener (SKHLM 2024/123)", *bokmarken[1:]]
    assert [b.split(".")[0] for b in bokmarken] == ["1", "2", "3"]
    agenda = _text(paket.pages[0])
    for bokmarke in bokmarken:
        assert bokmarke.split(" (")[0] in agenda
    assert "4. Förvaltningschefen informerar" in agenda


def test_an_export_whose_list_cannot_be_read_ends_as_failed(demo, monkeypatch):
    sekr = sekreterare()
    mote = _mote_med_tre_punkter(demo, sekr)
    export = services.bestall_export(sammantrade=mote, typ="zip", user=sekr)

    def databasen_svarar_inte(_mote):
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(pdf, "las_punkter", databasen_svarar_inte)
    with pytest.raises(DatabaseError):
        services.kor_export(export_id=export.pk)

    export.refresh_from_db()
    assert export.status == "misslyckad"  # not "pågår" for ever, polled by the page
    assert export.fel == f"Exporten kunde inte skapas: {pdf.SYSTEMFEL}"


def test_the_packet_claims_no_pdfa_and_carries_no_tags_that_point_into_other_files(db):
    """Pages copied from the documents' PDFs keep structure references into those files, so a
    packet tagged and labelled PDF/A-2a would be false: it says neither, and each document's own
    PDF stays tagged PDF/A-2a."""
    sekr = sekreterare()
    mote = sammantrade()
    dokument = [attesterat_dokument(titel="Trygghetsvandringar"), attesterat_dokument(titel="Parklekar")]
    for tu in dokument:
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)

    data = pdf.render_motespaket(mote, samtidiga=1)

    with pikepdf.open(io.BytesIO(data)) as paket:
        meta = paket.open_metadata()
        assert "pdfaid:part" not in meta and "pdfaid:conformance" not in meta
        assert meta.pdfa_status == ""
        assert meta["dc:title"].startswith("Handlingar till")
        assert "/StructTreeRoot" not in paket.Root and "/MarkInfo" not in paket.Root
        assert [p for p, page in enumerate(paket.pages) if "/StructParents" in page.obj] == []
        assert not [a for page in paket.pages for a in page.obj.get("/Annots", []) if "/StructParent" in a]
    # What the packet still is: the agenda first, then the documents, with their bookmarks.
    reader = PdfReader(io.BytesIO(data))
    assert "Föredragningslista" in _text(reader.pages[0])
    bokmarken = [item.title for item in reader.outline if not isinstance(item, list)]
    assert bokmarken[:2] == ["Föredragningslista", "Innehåll"]
    for tu in dokument:
        with pikepdf.open(io.BytesIO(pdf.render_tjansteutlatande(tu))) as eget:
            assert eget.open_metadata()["pdfaid:conformance"] == "A" and "/StructTreeRoot" in eget.Root


def test_a_second_order_of_the_same_kind_is_refused_while_the_first_is_unfinished(client, demo):
    sekr = sekreterare()
    client.force_login(sekr)
    mote = _mote_med_tre_punkter(demo, sekr)
    forsta = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)

    with pytest.raises(services.WorkflowError, match="är inte klar än. Vänta på den") as vagran:
        services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    # Of the export (a packet is neuter: "Mötespaket … är inte klar"), at the time as the page's table shows it.
    bestalld = timezone.localtime(forsta.skapad)
    assert str(vagran.value).startswith(f"Exporten ”Mötespaket (en PDF)” beställdes kl. {bestalld:%H:%M} och ")
    # The page's button says so too, and orders nothing.
    response = client.post(f"/admin/arenden/sammantrade/{mote.pk}/export/", {"typ": "paket"}, follow=True)
    assert "är inte klar än" in response.content.decode()
    assert list(Sammantradesexport.objects.filter(typ="paket")) == [forsta]
    # Another kind is another order; and once the first is done, the same kind may be ordered again.
    services.bestall_export(sammantrade=mote, typ="zip", user=sekr)
    services.kor_export(export_id=forsta.pk)
    services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    assert Sammantradesexport.objects.filter(typ="paket").count() == 2


@pytest.mark.parametrize(
    "status, stille_sedan, fel",
    [
        # Ordered ten minutes ago and never started: no worker runs the queue.
        ("vantar", datetime.timedelta(minutes=10, seconds=1), "har väntat i 10 minuter utan att påbörjas"),
        # Started and made progress, then silent for a minute: its worker died mid-job.
        ("pagar", datetime.timedelta(minutes=1, seconds=1), "har inte gett något livstecken på en minut"),
    ],
)
def test_a_job_silent_past_the_limit_shows_as_failed_and_may_be_ordered_again(client, demo, status, stille_sedan, fel):
    """No worker runs the job (db_worker stopped, or killed mid-job): past its limit the page
    shows it as failed with what to do, stops polling it, and a new order is taken."""
    sekr = sekreterare()
    client.force_login(sekr)
    mote = _mote_med_tre_punkter(demo, sekr)
    gammal = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    sedan = timezone.now() - stille_sedan
    if status == "vantar":
        Sammantradesexport.objects.filter(pk=gammal.pk).update(skapad=sedan)
    else:
        Sammantradesexport.objects.filter(pk=gammal.pk).update(
            skapad=sedan - datetime.timedelta(minutes=5), status="pagar", klara=1, aktiv=sedan
        )

    svar = _status(client, gammal)
    assert (svar["status"], svar["status_text"]) == ("misslyckad", "Misslyckades")
    assert fel in svar["fel"] and "Beställ den igen" in svar["fel"]
    sida = client.get(f"/admin/arenden/sammantrade/{mote.pk}/change/").content.decode()
    assert 'data-klar="1"' in sida and 'data-klar="0"' not in sida
    assert "Beställ den igen" in sida

    ny = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)

    gammal.refresh_from_db()
    assert gammal.status == "misslyckad" and gammal.fel == svar["fel"]
    # The old job, should a worker reach it after all, leaves the given-up row as it is.
    if status == "vantar":
        assert services.kor_export(export_id=gammal.pk) is None
        gammal.refresh_from_db()
        assert gammal.status == "misslyckad" and not gammal.fil
    assert _status(client, ny)["status"] == "vantar"


@pytest.mark.parametrize(
    "status, stilla",
    [
        # A busy worker runs other meetings' jobs first: a wait is not a death.
        ("vantar", datetime.timedelta(minutes=9)),
        # A beat or two missed (a slow write) is not a death either.
        ("pagar", datetime.timedelta(seconds=50)),
    ],
)
def test_a_job_within_its_limit_is_not_given_up(demo, status, stilla):
    sekr = sekreterare()
    mote = _mote_med_tre_punkter(demo, sekr)
    export = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    sedan = timezone.now() - stilla
    Sammantradesexport.objects.filter(pk=export.pk).update(
        skapad=sedan, status=status, aktiv=sedan if status == "pagar" else None
    )
    export.refresh_from_db()
    assert not export.is_stale and not export.is_finished and export.visad_status == status
    with pytest.raises(services.WorkflowError, match="är inte klar än"):
        services.bestall_export(sammantrade=mote, typ="paket", user=sekr)


def test_a_job_given_up_while_it_renders_stops_at_its_next_item_and_leaves_the_row_as_given_up(demo, monkeypatch):
    sekr = sekreterare()
    mote = _mote_med_tre_punkter(demo, sekr)
    export = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    renderade = []
    punktens_pdf = pdf.punktens_pdf

    def renderar(punkt):
        renderade.append(punkt.nummer)
        data = punktens_pdf(punkt)
        if len(renderade) == 1:
            # Meanwhile the order is given up as silent, as a new order does (bestall_export).
            Sammantradesexport.objects.filter(pk=export.pk).update(
                status="misslyckad", fel=EXPORT_AVBRUTEN, klar=timezone.now()
            )
        return data

    monkeypatch.setattr(pdf, "punktens_pdf", renderar)

    assert services.kor_export(export_id=export.pk) is None

    assert renderade == [1]  # not the other two documents
    export.refresh_from_db()
    assert (export.status, export.fel, export.fil.name) == ("misslyckad", EXPORT_AVBRUTEN, "")
    assert export.klara == 0


def test_a_running_job_that_makes_progress_is_not_stale(demo):
    sekr = sekreterare()
    mote = _mote_med_tre_punkter(demo, sekr)
    export = services.bestall_export(sammantrade=mote, typ="zip", user=sekr)
    Sammantradesexport.objects.filter(pk=export.pk).update(
        skapad=timezone.now() - datetime.timedelta(minutes=30), status="pagar", aktiv=timezone.now()
    )
    export.refresh_from_db()
    assert not export.is_stale and not export.is_finished
    with pytest.raises(services.WorkflowError):
        services.bestall_export(sammantrade=mote, typ="zip", user=sekr)


def _kontrollsumma_rad(data):
    text = re.sub(r"\s+", " ", " ".join(_text(page) for page in PdfReader(io.BytesIO(data)).pages))
    # A word the line broke in is read back as "attes- ten"; where the line breaks follows the
    # hash's digits, which differ from run to run.
    text = re.sub(r"(?<=[a-zåäö])- (?=[a-zåäö])", "", text)
    return re.search(r"Attesterat innehåll, SHA-256: [0-9a-f]{16}(?:\. Sammanträdesdatumet .*? ingår inte\.)?", text)[0]


def test_the_printed_hash_says_the_meeting_date_set_after_attest_is_not_part_of_it(db):
    """The chefs attested a document without a meeting date; putting it on a list prints the
    meeting's date in its header, so the printed hash no longer covers everything printed."""
    sekr = sekreterare()
    tu = attesterat_dokument(titel="Trygghetsvandringar")
    assert tu.innehall["sammantradesdatum"] is None
    fore = _kontrollsumma_rad(pdf.render_tjansteutlatande(tu))
    assert fore == f"Attesterat innehåll, SHA-256: {tu.innehall_hash[:16]}"

    services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    tu.refresh_from_db()

    assert _kontrollsumma_rad(pdf.render_tjansteutlatande(tu)) == (
        f"Attesterat innehåll, SHA-256: {tu.innehall_hash[:16]}. Sammanträdesdatumet 2024-05-23 är satt av "
        "nämndsekreteraren efter attesten och ingår inte."
    )


def _skicka_och_attestera(world, tu):
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    for chef in (world.chef1, world.chef2):
        services.attestera(tjansteutlatande=tu, user=chef)
    tu.refresh_from_db()


def _skriv_forslag(world, tu, text):
    sektion = tu.sektioner.get(mall_sektion__nyckel=services.FORSLAG_TILL_BESLUT)
    services.spara_sektion(sektion=sektion, text=f"<p>{text}</p>", expected_version=sektion.version, user=world.officer)
    tu.refresh_from_db()


def _exportera(mote, typ, user):
    export = services.bestall_export(sammantrade=mote, typ=typ, user=user)
    services.kor_export(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "klar", export.fel
    with export.fil.open("rb") as fil:
        return fil.read()


def _har(data, *texter):
    text = squash(" ".join(pages(data)))
    return [t for t in texter if squash(t) in text]


def test_a_postponed_items_exports_keep_the_document_the_namnd_had_before_it(db):
    """The nämnd postpones an item. The förvaltning then rewrites the document: a new title and
    proposal, returned once by a chef, rewritten, attested again and put on a later meeting. The
    first meeting's agenda, packet and zip still print what the nämnd had before it that day,
    with that day's date in the document's header; the later meeting's print the new document."""
    world = build_world()
    sekr = world.sekreterare
    tu = world.dokument(titel="Öppna drogscener", undertitel="Svar på skrivelse")
    forslag = tu.sektioner.get(mall_sektion__ordning=1).mall_sektion
    forslag.nyckel = services.FORSLAG_TILL_BESLUT
    forslag.save()
    _skriv_forslag(world, tu, "Nämnden godkänner svaret om Vårbergs centrum.")
    _skicka_och_attestera(world, tu)
    forsta = sammantrade()
    punkt = services.satt_pa_foredragningslista(sammantrade=forsta, tjansteutlatande=tu, user=sekr)
    tu.refresh_from_db()
    pa_listan = pdf.render_tjansteutlatande(tu)  # what the nämnd had before it on 2024-05-23
    services.bordlagg(punkt=punkt, user=sekr)

    tu.refresh_from_db()
    ny = {"titel": "Trygghet i centrum", "undertitel": "Reviderat svar"}
    services.uppdatera_tjansteutlatande(tjansteutlatande=tu, data=ny, expected_version=tu.version, user=world.officer)
    _skriv_forslag(world, tu, "Nämnden godkänner svaret om Sätra centrum.")
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Nämn polisens del.")
    _skriv_forslag(world, tu, "Nämnden godkänner svaret om Sätra centrum och polisens del.")
    # Even while the document is a draft again, the first meeting's record is the nämnd's.
    gamla = ["Öppna drogscener", "Svar på skrivelse", "Vårbergs centrum"]
    nya = ["Trygghet i centrum", "Reviderat svar", "Sätra centrum"]
    with zipfile.ZipFile(io.BytesIO(_exportera(forsta, "zip", sekr))) as arkiv:
        assert arkiv.read(arkiv.namelist()[1]) == pa_listan
    _skicka_och_attestera(world, tu)
    andra = sammantrade(datum=datetime.date(2024, 6, 13))
    services.satt_pa_foredragningslista(sammantrade=andra, tjansteutlatande=tu, user=sekr)

    paket = _exportera(forsta, "paket", sekr)
    reader = PdfReader(io.BytesIO(paket))
    bokmarke = [item for item in reader.outline if not isinstance(item, list)][2]
    assert bokmarke.title == f"1. Öppna drogscener ({tu.arende.diarienummer})"
    agenda = squash(_text(reader.pages[0]))
    assert squash("Öppna drogscener – Svar på skrivelse") in agenda
    assert squash("Nämnden godkänner svaret om Vårbergs centrum.") in agenda
    dokumentet = squash(" ".join(_text(page) for page in reader.pages[reader.get_destination_page_number(bokmarke) :]))
    assert squash("Sammanträdesdatumet 2024-05-23 är satt av nämndsekreteraren") in dokumentet
    assert _har(paket, *gamla) == gamla
    assert _har(paket, *nya, "2024-06-13") == []

    with zipfile.ZipFile(io.BytesIO(_exportera(forsta, "zip", sekr))) as arkiv:
        namn = arkiv.namelist()
        assert namn[1] == f"01-{tu.arende.diarienummer.replace(' ', '-').replace('/', '-')}-oppna-drogscener.pdf"
        assert arkiv.read(namn[1]) == pa_listan
        agenda = arkiv.read(namn[0])
        assert _har(agenda, *gamla) == gamla and _har(agenda, *nya) == []

    # The later meeting prints the document as it is now, with its own date.
    paket = _exportera(andra, "paket", sekr)
    assert _har(paket, *nya, "Nämnden godkänner svaret om Sätra centrum och polisens del.", "2024-06-13") == [
        *nya,
        "Nämnden godkänner svaret om Sätra centrum och polisens del.",
        "2024-06-13",
    ]
    assert _har(paket, "Vårbergs centrum", "Öppna drogscener", "2024-05-23") == []


def test_an_export_whose_file_is_missing_from_the_archive_is_told_in_swedish(client, db, caplog):
    sekr = sekreterare()
    mote = sammantrade()
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
    export = Sammantradesexport.objects.create(sammantrade=mote, typ="paket", status="klar", bestalld_av=sekr)
    export.fil.save("sammantrade-2024-05-23.pdf", ContentFile(pdf_bytes()), save=True)
    export.fil.storage.delete(export.fil.name)  # lost from the archive (a restore, a disk fault)
    client.force_login(sekr)

    with caplog.at_level(logging.ERROR, logger="arenden.views"):
        response = client.get(f"/admin/arenden/sammantrade/export/{export.pk}/ladda-ner/")

    assert response.status_code == 503
    page = response.content.decode()
    assert "<h1>Exporten saknas</h1>" in page
    assert "Den exporterade filen saknas i arkivet. Beställ exporten igen." in page
    assert "Skärholmens stadsdelsnämnd 2024-05-23" in page
    assert export.fil.name not in page
    assert [r.getMessage() for r in caplog.records if r.name == "arenden.views"] == [
        f"Export saknas i arkivet: export {export.pk}, fil {export.fil.name}"
    ]
    # As the page says, the secretary can order it again.
    assert services.bestall_export(sammantrade=mote, typ="paket", user=sekr).pk != export.pk


@pytest.mark.parametrize("typ", ["paket", "zip"])
def test_an_export_ordered_again_downloads_under_the_meetings_own_file_name(client, db, typ):
    # The archive keeps each export's file under a name of its own ("…_a1B2c3d.pdf" the second
    # time); the download was named after that, not after the meeting.
    sekr = sekreterare()
    client.force_login(sekr)
    mote = sammantrade()
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
    for _ in range(2):
        export = services.bestall_export(sammantrade=mote, typ=typ, user=sekr)
        services.kor_export(export_id=export.pk)

    export.refresh_from_db()
    response = client.get(f"/admin/arenden/sammantrade/export/{export.pk}/ladda-ner/")

    assert response.status_code == 200
    namn = pdf.motespaket_filename(mote) if typ == "paket" else pdf.motes_zip_filename(mote)
    assert response["Content-Disposition"] == f'attachment; filename="{namn}"'


@pytest.mark.parametrize("typ", ["paket", "zip"])
def test_an_export_whose_list_changed_while_it_was_built_keeps_no_file_and_says_so(db, monkeypatch, typ):
    """The secretary takes item 2 off the list while the job renders item 1 (so that its
    handläggare can change it and void its attest; on the list it cannot be changed). The
    job read the list before that: its packet would hold a document that is no longer on the
    agenda. It is not handed out as the meeting's packet: the order fails and says why."""
    sekr = sekreterare()
    mote = sammantrade()
    dokument = [attesterat_dokument(titel="Trygghetsvandringar"), attesterat_dokument(titel="Parklekar")]
    for tu in dokument:
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    export = services.bestall_export(sammantrade=mote, typ=typ, user=sekr)
    punktens_pdf = pdf.punktens_pdf

    def renderar(punkt):
        data = punktens_pdf(punkt)
        if punkt.nummer == 1 and mote.punkter.count() == 2:
            services.ta_bort_fran_foredragningslista(punkt=mote.punkter.get(nummer=2), user=sekr)
        return data

    monkeypatch.setattr(pdf, "punktens_pdf", renderar)
    filer_fore = _exportfiler()

    services.kor_export(export_id=export.pk)

    export.refresh_from_db()
    assert export.status == "misslyckad" and not export.fil
    assert export.fel == services.EXPORT_LISTAN_ANDRAD
    assert "Föredragningslistan ändrades medan exporten skapades" in export.fel
    assert _exportfiler() == filer_fore  # nothing left behind in the archive
    # The secretary orders it again and gets the list as it is now.
    data = _exportera(mote, typ, sekr)
    if typ == "paket":
        assert _har(data, "Trygghetsvandringar") and _har(data, "Parklekar") == []
    else:
        with zipfile.ZipFile(io.BytesIO(data)) as arkiv:
            assert [n for n in arkiv.namelist() if "parklekar" in n] == []


def _exportfiler():
    from django.core.files.storage import default_storage

    rot = os.path.join(default_storage.location, "exporter")
    return sorted(os.path.join(d, f) for d, _, filer in os.walk(rot) for f in filer)


def _paket_med_tva_punkter(client):
    """A meeting with two attested documents on its list and a packet ordered, not yet built;
    the secretary logged in."""
    sekr = sekreterare()
    client.force_login(sekr)
    mote = sammantrade()
    for titel in ["Trygghetsvandringar", "Parklekar"]:
        services.satt_pa_foredragningslista(
            sammantrade=mote, tjansteutlatande=attesterat_dokument(titel=titel), user=sekr
        )
    return sekr, mote, services.bestall_export(sammantrade=mote, typ="paket", user=sekr)


@pytest.mark.parametrize("avtryck", ["sparat", "fore_avtrycket"])
def test_a_finished_packet_whose_list_changed_since_says_so_on_the_meetings_page(client, db, avtryck):
    """A packet made on Monday; on Tuesday an item is taken off the list. The page still offers
    Monday's packet, and says that it no longer matches the list. A decision registered since
    changes nothing the packet prints, and says nothing. A packet finished before exports kept
    their list's fingerprint is judged by the meeting's history."""
    sekr, mote, export = _paket_med_tva_punkter(client)
    services.kor_export(export_id=export.pk)
    if avtryck == "fore_avtrycket":
        Sammantradesexport.objects.filter(pk=export.pk).update(avtryck="")
    sida = f"/admin/arenden/sammantrade/{mote.pk}/change/"

    services.registrera_beslut(punkt=mote.punkter.get(nummer=1), beslut="Nämnden godkänner.", user=sekr)
    assert EXPORT_INAKTUELL not in client.get(sida).content.decode()
    assert _status(client, export)["fel"] == ""

    services.ta_bort_fran_foredragningslista(punkt=mote.punkter.get(nummer=2), user=sekr)

    assert EXPORT_INAKTUELL in client.get(sida).content.decode()
    assert "Föredragningslistan har ändrats sedan exporten skapades" in EXPORT_INAKTUELL
    svar = _status(client, export)
    assert (svar["status"], svar["fel"]) == ("klar", EXPORT_INAKTUELL)
    # The file is still there for whoever needs what was sent out.
    assert client.get(svar["fil"]).status_code == 200


@pytest.mark.parametrize("fel", [datetime.timedelta(minutes=5), -datetime.timedelta(minutes=5)], ids=["fore", "efter"])
def test_whether_the_list_changed_since_an_export_does_not_hang_on_the_workers_clock(client, db, monkeypatch, fel):
    """The worker that built the packet keeps a clock minutes off the app servers', which write
    the meeting's history. A change made after the packet is still reported (the worker ahead),
    and a list unchanged since is not (the worker behind, the items put on just before)."""
    sekr, mote, export = _paket_med_tva_punkter(client)
    monkeypatch.setattr(services, "timezone", _Klocka(fel))
    services.kor_export(export_id=export.pk)
    monkeypatch.undo()

    assert _status(client, export)["fel"] == ""
    services.ta_bort_fran_foredragningslista(punkt=mote.punkter.get(nummer=2), user=sekr)
    assert _status(client, export)["fel"] == EXPORT_INAKTUELL


def test_a_newer_export_of_a_kind_removes_the_file_of_the_one_it_replaces(client, db):
    """Each order stores a whole packet or zip; a meeting exported again after every change
    of its list would keep every one of them for ever. Only the newest of each kind is kept:
    the older ones can be made again from the meeting's record, and the page says so."""
    sekr = sekreterare()
    client.force_login(sekr)
    mote = sammantrade()
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
    zip_ = services.bestall_export(sammantrade=mote, typ="zip", user=sekr)
    services.kor_export(export_id=zip_.pk)
    forsta = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    services.kor_export(export_id=forsta.pk)
    forsta.refresh_from_db()
    gammal_fil = forsta.fil.name
    assert forsta.fil.storage.exists(gammal_fil)

    andra = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    services.kor_export(export_id=andra.pk)

    forsta.refresh_from_db()
    andra.refresh_from_db()
    zip_.refresh_from_db()
    assert (forsta.status, forsta.fil.name) == ("klar", "")
    assert not andra.fil.storage.exists(gammal_fil)
    assert _exportfiler() == sorted(os.path.join(andra.fil.storage.location, e.fil.name) for e in [andra, zip_])
    assert forsta.fel_text == EXPORT_ERSATT
    sida = client.get(f"/admin/arenden/sammantrade/{mote.pk}/change/").content.decode()
    assert EXPORT_ERSATT in sida
    assert client.get(f"/admin/arenden/sammantrade/export/{forsta.pk}/ladda-ner/").status_code == 404
    assert client.get(f"/admin/arenden/sammantrade/export/{andra.pk}/ladda-ner/").status_code == 200


def test_a_job_stopped_with_its_worker_ends_as_failed_at_once_and_may_be_ordered_again(db, monkeypatch):
    """The worker is stopped mid-job: a second Ctrl+C on `make run`, or a deploy's second
    SIGTERM, on which django-tasks-db's worker calls sys.exit inside the running job. The page
    said "Pågår" until the job went stale and refused a new order meanwhile; now the row says at
    once what happened, and the secretary may order again."""
    sekr = sekreterare()
    mote = sammantrade()
    for titel in ["Trygghetsvandringar", "Parklekar"]:
        services.satt_pa_foredragningslista(
            sammantrade=mote, tjansteutlatande=attesterat_dokument(titel=titel), user=sekr
        )
    export = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    punktens_pdf = pdf.punktens_pdf

    def renderar(punkt):
        if punkt.nummer == 2:
            raise SystemExit(1)  # what the worker's signal handler raises in the job
        return punktens_pdf(punkt)

    monkeypatch.setattr(pdf, "punktens_pdf", renderar)

    with pytest.raises(SystemExit):
        services.kor_export(export_id=export.pk)

    export.refresh_from_db()
    assert (export.status, export.fel, export.fil.name) == ("misslyckad", services.EXPORT_STOPPAD, "")
    assert "Beställ den igen" in export.fel
    assert services.bestall_export(sammantrade=mote, typ="paket", user=sekr).pk != export.pk


# --- the running job's sign of life (services._Puls) -------------------------------------------

# Small enough for a test to outlast, with twenty beats to the limit so that a slow beat on a
# busy machine is not taken for a death.
PULS = datetime.timedelta(milliseconds=50)
TIDSGRANS = datetime.timedelta(seconds=1)


@pytest.fixture
def korta_granser(monkeypatch):
    monkeypatch.setattr(services, "EXPORT_PULS", PULS)
    monkeypatch.setattr(sammantraden, "EXPORT_TIDSGRANS", TIDSGRANS)


@pytest.fixture
def pulsens_anslutningar():
    """The database connections the heartbeats open, and an event set at the first of them."""
    anslutningar, forsta = [], threading.Event()

    def ansluten(sender, connection, **kwargs):
        if isinstance(threading.current_thread(), services._Puls):
            anslutningar.append(connection)
            forsta.set()

    connection_created.connect(ansluten, weak=False)
    yield anslutningar, forsta
    connection_created.disconnect(ansluten)


def _pulsar():
    return [t for t in threading.enumerate() if isinstance(t, services._Puls)]


def _vanta_tills(villkor, hur_lange=30):
    """Wait for a state another thread brings about; a test that waits for ever helps nobody."""
    slut = time.monotonic() + hur_lange
    while not villkor():
        assert time.monotonic() < slut, "väntade förgäves"
        time.sleep(0.02)


def _export_med_en_punkt():
    sekr = sekreterare()
    mote = sammantrade()
    services.satt_pa_foredragningslista(
        sammantrade=mote, tjansteutlatande=attesterat_dokument(titel="Trygghetsvandringar"), user=sekr
    )
    return sekr, mote, services.bestall_export(sammantrade=mote, typ="paket", user=sekr)


class _HalletJobb:
    """`kor_export` in a thread of its own, as the worker runs it, with its document's render
    held until `slapp`: WeasyPrint busy with one long document, for as long as the test says."""

    def __init__(self, monkeypatch, export):
        self.renderar, self.slappt = threading.Event(), threading.Event()
        self.resultat = self.fel = None
        punktens_pdf = pdf.punktens_pdf

        def renderar(punkt):
            self.renderar.set()
            assert self.slappt.wait(60)
            return punktens_pdf(punkt)

        monkeypatch.setattr(pdf, "punktens_pdf", renderar)
        self.trad = threading.Thread(target=self._kor, args=(export.pk,))
        self.trad.start()
        assert self.renderar.wait(60)

    def _kor(self, export_id):
        try:
            self.resultat = services.kor_export(export_id=export_id)
        except BaseException as exc:
            self.fel = exc
        finally:
            connection.close()

    def slapp(self):
        self.slappt.set()
        self.trad.join(120)
        assert not self.trad.is_alive()
        if self.fel is not None:
            raise self.fel
        return self.resultat


@pytest.fixture
def hallet_jobb(monkeypatch):
    jobb = []

    def starta(export):
        jobb.append(_HalletJobb(monkeypatch, export))
        return jobb[-1]

    yield starta
    for j in jobb:  # a failed assertion leaves no job waiting on its render
        j.slappt.set()
        j.trad.join(120)


@pytest.mark.django_db(transaction=True)
def test_a_job_rendering_longer_than_the_limit_is_kept_alive_by_its_heartbeat(korta_granser, hallet_jobb):
    """One long document, rendering for several times the limit, finishes no item meanwhile:
    the beat keeps the row alive, so it is neither shown as failed nor replaced by a new order."""
    sekr, mote, export = _export_med_en_punkt()
    jobb = hallet_jobb(export)
    borjade = timezone.now()

    time.sleep(3 * TIDSGRANS.total_seconds())

    export.refresh_from_db()
    assert (export.status, export.klara) == ("pagar", 0)  # no item done: only the beat wrote
    assert export.aktiv > borjade + TIDSGRANS and not export.is_stale
    with pytest.raises(services.WorkflowError, match="är inte klar än"):
        services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    assert jobb.slapp().status == "klar"


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_heartbeat_stops_is_stale_after_the_limit_and_may_be_ordered_again(
    client, korta_granser, hallet_jobb
):
    """The worker's process dies (SIGKILL, out of memory, a lost machine) and its heartbeat with
    it, the row left running: a limit later it shows as failed and a new order is taken."""
    sekr, mote, export = _export_med_en_punkt()
    client.force_login(sekr)
    jobb = hallet_jobb(export)
    [puls] = _pulsar()

    puls.stop()  # what the killed process leaves: no finish, no more beats

    export.refresh_from_db()
    assert export.status == "pagar" and not export.is_stale
    tyst_sedan = export.aktiv
    _vanta_tills(lambda: timezone.now() > tyst_sedan + TIDSGRANS)
    export.refresh_from_db()
    assert export.aktiv == tyst_sedan and export.is_stale
    svar = _status(client, export)
    assert (svar["status"], svar["fel"]) == ("misslyckad", EXPORT_AVBRUTEN)
    assert "har inte gett något livstecken på en minut" in EXPORT_AVBRUTEN

    ny = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)

    export.refresh_from_db()
    assert (export.status, export.fel) == ("misslyckad", EXPORT_AVBRUTEN)
    assert _status(client, ny)["status"] == "vantar"
    # Had the job lived on after all, it stops at its item and leaves the row given up.
    assert jobb.slapp() is None
    export.refresh_from_db()
    assert (export.status, export.fel, export.fil.name) == ("misslyckad", EXPORT_AVBRUTEN, "")


class _Klocka:
    """`django.utils.timezone` as a machine whose clock is `fel` off sees it."""

    def __init__(self, fel):
        self.fel = fel

    def now(self):
        return timezone.now() + self.fel

    def __getattr__(self, name):
        return getattr(timezone, name)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fel", [datetime.timedelta(minutes=5), -datetime.timedelta(minutes=5)], ids=["fore", "efter"])
@pytest.mark.parametrize("maskin", ["arbetaren", "appservern"])
def test_clocks_minutes_apart_neither_fail_a_live_export_nor_keep_a_dead_one(
    client, korta_granser, hallet_jobb, monkeypatch, maskin, fel
):
    """The worker's or the app server's clock minutes off the others': a live job shows as
    running, and one whose worker died shows as failed a limit after its last sign of life, since
    the sign is written and judged by the database's clock."""
    sekr, mote, export = _export_med_en_punkt()
    client.force_login(sekr)
    monkeypatch.setattr(services if maskin == "arbetaren" else sammantraden, "timezone", _Klocka(fel))
    hallet_jobb(export)
    [puls] = _pulsar()
    _vanta_tills(lambda: Sammantradesexport.objects.filter(pk=export.pk, klara=0, aktiv__isnull=False).exists())

    time.sleep(2 * TIDSGRANS.total_seconds())  # kept alive by its beat meanwhile
    assert _status(client, export)["status"] == "pagar"
    with pytest.raises(services.WorkflowError, match="är inte klar än"):
        services.bestall_export(sammantrade=mote, typ="paket", user=sekr)

    puls.stop()  # its worker killed
    _vanta_tills(lambda: _status(client, export)["status"] == "misslyckad")
    assert _status(client, export)["fel"] == EXPORT_AVBRUTEN
    services.bestall_export(sammantrade=mote, typ="paket", user=sekr)


@pytest.mark.django_db(transaction=True)
def test_a_job_that_finishes_no_item_for_too_long_stops_its_heartbeat_and_goes_stale(
    korta_granser, hallet_jobb, monkeypatch
):
    """Each render is killed at its time limit, so a live job without progress for many of them
    is stuck, not slow: its beat ends and the row goes stale, as before the beat, rather than
    blocking new orders for as long as its worker lives."""
    monkeypatch.setattr(services, "EXPORT_FRAMSTEGSGRANS", 2 * TIDSGRANS)
    sekr, mote, export = _export_med_en_punkt()
    jobb = hallet_jobb(export)
    [puls] = _pulsar()

    puls.join(60)

    assert not puls.is_alive() and jobb.trad.is_alive()
    export.refresh_from_db()
    tyst_sedan = export.aktiv
    _vanta_tills(lambda: timezone.now() > tyst_sedan + TIDSGRANS)
    export.refresh_from_db()
    assert export.status == "pagar" and export.is_stale
    services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    assert jobb.slapp() is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("utfall", ["klar", "punkten_fel", "given_upp", "arbetaren_stoppas"])
def test_the_heartbeat_ends_with_the_job_and_closes_its_connection(
    korta_granser, pulsens_anslutningar, monkeypatch, utfall
):
    anslutningar, forsta = pulsens_anslutningar
    _sekr, _mote, export = _export_med_en_punkt()
    punktens_pdf = pdf.punktens_pdf

    def renderar(punkt):
        assert forsta.wait(60)  # the beat has written at least once, on its own connection
        if utfall == "punkten_fel":
            raise pdf.PdfError("PDF:en kunde inte skapas.")
        if utfall == "arbetaren_stoppas":
            raise SystemExit(1)
        if utfall == "given_upp":
            Sammantradesexport.objects.filter(pk=export.pk).update(
                status="misslyckad", fel=EXPORT_AVBRUTEN, klar=timezone.now()
            )
        return punktens_pdf(punkt)

    monkeypatch.setattr(pdf, "punktens_pdf", renderar)

    if utfall == "punkten_fel":
        with pytest.raises(pdf.PunktFel):
            services.kor_export(export_id=export.pk)
    elif utfall == "arbetaren_stoppas":
        with pytest.raises(SystemExit):
            services.kor_export(export_id=export.pk)
    else:
        services.kor_export(export_id=export.pk)

    assert _pulsar() == []
    assert len(anslutningar) >= 1 and all(a.connection is None for a in anslutningar)
    export.refresh_from_db()
    forvantat = {
        "klar": "klar",
        "punkten_fel": "misslyckad",
        "given_upp": "misslyckad",
        "arbetaren_stoppas": "misslyckad",
    }
    assert export.status == forvantat[utfall]


@pytest.mark.django_db(transaction=True)
def test_a_beat_that_meets_a_held_lock_fails_alone_and_the_next_one_writes(
    korta_granser, pulsens_anslutningar, monkeypatch, caplog
):
    """A write lock held past the database's wait (a long transaction elsewhere; on SQLite any
    writer) fails one beat, not the job: it is logged, and the next beat writes on a new
    connection. The heartbeat's connections wait a fifth of a second here instead of 20 s."""
    anslutningar, _forsta = pulsens_anslutningar
    _sekr, _mote, export = _export_med_en_punkt()
    Sammantradesexport.objects.filter(pk=export.pk).update(status="pagar", aktiv=timezone.now())
    if connection.vendor == "sqlite":
        monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)
    else:
        monkeypatch.setitem(connection.settings_dict["OPTIONS"], "options", "-c lock_timeout=200")

    def misslyckade():
        return [r for r in caplog.records if r.getMessage() == f"Export {export.pk} kunde inte ge livstecken."]

    with caplog.at_level(logging.WARNING, logger="arenden.services"), services._Puls(export.pk) as puls:
        with transaction.atomic():
            Sammantradesexport.objects.select_for_update().get(pk=export.pk)
            _vanta_tills(misslyckade)
        slappt = timezone.now()
        _vanta_tills(lambda: Sammantradesexport.objects.get(pk=export.pk).aktiv > slappt)
        assert puls.is_alive()

    assert isinstance(misslyckade()[0].exc_info[1], OperationalError)
    assert _pulsar() == [] and len(anslutningar) >= 2 and all(a.connection is None for a in anslutningar)


@pytest.mark.django_db(transaction=True)
def test_the_job_its_heartbeat_and_a_secretary_write_at_once_without_waiting_errors(
    client, korta_granser, pulsens_anslutningar, monkeypatch, demo, caplog
):
    """On SQLite every write takes the whole database's lock: the beat (here every 5 ms), the
    job's progress and final check, and the secretary's orders and status questions meanwhile
    all wait their turn (IMMEDIATE transactions, the busy timeout) and none fails with
    "database is locked"."""
    monkeypatch.setattr(services, "EXPORT_PULS", datetime.timedelta(milliseconds=5))
    anslutningar, _forsta = pulsens_anslutningar
    sekr = sekreterare()
    client.force_login(sekr)
    mote = _mote_med_tre_punkter(demo, sekr)
    export = services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
    klart, fel = threading.Event(), []

    def sekreteraren():
        try:
            while not klart.is_set():
                try:
                    services.bestall_export(sammantrade=mote, typ="paket", user=sekr)
                except services.WorkflowError:
                    pass  # refused while the first runs, as it should be
                assert client.get(f"/admin/arenden/sammantrade/export/{export.pk}/").status_code == 200
        except BaseException as exc:
            fel.append(exc)
        finally:
            connection.close()

    trad = threading.Thread(target=sekreteraren)
    with caplog.at_level(logging.WARNING, logger="arenden.services"):
        trad.start()
        try:
            resultat = services.kor_export(export_id=export.pk)
        finally:
            klart.set()
            trad.join(60)

    assert fel == []
    assert (resultat.status, resultat.klara, resultat.fel) == ("klar", 3, "")
    assert anslutningar and [r.getMessage() for r in caplog.records if r.name == "arenden.services"] == []
