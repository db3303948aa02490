"""How fast a whole meeting's documents are exported. Prints figures; asserts nothing.

    .venv/bin/python bench/meeting.py [--runs 3] [--items 30]

Builds, in a throwaway SQLite database and media folder, a meeting of 30 attested documents
(copies of the demo answer, each with its own diarienummer and so its own content hash), then
measures as medians of cold runs (the store of rendered attested PDFs emptied before each run):

- one document rendered alone, times 30: what the secretary would wait for downloading them one by one;
- the meeting packet (agenda, table of contents, 30 documents, bookmarks) with one render at a time
  and with PDF_SAMTIDIGA renders side by side;
- the zip with one PDF per item, the same two ways.
"""

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from reference import machine  # bench/reference.py, beside this script

ROOT = Path(__file__).resolve().parent.parent


def setup(workdir):
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skarholmen.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=open(os.devnull, "w"))


def copy_of_demo(demo, nummer):
    """The demo answer as another attested case: same text, its own number and hash."""
    from arenden.models import Arende, Attestering, Bilaga, Sektion, TjansteutlatandeAtgard, Undertecknare
    from arenden.snapshot import build_snapshot, snapshot_hash

    kalla = demo.arende
    arende = Arende.objects.create(
        diarienummer=f"SKHLM 2023/{nummer}",
        forvaltning=kalla.forvaltning,
        ar=2023,
        lopnummer=nummer,
        arendemening=f"{kalla.arendemening} ({nummer})",
        handlaggare=kalla.handlaggare,
        avdelning=kalla.avdelning,
        status="redo_for_namnd",
    )
    tu = type(demo).objects.get(pk=demo.pk)
    tu.pk = None
    tu.arende, tu.titel, tu.innehall, tu.innehall_hash = arende, f"{demo.titel} {nummer}", None, ""
    tu.save()
    Sektion.objects.bulk_create(
        Sektion(tjansteutlatande=tu, mall_sektion=s.mall_sektion, text=s.text, avslutning=s.avslutning)
        for s in demo.sektioner.all()
    )
    TjansteutlatandeAtgard.objects.bulk_create(
        TjansteutlatandeAtgard(tjansteutlatande=tu, atgard=v.atgard, ordning=v.ordning) for v in demo.atgard_val.all()
    )
    Undertecknare.objects.bulk_create(
        Undertecknare(
            tjansteutlatande=tu, ordning=u.ordning, anvandare=u.anvandare, namn=u.namn, befattning=u.befattning
        )
        for u in demo.undertecknare.all()
    )
    Bilaga.objects.bulk_create(
        Bilaga(tjansteutlatande=tu, ordning=b.ordning, titel=b.titel, text=b.text) for b in demo.bilagor.all()
    )
    tu.innehall = build_snapshot(tu)
    tu.innehall_hash = snapshot_hash(tu.innehall)
    tu.save()
    Attestering.objects.bulk_create(
        Attestering(
            tjansteutlatande=tu,
            omgang=a.omgang,
            ordning=a.ordning,
            attestant=a.attestant,
            namn=a.namn,
            befattning=a.befattning,
            attesterad=a.attesterad,
            innehall_hash=tu.innehall_hash,
        )
        for a in demo.attesteringar.all()
    )
    return tu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--items", type=int, default=30)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="meeting-bench-"))
    try:
        setup(workdir)
        run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args, workdir):
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from arenden import pdf, services
    from arenden.models import Sammantrade, Tjansteutlatande

    demo = Tjansteutlatande.objects.get(arende__diarienummer="SKHLM 2024/123")
    sekr = get_user_model().objects.get(username="sekreterare")
    mote = Sammantrade.objects.create(
        namnd=demo.namnd, datum=datetime.date(2024, 6, 13), tid=datetime.time(18), plats="Sessionssalen"
    )
    dokument = [demo] + [copy_of_demo(demo, 900 + i) for i in range(args.items - 1)]
    for tu in dokument:
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    cache = Path(settings.MEDIA_ROOT) / getattr(pdf, "CACHE_DIR", "pdf/attesterade")

    def cold(function):
        samples = []
        for _ in range(args.runs):
            shutil.rmtree(cache, ignore_errors=True)
            start = time.perf_counter()
            function()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    # Start the renderer's worker processes before timing, as a running server has them.
    pdf.render_punkter(mote, samtidiga=max(2, settings.PDF_SAMTIDIGA))
    pages = pdf.antal_sidor(pdf.render_motespaket(mote))

    en = cold(lambda: pdf.render_tjansteutlatande(Tjansteutlatande.objects.get(pk=dokument[1].pk)))
    samtidiga = max(2, settings.PDF_SAMTIDIGA)
    figures = [
        (f"1 document alone × {args.items}", en * args.items),
        ("packet, 1 render at a time", cold(lambda: pdf.render_motespaket(mote, samtidiga=1))),
        (f"packet, {samtidiga} renders side by side", cold(lambda: pdf.render_motespaket(mote, samtidiga=samtidiga))),
        ("zip, 1 render at a time", cold(lambda: pdf.render_motes_zip(mote, samtidiga=1))),
        (f"zip, {samtidiga} renders side by side", cold(lambda: pdf.render_motes_zip(mote, samtidiga=samtidiga))),
    ]
    print(f"Meeting of {args.items} attested documents, packet of {pages} pages; median of {args.runs} cold runs")
    print(f"Machine: {machine()}")
    print(f"  1 document alone: {en:6.2f} s")
    for label, seconds in figures:
        print(f"  {label:<40} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
