"""Whatever text reaches the renderer, it reads no local file, attaches nothing and reaches no
network; a render that runs away is stopped with a Swedish error."""

import io
import logging
import socket

import pikepdf
import pytest
from django.utils.safestring import mark_safe

from arenden import pdf
from arenden.models import Sektion
from tests.arenden.pdftext import pages
from tests.factories import TjansteutlatandeFactory

REFUSED = "PDF-renderingen vägrade hämta"


@pytest.fixture
def listener():
    """A local TCP port that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server
    server.close()


def _connected(server):
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def _hostile(port):
    return (
        '<p>Säker text före.</p><img src="file:///etc/passwd" alt="">'
        '<link rel="attachment" href="file:///etc/hostname">'
        f"<style>p {{ background: url(http://127.0.0.1:{port}/x) }}</style>"
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/extern.css">'
        '<link rel="stylesheet" href="https://stylesheets.example.invalid/extern.css">'
        "<p>Säker text efter.</p>"
    )


def _assert_clean(data):
    with pikepdf.open(io.BytesIO(data)) as doc:
        assert "/EmbeddedFiles" not in doc.Root.get("/Names", {})
        assert "/AF" not in doc.Root
        assert not doc.attachments
        for page in doc.pages:
            assert not list(page.Resources.get("/XObject", {}).keys())  # no image was drawn
    text = "\n".join(pages(data))
    assert "root:" not in text


def test_fetcher_refuses_local_files_attachments_and_network_in_raw_html(demo, caplog, listener):
    """Even HTML that skipped sanitising (here marked safe on purpose) fetches nothing."""
    port = listener.getsockname()[1]
    context = pdf._document_context(demo, pdf.snapshot_of(demo))
    context["sektioner"][0]["text"] = mark_safe(_hostile(port))
    with caplog.at_level(logging.WARNING, logger="arenden.pdf"):
        data = pdf.render_pdf(
            "pdf/tjansteutlatande.html", context, title="Prov", author="Skärholmens stadsdelsförvaltning", subject="X"
        )
    refused = {r.getMessage().removeprefix(f"{REFUSED} ") for r in caplog.records if REFUSED in r.getMessage()}
    assert refused == {
        "file:///etc/passwd",
        "file:///etc/hostname",
        f"http://127.0.0.1:{port}/x",
        f"http://127.0.0.1:{port}/extern.css",
        "https://stylesheets.example.invalid/extern.css",
    }
    assert not _connected(listener)
    _assert_clean(data)
    assert "Säker text efter." in "\n".join(pages(data))


def test_hostile_section_text_is_sanitised_before_it_reaches_the_renderer(db, caplog, listener):
    """Stored HTML that bypassed the services (an import, a raw update) is cleaned again."""
    port = listener.getsockname()[1]
    tu = TjansteutlatandeFactory()
    Sektion.objects.filter(tjansteutlatande=tu).update(text=_hostile(port))
    with caplog.at_level(logging.WARNING, logger="arenden.pdf"):
        data = pdf.render_tjansteutlatande(tu)
    assert not [r for r in caplog.records if REFUSED in r.getMessage()]  # nothing was even asked for
    assert "<img" not in pdf.document_html(tu) and '<link rel="attachment"' not in pdf.document_html(tu)
    assert not _connected(listener)
    _assert_clean(data)
    assert "Säker text efter." in "\n".join(pages(data))


def test_fetcher_serves_only_the_projects_static_files(settings, tmp_path):
    from arenden.pdf_worker import _static_only_fetcher_class

    static = tmp_path / "static"
    (static / "fonts").mkdir(parents=True)
    (static / "fonts" / "a.ttf").write_bytes(b"font")
    (tmp_path / "secret.txt").write_text("hemligt")
    (static / "fonts" / "link.txt").symlink_to(tmp_path / "secret.txt")
    fetcher = _static_only_fetcher_class()([str(static)])
    assert fetcher.fetch((static / "fonts" / "a.ttf").as_uri()).read() == b"font"
    for url in [
        (tmp_path / "secret.txt").as_uri(),
        (static / "fonts" / "link.txt").as_uri(),  # a symlink out of the static tree
        (static / "fonts" / ".." / ".." / "secret.txt").as_uri(),
        "file://otherhost" + str(static / "fonts" / "a.ttf"),
        "data:text/plain,hej",
        "http://127.0.0.1:9/x",
    ]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 6


def test_runaway_render_is_stopped_with_a_swedish_error_and_the_next_one_works(db, settings):
    tu = TjansteutlatandeFactory(titel="Oändligt dokument")
    pdf.render_tjansteutlatande(tu)  # a started worker: the limit is on rendering, not on starting
    settings.PDF_RENDER_TIMEOUT = 2
    Sektion.objects.filter(pk=tu.sektioner.first().pk).update(text="<p>Ord och ord igen.</p>" * 60000)
    with pytest.raises(pdf.PdfError, match=r"inte skapas inom tidsgränsen \(2 s\) och avbröts"):
        pdf.render_tjansteutlatande(tu)
    settings.PDF_RENDER_TIMEOUT = 30
    Sektion.objects.filter(pk=tu.sektioner.first().pk).update(text="<p>Kort igen.</p>")
    assert "Kort igen." in "\n".join(pages(pdf.render_tjansteutlatande(tu)))


def test_memory_limit_stops_a_hostile_document_and_the_next_render_works(db, settings):
    # Workers already running keep the limit they started with: start fresh ones.
    pdf.shutdown_workers()
    settings.PDF_WORKER_MEMORY_MB = 512
    settings.PDF_RENDER_TIMEOUT = 300  # so that memory, not time, is what stops it
    try:
        tu = TjansteutlatandeFactory(titel="Dokument som äter minne")
        assert "Dokument som äter minne" in "\n".join(pages(pdf.render_tjansteutlatande(tu)))
        sektion = tu.sektioner.first()
        Sektion.objects.filter(pk=sektion.pk).update(text="<p>Ord och ord igen.</p>" * 40000)
        with pytest.raises(pdf.PdfError, match=r"renderingen avbröts \(.*minne\)"):
            pdf.render_tjansteutlatande(tu)
        assert all(worker.alive() for worker in pdf._idle)
        Sektion.objects.filter(pk=sektion.pk).update(text="<p>Kort igen.</p>")
        assert "Kort igen." in "\n".join(pages(pdf.render_tjansteutlatande(tu)))
    finally:
        pdf.shutdown_workers()


def _fientlig_pdf():
    """A one-page PDF that prints a line and carries what an official document must not: a
    script on opening, a page action, a form, an embedded file, a script link, a launch link,
    and one plain web link, which may stay."""
    from weasyprint import HTML

    doc = pikepdf.open(io.BytesIO(HTML(string="<p>BILAGANS TEXT</p>").write_pdf()))
    js = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')"))
    fil = pikepdf.Dictionary(
        Type=pikepdf.Name.Filespec, F=pikepdf.String("virus.exe"), EF=pikepdf.Dictionary(F=doc.make_stream(b"MZ"))
    )

    def annot(subtype, **extra):
        return doc.make_indirect(
            pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=subtype, Rect=[0, 0, 50, 50], **extra)
        )

    page = doc.pages[0].obj
    page.AA = pikepdf.Dictionary(O=js)
    page.Annots = pikepdf.Array(
        [
            annot(pikepdf.Name.Link, A=js),
            annot(pikepdf.Name.Link, A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))),
            annot(pikepdf.Name.FileAttachment, FS=fil),
            annot(pikepdf.Name.Widget, FT=pikepdf.Name.Tx, T=pikepdf.String("falt")),
            annot(pikepdf.Name.Link, A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://stad.se/"))),
        ]
    )
    doc.Root.OpenAction = js
    doc.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([page.Annots[3]]))
    doc.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), js])),
        EmbeddedFiles=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("virus.exe"), fil])),
    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_an_uploaded_bilaga_brings_only_what_it_prints_and_plain_links_into_the_document(db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from arenden.models import Bilaga

    tu = TjansteutlatandeFactory(titel="Med uppladdad bilaga")
    Bilaga.objects.create(
        tjansteutlatande=tu, ordning=1, titel="Bilaga", fil=SimpleUploadedFile("b.pdf", _fientlig_pdf())
    )
    data = pdf.render_tjansteutlatande(tu)

    assert "BILAGANS TEXT" in pages(data)[-1]
    with pikepdf.open(io.BytesIO(data)) as doc:
        for key in ("/OpenAction", "/AcroForm", "/AA"):
            assert key not in doc.Root, key
        names = doc.Root.get("/Names", pikepdf.Dictionary())
        assert "/JavaScript" not in names and "/EmbeddedFiles" not in names
        sist = doc.pages[-1].obj
        assert "/AA" not in sist
        kvar = [(str(a.Subtype), str(a.A.S)) for a in sist.get("/Annots", [])]
        assert kvar == [("/Link", "/URI")]
        # Nowhere in the file: no script, launch, embedded file or form field is left to reach.
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Dictionary):
                assert obj.get("/S") not in (pikepdf.Name.JavaScript, pikepdf.Name.Launch), obj
                assert obj.get("/Subtype") not in (pikepdf.Name.FileAttachment, pikepdf.Name.Widget), obj
