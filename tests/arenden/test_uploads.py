"""Uploaded PDFs (skrivelser, bilagor) are accepted only when the content really is a readable
PDF within PDF_MAX_UPLOAD_MB, through the officers' form and every admin page alike."""

import logging

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from arenden.forms import PdfUploadField
from arenden.models import Arende, Bilaga, Skrivelse
from tests.arenden.world import build_world
from tests.factories import ArendeFactory, AvdelningFactory, ProfilFactory, pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client):
    profil = ProfilFactory(avdelning=AvdelningFactory())
    profil.user.groups.add(Group.objects.get_or_create(name="Handläggare")[0])
    client.force_login(profil.user)
    return client


def register(client, content, name="skrivelse.pdf"):
    return client.post(
        reverse("arenden:registrera"),
        {
            "titel": "Trygghet i Sätra",
            "forfattare": "Ledamöter (S)",
            "beredning_datum": "2024-12-14",
            "text": "",
            "fil": SimpleUploadedFile(name, content, content_type="application/pdf"),
        },
    )


def test_a_real_pdf_is_accepted(officer_client):
    assert register(officer_client, pdf_bytes(pages=2)).status_code == 302
    skrivelse = Skrivelse.objects.get()
    assert skrivelse.fil.read().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html><body>Inte en PDF</body></html>", "Filen är inte en PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "Filen är inte en PDF"),
        (b"", "Den skickade filen är tom."),
        (b"%PDF-1.7 men sedan inget mer", "går inte att läsa"),
        (pdf_bytes()[:200], "går inte att läsa"),  # cut off in the middle
        (b" " + pdf_bytes(), "Filen är inte en PDF"),  # the magic bytes are not at the start
        (pdf_bytes(password="hemligt"), "lösenordsskyddad"),
    ],
    ids=["html", "png", "tom", "bara-huvud", "avkortad", "forskjuten", "krypterad"],
)
def test_anything_else_is_refused_with_a_swedish_reason_and_the_form_keeps_its_input(officer_client, content, message):
    response = register(officer_client, content)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    # What the officer typed is still in the form.
    for kept in ("Trygghet i Sätra", "Ledamöter (S)", "2024-12-14"):
        assert kept in page
    assert not Arende.objects.exists()


def test_size_limit_follows_the_setting(officer_client, settings):
    settings.PDF_MAX_UPLOAD_MB = 1
    big = pdf_bytes()
    big = big + b"%" + b"x" * (1024 * 1024) + b"\n"  # a comment after the end: still a readable PDF
    response = register(officer_client, big)
    assert response.status_code == 200
    assert "högst 1 MB kan laddas upp" in response.content.decode()
    settings.PDF_MAX_UPLOAD_MB = 2
    assert register(officer_client, big).status_code == 302


class Mottagare(MemoryFileUploadHandler):
    """Stores every file it is given, however large, and remembers how much that was."""

    mottaget = 0

    def handle_raw_input(self, *args, **kwargs):
        self.activated = True

    def receive_data_chunk(self, raw_data, start):
        Mottagare.mottaget += len(raw_data)
        return super().receive_data_chunk(raw_data, start)


def test_a_file_past_the_limit_is_not_stored_while_it_arrives(officer_client, settings):
    settings.PDF_MAX_UPLOAD_MB = 1
    # The project's own handlers, with one that stores all it gets in place of Django's two.
    egna = [h for h in settings.FILE_UPLOAD_HANDLERS if not h.startswith("django.")]
    settings.FILE_UPLOAD_HANDLERS = [*egna, f"{__name__}.Mottagare"]
    Mottagare.mottaget = 0
    big = pdf_bytes() + b"%" + b"x" * (3 * 1024 * 1024) + b"\n"
    response = register(officer_client, big)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Filen är {len(big) / 1024 / 1024:.1f} MB; högst 1 MB kan laddas upp." in page
    assert "Trygghet i Sätra" in page  # the rest of the form is kept
    assert 0 < Mottagare.mottaget <= 1024 * 1024
    assert not Skrivelse.objects.exists()


def test_default_limit_is_twenty_megabytes():
    from skarholmen import settings as project_settings

    assert project_settings.PDF_MAX_UPLOAD_MB == 20


def test_admin_upload_of_a_skrivelse_is_checked_too(admin_client):
    arende = ArendeFactory()
    data = {
        "arende": arende.pk,
        "titel": "Skrivelse",
        "forfattare": "Ledamot",
        "beredning_datum": "2024-12-14",
        "text": "",
        "fil": SimpleUploadedFile("s.pdf", b"GIF89a not a pdf", content_type="application/pdf"),
    }
    response = admin_client.post("/admin/arenden/skrivelse/add/", data)
    assert response.status_code == 200
    assert "Filen är inte en PDF" in response.content.decode()
    assert not Skrivelse.objects.exists()
    data["fil"] = SimpleUploadedFile("s.pdf", pdf_bytes(), content_type="application/pdf")
    assert admin_client.post("/admin/arenden/skrivelse/add/", data).status_code == 302
    assert Skrivelse.objects.get().fil


def test_every_admin_form_with_an_uploaded_pdf_uses_the_checked_field(admin_user):
    """Each FileField a user fills in (those validated as .pdf) gets the checked form field on
    every admin page and inline that shows it; files the system writes itself are not forms."""
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    seen = []
    for model, model_admin in admin.site._registry.items():
        forms = [model_admin.get_form(request)]
        # Every inline class, also those a page shows only for an existing object.
        inlines = [inline(model, admin.site) for inline in model_admin.inlines]
        forms += [inline.get_formset(request).form for inline in inlines]
        for form in forms:
            for field in form._meta.model._meta.get_fields():
                if (
                    isinstance(field, models.FileField)
                    and field.name in form.base_fields
                    and any(getattr(v, "allowed_extensions", None) == ["pdf"] for v in field.validators)
                ):
                    assert isinstance(form.base_fields[field.name], PdfUploadField), (model, form, field.name)
                    seen.append((form._meta.model.__name__, field.name))
    assert {"Skrivelse", "Bilaga"} <= {name for name, _ in seen}


# A file is written to the archive as its row is saved, inside the save's transaction. When the
# transaction is rolled back the row is gone, and so is the file once the request ends.


def _arkivet(settings):
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.django_db(transaction=True)
def test_an_upload_whose_save_is_rolled_back_leaves_no_file_in_the_archive(admin_client, settings, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    from tests.arenden.test_diarienummer import ADD_URL, _admin_data
    from tests.factories import ForvaltningFactory

    skhlm = ForvaltningFactory()
    data = {**_admin_data(skhlm, ""), "skrivelser-TOTAL_FORMS": "2"}
    for i in range(2):
        data |= {
            f"skrivelser-{i}-titel": f"Skrivelse {i}",
            f"skrivelser-{i}-forfattare": "Ledamöter",
            f"skrivelser-{i}-beredning_datum": "2024-12-14",
            f"skrivelser-{i}-fil": SimpleUploadedFile(f"s{i}.pdf", pdf_bytes(), content_type="application/pdf"),
        }
    spara = FileSystemStorage._save
    skrivna = []

    def disken_blir_full(self, name, content):
        # The first skrivelse's file is written, the second finds the disk full.
        if skrivna:
            raise OSError(28, "No space left on device")
        skrivna.append(spara(self, name, content))
        return skrivna[-1]

    monkeypatch.setattr(FileSystemStorage, "_save", disken_blir_full)
    admin_client.raise_request_exception = False
    assert admin_client.post(ADD_URL, data).status_code == 500

    assert len(skrivna) == 1
    assert not Arende.objects.exists() and not Skrivelse.objects.exists()
    assert _arkivet(settings) == []


@pytest.mark.django_db(transaction=True)
def test_the_archive_keeps_the_files_of_committed_saves_only(settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.signals import request_finished
    from django.db import transaction

    utanfor = default_storage.save("prov/utanfor.pdf", ContentFile(b"%PDF-1.4"))
    with transaction.atomic():
        sparad = default_storage.save("prov/sparad.pdf", ContentFile(b"%PDF-1.4"))
        try:
            with transaction.atomic():
                default_storage.save("prov/i-aterrullad-savepoint.pdf", ContentFile(b"%PDF-1.4"))
                raise RuntimeError
        except RuntimeError:
            pass
    try:
        with transaction.atomic():
            default_storage.save("prov/aterrullad.pdf", ContentFile(b"%PDF-1.4"))
            raise RuntimeError
    except RuntimeError:
        pass
    assert len(_arkivet(settings)) == 4  # the request has not ended yet

    request_finished.send(sender=None)

    assert _arkivet(settings) == sorted([sparad, utanfor])


def _skrivelse_med_fil(arende):
    skrivelse = Skrivelse(
        arende=arende, titel="Öppna drogscener", forfattare="Ledamöter (M)", beredning_datum="2023-12-14"
    )
    skrivelse.fil.save("skrivelse.pdf", ContentFile(pdf_bytes()), save=True)
    return skrivelse


def test_a_skrivelse_file_missing_from_the_archive_is_told_in_swedish(client, caplog):
    world = build_world()
    arende = world.dokument().arende
    skrivelse = _skrivelse_med_fil(arende)
    skrivelse.fil.storage.delete(skrivelse.fil.name)  # lost from the archive (a restore, a disk fault)
    client.force_login(world.officer)

    with caplog.at_level(logging.ERROR, logger="arenden.views"):
        response = client.get(reverse("arenden:skrivelse_fil", args=[skrivelse.pk]))

    assert response.status_code == 503
    page = response.content.decode()
    assert "<h1>Skrivelsen saknas</h1>" in page
    assert "Skrivelsens fil saknas i arkivet. Kontakta systemförvaltningen." in page
    assert f"{arende.diarienummer} · Skrivelse: Öppna drogscener" in page
    assert skrivelse.fil.name not in page  # no server paths on the page
    assert [r.getMessage() for r in caplog.records if r.name == "arenden.views"] == [
        f"Skrivelse saknas i arkivet: skrivelse {skrivelse.pk}, fil {skrivelse.fil.name}"
    ]


def _bilaga_med_fil(tu, data=None):
    bilaga = Bilaga(tjansteutlatande=tu, ordning=1, titel="Skrivelse; Öppna drogscener")
    bilaga.fil.save("skrivelse.pdf", ContentFile(data or pdf_bytes()), save=True)
    return bilaga


def test_a_bilaga_file_is_served_to_whoever_may_see_its_document(client):
    world = build_world()
    tu = world.dokument()
    data = pdf_bytes(pages=2)
    bilaga = _bilaga_med_fil(tu, data)
    utan_fil = Bilaga.objects.create(tjansteutlatande=tu, ordning=2, titel="Karta", text="Kartan i text.")
    url = reverse("arenden:bilaga_fil", args=[bilaga.pk])
    assert url == f"/bilagor/{bilaga.pk}/fil/"

    for user in (world.officer, world.chef1):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == data
    assert client.get(reverse("arenden:bilaga_fil", args=[utan_fil.pk])).status_code == 404
    client.force_login(world.kollega)  # the other avdelning: the case does not exist for them
    assert client.get(url).status_code == 404


def test_the_case_page_links_an_uploaded_bilaga_to_its_file(client):
    world = build_world()
    tu = world.dokument()
    bilaga = _bilaga_med_fil(tu)
    Bilaga.objects.create(tjansteutlatande=tu, ordning=2, titel="Karta", text="Kartan i text.")
    client.force_login(world.officer)

    page = client.get(reverse("arenden:arende", args=[tu.arende_id])).content.decode()

    url = reverse("arenden:bilaga_fil", args=[bilaga.pk])
    assert f'<li value="1"><a href="{url}">Skrivelse; Öppna drogscener</a> (PDF)</li>' in page
    assert '<li value="2">Karta</li>' in page
    assert "/media/" not in page
    assert client.get(url).status_code == 200


def test_a_bilaga_file_missing_from_the_archive_is_told_in_swedish(client, caplog):
    world = build_world()
    tu = world.dokument()
    bilaga = _bilaga_med_fil(tu)
    bilaga.fil.storage.delete(bilaga.fil.name)
    client.force_login(world.officer)

    with caplog.at_level(logging.ERROR, logger="arenden.views"):
        response = client.get(reverse("arenden:bilaga_fil", args=[bilaga.pk]))

    assert response.status_code == 503
    page = response.content.decode()
    assert "<h1>Bilagan saknas</h1>" in page
    assert "Bilagans fil saknas i arkivet. Kontakta systemförvaltningen." in page
    assert f"{tu.arende.diarienummer} · Bilaga 1. Skrivelse; Öppna drogscener" in page
    assert bilaga.fil.name not in page
    assert [r.getMessage() for r in caplog.records if r.name == "arenden.views"] == [
        f"Bilaga saknas i arkivet: bilaga {bilaga.pk}, fil {bilaga.fil.name}"
    ]


@pytest.mark.django_db(transaction=True)
def test_a_committed_upload_stays_though_a_commit_callback_before_it_failed(settings):
    from django.core.files.base import ContentFile
    from django.core.signals import request_finished
    from django.db import transaction

    def misslyckas():
        raise RuntimeError("köade jobbet kunde inte läggas")

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            transaction.on_commit(misslyckas)  # Django runs no callback after a failed one
            skrivelse = Skrivelse.objects.create(
                arende=ArendeFactory(),
                titel="Skrivelse",
                forfattare="Ledamöter",
                beredning_datum="2024-12-14",
                fil=ContentFile(pdf_bytes(), "s.pdf"),
            )
    request_finished.send(sender=None)

    assert Skrivelse.objects.get(pk=skrivelse.pk).fil.name == skrivelse.fil.name
    assert _arkivet(settings) == [skrivelse.fil.name]


def test_a_refused_registration_says_that_its_good_file_must_be_chosen_again(officer_client):
    """A browser never fills a file field in again: the officer who corrects the field the form
    refused and registers would store the skrivelse without its PDF, unless told to choose it."""
    data = {
        "titel": "Trygghet i Sätra",
        "forfattare": "",
        "beredning_datum": "2024-12-14",
        "text": "Skrivelsens text.",
        "fil": SimpleUploadedFile("skrivelse-sätra.pdf", pdf_bytes(), content_type="application/pdf"),
    }
    response = officer_client.post(reverse("arenden:registrera"), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["fil"] == [
        "Filen ”skrivelse-sätra.pdf” är inte sparad, eftersom formuläret inte kunde skickas. Välj den igen."
    ]
    assert "forfattare" in form.errors and not Arende.objects.exists()
