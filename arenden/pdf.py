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
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from html import unescape
from pathlib import Path

import pikepdf
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from . import pdf_worker
from .constants import TjansteutlatandeStatus
from .html import html_to_text, sanitize_html
from .models import som_ascii
from .snapshot import build_snapshot

logger = logging.getLogger(__name__)

STYLESHEET = Path(settings.BASE_DIR) / "static" / "pdf" / "dokument.css"
CACHE_DIR = "pdf/attesterade"
# Bump when the layout changes in a way that must reach already stored attested PDFs.
LAYOUT_VERSION = "4"

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
            if result == "MemoryError":
                # A worker that hit its memory limit is not trusted with the next document.
                self.kill()
                raise PdfError(
                    "PDF:en kunde inte skapas: renderingen avbröts (för lite minne). "
                    "Korta texten eller kontakta systemförvaltningen."
                )
            if result.startswith("BilagaFel"):
                raise PdfError(
                    "PDF:en kunde inte skapas: en uppladdad PDF-bilaga går inte att läsa. Spara bilagan som PDF "
                    "på nytt och ladda upp den igen."
                )
            raise PdfError(
                "PDF:en kunde inte skapas på grund av ett fel i systemet. Felet är loggat; kontakta "
                "systemförvaltningen om det upprepas."
            )
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


def _run_job(job, timeout=None):
    """Run one job on an idle worker (or a new one); a worker that overran is not reused.
    `timeout` may shorten the render time limit (never lengthen it)."""
    global _logged_subsetter
    with _idle_lock:
        worker = _idle.pop() if _idle else None
    if worker is None or not worker.alive():
        worker = _Worker()
    if not _logged_subsetter:
        # HarfBuzz-subset is several times faster than the fontTools fallback (README, bench/pdf.py).
        _logged_subsetter = True
        logger.info("PDF-typsnitt delas upp (subsetting) med %s.", worker.subsetter)
    try:
        return worker.run(job, render_timeout() if timeout is None else min(timeout, render_timeout()))
    finally:
        # A worker that reported an error is still good; one that was killed (time or memory)
        # is not put back, so it is neither reused nor left running.
        if not worker.conn.closed:
            with _idle_lock:
                _idle.append(worker)


def prestart_worker():
    """Start one render process in the background, before the first PDF is asked for: loading
    WeasyPrint and the fonts takes a couple of seconds, which the first user of a freshly
    started app server would otherwise wait for. gunicorn calls this as each worker starts."""

    def start():
        try:
            worker = _Worker()
        except PdfError:
            logger.warning("PDF-tjänsten kunde inte förstartas; den startas vid första PDF:en.")
            return
        with _idle_lock:
            _idle.append(worker)

    threading.Thread(target=start, name="pdf-prestart", daemon=True).start()


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
    """A text-only bilaga: plain text with blank lines between paragraphs. Never read as markup:
    "x<y" or "Anna <anna@stad.se>" print as written, as the attestant read them."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n")) if p.strip()]
    return mark_safe("".join("<p>" + escape(p).replace("\n", "<br>") + "</p>" for p in parts))


def snapshot_of(tu):
    """What the document prints: the frozen content once sent for attest, else the live rows.

    The header date is the sammanträde the document goes to. The nämnd secretary sets it when
    putting the attested document on a föredragningslista, after its content was frozen, so a
    frozen document prints the date it carries now (the change is in its history), and its
    "Attesterat innehåll, SHA-256" line says that this date is not part of the attested content."""
    if not tu.innehall:
        return build_snapshot(tu)
    datum = tu.sammantradesdatum.isoformat() if tu.sammantradesdatum else tu.innehall.get("sammantradesdatum")
    if datum != tu.innehall.get("sammantradesdatum"):
        return {**tu.innehall, "sammantradesdatum": datum}
    return tu.innehall


def attestation_rows(tu):
    """The attestations of the current round, newest first: the city's documents print the
    final approval (the förvaltningschef's) at the top of the table."""
    rows = tu.attesteringar.filter(omgang=tu.attest_omgang, makulerad__isnull=True, attesterad__isnull=False).order_by(
        "-attesterad", "-ordning"
    )
    return [
        {
            "namn": row.namn,
            "befattning": row.befattning,
            "datum": timezone.localtime(row.attesterad).date().isoformat(),
        }
        for row in rows
    ]


def vantar_pa(tu):
    """Whose attest a document sent for attest waits for next ("" once attested, or never sent):
    the PDF of a document between two steps of its chain must not read as approved."""
    if tu.status != TjansteutlatandeStatus.TILL_ATTEST:
        return ""
    steg = tu.next_attestering
    return steg.namn_eller_anvandare if steg else ""


def _har_text(html):
    return bool(html_to_text(html or "").strip())


def _document_context(tu, snapshot):
    # The hash covers the frozen content. A sammanträdesdatum the secretary set afterwards
    # (`snapshot_of`) prints in the header but is not part of it, and the line says so.
    frozen = tu.innehall.get("sammantradesdatum") if tu.innehall else None
    return {
        "datum_efter_attest": snapshot["sammantradesdatum"]
        if tu.innehall and snapshot["sammantradesdatum"] != frozen
        else "",
        "dok": snapshot,
        # A heading with nothing under it (an optional section left empty) is not printed.
        "sektioner": [
            {**s, "text": _safe_html(s["text"]), "avslutning": _safe_html(s["avslutning"])}
            for s in snapshot["sektioner"]
            if _har_text(s["text"])
            or _har_text(s["avslutning"])
            or (s.get("visar_atgarder") and snapshot.get("atgardsgrupper"))
        ],
        "attesteringar": attestation_rows(tu),
        "vantar_pa": vantar_pa(tu),
        "kontrollsumma": tu.innehall_hash[:16] if tu.innehall_hash and tu.innehall else "",
    }


def _metadata(snapshot):
    title = snapshot["titel"] + (f" – {snapshot['undertitel']}" if snapshot["undertitel"] else "")
    return {"title": title, "author": snapshot["forvaltning"], "subject": snapshot["diarienummer"]}


# A run of this many characters without a space is no Swedish word (the longest compounds in
# the city's documents have some 35) but an address, a file name or a hostile string.
LANGT_ORD = 50
_TEXT_NODE = re.compile(rf">([^<]{{{LANGT_ORD},}})<")
# Non-breaking spaces join what they stand between into one unbreakable run.
_LANGT_ORD = re.compile(rf"(?:[^\s]|[\u00a0\u2007\u202f]){{{LANGT_ORD},}}")


def _mark_long_words(document):
    """Wrap each run of `LANGT_ORD` or more characters without a space in the body's text in
    <span class="langt-ord">, which the stylesheet breaks at any character instead of
    hyphenating. WeasyPrint hyphenates a word by laying out the line again for each of its
    hyphenation points, from the last one back, on every line the word fills: a 2,000-letter
    word took some 20 s and ran past the time limit, and a run without hyphenation points
    (digits, an address after its last slash) ran off the page. A document without such a run
    is returned as it was, so ordinary text is laid out exactly as before.

    The body comes from our templates, with every value escaped or sanitised, so a "<" in it
    always starts a tag and the text between tags is what prints."""
    start = document.find("<body")
    if start < 0 or not _TEXT_NODE.search(document, start):
        return document

    def text_node(match):
        text = unescape(match.group(1))
        parts = []
        position = 0
        for word in _LANGT_ORD.finditer(text):
            parts.append(escape(text[position : word.start()]))
            parts.append(f'<span class="langt-ord">{escape(word.group())}</span>')
            position = word.end()
        if not parts:
            return match.group(0)
        parts.append(escape(text[position:]))
        return ">" + "".join(parts) + "<"

    return document[:start] + _TEXT_NODE.sub(text_node, document[start:])


def _html(template_name, context, *, title, author, subject, header=None):
    context = {**context, "pdf_title": title, "pdf_author": author, "pdf_subject": subject}
    if header:
        context["sidhuvud_css"] = mark_safe(_running_header(*header))
    return _mark_long_words(render_to_string(template_name, context))


def document_html(tu, snapshot=None):
    """The HTML the PDF's own pages are made from (without appended bilagor)."""
    snapshot = snapshot or snapshot_of(tu)
    header = ([snapshot["forvaltning"], snapshot["avdelning"]], ["Tjänsteutlåtande", f"Dnr {snapshot['diarienummer']}"])
    return _html("pdf/tjansteutlatande.html", _document_context(tu, snapshot), header=header, **_metadata(snapshot))


# --- rendering --------------------------------------------------------------------------------


def _render(parts, inserts=(), timeout=None):
    pdf, counts, refused = _run_job({"parts": parts, "inserts": list(inserts)}, timeout)
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
    datum = tu.sammantradesdatum.isoformat() if tu.sammantradesdatum else ""
    attest = hashlib.sha256(repr([datum, *(sorted(r.items()) for r in rows)]).encode()).hexdigest()[:16]
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
                    data = file.read()
            except FileNotFoundError:
                raise PdfError(f"Bilaga {bilaga['nummer']} ({bilaga['titel']}) saknas i arkivet.") from None
            # Content frozen before the file's hash was part of it has none to compare with.
            if bilaga.get("sha256") and hashlib.sha256(data).hexdigest() != bilaga["sha256"]:
                raise PdfError(
                    f"Bilaga {bilaga['nummer']} ({bilaga['titel']}) är inte längre den fil som fanns när "
                    "dokumentet skickades för attest: filen har bytts ut i arkivet. Kontakta systemförvaltningen."
                )
            inserts.append((len(parts) - 1, data))
        elif bilaga["text"].strip():
            context = {"bilaga": bilaga, "text": _paragraphs(bilaga["text"])}
            header = (
                [snapshot["forvaltning"], snapshot["avdelning"]],
                [f"Bilaga {bilaga['nummer']} till tjänsteutlåtande", f"Dnr {snapshot['diarienummer']}"],
            )
            meta = _metadata(snapshot)
            parts.append(_html("pdf/bilaga.html", context, header=header, **meta))
    return parts, inserts


def render_tjansteutlatande(tu, *, timeout=None):
    """The whole PDF: the document's pages, then each bilaga in number order (a text bilaga
    as its own pages, an uploaded PDF as it is). Attested documents are rendered once.
    `timeout` shortens the render time limit (the zip's overall deadline)."""
    cacheable = tu.status in ATTESTED and bool(tu.innehall) and bool(tu.innehall_hash)
    if cacheable:
        path = _cache_path(tu)
        try:
            with default_storage.open(path, "rb") as stored:
                return stored.read()
        except FileNotFoundError:
            pass
    parts, inserts = document_parts(tu)
    pdf = _render(parts, inserts, timeout)
    if cacheable and not default_storage.exists(path):
        default_storage.save(path, ContentFile(pdf))
    return pdf


def pdf_filename(tu):
    """ "SKHLM-2024-123-oppna-drogscener.pdf": the diarienummer, then the title."""
    return _filnamn(tu.arende.diarienummer, tu.titel)


# The most characters of the title a file name carries, cut between words: a title may hold 300,
# and a file name at most 255 bytes, past which browsers shorten it as they like and zip tools refuse.
FILNAMN_TITEL = 100


def _filnamn(diarienummer, titel):
    # Å, Ä and Ö of a prefix (ÄLVSJÖ) as A and O, as slugify does with the title's letters; a
    # search reads the number back (`skrivet_diarienummer`).
    number = re.sub(r"[^A-Za-z0-9]+", "-", som_ascii(diarienummer)).strip("-")
    slug = slugify(titel)
    if len(slug) > FILNAMN_TITEL:
        kort = slug[: FILNAMN_TITEL + 1].rsplit("-", 1)[0]  # the words that fit whole
        slug = kort if "-" in slug[: FILNAMN_TITEL + 1] else slug[:FILNAMN_TITEL]
    return f"{number}-{slug}.pdf"


# The most documents one zip holds: drafts are rendered while the request waits (some 0.2–1 s
# each; attested ones are read from their stored copy).
ZIP_HOGST = 20

# The whole zip must be made within this many seconds. The request is served by a gunicorn
# worker that is killed after GUNICORN_TIMEOUT (60 s) without an answer, and each render may
# take PDF_RENDER_TIMEOUT (30 s): twenty slow drafts would outrun it and the secretary would get
# a broken connection instead of a reason. 45 s leaves room for the zip and the answer; a render
# still running at the deadline is stopped, and no zip is made.
ZIP_TIDSGRANS = 45

ZIP_FOR_LANGSAM = (
    "Nedladdningen hann inte bli klar inom {sekunder:g} sekunder och avbröts; ingen zip-fil skapades. "
    "Välj färre dokument åt gången. Ett sammanträdes alla dokument finns i dess mötespaket, som "
    "skapas i bakgrunden."
)


def zip_of(documents):
    """A zip with one PDF per document, for the admin's bulk download. Either every document is
    in it, or PdfError says why not: a zip that runs past ZIP_TIDSGRANS is given up as a whole,
    never handed out with documents missing."""
    frist = time.monotonic() + ZIP_TIDSGRANS
    tidsslut = PdfError(ZIP_FOR_LANGSAM.format(sekunder=ZIP_TIDSGRANS))
    buffer = io.BytesIO()
    names = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for tu in documents:
            kvar = frist - time.monotonic()
            if kvar <= 0:
                raise tidsslut
            name = pdf_filename(tu)
            if name in names:
                name = name.replace(".pdf", f"-{tu.pk}.pdf")
            names.add(name)
            try:
                data = render_tjansteutlatande(tu, timeout=kvar)
            except PdfError as fel:
                if time.monotonic() >= frist:
                    raise tidsslut from None
                # One of up to ZIP_HOGST documents: the reason alone does not say which.
                raise PdfError(f"{tu}: {fel}") from fel
            archive.writestr(name, data)
    if time.monotonic() > frist:
        raise tidsslut
    return buffer.getvalue()


# --- Sammanträden: agenda, protokollsutdrag, the meeting packet and the zip --------------------
#
# Everything a nämnd secretary exports is built from the renderer above: the agenda and the
# extract are templates of their own, each item's document is `punktens_pdf` (a postponed item's
# kept copy, else `render_tjansteutlatande`: attested documents from their frozen snapshot), and
# the packet only joins those PDFs and adds the bookmarks and the page numbers of its table of
# contents.


# Why something could not be made, when the cause is the server's, not the document's.
SYSTEMFEL = "ett fel i systemet hindrade det. Försök igen, och kontakta systemförvaltningen om det upprepas."


def orsak(exc):
    """Why a PDF could not be made, as the secretary may read it: a PdfError's Swedish reason;
    anything else (a file the server cannot open, a full disk) is logged and told as SYSTEMFEL,
    without the server's words or paths."""
    if isinstance(exc, PdfError):
        return str(exc)
    logger.error("PDF kunde inte skapas", exc_info=exc)
    return SYSTEMFEL


class PunktFel(Exception):
    """One item of a meeting could not be rendered; the message names it, and why (`orsak`)."""

    def __init__(self, punkt, fel):
        self.punkt = punkt
        super().__init__(
            f"Punkt {punkt.nummer} ({' '.join(filter(None, [punkt.diarienummer, punkt.rubrik]))}) "
            f"kunde inte skapas: {orsak(fel)}"
        )


def _stycken(text):
    """Plain text as paragraphs, split at blank lines. A single line break stays inside its
    paragraph, and the templates print it (`linebreaksbr`): a beslut typed as numbered points, one
    to a line, is printed so."""
    return [s.strip() for s in re.split(r"\n\s*\n", text or "") if s.strip()]


# --- What the nämnd had before it ----------------------------------------------------------------
#
# An item's document is read from the document itself, except on an item the nämnd postponed:
# the document has moved on (back to attesterad, perhaps edited and attested again, dated for a
# later meeting), and this meeting's record must not follow it. `services.bordlagg` keeps the PDF
# and the agenda's words on the item; these two functions are the only place that chooses.


def punktens_uppgifter(punkt):
    """An item's words on the agenda: rubrik, undertitel and förslag till beslut (plain text).
    A postponed item gives those kept when it was postponed (its `rubrik` is the kept title).
    An item postponed before they were kept (migration 0019) has none, and is read from its
    document as it is now, like every item not postponed. An information item has only its title."""
    from .services import forslag_till_beslut

    if punkt.handling:
        return {"rubrik": punkt.rubrik, "undertitel": punkt.handling_undertitel, "forslag": punkt.handling_forslag}
    if not punkt.tjansteutlatande_id:
        return {"rubrik": punkt.rubrik, "undertitel": "", "forslag": ""}
    tu = punkt.tjansteutlatande
    return {"rubrik": punkt.rubrik, "undertitel": tu.undertitel, "forslag": forslag_till_beslut(tu)}


def punktens_pdf(punkt, *, timeout=None):
    """A document item's PDF: for a postponed item the one kept when it was postponed, else (and
    for an item postponed before migration 0019, which kept none) the document as it is now."""
    if punkt.handling:
        try:
            with punkt.handling.storage.open(punkt.handling.name, "rb") as stored:
                return stored.read()
        except FileNotFoundError:
            raise PdfError(
                "Tjänsteutlåtandet så som nämnden hade det när ärendet bordlades saknas i arkivet. "
                "Kontakta systemförvaltningen."
            ) from None
    return render_tjansteutlatande(punkt.tjansteutlatande, timeout=timeout)


def las_punkter(sammantrade):
    """The meeting's items in agenda order, read once. A packet or a zip builds its agenda, its
    contents and its documents from one such read: a change of the list while it is built (it
    takes a while) must not give the agenda other numbers than the documents after it."""
    return list(sammantrade.punkter.select_related("tjansteutlatande__arende", "arende").order_by("nummer"))


def _agendapunkter(sammantrade, punkter=None):
    punkter = las_punkter(sammantrade) if punkter is None else punkter
    rader = []
    for p in punkter:
        uppgifter = punktens_uppgifter(p)
        rader.append(
            {
                "punkt": p,
                "nummer": p.nummer,
                "rubrik": uppgifter["rubrik"],
                "undertitel": uppgifter["undertitel"],
                "diarienummer": p.diarienummer,
                "forslag": _stycken(uppgifter["forslag"]),
            }
        )
    return rader


def render_foredragningslista(sammantrade, *, innehall=None, punkter=None):
    """The agenda in the Stockholm layout. With `innehall` (rows with nummer, rubrik,
    diarienummer, sida) it also prints the packet's table of contents on a page of its own.
    `punkter` (from `las_punkter`) are the items as read for a packet; else they are read here."""
    mote = sammantrade
    return render_pdf(
        "pdf/foredragningslista.html",
        {"sammantrade": mote, "punkter": _agendapunkter(mote, punkter), "innehall": innehall},
        title=f"Föredragningslista {mote.datum:%Y-%m-%d}",
        author=mote.namnd.namn,
        subject=f"Sammanträde kl. {mote.tid:%H.%M}",
    )


def foredragningslista_filename(sammantrade):
    return f"foredragningslista-{sammantrade.datum:%Y-%m-%d}.pdf"


def _punktnamn(punkt):
    nr = punkt.diarienummer.replace(" ", "-").replace("/", "-") if punkt.diarienummer else "information"
    return f"{punkt.sammantrade.datum:%Y-%m-%d}-punkt-{punkt.nummer}-{nr}"


def protokollsutdrag_filename(punkt):
    return f"protokollsutdrag-{_punktnamn(punkt)}.pdf"


def handling_filename(punkt):
    """The name of a postponed item's kept document (`Foredragningspunkt.handling`)."""
    return f"tjansteutlatande-{_punktnamn(punkt)}.pdf"


def render_protokollsutdrag(punkt, *, sekreterare=""):
    """The extract of the minutes for one decided item."""
    mote = punkt.sammantrade
    return render_pdf(
        "pdf/protokollsutdrag.html",
        {
            "sammantrade": mote,
            "punkt": punkt,
            "undertitel": punktens_uppgifter(punkt)["undertitel"],
            "beslut": _stycken(punkt.beslut),
            "beslutad": punkt.beslutad,
            "sekreterare": sekreterare,
        },
        title=f"Protokollsutdrag {mote.datum:%Y-%m-%d}, punkt {punkt.nummer}",
        author=mote.namnd.namn,
        subject=f"Dnr {punkt.diarienummer}" if punkt.diarienummer else punkt.rubrik,
    )


def punkt_filename(punkt):
    """ "03-SKHLM-2024-123-oppna-drogscener.pdf": the item number first, so files sort as the agenda.
    The title is the item's (`rubrik`): a postponed item's as the meeting had it."""
    return f"{punkt.nummer:02d}-{_filnamn(punkt.diarienummer, punkt.rubrik)}"


def _render_punkt(punkt):
    """Render one item's document as the list's read found it, in a thread of the pool with its
    own connection (for what the render still reads: stored PDFs, a draft's rows)."""
    try:
        return punktens_pdf(punkt)
    finally:
        connection.close()


def render_punkter(sammantrade, *, punkter=None, on_progress=None, samtidiga=None):
    """Each document item's PDF (`punktens_pdf`), in agenda order, as (punkt, bytes).
    `on_progress(done)` is called as each finishes; a failure raises PunktFel naming the item.

    WeasyPrint uses one core per render, in its own worker process, so `samtidiga` (setting
    PDF_SAMTIDIGA) documents are handed to workers at once from as many threads. Only outside
    a transaction: each thread has its own database connection, which would not see the
    transaction's uncommitted rows."""
    punkter = [p for p in (las_punkter(sammantrade) if punkter is None else punkter) if p.tjansteutlatande_id]
    samtidiga = settings.PDF_SAMTIDIGA if samtidiga is None else samtidiga
    if samtidiga <= 1 or len(punkter) < 2 or connection.in_atomic_block:
        delar = []
        for klara, punkt in enumerate(punkter, start=1):
            try:
                delar.append((punkt, punktens_pdf(punkt)))
            except Exception as exc:
                raise PunktFel(punkt, exc) from exc
            if on_progress:
                on_progress(klara)
        return delar

    resultat = {}
    with ThreadPoolExecutor(max_workers=samtidiga, thread_name_prefix="motespaket") as pool:
        futures = {pool.submit(_render_punkt, p): p for p in punkter}
        try:
            for klara, future in enumerate(as_completed(futures), start=1):
                punkt = futures[future]
                try:
                    resultat[punkt.pk] = future.result()
                except Exception as exc:
                    raise PunktFel(punkt, exc) from exc
                if on_progress:
                    on_progress(klara)
        except BaseException:
            # A failed item, or a job stopped from `on_progress`: what has not begun is not run.
            for future in futures:
                future.cancel()
            raise
    return [(p, resultat[p.pk]) for p in punkter]


def antal_sidor(data):
    with pikepdf.open(io.BytesIO(data)) as document:
        return len(document.pages)


def _kopiera_bokmarken(kalla, forsta_sida):
    """A document's own bookmarks, pointing at its pages where they now sit in the packet."""
    sidor = {page.objgen: index for index, page in enumerate(kalla.pages)}
    with kalla.open_outline() as outline:

        def kopiera(items):
            kopior = []
            for item in items:
                mal = item.destination
                if isinstance(mal, pikepdf.Array) and len(mal) and mal[0].objgen in sidor:
                    kopia = pikepdf.OutlineItem(item.title, forsta_sida + sidor[mal[0].objgen])
                    kopia.children.extend(kopiera(item.children))
                    kopior.append(kopia)
            return kopior

        return kopiera(outline.root)


def _utan_taggar(paket):
    """Take the structure tree and the PDF/A claim off a joined packet.

    Pages copied from another PDF keep their /StructParents keys into that file's parent tree,
    while the packet's tree is the agenda's alone: the tags would point a screen reader at the
    wrong elements, and a PDF/A-2a claim over them would be false. An untagged PDF that says
    nothing of PDF/A is honest; each document keeps its own tags in its own download and zip."""
    for key in ("/StructTreeRoot", "/MarkInfo"):
        if key in paket.Root:
            del paket.Root[key]
    for page in paket.pages:
        if "/StructParents" in page.obj:
            del page.obj.StructParents
        for annot in page.obj.get("/Annots", []):
            if "/StructParent" in annot:
                del annot.StructParent
    with paket.open_metadata(set_pikepdf_as_editor=False) as meta:
        for key in ("pdfaid:part", "pdfaid:conformance"):
            if key in meta:
                del meta[key]


def render_motespaket(sammantrade, *, punkter=None, on_progress=None, samtidiga=None):
    """The whole meeting as one PDF: the agenda and its table of contents, then every item's
    tjänsteutlåtande with its bilagor, with a bookmark per item (the document's own bookmarks
    beneath it), all from one read of the list (`las_punkter`).

    The packet is an untagged PDF that does not claim PDF/A (`_utan_taggar`). It is joined from
    the documents' own PDFs rather than laid out as one WeasyPrint job: each document prints
    "Sida N (M)" of its own pages, which one layout (one page counter) cannot give; uploaded
    PDF bilagor are joined after layout and carry no tags of ours; attested documents come from
    their stored bytes, so the packet prints what was attested (a postponed item the copy kept
    when the nämnd postponed it, `punktens_pdf`); and one job for a whole meeting would outrun
    the render time limit. Rebuilding a structure tree across joined files is not something
    qpdf does, so the packet makes no claim it cannot keep; the archival, tagged PDF/A-2a copy
    of each document is its own download (and the zip)."""
    mote = sammantrade
    punkter = las_punkter(mote) if punkter is None else punkter
    delar = render_punkter(mote, punkter=punkter, on_progress=on_progress, samtidiga=samtidiga)
    sidor_per_del = [antal_sidor(data) for _punkt, data in delar]

    def innehall(framsida_sidor):
        rader, sida = [], framsida_sidor + 1
        for (punkt, _data), antal in zip(delar, sidor_per_del, strict=True):
            rader.append(
                {"nummer": punkt.nummer, "rubrik": punkt.rubrik, "diarienummer": punkt.diarienummer, "sida": sida}
            )
            sida += antal
        return rader

    # The table of contents is part of the front pages, so its numbers depend on how many pages
    # it takes itself: render, count, render again until the count holds (twice in practice).
    framsida_sidor = 2
    for _ in range(5):
        rader = innehall(framsida_sidor)
        framsida = render_foredragningslista(mote, innehall=rader, punkter=punkter)
        faktiska = antal_sidor(framsida)
        if faktiska == framsida_sidor:
            break
        framsida_sidor = faktiska
    else:
        raise PdfError("Innehållsförteckningens sidnummer gick inte att fastställa.")

    # pikepdf (qpdf) joins the parts twenty times faster than pypdf and copies pages whole.
    titel = f"Handlingar till {mote.namnd} {mote.datum:%Y-%m-%d}"
    with pikepdf.open(io.BytesIO(framsida)) as paket:
        kallor = [pikepdf.open(io.BytesIO(data)) for _punkt, data in delar]
        try:
            bokmarken = []
            for rad, kalla in zip(rader, kallor, strict=True):
                bokmarken.append(_kopiera_bokmarken(kalla, rad["sida"] - 1))
                paket.pages.extend(kalla.pages)
            with paket.open_outline() as outline:
                outline.root.clear()
                outline.root.append(pikepdf.OutlineItem("Föredragningslista", 0))
                outline.root.append(pikepdf.OutlineItem("Innehåll", framsida_sidor - 1))
                for rad, underordnade in zip(rader, bokmarken, strict=True):
                    namn = f"{rad['nummer']}. {rad['rubrik']}"
                    if rad["diarienummer"]:
                        namn += f" ({rad['diarienummer']})"
                    item = pikepdf.OutlineItem(namn, rad["sida"] - 1)
                    item.children.extend(underordnade)
                    outline.root.append(item)
            _utan_taggar(paket)
            with paket.open_metadata(set_pikepdf_as_editor=False) as meta:
                meta["dc:title"] = titel
            paket.docinfo["/Title"] = titel
            paket.Root.PageMode = pikepdf.Name.UseOutlines
            ut = io.BytesIO()
            paket.save(ut)
        finally:
            for kalla in kallor:
                kalla.close()
    return ut.getvalue()


def motespaket_filename(sammantrade):
    return f"handlingar-{sammantrade.datum:%Y-%m-%d}.pdf"


def render_motes_zip(sammantrade, *, punkter=None, on_progress=None, samtidiga=None):
    """A zip with the agenda and one PDF per document item, named by item number and diarienummer,
    all from one read of the list (`las_punkter`)."""
    mote = sammantrade
    punkter = las_punkter(mote) if punkter is None else punkter
    delar = render_punkter(mote, punkter=punkter, on_progress=on_progress, samtidiga=samtidiga)
    ut = io.BytesIO()
    with zipfile.ZipFile(ut, "w", compression=zipfile.ZIP_DEFLATED) as arkiv:
        agenda = render_foredragningslista(mote, punkter=punkter)
        arkiv.writestr(f"00-{foredragningslista_filename(mote)}", agenda)
        for punkt, data in delar:
            arkiv.writestr(punkt_filename(punkt), data)
    return ut.getvalue()


def motes_zip_filename(sammantrade):
    return f"handlingar-{sammantrade.datum:%Y-%m-%d}.zip"
