"""The part of the PDF renderer that runs inside a worker process.

WeasyPrint runs here, never in the web process: a document that makes layout run away (enormous
content, pathological CSS) costs a worker that the web process kills after a time limit, not a
hung request. The module imports nothing from Django, so a freshly spawned worker starts quickly
and cannot reach the database.

The worker receives HTML strings and bytes and returns bytes; it reads no file except the
project's own static files, through `StaticOnlyFetcher`.
"""

import io
import mimetypes
import os
import resource
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

PDF_VARIANT = "pdf/a-2a"

XMP_LANGUAGE = (
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>"
    "</rdf:Description>"
)


def subsetter_name():
    """Which library WeasyPrint will subset fonts with, by the same test WeasyPrint makes."""
    from weasyprint.pdf import fonts
    from weasyprint.text.ffi import harfbuzz

    if fonts.harfbuzz_subset and harfbuzz.hb_version_atleast(4, 1, 0):
        return "HarfBuzz-subset"
    return "fontTools"


def _static_only_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves the project's own static files and refuses everything else.

        Officers' text and meeting documents are rendered with this fetcher and no base_url, so
        no link in them can name a local file, an embedded attachment or a network address that
        WeasyPrint would read. Redirects are off; refused URLs are collected for the log.
        """

        def __init__(self, roots):
            super().__init__(allowed_protocols={"file"}, allow_redirects=False, timeout=1)
            self.roots = [os.path.realpath(root) for root in roots]
            self.refused = []

        def local_path(self, url):
            parts = urlsplit(url)
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost") or parts.query:
                return None
            path = os.path.realpath(url2pathname(unquote(parts.path)))
            for root in self.roots:
                if os.path.commonpath([root, path]) == root and os.path.isfile(path):
                    return path
            return None

        def fetch(self, url, headers=None):
            path = self.local_path(url)
            if path is None:
                self.refused.append(url)
                raise ValueError(f"Adressen är inte en av systemets egna statiska filer: {url[:200]}")
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            with open(path, "rb") as file:
                body = file.read()
            return URLFetcherResponse(url, body, {"Content-Type": content_type})

    return StaticOnlyFetcher


class Renderer:
    """WeasyPrint with the stylesheet and fonts loaded once per worker."""

    def __init__(self, static_roots, stylesheet):
        from weasyprint import CSS
        from weasyprint.css.counters import CounterStyle
        from weasyprint.text.fonts import FontConfiguration

        self.static_roots = static_roots
        self.fetcher_class = _static_only_fetcher_class()
        self.font_config = FontConfiguration()
        self.counter_style = CounterStyle()
        self.stylesheet = CSS(
            filename=stylesheet,
            url_fetcher=self.fetcher_class(static_roots),
            font_config=self.font_config,
            counter_style=self.counter_style,
        )

    def render(self, parts, inserts=(), lang="sv"):
        """Render HTML `parts` (the document, then text bilagor) into one PDF, each part with
        its own page count, then insert uploaded PDFs: `inserts` is [(after_part_index, bytes)].
        Returns (pdf_bytes, pages_per_part, refused_urls)."""
        from weasyprint import HTML

        fetcher = self.fetcher_class(self.static_roots)
        documents = [
            HTML(string=part, base_url=None, url_fetcher=fetcher).render(
                font_config=self.font_config,
                counter_style=self.counter_style,
                stylesheets=[self.stylesheet],
                presentational_hints=False,
                pdf_variant=PDF_VARIANT,
            )
            for part in parts
        ]
        pages = [page for document in documents for page in document.pages]
        combined = documents[0].copy(pages)

        def add_language(document, pdf):
            # WeasyPrint writes /Lang in the catalog but not dc:language in the XMP packet.
            reference = int(pdf.catalog["Metadata"].split()[0])
            stream = pdf.objects[reference]
            packet = b"".join(stream.stream)
            extra = XMP_LANGUAGE.format(lang=lang).encode()
            stream.stream = [packet.replace(b"</rdf:RDF>", extra + b"</rdf:RDF>", 1)]

        pdf = combined.write_pdf(
            pdf_variant=PDF_VARIANT,
            finisher=add_language,
            font_config=self.font_config,
            presentational_hints=False,
        )
        counts = [len(document.pages) for document in documents]
        if inserts:
            try:
                pdf = _insert_pdfs(pdf, counts, inserts)
            except Exception as error:  # pypdf raises many kinds on a file it cannot read
                raise BilagaFel(str(error)) from error
        return pdf, counts, fetcher.refused


# What an uploaded page may bring into the nämnd's document: what it prints, and links to a
# place in it or to a web address. Scripts, forms, embedded files, launch and submit actions
# and actions on opening a page are left behind: pypdf's merge copies them all.
LANKAR = {"/URI", "/GoTo"}


class BilagaFel(Exception):
    """An uploaded PDF bilaga could not be joined to the document (a file damaged after upload)."""


def _bara_innehall(page):
    """Strip an uploaded page down to what it prints and its plain links."""
    from pypdf.generic import ArrayObject, NameObject

    for key in ("/AA", "/B"):  # actions on opening or closing the page, article beads
        page.pop(NameObject(key), None)
    kvar = ArrayObject()
    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        action = annot.get("/A")
        action = action.get_object() if action is not None else None
        if annot.get("/Subtype") != "/Link" or "/AA" in annot:
            continue
        if action is not None and (action.get("/S") not in LANKAR or "/Next" in action):
            continue
        kvar.append(ref)
    if kvar:
        page[NameObject("/Annots")] = kvar
    else:
        page.pop(NameObject("/Annots"), None)


def _insert_pdfs(pdf, counts, inserts):
    """Put uploaded PDF bilagor after the given part, keeping the rendered file's catalog
    (structure tree, XMP, /Lang, output intent) and its document information, and of the
    uploaded files only what their pages print (`_bara_innehall`)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    info = dict(PdfReader(io.BytesIO(pdf)).metadata or {})
    offset = 0
    for after_part, data in sorted(inserts, key=lambda item: item[0]):
        position = sum(counts[: after_part + 1]) + offset
        reader = PdfReader(io.BytesIO(data))
        # Stripped before the merge, so that what is left behind is never copied into the file.
        for page in reader.pages:
            _bara_innehall(page)
        for key in ("/AcroForm", "/OpenAction", "/AA", "/Names"):
            reader.trailer["/Root"].pop(NameObject(key), None)
        writer.merge(position, reader, import_outline=False)
        offset += len(reader.pages)
    if info:
        writer.add_metadata(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def worker_main(conn, static_roots, stylesheet, memory_limit_mb):
    """Serve render jobs from the web process until told to stop (None) or killed."""
    if memory_limit_mb:
        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    renderer = Renderer(static_roots, stylesheet)
    conn.send(("ready", subsetter_name()))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            conn.send(("ok", renderer.render(**job)))
        except MemoryError:
            conn.send(("error", "MemoryError"))
        except Exception as error:  # reported to the web process, which raises PdfError
            conn.send(("error", f"{type(error).__name__}: {error}"))
