import datetime
import html
import io
import re
import zoneinfo

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone
from pypdf import PdfReader

from arenden import pdf, services
from arenden.models import Arende, Bilaga, Foredragningspunkt, Tjansteutlatande
from arenden.tidslinje import tidslinje
from tests.arenden.meeting import attestera, attesterat_dokument, sammantrade, sekreterare
from tests.factories import TjansteutlatandeFactory, pdf_bytes


def _pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_decision_produces_the_extract_closes_the_case_and_is_in_the_history(demo):
    sekr = sekreterare()
    mote = sammantrade()
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=demo, user=sekr)
    beslut = services.forslag_till_beslut(demo)

    services.registrera_beslut(punkt=punkt, beslut=beslut, user=sekr)

    punkt.refresh_from_db()
    demo.refresh_from_db()
    arende = demo.arende
    arende.refresh_from_db()
    assert punkt.beslut == beslut
    assert demo.status == "beslutad"
    assert arende.status == "avslutat"
    # The extract is attached to the case and says what was decided, where and when.
    assert list(arende.beslutspunkter.all()) == [punkt]
    text = _pdf_text(punkt.protokollsutdrag.read())
    assert "Protokollsutdrag" in text
    assert "SKHLM 2024/123" in text
    assert "Stadsdelsnämnden godkänner förvaltningens tjänsteutlåtande som svar på skrivelsen." in text
    assert "2024-05-23" in text
    reasons = [(punkt, "Beslut registrerat: "), (demo, "Beslutad: "), (arende, "Avslutat efter beslut: ")]
    for obj, reason in reasons:
        senaste = obj.history.first()
        assert senaste.history_user == sekr
        assert senaste.history_change_reason.startswith(reason)


def test_the_extract_keeps_each_line_of_the_beslut_as_typed(db):
    """A beslut of several points, one to a line as the secretary types them in the form (which
    sends the browser's CRLF), is printed a point to a line: the extract joined the lines into
    one paragraph ("… svar på skrivelsen. 2. Stadsdelsnämnden överlämnar …")."""
    sekr = sekreterare()
    punkt = services.satt_pa_foredragningslista(
        sammantrade=sammantrade(), tjansteutlatande=attesterat_dokument(), user=sekr
    )
    beslut = (
        "1. Stadsdelsnämnden godkänner förvaltningens svar.\r\n"
        "2. Stadsdelsnämnden överlämnar ärendet till kommunstyrelsen.\r\n\r\n"
        "Paragrafen förklaras omedelbart justerad."
    )

    services.registrera_beslut(punkt=punkt, beslut=beslut, user=sekr)

    punkt.refresh_from_db()
    rader = [rad.strip() for rad in _pdf_text(punkt.protokollsutdrag.read()).splitlines()]
    assert "1. Stadsdelsnämnden godkänner förvaltningens svar." in rader
    assert "2. Stadsdelsnämnden överlämnar ärendet till kommunstyrelsen." in rader
    assert "Paragrafen förklaras omedelbart justerad." in rader


def test_case_stays_open_while_another_document_awaits_a_decision(db):
    sekr = sekreterare()
    mote = sammantrade()
    tu = attesterat_dokument()
    TjansteutlatandeFactory(arende=tu.arende)  # a second document of the same case, still a draft
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)

    services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr)

    tu.arende.refresh_from_db()
    assert tu.arende.status != "avslutat"
    assert tu.arende.history.first().history_change_reason.startswith("Beslut och protokollsutdrag: ")


def test_the_timeline_tells_each_removal_from_the_list_once_naming_the_document(db):
    sekr = sekreterare()
    mote = sammantrade()
    forsta = attesterat_dokument()
    andra = attesterat_dokument(arende=forsta.arende)
    punkter = [
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr) for tu in (forsta, andra)
    ]

    services.ta_bort_fran_foredragningslista(punkt=punkter[0], user=sekr)
    arende = forsta.arende
    arende.refresh_from_db()
    assert arende.status == "pa_foredragningslista"  # the second document is still on the list
    services.ta_bort_fran_foredragningslista(punkt=Foredragningspunkt.objects.get(pk=punkter[1].pk), user=sekr)
    arende.refresh_from_db()
    assert arende.status == "redo_for_namnd"

    handelser = tidslinje(arende)
    borttagna = [(h["detalj"], h["anvandare"]) for h in handelser if h["handelse"] == services.BORTTAGEN_FRAN_LISTAN]
    assert borttagna == [
        (f"Skärholmens stadsdelsnämnd 2024-05-23: ”{forsta.titel}”", sekr),
        (f"Skärholmens stadsdelsnämnd 2024-05-23: ”{andra.titel}”", sekr),
    ]


def test_a_decision_is_recorded_once_and_needs_text(db):
    sekr = sekreterare()
    punkt = services.satt_pa_foredragningslista(
        sammantrade=sammantrade(), tjansteutlatande=attesterat_dokument(), user=sekr
    )
    with pytest.raises(services.WorkflowError, match="Skriv nämndens beslut"):
        services.registrera_beslut(punkt=punkt, beslut="   ", user=sekr)
    services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr)
    with pytest.raises(services.WorkflowError, match="redan registrerat"):
        services.registrera_beslut(punkt=punkt, beslut="Något annat.", user=sekr)
    with pytest.raises(services.WorkflowError, match="redan beslutad"):
        services.ta_bort_fran_foredragningslista(punkt=punkt, user=sekr)
    assert Foredragningspunkt.objects.get().beslut == "Nämnden godkänner."


def test_decision_form_is_prefilled_and_records_through_the_service(client, demo):
    sekr = sekreterare()
    client.force_login(sekr)
    mote = sammantrade()
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=demo, user=sekr)
    url = f"/admin/arenden/sammantrade/{mote.pk}/punkt/{punkt.pk}/beslut/"

    response = client.get(url)
    assert response.status_code == 200
    assert "Stadsdelsnämnden godkänner förvaltningens tjänsteutlåtande som svar på skrivelsen." in (
        response.content.decode()
    )
    response = client.post(url, {"beslut": "Stadsdelsnämnden godkänner förvaltningens tjänsteutlåtande."})
    assert response.status_code == 302
    punkt.refresh_from_db()
    assert punkt.is_decided
    # The case's officer downloads the extract from the case.
    client.force_login(demo.arende.handlaggare)
    response = client.get(f"/protokollsutdrag/{punkt.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_the_case_page_lists_the_decision_with_its_extract(admin_client, demo):
    sekr = sekreterare()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=demo, user=sekr)
    services.registrera_beslut(punkt=punkt, beslut="Stadsdelsnämnden godkänner.", user=sekr)
    page = admin_client.get(f"/admin/arenden/arende/{demo.arende_id}/change/").content.decode()
    assert "Stadsdelsnämnden godkänner." in page
    assert f"/protokollsutdrag/{punkt.pk}/" in page


def test_the_timeline_shows_the_agenda_and_the_decision(demo):
    sekr = sekreterare()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=demo, user=sekr)
    services.registrera_beslut(punkt=punkt, beslut=services.forslag_till_beslut(demo), user=sekr)

    handelser = [(h["handelse"], h["detalj"], h["anvandare"]) for h in tidslinje(demo.arende)]
    senaste = handelser[-2:]
    # One act, one line: the case's own row names the document, so the document's is not repeated.
    assert senaste[0] == (
        "Satt på föredragningslistan",
        f"Skärholmens stadsdelsnämnd 2024-05-23, punkt 1: ”{demo.titel}”",
        sekr,
    ), handelser
    assert [h for h, _d, _u in handelser].count("Satt på föredragningslistan") == 1
    # The document's row and the case's row of the decision are one act, told once.
    assert senaste[1:] == [
        (
            "Beslutad, ärendet avslutat",
            f"Skärholmens stadsdelsnämnd 2024-05-23, punkt 1: ”{demo.titel}”; protokollsutdrag bifogat",
            sekr,
        )
    ], handelser


def _tidslinjens_rader(page):
    lista = page[page.index('<ol class="tidslinje">') : page.index("</ol>", page.index('<ol class="tidslinje">'))]
    return [" ".join(rad.split()) for rad in lista.split("<li>")[1:]]


def test_the_case_page_tells_the_decision_once_with_who_when_where_and_the_closing(client, demo):
    sekr = sekreterare()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=demo, user=sekr)
    services.registrera_beslut(punkt=punkt, beslut=services.forslag_till_beslut(demo), user=sekr)
    client.force_login(demo.arende.handlaggare)

    rader = _tidslinjens_rader(client.get(f"/arenden/{demo.arende_id}/").content.decode())

    beslut = [rad for rad in rader if "Beslut" in rad or "Avslutat" in rad]
    assert len(beslut) == 1, rader
    (rad,) = beslut
    # Both rows are still written, the audit trail of the act; either's minute is the act's.
    tider = {
        timezone.localtime(obj.history.first().history_date).strftime("%Y-%m-%d %H:%M") for obj in (demo, demo.arende)
    }
    assert any(tid in rad for tid in tider), (tider, rad)
    assert f"– {sekr.get_full_name()}" in rad
    assert "Skärholmens stadsdelsnämnd 2024-05-23, punkt 1" in rad
    assert f"”{demo.titel}”" in rad
    assert "ärendet avslutat" in rad
    assert "protokollsutdrag bifogat" in rad


def test_each_decision_of_a_case_with_two_documents_is_told_once(db):
    sekr = sekreterare()
    mote = sammantrade()
    forsta = attesterat_dokument(titel="Första svaret")
    andra = attesterat_dokument(arende=forsta.arende, titel="Andra svaret")
    punkter = [
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr) for tu in (forsta, andra)
    ]

    services.registrera_beslut(punkt=punkter[0], beslut="Nämnden godkänner.", user=sekr)
    services.registrera_beslut(punkt=punkter[1], beslut="Nämnden godkänner.", user=sekr)

    arende = forsta.arende
    beslut = [
        (h["handelse"], h["detalj"], h["anvandare"])
        for h in tidslinje(arende)
        if h["handelse"].startswith(("Beslut", "Avslutat"))
    ]
    assert beslut == [
        ("Beslutad", "Skärholmens stadsdelsnämnd 2024-05-23, punkt 1: ”Första svaret”; protokollsutdrag bifogat", sekr),
        (
            "Beslutad, ärendet avslutat",
            "Skärholmens stadsdelsnämnd 2024-05-23, punkt 2: ”Andra svaret”; protokollsutdrag bifogat",
            sekr,
        ),
    ]
    # The history keeps both rows of each act.
    assert [h.history_change_reason for h in arende.history.all()[:2]] == [
        "Avslutat efter beslut: Skärholmens stadsdelsnämnd 2024-05-23, punkt 2; protokollsutdrag bifogat",
        "Beslut och protokollsutdrag: Skärholmens stadsdelsnämnd 2024-05-23, punkt 1",
    ]


def test_rows_of_a_decision_written_apart_are_not_told_as_one(db):
    # The case's row a minute after the document's is not the same act: both stay.
    sekr = sekreterare()
    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr)
    rad = tu.arende.history.first()
    type(rad).objects.filter(pk=rad.pk).update(history_date=rad.history_date + datetime.timedelta(minutes=1))

    handelser = [h["handelse"] for h in tidslinje(tu.arende)]
    assert handelser[-2:] == ["Beslutad", "Avslutat efter beslut"], handelser


def test_a_long_title_does_not_cut_the_meeting_and_number_from_the_timeline(db):
    sekr = sekreterare()
    tu = attesterat_dokument(titel="Platssamverkan och platsaktivering i Skärholmens, Vårbergs och Sätra centrum")
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    services.ta_bort_fran_foredragningslista(punkt=punkt, user=sekr)

    detaljer = {h["handelse"]: h["detalj"] for h in tidslinje(tu.arende)}
    assert detaljer[services.SATT_PA_LISTAN].startswith(
        "Skärholmens stadsdelsnämnd 2024-05-23, punkt 1: ”Platssamverkan"
    )
    assert detaljer[services.BORTTAGEN_FRAN_LISTAN].startswith("Skärholmens stadsdelsnämnd 2024-05-23: ”Platssamverkan")


def _filer(media, mapp):
    return [p for p in (media / mapp).rglob("*") if p.is_file()] if (media / mapp).exists() else []


def _utdrag_filer(media):
    return _filer(media, "protokollsutdrag")


def test_a_refused_decision_leaves_no_extract_file_behind(db, settings):
    sekr = sekreterare()
    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    # The document left the list's state another way between the secretary's page and the click.
    Tjansteutlatande.objects.filter(pk=tu.pk).update(status="attesterad")

    with pytest.raises(services.WorkflowError, match="har status ”Attesterad” och kan inte beslutas"):
        services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr)

    assert _utdrag_filer(settings.MEDIA_ROOT) == []
    assert not Foredragningspunkt.objects.get().is_decided


def test_a_decision_that_fails_to_save_removes_its_extract_file(db, settings, monkeypatch):
    sekr = sekreterare()
    punkt = services.satt_pa_foredragningslista(
        sammantrade=sammantrade(), tjansteutlatande=attesterat_dokument(), user=sekr
    )
    spara = services.spara_med_orsak

    def database_fails_on_the_case(obj, **kwargs):
        if isinstance(obj, Arende):
            raise DatabaseError("anslutningen bröts")
        return spara(obj, **kwargs)

    monkeypatch.setattr(services, "spara_med_orsak", database_fails_on_the_case)
    with pytest.raises(DatabaseError):
        services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr)

    assert _utdrag_filer(settings.MEDIA_ROOT) == []
    assert not Foredragningspunkt.objects.get().is_decided
    monkeypatch.setattr(services, "spara_med_orsak", spara)
    services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr)
    assert len(_utdrag_filer(settings.MEDIA_ROOT)) == 1


def _stockholm(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=zoneinfo.ZoneInfo("Europe/Stockholm"))


def test_a_postponed_item_keeps_its_number_and_its_document_goes_to_a_later_meeting(db):
    sekr = sekreterare()
    mote = sammantrade()
    bordlagd_tu, beslutad_tu = attesterat_dokument(titel="Bordlagd"), attesterat_dokument(titel="Beslutad")
    a = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=bordlagd_tu, user=sekr)
    b = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=beslutad_tu, user=sekr)
    services.registrera_beslut(punkt=b, beslut="Nämnden godkänner.", user=sekr)

    services.bordlagg(punkt=a, user=sekr)

    a.refresh_from_db()
    bordlagd_tu.refresh_from_db()
    arende = bordlagd_tu.arende
    arende.refresh_from_db()
    assert (a.nummer, a.bordlagd, a.beslut) == (1, True, "Ärendet bordläggs.")
    assert list(mote.punkter.order_by("nummer").values_list("pk", "nummer")) == [(a.pk, 1), (b.pk, 2)]
    assert "Ärendet bordläggs." in _pdf_text(a.protokollsutdrag.read())
    assert bordlagd_tu.status == "attesterad"
    assert bordlagd_tu.innehall_hash  # the attest stands: the text is the one the chefs approved
    assert arende.status == "redo_for_namnd"
    for obj in (a, bordlagd_tu, arende):
        senaste = obj.history.first()
        assert senaste.history_user == sekr
        assert senaste.history_change_reason.startswith("Bordlagt: Skärholmens stadsdelsnämnd 2024-05-23")

    # The nämnd takes it up at the next meeting and decides it there.
    nasta = sammantrade(datum=datetime.date(2024, 6, 13))
    ny = services.satt_pa_foredragningslista(sammantrade=nasta, tjansteutlatande=bordlagd_tu, user=sekr)
    services.registrera_beslut(punkt=ny, beslut="Nämnden godkänner.", user=sekr)
    bordlagd_tu.refresh_from_db()
    arende.refresh_from_db()
    assert (ny.nummer, bordlagd_tu.status, arende.status) == (1, "beslutad", "avslutat")
    assert Foredragningspunkt.objects.get(pk=a.pk).bordlagd  # the first meeting's record is unchanged


def test_a_postponed_item_gets_no_beslut_at_that_meeting(db):
    sekr = sekreterare()
    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    services.bordlagg(punkt=punkt, user=sekr)

    with pytest.raises(services.WorkflowError, match="Punkt 1 är bordlagd och kan inte få något beslut"):
        services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr)
    with pytest.raises(services.WorkflowError, match="Punkt 1 är bordlagd"):
        services.bordlagg(punkt=punkt, user=sekr)
    with pytest.raises(services.WorkflowError, match="Punkt 1 är redan bordlagd"):
        services.ta_bort_fran_foredragningslista(punkt=punkt, user=sekr)
    punkt.refresh_from_db()
    tu.refresh_from_db()
    assert (punkt.beslut, tu.status, tu.arende.status) == ("Ärendet bordläggs.", "attesterad", "redo_for_namnd")


def test_a_postponed_document_goes_only_to_a_later_meeting(db):
    sekr = sekreterare()
    mote = sammantrade()
    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    services.bordlagg(punkt=punkt, user=sekr)

    for datum in (mote.datum, datetime.date(2024, 4, 25)):
        with pytest.raises(services.WorkflowError, match="bordlades på sammanträdet .* senare sammanträdes"):
            services.satt_pa_foredragningslista(sammantrade=sammantrade(datum=datum), tjansteutlatande=tu, user=sekr)
    tu.refresh_from_db()
    assert tu.status == "attesterad"
    assert list(Foredragningspunkt.objects.values_list("pk", flat=True)) == [punkt.pk]


def test_an_information_item_is_not_postponed(db):
    sekr = sekreterare()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), titel="Information", user=sekr)
    with pytest.raises(services.WorkflowError, match="informationspunkt utan ärende och kan inte bordläggas"):
        services.bordlagg(punkt=punkt, user=sekr)
    assert not Foredragningspunkt.objects.get().is_decided


def test_only_a_secretary_of_the_meetings_namnd_postpones(db):
    from arenden.models import Namnd
    from tests.factories import ForvaltningFactory, UserFactory

    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekreterare())
    farsta = ForvaltningFactory(diarieprefix="FARST", namnd=Namnd.objects.create(namn="Farsta stadsdelsnämnd"))
    for user, fel in (
        (sekreterare("farsta_sekr", forvaltning=farsta), "annan nämnd"),
        (UserFactory(is_staff=True), "nämndsekreterare"),
    ):
        with pytest.raises(services.WorkflowError, match=fel):
            services.bordlagg(punkt=punkt, user=user)
    tu.refresh_from_db()
    assert tu.status == "pa_foredragningslista"
    assert not Foredragningspunkt.objects.get().is_decided


def test_the_timeline_tells_the_postponement_once(db):
    sekr = sekreterare()
    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    services.bordlagg(punkt=punkt, user=sekr)

    handelser = [(h["handelse"], h["detalj"], h["anvandare"]) for h in tidslinje(tu.arende)]
    assert [h for h in handelser if h[0] == services.BORDLAGT] == [
        (services.BORDLAGT, f"Skärholmens stadsdelsnämnd 2024-05-23, punkt 1: ”{tu.titel}”", sekr)
    ]


def test_nothing_is_decided_or_postponed_before_the_meetings_day_in_stockholm(db, settings):
    sekr = sekreterare()
    mote = sammantrade()  # 2024-05-23
    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    kvallen_fore = _stockholm("2024-05-22T23:30")
    for handling in (
        lambda: services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr, now=kvallen_fore),
        lambda: services.bordlagg(punkt=punkt, user=sekr, now=kvallen_fore),
    ):
        with pytest.raises(services.WorkflowError, match="2024-05-23 har inte hållits än"):
            handling()
    tu.refresh_from_db()
    assert (tu.status, tu.arende.status) == ("pa_foredragningslista", "pa_foredragningslista")
    assert not Foredragningspunkt.objects.get().is_decided
    assert _utdrag_filer(settings.MEDIA_ROOT) == []

    # Half past midnight in Stockholm is the meeting's day, though UTC still says the 22nd.
    services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr, now=_stockholm("2024-05-23T00:30"))
    tu.refresh_from_db()
    assert tu.status == "beslutad"


def test_a_meeting_later_than_today_takes_no_decision(db):
    sekr = sekreterare()
    mote = sammantrade(datum=timezone.localdate() + datetime.timedelta(days=60))
    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    with pytest.raises(services.WorkflowError, match="har inte hållits än"):
        services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr)
    tu.refresh_from_db()
    assert tu.arende.status != "avslutat"


def test_a_postponed_item_keeps_the_document_as_it_stood_on_the_list(db, settings):
    sekr = sekreterare()
    tu = attesterat_dokument(titel="Trygghetsvandringar")
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    tu.refresh_from_db()
    pa_listan = pdf.render_tjansteutlatande(tu)

    services.bordlagg(punkt=punkt, user=sekr)

    punkt.refresh_from_db()
    assert punkt.handling.name.startswith("pdf/bordlagda/")
    assert [p.name for p in _filer(settings.MEDIA_ROOT, "pdf/bordlagda")] == [punkt.handling.name.rsplit("/", 1)[1]]
    assert punkt.handling.read() == pa_listan
    assert (punkt.handling_titel, punkt.handling_undertitel, punkt.handling_forslag) == (
        "Trygghetsvandringar",
        "Svar på skrivelse",
        "Stadsdelsnämnden godkänner förvaltningens tjänsteutlåtande om trygghetsvandringar.",
    )


def test_a_postponement_whose_document_cannot_be_rendered_is_refused_and_changes_nothing(db, settings):
    sekr = sekreterare()
    mote = sammantrade()
    tu = TjansteutlatandeFactory(titel="Karta över Sätra")
    innehall = pdf_bytes()
    bilaga = Bilaga(tjansteutlatande=tu, ordning=1, titel="Karta")
    bilaga.fil.save("karta.pdf", ContentFile(innehall), save=True)
    attestera(tu)
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    # The uploaded bilaga is no longer in the archive: the document cannot be kept as it was.
    bilaga.fil.storage.delete(bilaga.fil.name)
    rader = [model.history.count() for model in (Foredragningspunkt, Tjansteutlatande, Arende)]

    with pytest.raises(services.WorkflowError) as fel:
        services.bordlagg(punkt=punkt, user=sekr)

    assert str(fel.value) == (
        "Punkt 1 kunde inte bordläggas: tjänsteutlåtandet sparas med punkten så som nämnden hade det, men dess "
        "PDF kunde inte skapas: Bilaga 1 (Karta) saknas i arkivet. Punkten är inte bordlagd."
    )
    punkt.refresh_from_db()
    tu.refresh_from_db()
    assert (punkt.bordlagd, punkt.beslut, punkt.beslutad, punkt.handling.name, punkt.protokollsutdrag.name) == (
        False,
        "",
        None,
        "",
        "",
    )
    assert (tu.status, tu.sammantradesdatum, tu.arende.status) == (
        "pa_foredragningslista",
        mote.datum,
        "pa_foredragningslista",
    )
    assert [model.history.count() for model in (Foredragningspunkt, Tjansteutlatande, Arende)] == rader
    assert _filer(settings.MEDIA_ROOT, "protokollsutdrag") == _filer(settings.MEDIA_ROOT, "pdf/bordlagda") == []

    # With the file back in the archive, the postponement goes through.
    bilaga.fil.storage.save(bilaga.fil.name, ContentFile(innehall))
    services.bordlagg(punkt=punkt, user=sekr)
    punkt.refresh_from_db()
    assert punkt.bordlagd and punkt.handling


def test_a_document_changed_while_its_copy_is_made_is_not_postponed(db, settings, monkeypatch):
    """Under the meeting's lock the document must be the one rendered: a change made meanwhile
    (here one outside the services) would keep a copy the nämnd never had."""
    sekr = sekreterare()
    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=sammantrade(), tjansteutlatande=tu, user=sekr)
    render = pdf.render_tjansteutlatande

    def andras_under_tiden(dokument, **kwargs):
        data = render(dokument, **kwargs)
        Tjansteutlatande.objects.filter(pk=dokument.pk).update(undertitel="Ändrad", version=F("version") + 1)
        return data

    monkeypatch.setattr(pdf, "render_tjansteutlatande", andras_under_tiden)
    with pytest.raises(services.WorkflowError, match="ändrades medan ärendet bordlades. Punkten är inte bordlagd"):
        services.bordlagg(punkt=punkt, user=sekr)

    punkt.refresh_from_db()
    assert not punkt.is_decided and not punkt.handling
    assert _filer(settings.MEDIA_ROOT, "protokollsutdrag") == _filer(settings.MEDIA_ROOT, "pdf/bordlagda") == []


def test_a_postponement_that_fails_to_save_removes_its_files(db, settings, monkeypatch):
    sekr = sekreterare()
    punkt = services.satt_pa_foredragningslista(
        sammantrade=sammantrade(), tjansteutlatande=attesterat_dokument(), user=sekr
    )
    spara = services.spara_med_orsak

    def database_fails_on_the_case(obj, **kwargs):
        if isinstance(obj, Arende):
            raise DatabaseError("anslutningen bröts")
        return spara(obj, **kwargs)

    monkeypatch.setattr(services, "spara_med_orsak", database_fails_on_the_case)
    with pytest.raises(DatabaseError):
        services.bordlagg(punkt=punkt, user=sekr)

    assert _filer(settings.MEDIA_ROOT, "protokollsutdrag") == _filer(settings.MEDIA_ROOT, "pdf/bordlagda") == []
    assert not Foredragningspunkt.objects.get().is_decided
    monkeypatch.setattr(services, "spara_med_orsak", spara)
    services.bordlagg(punkt=punkt, user=sekr)
    assert (
        len(_filer(settings.MEDIA_ROOT, "protokollsutdrag")) == len(_filer(settings.MEDIA_ROOT, "pdf/bordlagda")) == 1
    )


@pytest.mark.parametrize(("steg", "sista"), [("beslut", "Beslut punkt 1"), ("bordlagg", "Bordlägg punkt 1")])
def test_an_items_decision_pages_breadcrumbs_read_as_every_other_admin_pages(client, demo, steg, sista):
    sekr = sekreterare()
    client.force_login(sekr)
    mote = sammantrade()
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=demo, user=sekr)
    page = client.get(f"/admin/arenden/sammantrade/{mote.pk}/punkt/{punkt.pk}/{steg}/").content.decode()
    brodsmulor = re.search(r'<div class="breadcrumbs">(.*?)</div>', page, re.S).group(1)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", brodsmulor)).split())
    assert text == f"Hem › Ärenden › Sammanträden › {mote} › {sista}"
