"""Where users fetch the PDF: the download URL (scoped to the user's cases), the admin's
buttons, the admin's zip action and `manage.py render_pdf`."""

import io
import runpy
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from arenden import pdf
from arenden.models import Tjansteutlatande
from tests.arenden.pdftext import pages
from tests.factories import TjansteutlatandeFactory, UserFactory


def _url(tu):
    return reverse("arenden:tjansteutlatande_pdf", args=[tu.pk])


def test_url_is_the_documented_one(db):
    assert _url(TjansteutlatandeFactory()).endswith(f"/tjansteutlatanden/{Tjansteutlatande.objects.get().pk}/pdf/")


def test_officer_of_the_case_downloads_the_pdf(client, db):
    tu = TjansteutlatandeFactory(titel="Öppna drogscener")
    client.force_login(tu.handlaggare)
    response = client.get(_url(tu) + "?ladda_ned=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    number = tu.arende.diarienummer.replace(" ", "-").replace("/", "-")
    assert response["Content-Disposition"] == f'attachment; filename="{number}-oppna-drogscener.pdf"'
    assert "Öppna drogscener" in pages(response.content)[0]


def test_user_outside_the_case_gets_404(client, db):
    tu = TjansteutlatandeFactory()
    client.force_login(UserFactory(username="utomstaende"))
    assert client.get(_url(tu)).status_code == 404


def test_anonymous_user_is_sent_to_login(client, db):
    tu = TjansteutlatandeFactory()
    response = client.get(_url(tu))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_admin_pages_of_the_document_and_the_case_link_to_the_pdf(admin_client, db):
    tu = TjansteutlatandeFactory()
    page = admin_client.get(reverse("admin:arenden_tjansteutlatande_change", args=[tu.pk])).content.decode()
    assert f'href="{_url(tu)}?ladda_ned=1"' in page
    page = admin_client.get(reverse("admin:arenden_arende_change", args=[tu.arende.pk])).content.decode()
    assert f'href="{_url(tu)}?ladda_ned=1"' in page


def test_zip_action_returns_one_pdf_per_selected_document(admin_client, db):
    first, second, _unselected = TjansteutlatandeFactory(), TjansteutlatandeFactory(), TjansteutlatandeFactory()
    response = admin_client.post(
        reverse("admin:arenden_tjansteutlatande_changelist"),
        {"action": "ladda_ned_pdf", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    expected = {pdf.pdf_filename(tu): tu for tu in (first, second)}
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == sorted(expected)
        for name, tu in expected.items():
            assert tu.titel in PdfReader(io.BytesIO(archive.read(name))).pages[0].extract_text()


def test_zip_action_refuses_more_documents_than_one_request_renders_in_swedish(admin_client, db, monkeypatch):
    monkeypatch.setattr(pdf, "ZIP_HOGST", 2)
    valda = [TjansteutlatandeFactory().pk for _ in range(3)]
    response = admin_client.post(
        reverse("admin:arenden_tjansteutlatande_changelist"),
        {"action": "ladda_ned_pdf", "_selected_action": valda},
        follow=True,
    )
    assert response["Content-Type"].startswith("text/html")
    meddelanden = [str(m) for m in response.context["messages"]]
    assert any("Välj högst 2 dokument att ladda ned på en gång (du valde 3)." in m for m in meddelanden)


def test_make_pdf_writes_the_demo_document(demo, tmp_path):
    out = tmp_path / "out"
    call_command("render_pdf", "--demo", "--out", str(out), stdout=io.StringIO())
    written = out / "SKHLM-2024-123-oppna-drogscener.pdf"
    assert written.read_bytes().startswith(b"%PDF-1.7")
    assert "Öppna drogscener" in pages(written.read_bytes())[0]


@pytest.mark.parametrize(
    "tidsgrans",
    [0, 0.05],
    ids=["deadline-before-the-first-render", "deadline-in-the-middle-of-a-render"],
)
def test_zip_action_that_would_outrun_the_server_gives_a_reason_and_no_zip(admin_client, db, monkeypatch, tidsgrans):
    """gunicorn kills a request after 60 s; twenty drafts of up to 30 s each could outrun it. The
    action stops at its own deadline and says so in Swedish, without a zip that lacks documents."""
    monkeypatch.setattr(pdf, "ZIP_TIDSGRANS", tidsgrans, raising=False)
    valda = [TjansteutlatandeFactory().pk for _ in range(2)]
    response = admin_client.post(
        reverse("admin:arenden_tjansteutlatande_changelist"),
        {"action": "ladda_ned_pdf", "_selected_action": valda},
        follow=True,
    )
    assert response["Content-Type"].startswith("text/html")
    meddelanden = [str(m) for m in response.context["messages"]]
    assert any(
        f"Nedladdningen hann inte bli klar inom {tidsgrans:g} sekunder och avbröts; ingen zip-fil skapades." in m
        for m in meddelanden
    ), meddelanden


def test_the_zip_deadline_stays_below_the_servers_timeout(settings):
    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))
    assert pdf.ZIP_TIDSGRANS < conf["timeout"]


def test_a_zip_that_cannot_be_made_names_the_document_that_stopped_it(admin_client, db):
    # Up to twenty documents are chosen at once; "Bilaga 1 (Karta) saknas i arkivet." alone did
    # not say which of them lacks its map.
    from django.core.files.base import ContentFile

    from arenden.models import Bilaga
    from tests.factories import pdf_bytes

    hel = TjansteutlatandeFactory(titel="Parklekar")
    trasig = TjansteutlatandeFactory(titel="Belysning i Bredäng")
    bilaga = Bilaga(tjansteutlatande=trasig, ordning=1, titel="Karta")
    bilaga.fil.save("karta.pdf", ContentFile(pdf_bytes()), save=True)
    bilaga.fil.storage.delete(bilaga.fil.name)

    response = admin_client.post(
        reverse("admin:arenden_tjansteutlatande_changelist"),
        {"action": "ladda_ned_pdf", "_selected_action": [hel.pk, trasig.pk]},
        follow=True,
    )

    assert response["Content-Type"].startswith("text/html")
    meddelanden = [str(m) for m in response.context["messages"]]
    assert any(
        m.startswith(f"{trasig.arende.diarienummer} Belysning i Bredäng: ") and "Bilaga 1 (Karta) saknas i arkivet" in m
        for m in meddelanden
    ), meddelanden
