"""Write tjänsteutlåtanden as PDF files: `manage.py render_pdf --demo --out out/` (make pdf)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arenden import pdf
from arenden.models import Tjansteutlatande

DEMO_DIARIENUMMER = "SKHLM 2024/123"


class Command(BaseCommand):
    help = "Skriver tjänsteutlåtanden som PDF till en katalog."

    def add_arguments(self, parser):
        parser.add_argument("pk", nargs="*", type=int, help="Tjänsteutlåtandenas id.")
        parser.add_argument("--demo", action="store_true", help="Demoärendets tjänsteutlåtande (SKHLM 2024/123).")
        parser.add_argument("--out", default="out", help="Katalog att skriva till (skapas vid behov).")

    def handle(self, *args, pk, demo, out, **options):
        documents = Tjansteutlatande.objects.select_related("arende")
        if demo:
            documents = documents.filter(arende__diarienummer=DEMO_DIARIENUMMER)
        elif pk:
            documents = documents.filter(pk__in=pk)
        else:
            raise CommandError("Ange --demo eller tjänsteutlåtandenas id.")
        documents = list(documents)
        if not documents:
            raise CommandError("Inga tjänsteutlåtanden hittades. Kör `make demo` först för demoärendet.")
        directory = Path(out)
        directory.mkdir(parents=True, exist_ok=True)
        try:
            for tu in documents:
                target = directory / pdf.pdf_filename(tu)
                try:
                    target.write_bytes(pdf.render_tjansteutlatande(tu))
                except pdf.PdfError as error:
                    raise CommandError(str(error)) from None
                self.stdout.write(f"{target}")
        finally:
            pdf.shutdown_workers()
