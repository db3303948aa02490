"""The demo tjänsteutlåtande as a PDF, read back: content and order, footnotes, attestation,
PDF/A and tagging, fonts, bilagor, and the attested copy that never changes."""

import io
import re
import time

import pikepdf
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from weasyprint import HTML

from arenden import pdf
from arenden.models import Arende, Attestering, Bilaga, Forvaltning, Profil
from atgarder.constants import DEFINITIONER, AtgardTyp
from atgarder.models import Atgard
from tests.arenden.pdftext import find_in_order, page_count, pages, split_page, squash
from tests.factories import TjansteutlatandeFactory
from tests.seedtext import seed_items


@pytest.fixture
def demo_pdf(demo):
    return pdf.render_tjansteutlatande(demo)


def _struct_tags(pdf_file):
    """Every structure element type in the tag tree, in document order."""
    tags = []

    def walk(node):
        if isinstance(node, pikepdf.Array):
            for item in node:
                walk(item)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
            tags.append(str(node.S)[1:])
            if "/K" in node:
                walk(node.K)

    walk(pdf_file.Root.StructTreeRoot.K)
    return tags


def test_demo_pdf_holds_every_paragraph_and_list_item_of_the_seed_in_order(demo_pdf):
    items, footnotes = seed_items()
    body = "\n".join(split_page(text)[1] for text in pages(demo_pdf))
    assert find_in_order(body, items) == []
    assert len(items) > 50


def test_each_footnote_is_at_the_foot_of_the_page_with_its_marker(demo_pdf):
    marker_pages = {}
    for number, text in enumerate(pages(demo_pdf), start=1):
        _, body, foot = split_page(text)
        for mark, typ in (("¹", AtgardTyp.SOCIAL), ("²", AtgardTyp.SITUATIONELL)):
            if f"prevention{mark}" in body:
                marker_pages[mark] = number
                assert squash(f"{mark} {DEFINITIONER[typ]}") in squash(foot), (number, foot)
            else:
                assert squash(DEFINITIONER[typ]) not in squash(foot)
    assert set(marker_pages) == {"¹", "²"}


def test_attestation_table_lists_the_stored_attestations_newest_first(demo):
    # Titles printed are those stored on the attestation, not the person's title today.
    Profil.objects.filter(user__username="lisa").update(befattning="Pensionär")
    text = "\n".join(pages(pdf.render_tjansteutlatande(demo)))
    assert (
        find_in_order(
            text,
            [
                "Attesterat av",
                "Detta dokument har godkänts digitalt av följande personer:",
                "Namn Datum",
                "Lisa Kinnari, Förvaltningschef 2024-05-06",
                "Christoffer Carlander, Tf. avdelningschef 2024-05-06",
                f"SHA-256: {demo.innehall_hash[:16]}",
            ],
        )
        == []
    )
    assert "Pensionär" not in text


def test_attestation_block_is_a_tagged_table(demo_pdf):
    tags = _struct_tags(pikepdf.open(io.BytesIO(demo_pdf)))
    assert "Table" in tags
    assert tags.count("TH") == 2
    assert tags.count("TD") == 2 * Attestering.objects.count()


def test_header_block_and_page_numbers_on_every_own_page(demo, demo_pdf):
    texts = pages(demo_pdf)
    own = [t for t in texts if "Tjänsteutlåtande" in split_page(t)[0]]
    total = len(own)
    assert total >= 3
    for number, text in enumerate(own, start=1):
        header = split_page(text)[0]
        assert f"Sida {number} ({total})" in header
        assert "Dnr SKHLM 2024/123" in header
        assert "Skärholmens stadsdelsförvaltning" in header
    first = split_page(own[0])[1]
    assert (
        find_in_order(
            first,
            [
                "Handläggare",
                "Anette Petersson",
                "Telefon: 08-50824420",
                "Till",
                "Skärholmens stadsdelsnämnd",
                "2024-05-23",
                "Öppna drogscener",
                "Svar på skrivelse",
                "Förvaltningens förslag till beslut",
            ],
        )
        == []
    )


def test_sections_print_in_the_mall_order(demo, demo_pdf):
    body = "\n".join(split_page(t)[1] for t in pages(demo_pdf))
    rubriker = list(demo.mall.sektioner.order_by("ordning").values_list("rubrik", flat=True))
    assert find_in_order(body, [*rubriker, "Bilagor", "1. Skrivelse; Öppna drogscener", "Attesterat av"]) == []


def test_pdf_is_tagged_pdfa_with_xmp_metadata_in_swedish(demo_pdf):
    with pikepdf.open(io.BytesIO(demo_pdf)) as doc:
        meta = doc.open_metadata()
        assert meta["pdfaid:part"] == "2"
        assert meta["pdfaid:conformance"] == "A"
        assert meta["dc:title"] == "Öppna drogscener – Svar på skrivelse"
        assert meta["dc:creator"] == ["Skärholmens stadsdelsförvaltning"]
        assert meta["dc:description"] == "SKHLM 2024/123"
        assert meta["dc:language"] == {"sv"}
        assert str(doc.Root.Lang) == "sv"
        assert doc.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in doc.Root
        tags = _struct_tags(doc)
        assert tags[0] == "Document" and {"H1", "H2", "P", "L", "LI"} <= set(tags)
        assert "/OutputIntents" in doc.Root


def test_every_font_is_embedded_and_comes_from_the_repository(demo_pdf):
    names = set()
    with pikepdf.open(io.BytesIO(demo_pdf)) as doc:
        for page in doc.pages:
            for font in page.Resources.Font.values():
                fonts = font.DescendantFonts if "/DescendantFonts" in font else [font]
                for descendant in fonts:
                    descriptor = descendant.FontDescriptor
                    assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), descendant.BaseFont
                    names.add(str(descendant.BaseFont).split("+", 1)[1])
    assert names == {"Dokument-Sans", "Dokument-Sans-Bold", "Dokument-Sans-Semi-Bold"}


def test_attested_document_prints_its_frozen_text_after_the_atgard_is_edited(demo):
    Atgard.objects.filter(titel="Trygga trappan").update(beskrivning="Helt ny text om trappor.")
    text = "\n".join(pages(pdf.render_tjansteutlatande(demo)))
    assert "Helt ny text" not in text
    assert "Trygga trappan där polis och fastighetsägare" in " ".join(text.split())


def test_attested_pdf_is_rendered_once_and_then_served_from_storage(demo):
    first = pdf.render_tjansteutlatande(demo)
    path = pdf._cache_path(demo)
    assert default_storage.exists(path)
    assert demo.innehall_hash in path
    with default_storage.open(path, "rb") as stored:
        assert stored.read() == first
    # What is stored is what is served: replace it and the next download returns it.
    default_storage.delete(path)
    default_storage.save(path, io.BytesIO(b"%PDF-stored"))
    assert pdf.render_tjansteutlatande(demo) == b"%PDF-stored"


def test_draft_is_rendered_from_the_database_and_not_stored(db):
    tu = TjansteutlatandeFactory(titel="Utkast om parker")
    data = pdf.render_tjansteutlatande(tu)
    assert "Utkast om parker" in pages(data)[0]
    assert "Dokumentet är inte attesterat." in "\n".join(pages(data))
    assert not default_storage.exists(pdf.CACHE_DIR)


def test_uploaded_pdf_bilaga_comes_last_and_text_bilaga_gets_its_own_pages(db):
    tu = TjansteutlatandeFactory(titel="Bilagor i ordning")
    uploaded = HTML(
        string="<p>UPPLADDAD SKRIVELSE SIDA ETT</p><p style='break-before: page'>UPPLADDAD SKRIVELSE SIDA TVÅ</p>"
    ).write_pdf()
    Bilaga.objects.create(
        tjansteutlatande=tu,
        ordning=1,
        titel="Minnesanteckning",
        text="Text som bara finns här.\nOm x<y och a>b.\nKontakt: Anna <anna@stad.se>",
    )
    Bilaga.objects.create(
        tjansteutlatande=tu, ordning=2, titel="Skrivelse", fil=SimpleUploadedFile("skrivelse.pdf", uploaded)
    )
    data = pdf.render_tjansteutlatande(tu)
    texts = pages(data)
    assert "UPPLADDAD SKRIVELSE SIDA ETT" in texts[-2]
    assert "UPPLADDAD SKRIVELSE SIDA TVÅ" in texts[-1]
    bilaga_page = texts[-3]
    assert "Bilaga 1. Minnesanteckning" in bilaga_page
    assert "Text som bara finns här." in bilaga_page
    # Plain text, printed as written: nothing in it is read as markup, each line on its own.
    assert "Om x<y och a>b." in bilaga_page and "Kontakt: Anna <anna@stad.se>" in bilaga_page
    assert "Sida 1 (1)" in split_page(bilaga_page)[0]
    own = texts[:-3]
    assert all("Bilaga 1" not in split_page(t)[0] for t in own)
    # The document's own page numbers count only its own pages.
    for number, text in enumerate(own, start=1):
        assert f"Sida {number} ({len(own)})" in split_page(text)[0]
    assert page_count(data) == len(own) + 3
    # Appending keeps the catalog of the rendered document: tags, language, XMP.
    with pikepdf.open(io.BytesIO(data)) as doc:
        assert "/StructTreeRoot" in doc.Root and str(doc.Root.Lang) == "sv"
        assert doc.open_metadata()["pdfaid:part"] == "2"
        assert str(doc.docinfo.Producer) == "WeasyPrint 70.0"


def test_filename_is_diarienummer_and_title(demo):
    assert pdf.pdf_filename(demo) == "SKHLM-2024-123-oppna-drogscener.pdf"
    # A prefix's Å, Ä and Ö are kept as letters, as the title's are.
    Forvaltning.objects.filter(pk=demo.arende.forvaltning_id).update(diarieprefix="ÄLVSJÖ")
    Arende.objects.filter(pk=demo.arende_id).update(diarienummer="ÄLVSJÖ 2024/123")
    demo.arende.refresh_from_db()
    assert pdf.pdf_filename(demo) == "ALVSJO-2024-123-oppna-drogscener.pdf"


def test_a_long_titles_file_name_is_cut_between_words_within_what_file_systems_take(demo):
    """A title may hold 300 characters, which made names past the 255 bytes a file name may have,
    which browsers shorten as they like and zip tools refuse."""
    demo.titel = "Svar på skrivelse om öppna drogscener och de sociala och situationella åtgärderna " * 4
    hel = "svar-pa-skrivelse-om-oppna-drogscener-och-de-sociala-och-situationella-atgarderna-" * 4
    titeln = pdf.pdf_filename(demo).removeprefix("SKHLM-2024-123-").removesuffix(".pdf")
    assert 0 < len(titeln) <= pdf.FILNAMN_TITEL and hel.startswith(titeln + "-")
    demo.titel = "x" * 300
    assert pdf.pdf_filename(demo) == f"SKHLM-2024-123-{'x' * pdf.FILNAMN_TITEL}.pdf"


def test_document_html_is_the_html_the_pdf_is_made_from(demo):
    html = pdf.document_html(demo)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="sv">' in html
    assert "<title>Öppna drogscener – Svar på skrivelse</title>" in html
    assert 'class="fotnot"' in html


def test_render_pdf_renders_any_pdf_template_with_the_same_archival_settings(db):
    data = pdf.render_pdf(
        "pdf/bilaga.html",
        {"bilaga": {"nummer": 3, "titel": "Föredragningslista"}, "text": "Punkt ett."},
        title="Sammanträde 2024-05-23",
        author="Skärholmens stadsdelsnämnd",
        subject="Föredragningslista",
    )
    header, body, _ = split_page(pages(data)[0])
    assert "Bilaga 3. Föredragningslista" in body and "Punkt ett." in body
    assert "Sammanträde 2024-05-23" in pages(data)[0] and "Sida 1 (1)" in header
    with pikepdf.open(io.BytesIO(data)) as doc:
        meta = doc.open_metadata()
        assert meta["pdfaid:part"] == "2" and meta["dc:language"] == {"sv"}
        assert meta["dc:creator"] == ["Skärholmens stadsdelsnämnd"]
        assert "/StructTreeRoot" in doc.Root


def test_renderer_logs_once_which_library_subsets_the_fonts(db, caplog, monkeypatch):
    monkeypatch.setattr(pdf, "_logged_subsetter", False)
    tu = TjansteutlatandeFactory()
    with caplog.at_level("INFO", logger="arenden.pdf"):
        pdf.render_tjansteutlatande(tu)
        pdf.render_tjansteutlatande(tu)
    lines = [r.getMessage() for r in caplog.records if "subsetting" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0] in {
        "PDF-typsnitt delas upp (subsetting) med HarfBuzz-subset.",
        "PDF-typsnitt delas upp (subsetting) med fontTools.",
    }


def test_prestarted_render_process_serves_the_first_pdf(db):
    pdf.shutdown_workers()
    try:
        pdf.prestart_worker()
        deadline = time.monotonic() + pdf.STARTUP_TIMEOUT
        while not pdf._idle and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(pdf._idle) == 1
        started = pdf._idle[0]
        assert started.alive()
        tu = TjansteutlatandeFactory(titel="Första PDF:en efter start")
        assert "Första PDF:en efter start" in pages(pdf.render_tjansteutlatande(tu))[0]
        # The render went to the process started ahead, not to a new one.
        assert pdf._idle == [started]
    finally:
        pdf.shutdown_workers()


def test_a_bilaga_file_replaced_after_attest_is_refused_not_printed(db):
    from pathlib import Path

    from tests.arenden.meeting import attestera
    from tests.factories import pdf_bytes

    tu = TjansteutlatandeFactory()
    original = HTML(string="<p>KARTAN SOM ATTESTERADES</p>").write_pdf()
    bilaga = Bilaga(tjansteutlatande=tu, ordning=1, titel="Karta")
    bilaga.fil.save("karta.pdf", SimpleUploadedFile("karta.pdf", original), save=True)
    attestera(tu)  # the content frozen, with the file's hash
    fil = Path(bilaga.fil.path)

    fil.write_bytes(pdf_bytes())  # replaced in the file store, behind the services' back
    with pytest.raises(pdf.PdfError, match=r"Bilaga 1 \(Karta\) är inte längre den fil .* har bytts ut i arkivet"):
        pdf.render_tjansteutlatande(tu)

    fil.write_bytes(original)
    assert "KARTAN SOM ATTESTERADES" in "\n".join(pages(pdf.render_tjansteutlatande(tu)))


def test_closing_text_of_a_section_without_atgarder_is_printed(db):
    # The admin offers "avslutande text" under every heading, and the chef's preview and the
    # frozen content hold it; the PDF printed it only under the heading that lists åtgärder.
    tu = TjansteutlatandeFactory(titel="Avslutning utan åtgärder")
    sektion = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    sektion.avslutning = "<p>Avslutande mening som chefen attesterade.</p>"
    sektion.save()
    text = "\n".join(split_page(p)[1] for p in pages(pdf.render_tjansteutlatande(tu)))
    assert find_in_order(text, ["Ärendet", "Text under Ärendet.", "Avslutande mening som chefen attesterade."]) == []


def test_a_section_with_nothing_to_print_prints_no_heading(db):
    # A heading the officer left empty (an optional one, or a draft's) stood alone in the
    # document the nämnd reads, with the next heading straight under it.
    tu = TjansteutlatandeFactory(titel="Utan ärendetext")
    sektion = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    sektion.text = "<p> </p><p><br></p>"
    sektion.save()
    text = "\n".join(split_page(p)[1] for p in pages(pdf.render_tjansteutlatande(tu)))
    assert "Ärendet" not in text
    assert find_in_order(text, ["Förslag till beslut", "Text under Förslag till beslut.", "Synpunkter"]) == []


@pytest.mark.parametrize(
    "ord",
    [
        # A hostile string: WeasyPrint tried every hyphenation point of it on each line, a render
        # time that grows with the cube of its length (some 20 s for 2,000 letters).
        "a" * 2000,
        # A pasted address: no hyphenation point after its last slash, so it ran off the page.
        "https://start.stockholm/" + "0123456789" * 200,
    ],
    ids=["bokstaver", "adress"],
)
def test_a_very_long_word_renders_in_time_and_wraps_inside_the_margins(db, settings, ord):
    settings.PDF_RENDER_TIMEOUT = 8
    tu = TjansteutlatandeFactory(titel="Långt ord")
    sektion = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    sektion.text = f"<p>Läs mer på {ord} eller ring.</p>"
    sektion.save()
    assert len(ord) >= 2000
    body = [split_page(p)[1] for p in pages(pdf.render_tjansteutlatande(tu))]
    text = "\n".join(body)
    # Every character is printed, broken over lines without added hyphens.
    assert ord in re.sub(r"\s+", "", text)
    rader = [rad for rad in text.splitlines() if rad and rad in ord]
    # A line of body text holds some 90 characters: none runs past the right margin.
    assert len(rader) >= 2000 // 120
    assert max(len(rad) for rad in rader) < 120


def test_ordinary_text_is_laid_out_as_before(demo):
    # Only runs past pdf.LANGT_ORD characters are marked: the seed's text reaches WeasyPrint
    # unchanged, hyphenated as it always was.
    html = pdf.document_html(demo)
    assert 'class="langt-ord"' not in html
    assert pdf._mark_long_words(html) == html
    marked = pdf._mark_long_words(f"<body><p>Se {'x' * 60}&amp;y och &lt;b&gt;.</p></body>")
    assert marked == f'<body><p>Se <span class="langt-ord">{"x" * 60}&amp;y</span> och &lt;b&gt;.</p></body>'


def _bredd_pt(text, font, storlek):
    """How wide `text` prints in `font` (a file in static/fonts) at `storlek` points, from the
    font's own advance widths."""
    from fontTools.ttLib import TTFont

    fil = TTFont(f"static/fonts/{font}")
    cmap, matt = fil.getBestCmap(), fil["hmtx"]
    return sum(matt[cmap[ord(tecken)]][0] for tecken in text) / fil["head"].unitsPerEm * storlek


# The width between the page's margins (A4, 25 mm left and 22 mm right, static/pdf/dokument.css).
TEXTBREDD_PT = (210 - 25 - 22) / 25.4 * 72


@pytest.mark.parametrize(
    "titel, undertitel, ord_, font, storlek",
    [
        # A Swedish compound of 48 letters: at the title's 20 pt some 38 letters fill the line, and
        # a title is never hyphenated.
        (
            "Samverkansöverenskommelseuppföljningsrapporterna",
            "Svar på skrivelse",
            "Samverkansöverenskommelseuppföljningsrapporterna",
            "OpenSans-Bold.ttf",
            20,
        ),
        # 30 wide letters fill more than the line, far below the 50 that count as a long run.
        ("Om " + "M" * 30, "Svar på skrivelse", "M" * 30, "OpenSans-Bold.ttf", 20),
        # The subtitle's 13 pt: 45 wide letters.
        ("Öppna drogscener", "m" * 45, "m" * 45, "OpenSans-Regular.ttf", 13),
    ],
    ids=["sammansatt-ord", "breda-bokstaver", "undertitel"],
)
def test_a_long_word_in_the_title_wraps_inside_the_margins(db, titel, undertitel, ord_, font, storlek):
    tu = TjansteutlatandeFactory(titel=titel, undertitel=undertitel)
    forsta = split_page(pages(pdf.render_tjansteutlatande(tu))[0])[1].splitlines()
    rader = [rad for rad in (r.removeprefix("– ") for r in forsta) if rad and rad in ord_]
    # Every letter is printed, without an added hyphen, and no line is wider than the page allows.
    assert "".join(rader) == ord_, forsta
    assert max(_bredd_pt(rad, font, storlek) for rad in rader) <= TEXTBREDD_PT, rader


def test_an_ordinary_title_is_laid_out_as_before(demo_pdf):
    forsta = split_page(pages(demo_pdf)[0])[1].splitlines()
    assert "Öppna drogscener" in forsta and "– Svar på skrivelse" in forsta
