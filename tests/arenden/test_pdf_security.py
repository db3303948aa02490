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


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


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
