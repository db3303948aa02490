"""The one renderer of the förvaltning's PDFs.

A tjänsteutlåtande is drawn from its snapshot (arenden/snapshot.py): a draft from the database,
a document sent for attest from the frozen `innehall`, so the text a chef approved is the text
that prints. Django renders the HTML from templates/pdf/; WeasyPrint turns it into a tagged
PDF/A-2a in a worker process (arenden/pdf_worker.py) that is killed when it overruns
`PDF_RENDER_TIMEOUT`. Attested documents are rendered once and the bytes kept in
`default_storage` under their content hash.
"""

import hashlib
import io
import logging
import multiprocessing
import re
import threading
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from . import pdf_worker
from .constants import TjansteutlatandeStatus
from .html import sanitize_html
from .snapshot import build_snapshot

logger = logging.getLogger(__name__)

STYLESHEET = Path(settings.BASE_DIR) / "static" / "pdf" / "dokument.css"
CACHE_DIR = "pdf/attesterade"
# Bump when the layout changes in a way that must reach already stored attested PDFs.
LAYOUT_VERSION = "1"

# States in which the document's content is frozen and fully attested.
ATTESTED = {
    TjansteutlatandeStatus.ATTESTERAD,
    TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA,
    TjansteutlatandeStatus.BESLUTAD,
}


class PdfError(Exception):
    """The PDF could not be made; the message is Swedish and can be shown to the user."""


STARTUP_TIMEOUT = 60


def render_timeout():
    return settings.PDF_RENDER_TIMEOUT


# --- worker processes -------------------------------------------------------------------------


class _Worker:
    """One WeasyPrint process. Spawned, not forked: the web process has threads and open
    database connections that a fork would copy."""

    def __init__(self):
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        roots = [str(path) for path in settings.STATICFILES_DIRS]
        memory = settings.PDF_WORKER_MEMORY_MB
        self.process = context.Process(
            target=pdf_worker.worker_main,
            args=(child, roots, str(STYLESHEET), memory),
            name="pdf-worker",
            daemon=True,
        )
        self.process.start()
        child.close()
        # Starting (imports, fonts, stylesheet) is not part of a render's time limit.
        if not self.conn.poll(STARTUP_TIMEOUT):
            self.kill()
            raise PdfError("PDF-tjänsten kunde inte startas. Försök igen om en stund.")
        _, self.subsetter = self.conn.recv()

    def run(self, job, timeout):
        self.conn.send(job)
        if not self.conn.poll(timeout):
            self.kill()
            raise PdfError(
                f"PDF:en kunde inte skapas inom tidsgränsen ({timeout:g} s) och avbröts. Dokumentet "
                "är troligen för stort eller innehåller något som inte går att sidbryta; korta "
                "texten eller kontakta systemförvaltningen."
            )
        try:
            status, result = self.conn.recv()
        except EOFError:
            self.kill()
            raise PdfError(
                "PDF:en kunde inte skapas: renderingen avbröts (troligen för lite minne). "
                "Korta texten eller kontakta systemförvaltningen."
            ) from None
        if status != "ok":
            logger.error("PDF-rendering misslyckades: %s", result)
            raise PdfError(f"PDF:en kunde inte skapas ({result[:200]}).")
        return result

    def alive(self):
        return self.process.is_alive()

    def kill(self):
        self.process.kill()
        self.process.join(5)
        self.conn.close()


_idle = []
_idle_lock = threading.Lock()
_logged_subsetter = False


def _run_job(job):
    """Run one job on an idle worker (or a new one); a worker that overran is not reused."""
    global _logged_subsetter
    with _idle_lock:
        worker = _idle.pop() if _idle else None
    if worker is None or not worker.alive():
        worker = _Worker()
    if not _logged_subsetter:
        # HarfBuzz-subset is several times faster than the fontTools fallback (README, bench/pdf.py).
        _logged_subsetter = True
        logger.info("PDF-typsnitt delas upp (subsetting) med %s.", worker.subsetter)
    result = worker.run(job, render_timeout())
    with _idle_lock:
        _idle.append(worker)
    return result


def shutdown_workers():
    with _idle_lock:
        workers = list(_idle)
        _idle.clear()
    for worker in workers:
        worker.kill()


# --- HTML -------------------------------------------------------------------------------------


def _css_string(value):
    """A CSS string literal; the value cannot end the string or the <style> element."""
    escaped = "".join(ch if ch.isalnum() or ch in " .,;:/()–-_'åäöÅÄÖ" else f"\\{ord(ch):x} " for ch in value)
    return f'"{escaped}"'


def _running_header(left_lines, right_lines):
    """@page rules for the running header: lines top left; lines and "Sida N (M)" top right."""
    left = ' "\\A" '.join(_css_string(line) for line in left_lines if line) or '""'
    right = ' "\\A" '.join(_css_string(line) for line in right_lines if line)
    return (
        f"@page {{ @top-left {{ content: {left}; }} "
        f'@top-right {{ content: {right} "\\A Sida " counter(page) " (" counter(pages) ")"; }} }}'
    )


def _safe_html(value):
    # Stored text is sanitised when saved; doing it again here means HTML that reached the
    # database another way (an import, an old row) still cannot carry links or styles.
    return mark_safe(sanitize_html(value))


def _paragraphs(text):
    """A text-only bilaga: plain text with blank lines between paragraphs."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n")) if p.strip()]
    return mark_safe("".join(f"<p>{sanitize_html(p)}</p>" for p in parts))


def snapshot_of(tu):
    """What the document prints: the frozen content once sent for attest, else the live rows."""
    return tu.innehall if tu.innehall else build_snapshot(tu)


def attestation_rows(tu):
    """The attestations of the current round, newest first: the city's documents print the
    final approval (the förvaltningschef's) at the top of the table."""
    rows = tu.attesteringar.filter(
        omgang=tu.attest_omgang, makulerad__isnull=True, attesterad__isnull=False
    ).order_by("-attesterad", "-ordning")
    return [
        {
            "namn": row.namn,
            "befattning": row.befattning,
            "datum": timezone.localtime(row.attesterad).date().isoformat(),
        }
        for row in rows
    ]


def _document_context(tu, snapshot):
    return {
        "dok": snapshot,
        "sektioner": [
            {**s, "text": _safe_html(s["text"]), "avslutning": _safe_html(s["avslutning"])}
            for s in snapshot["sektioner"]
        ],
        "attesteringar": attestation_rows(tu),
        "kontrollsumma": tu.innehall_hash[:16] if tu.innehall_hash and tu.innehall else "",
    }


def _metadata(snapshot):
    title = snapshot["titel"] + (f" – {snapshot['undertitel']}" if snapshot["undertitel"] else "")
    return {"title": title, "author": snapshot["forvaltning"], "subject": snapshot["diarienummer"]}


def _html(template_name, context, *, title, author, subject, header=None):
    context = {**context, "pdf_title": title, "pdf_author": author, "pdf_subject": subject}
    if header:
        context["sidhuvud_css"] = mark_safe(_running_header(*header))
    return render_to_string(template_name, context)


def document_html(tu, snapshot=None):
    """The HTML the PDF's own pages are made from (without appended bilagor)."""
    snapshot = snapshot or snapshot_of(tu)
    header = ([snapshot["forvaltning"], snapshot["avdelning"]], ["Tjänsteutlåtande", f"Dnr {snapshot['diarienummer']}"])
    return _html("pdf/tjansteutlatande.html", _document_context(tu, snapshot), header=header, **_metadata(snapshot))


# --- rendering --------------------------------------------------------------------------------


def _render(parts, inserts=()):
    pdf, counts, refused = _run_job({"parts": parts, "inserts": list(inserts)})
    for url in refused:
        logger.warning("PDF-renderingen vägrade hämta %s", url[:300])
    return pdf


def render_pdf(template_name, context, *, title, author, subject):
    """Any templates/pdf/* template (extending pdf/base.html) as a tagged PDF/A-2a with the
    document fonts, the static-only fetcher and the time limit. The running header shows the
    author top left and the title, the subject and "Sida N (M)" top right; a template can add
    its own @page rules in {% block head %}."""
    header = ([author], [title, subject])
    return _render([_html(template_name, context, title=title, author=author, subject=subject, header=header)])


def _cache_path(tu):
    rows = attestation_rows(tu)
    attest = hashlib.sha256(repr([sorted(r.items()) for r in rows]).encode()).hexdigest()[:16]
    return f"{CACHE_DIR}/{tu.innehall_hash}-{attest}-v{LAYOUT_VERSION}.pdf"


def document_parts(tu):
    """The HTML of the document and of each text bilaga (each laid out with its own page
    count), and the uploaded PDF bilagor with the part they follow."""
    snapshot = snapshot_of(tu)
    parts = [document_html(tu, snapshot)]
    inserts = []
    for bilaga in snapshot["bilagor"]:
        if bilaga["fil"]:
            try:
                with default_storage.open(bilaga["fil"], "rb") as file:
                    inserts.append((len(parts) - 1, file.read()))
            except FileNotFoundError:
                raise PdfError(f"Bilaga {bilaga['nummer']} ({bilaga['titel']}) saknas i arkivet.") from None
        elif bilaga["text"].strip():
            context = {"bilaga": bilaga, "text": _paragraphs(bilaga["text"])}
            header = (
                [snapshot["forvaltning"], snapshot["avdelning"]],
                [f"Bilaga {bilaga['nummer']} till tjänsteutlåtande", f"Dnr {snapshot['diarienummer']}"],
            )
            meta = _metadata(snapshot)
            parts.append(_html("pdf/bilaga.html", context, header=header, **meta))
    return parts, inserts


def render_tjansteutlatande(tu):
    """The whole PDF: the document's pages, then each bilaga in number order (a text bilaga
    as its own pages, an uploaded PDF as it is). Attested documents are rendered once."""
    cacheable = tu.status in ATTESTED and bool(tu.innehall) and bool(tu.innehall_hash)
    if cacheable:
        path = _cache_path(tu)
        try:
            with default_storage.open(path, "rb") as stored:
                return stored.read()
        except FileNotFoundError:
            pass
    parts, inserts = document_parts(tu)
    pdf = _render(parts, inserts)
    if cacheable and not default_storage.exists(path):
        default_storage.save(path, ContentFile(pdf))
    return pdf


def pdf_filename(tu):
    """"SKHLM-2024-123-oppna-drogscener.pdf": the diarienummer, then the title."""
    number = re.sub(r"[^A-Za-z0-9]+", "-", tu.arende.diarienummer).strip("-")
    return f"{number}-{slugify(tu.titel)}.pdf"


def zip_of(documents):
    """A zip with one PDF per document, for the admin's bulk download."""
    buffer = io.BytesIO()
    names = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for tu in documents:
            name = pdf_filename(tu)
            if name in names:
                name = name.replace(".pdf", f"-{tu.pk}.pdf")
            names.add(name)
            archive.writestr(name, render_tjansteutlatande(tu))
    return buffer.getvalue()
