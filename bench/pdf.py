"""How fast the tjänsteutlåtande PDF is made. Prints figures; asserts nothing.

    .venv/bin/python bench/pdf.py [--runs 10]

Uses the configured database and loads the demo case if it is missing. Measures, each as the
median of warm runs: a fresh render of the demo document through the renderer's worker, a
download of the already rendered attested document through the URL, 30 fresh renders in a
row, and, in this same process, the same document rendered by WeasyPrint directly with
HarfBuzz-subset and with the fontTools fallback (the baseline).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from reference import machine  # bench/reference.py, beside this script

ROOT = Path(__file__).resolve().parent.parent


def timed(function, runs, cpu=False):
    """Median wall time of warm runs; with cpu=True also the median CPU time of this process,
    which other work on a shared machine disturbs less."""
    function()  # warm
    walls, cpus = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    if cpu:
        return statistics.median(walls), statistics.median(cpus)
    return statistics.median(walls)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skarholmen.settings")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="pdf-bench-"))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from weasyprint.pdf import fonts as weasyprint_fonts

    from arenden import pdf, pdf_worker
    from arenden.models import Tjansteutlatande

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=open(os.devnull, "w"))
    tu = Tjansteutlatande.objects.select_related("arende").get(arende__diarienummer="SKHLM 2024/123")
    draft = Tjansteutlatande.objects.select_related("arende").get(pk=tu.pk)
    draft.status = "utkast"  # in memory only: same frozen content, never served from storage

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="admin"))
    url = f"/tjansteutlatanden/{tu.pk}/pdf/"

    def download():
        response = client.get(url)
        assert response.status_code == 200
        return response.content

    try:
        fresh = timed(lambda: pdf.render_tjansteutlatande(draft), args.runs)
        download()  # renders once and stores
        cached = timed(download, args.runs)
        start = time.perf_counter()
        batch = [pdf.render_tjansteutlatande(draft) for _ in range(30)]
        thirty = time.perf_counter() - start
        assert len(batch) == 30
    finally:
        pdf.shutdown_workers()

    renderer = pdf_worker.Renderer([str(p) for p in settings.STATICFILES_DIRS], str(pdf.STYLESHEET))
    parts, inserts = pdf.document_parts(draft)
    hb_library = weasyprint_fonts.harfbuzz_subset
    in_process_hb, in_process_hb_cpu = timed(lambda: renderer.render(parts, inserts), args.runs, cpu=True)
    weasyprint_fonts.harfbuzz_subset = None  # WeasyPrint's own fallback when the library is absent
    import logging

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # one fallback warning per font
    try:
        fonttools, fonttools_cpu = timed(lambda: renderer.render(parts, inserts), args.runs, cpu=True)
    finally:
        weasyprint_fonts.harfbuzz_subset = hb_library

    pages = len(__import__("pypdf").PdfReader(__import__("io").BytesIO(batch[0])).pages)
    print(f"machine: {machine()}")
    print(f"document: demo tjänsteutlåtande SKHLM 2024/123, {pages} pages; median of {args.runs} warm runs")
    print(f"subsetting in the worker: {pdf_worker.subsetter_name() if hb_library else 'fontTools'}")
    print(f"fresh render (worker, HarfBuzz-subset)      {fresh * 1000:8.1f} ms   target <= 300 ms")
    print(f"download of stored attested PDF (URL)       {cached * 1000:8.1f} ms   target <= 20 ms")
    print(f"30 fresh renders in a row                   {thirty * 1000:8.1f} ms   ({thirty / 30 * 1000:.1f} ms each)")
    hb_cpu, ft_cpu = in_process_hb_cpu * 1000, fonttools_cpu * 1000
    print(f"in-process WeasyPrint, HarfBuzz-subset      {in_process_hb * 1000:8.1f} ms   (CPU {hb_cpu:.1f} ms)")
    print(f"in-process WeasyPrint, fontTools (baseline) {fonttools * 1000:8.1f} ms   (CPU {ft_cpu:.1f} ms)")
    ratio, cpu_ratio = fonttools / in_process_hb, ft_cpu / hb_cpu
    print(f"ratio fontTools / HarfBuzz (in process)     {ratio:8.2f} x   (CPU {cpu_ratio:.2f} x)")
    print(f"ratio fontTools / fresh render (worker)     {fonttools / fresh:8.2f} x")
    print(f"ratio fresh render / stored download        {fresh / cached:8.1f} x")


if __name__ == "__main__":
    main()
