"""The officers' pages through Django's test client: scope, registration, saving, queries."""

import datetime
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arenden import services
from arenden.constants import ArendeStatus, Roll
from arenden.constants import TjansteutlatandeStatus as S
from arenden.models import Arende, DiarieSekvens, Mall, Skrivelse, TjansteutlatandeAtgard
from atgarder.models import Atgard
from tests.arenden.meeting import sammantrade
from tests.arenden.test_admin_attest import _Formular
from tests.arenden.world import build_world
from tests.factories import (
    ArendeFactory,
    AtgardFactory,
    AvdelningFactory,
    DrogscenFactory,
    MallFactory,
    ProfilFactory,
    TjansteutlatandeFactory,
    UserFactory,
    pdf_bytes,
)

pytestmark = pytest.mark.django_db

# Meetings an officer may aim a document at: still to come, as a target must be.
KOMMANDE, SENARE, SIST = ((timezone.localdate() + datetime.timedelta(days=d)).isoformat() for d in (30, 51, 93))

MINIMAL_PDF = pdf_bytes()


@pytest.fixture
def handlaggare(db):
    profil = ProfilFactory(avdelning=AvdelningFactory())
    profil.user.groups.add(Group.objects.get_or_create(name="Handläggare")[0])
    return profil.user


@pytest.fixture
def officer_client(client, handlaggare):
    client.force_login(handlaggare)
    return client


def test_pages_require_login(client):
    response = client.get(reverse("arenden:start"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_swedish_and_logs_in(client, handlaggare):
    page = client.get(reverse("login"))
    assert "Användarnamn" in page.content.decode() and "Lösenord" in page.content.decode()
    response = client.post(reverse("login"), {"username": handlaggare.username, "password": "pw"})
    assert response.status_code == 302 and response["Location"] == reverse("arenden:start")


def test_start_page_lists_own_cases_newest_first_and_hides_others(officer_client, handlaggare):
    old = ArendeFactory(handlaggare=handlaggare, arendemening="Gammalt ärende", registrerad="2023-01-01")
    new = ArendeFactory(handlaggare=handlaggare, arendemening="Nytt ärende", registrerad="2024-03-01")
    ArendeFactory(arendemening="Någon annans ärende")
    html = officer_client.get(reverse("arenden:start")).content.decode()
    assert html.index(new.diarienummer) < html.index(old.diarienummer)
    assert "Någon annans ärende" not in html


def test_start_page_shows_each_cases_newest_document_and_next_step(officer_client, handlaggare):
    ArendeFactory(handlaggare=handlaggare, arendemening="Utan dokument", registrerad="2024-01-01")
    med = ArendeFactory(handlaggare=handlaggare, arendemening="Med två dokument", registrerad="2024-02-01")
    aldre = TjansteutlatandeFactory(arende=med, handlaggare=handlaggare, sammantradesdatum="2024-04-01")
    TjansteutlatandeFactory.create(arende=med, handlaggare=handlaggare, sammantradesdatum="2024-05-23")
    nyare = med.tjansteutlatanden.exclude(pk=aldre.pk).get()
    html = officer_client.get(reverse("arenden:start")).content.decode()
    rad_med = html[html.index("Med två dokument") : html.index("</tr>", html.index("Med två dokument"))]
    assert reverse("arenden:redigera", args=[nyare.pk]) in rad_med and "2024-05-23" in rad_med
    assert reverse("arenden:redigera", args=[aldre.pk]) not in html
    assert "Skriv färdigt och skicka för attest" in rad_med
    rad_utan = html[html.index("Utan dokument") : html.index("</tr>", html.index("Utan dokument"))]
    assert "Skapa tjänsteutlåtande" in rad_utan and "/redigera/" not in rad_utan


def test_a_document_on_a_meetings_list_is_shown_as_it_reads_not_opened_for_editing(officer_client, handlaggare):
    arende = ArendeFactory(handlaggare=handlaggare, arendemening="På listan")
    tu = TjansteutlatandeFactory(arende=arende, handlaggare=handlaggare)
    redigera = reverse("arenden:redigera", args=[tu.pk])
    assert redigera in officer_client.get(reverse("arenden:arende", args=[arende.pk])).content.decode()
    for status in (S.PA_FOREDRAGNINGSLISTA, S.BESLUTAD):
        tu.status = status
        tu.save()
        response = officer_client.get(redigera, follow=True)
        assert response.redirect_chain == [(reverse("arenden:forhandsgranska", args=[tu.pk]), 302)]
        assert f"Tjänsteutlåtandet är {tu.get_status_display().lower()} och kan inte längre ändras." in (
            response.content.decode()
        )
        # The preview leads back to the case, not to an editor that would only send it here again.
        assert redigera not in response.content.decode() and "Till ärendet" in response.content.decode()
        # Neither the case's page, its attest page nor Mina ärenden leads to the editor any more.
        assert redigera not in officer_client.get(reverse("arenden:arende", args=[arende.pk])).content.decode()
        assert redigera not in officer_client.get(reverse("arenden:skicka_for_attest", args=[tu.pk])).content.decode()
        assert redigera not in officer_client.get(reverse("arenden:start")).content.decode()
    # Attested, it may still change (voiding the attest): the case's page keeps its editor, but
    # Mina ärenden's next step, "Sätts på föredragningslista", is the secretary's, not a link there.
    tu.status = S.ATTESTERAD
    tu.save()
    assert officer_client.get(redigera).status_code == 200
    assert redigera in officer_client.get(reverse("arenden:arende", args=[arende.pk])).content.decode()
    start = officer_client.get(reverse("arenden:start")).content.decode()
    assert "Sätts på föredragningslista" in start and redigera not in start


@pytest.fixture
def registrator(handlaggare):
    """Sees every case of the förvaltning of `handlaggare`'s draft "Utkastet" and writes none of
    its documents."""
    arende = ArendeFactory(handlaggare=handlaggare, avdelning=handlaggare.profil.avdelning, arendemening="Utkastet")
    TjansteutlatandeFactory(arende=arende)
    user = ProfilFactory(avdelning=AvdelningFactory(forvaltning=arende.forvaltning)).user
    user.groups.add(Group.objects.get(name=Roll.REGISTRATOR))
    return user


def test_mina_arenden_links_a_draft_to_the_editor_only_for_who_may_write_it(client, handlaggare, registrator):
    redigera = reverse(
        "arenden:redigera", args=[Arende.objects.get(arendemening="Utkastet").tjansteutlatanden.get().pk]
    )

    def rad(user):
        client.force_login(user)
        html = client.get(reverse("arenden:start")).content.decode()
        return html[html.index("Utkastet") : html.index("</tr>", html.index("Utkastet"))]

    assert redigera in rad(handlaggare)
    assert "Skriv färdigt och skicka för attest" in rad(registrator) and redigera not in rad(registrator)


def test_the_editor_shows_who_may_not_write_the_document_as_it_reads(client, handlaggare, registrator):
    arende = Arende.objects.get(arendemening="Utkastet")
    tu = arende.tjansteutlatanden.get()
    redigera = reverse("arenden:redigera", args=[tu.pk])
    client.force_login(handlaggare)
    assert client.get(redigera).status_code == 200
    client.force_login(registrator)
    response = client.get(redigera, follow=True)
    assert response.redirect_chain == [(reverse("arenden:forhandsgranska", args=[tu.pk]), 302)]
    html = response.content.decode()
    assert "Du har inte behörighet att ändra tjänsteutlåtandet. Här visas det som det ser ut." in html
    # The preview and the case's page lead to the case, not back to the editor.
    assert redigera not in html and "Till ärendet" in html
    assert redigera not in client.get(reverse("arenden:arende", args=[arende.pk])).content.decode()


def test_the_form_sent_again_creates_no_second_document_and_leads_to_the_first(officer_client, handlaggare):
    arende = ArendeFactory(handlaggare=handlaggare, avdelning=handlaggare.profil.avdelning)
    url = reverse("arenden:skapa_tjansteutlatande", args=[arende.pk])
    form = {"mall": MallFactory().pk, "titel": "Öppna drogscener", "undertitel": "Svar på skrivelse"}
    officer_client.post(url, form)
    tu = arende.tjansteutlatanden.get()
    redigera = reverse("arenden:redigera", args=[tu.pk])
    # The Back button, or a colleague's click on the same page: the draft there is the one to write.
    response = officer_client.post(url, form, follow=True)
    assert response.redirect_chain == [(redigera, 302)]
    assert "Ärendet har redan tjänsteutlåtandet ”Öppna drogscener” (utkast)." in response.content.decode()
    assert list(arende.tjansteutlatanden.all()) == [tu]
    # A document that can no longer change is shown with its case.
    tu.status = S.PA_FOREDRAGNINGSLISTA
    tu.save()
    response = officer_client.post(url, form, follow=True)
    assert response.redirect_chain == [(reverse("arenden:arende", args=[arende.pk]), 302)]
    assert "”Öppna drogscener” (på föredragningslista)" in response.content.decode()
    assert arende.tjansteutlatanden.count() == 1
    # Once it is decided, the case may get another.
    tu.status = S.BESLUTAD
    tu.save()
    officer_client.post(url, {**form, "titel": "Uppföljning"})
    assert arende.tjansteutlatanden.count() == 2


def _ny_handling(titel="Öppna drogscener i Sätra centrum – förvaltningens samlade svar", **andra):
    return {
        "mall": MallFactory().pk,
        "titel": titel,
        "undertitel": "Svar på skrivelse från (M)",
        "sammantradesdatum": KOMMANDE,
        **andra,
    }


def _visat_igen(response):
    """The values of the new-document form as the page shows it again."""
    page = response.content.decode()
    form = page[page.index("Skapa tjänsteutlåtande") :]
    return {
        name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', form).group(1)
        for name in ("titel", "undertitel", "sammantradesdatum")
    }


def test_a_new_document_form_refused_for_a_retired_mall_is_shown_again_with_what_was_typed(officer_client, handlaggare):
    arende = ArendeFactory(handlaggare=handlaggare, avdelning=handlaggare.profil.avdelning)
    url = reverse("arenden:skapa_tjansteutlatande", args=[arende.pk])
    form = _ny_handling()
    Mall.objects.filter(pk=form["mall"]).update(aktiv=False)  # retired after the page was opened

    response = officer_client.post(url, form)

    assert response.status_code == 400
    assert _visat_igen(response) == {
        "titel": "Öppna drogscener i Sätra centrum – förvaltningens samlade svar",
        "undertitel": "Svar på skrivelse från (M)",
        "sammantradesdatum": KOMMANDE,
    }
    page = response.content.decode()
    assert "Tjänsteutlåtandet kunde inte skapas." in page
    assert "Mallen går inte längre att välja. Välj en av dem som finns i listan." in page
    assert not arende.tjansteutlatanden.exists()


def test_a_new_document_title_too_long_is_shown_again_whole_with_why(officer_client, handlaggare):
    arende = ArendeFactory(handlaggare=handlaggare, avdelning=handlaggare.profil.avdelning)
    lang = ("Drogscener " * 30).strip()

    response = officer_client.post(reverse("arenden:skapa_tjansteutlatande", args=[arende.pk]), _ny_handling(lang))

    assert response.status_code == 400
    assert _visat_igen(response)["titel"] == lang
    assert "Säkerställ att detta värde har som mest 300 tecken (den har 329)." in response.content.decode()


def test_a_new_document_the_case_no_longer_takes_is_refused_with_why_and_what_was_typed(officer_client, handlaggare):
    arende = ArendeFactory(handlaggare=handlaggare, avdelning=handlaggare.profil.avdelning)
    Arende.objects.filter(pk=arende.pk).update(status="avslutat")  # closed after the page was opened

    response = officer_client.post(reverse("arenden:skapa_tjansteutlatande", args=[arende.pk]), _ny_handling())

    assert response.status_code == 409
    assert _visat_igen(response)["titel"] == "Öppna drogscener i Sätra centrum – förvaltningens samlade svar"
    page = response.content.decode()
    assert "Tjänsteutlåtandet kunde inte skapas. Ärendet är avslutat; inga nya dokument kan skrivas i det." in page
    assert not arende.tjansteutlatanden.exists()


def test_start_page_stops_counting_past_its_limit(officer_client, handlaggare, monkeypatch):
    from arenden import views

    monkeypatch.setattr(views, "ARENDEN_GRANS", 3)
    monkeypatch.setattr(views, "PER_SIDA", 2)
    arenden = [ArendeFactory(handlaggare=handlaggare, registrerad=f"2024-01-0{i}") for i in range(1, 6)]
    first = officer_client.get(reverse("arenden:start")).content.decode()
    assert "Fler än 3 ärenden, nyast först; de 3 senaste visas här" in first and "Sida 1 av 2" in first
    assert arenden[4].diarienummer in first and arenden[3].diarienummer in first
    second = officer_client.get(reverse("arenden:start"), {"sida": 2}).content.decode()
    assert "Sida 2 av 2" in second and arenden[2].diarienummer in second
    assert arenden[1].diarienummer not in second and arenden[0].diarienummer not in second
    filtered = officer_client.get(reverse("arenden:start"), {"q": arenden[0].diarienummer}).content.decode()
    assert "1 ärende, nyast först" in filtered and arenden[0].diarienummer in filtered


def test_start_page_search_finds_text_in_skrivelse_and_number(officer_client, handlaggare):
    a = ArendeFactory(handlaggare=handlaggare, arendemening="Första")
    b = ArendeFactory(handlaggare=handlaggare, arendemening="Andra")
    Skrivelse.objects.create(arende=a, titel="S", forfattare="X", beredning_datum="2024-01-01", text="om Vårberg")
    html = officer_client.get(reverse("arenden:start"), {"q": "vårberg"}).content.decode()
    assert a.diarienummer in html and b.diarienummer not in html
    html = officer_client.get(reverse("arenden:start"), {"q": b.diarienummer}).content.decode()
    assert b.diarienummer in html and a.diarienummer + "<" not in html


def test_case_outside_scope_is_404(officer_client):
    other = TjansteutlatandeFactory()
    assert officer_client.get(reverse("arenden:arende", args=[other.arende.pk])).status_code == 404
    assert officer_client.get(reverse("arenden:redigera", args=[other.pk])).status_code == 404
    sektion = other.sektioner.first()
    fore = (sektion.text, sektion.version)
    url = reverse("arenden:spara_sektion", args=[other.pk, sektion.pk])
    response = officer_client.post(url, json.dumps({"text": "x", "version": 1}), content_type="application/json")
    assert response.status_code == 404
    sektion.refresh_from_db()
    assert (sektion.text, sektion.version) == fore


def test_register_from_skrivelse_with_pdf_hands_out_number(officer_client, handlaggare):
    fil = SimpleUploadedFile("skrivelse.pdf", MINIMAL_PDF, content_type="application/pdf")
    response = officer_client.post(
        reverse("arenden:registrera"),
        {"titel": "Öppna drogscener", "forfattare": "Ledamöter (M)", "beredning_datum": "2024-12-14", "fil": fil},
    )
    assert response.status_code == 302
    arende = Arende.objects.get(arendemening="Öppna drogscener – Svar på skrivelse")
    assert arende.handlaggare == handlaggare
    assert arende.history.first().history_user == handlaggare
    page = officer_client.get(response["Location"]).content.decode()
    assert arende.diarienummer in page
    skrivelse = arende.skrivelser.get()
    download = officer_client.get(reverse("arenden:skrivelse_fil", args=[skrivelse.pk]))
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_the_timeline_tells_when_a_case_was_registered_and_an_older_ones_diarium_date(officer_client):
    from arenden.tidslinje import tidslinje

    data = {"titel": "Trygghet", "forfattare": "F", "beredning_datum": "2024-12-14", "text": "Text."}
    assert officer_client.post(reverse("arenden:registrera"), data).status_code == 302
    arende = Arende.objects.get()
    forsta = tidslinje(arende)[0]
    assert forsta["handelse"] == "Ärendet registrerat"
    assert forsta["tid"] == arende.history.earliest().history_date  # was midnight of the day

    aldre = Arende(forvaltning=arende.forvaltning, diarienummer="SKHLM 2019/4", arendemening="Äldre ärende, infört nu")
    services.registrera_arende(arende=aldre, user=arende.handlaggare, registrerad=datetime.date(2019, 3, 4))
    forsta = tidslinje(aldre)[0]
    assert timezone.localtime(forsta["tid"]).strftime("%Y-%m-%d %H:%M") == "2019-03-04 00:00"


def test_register_refuses_a_file_that_is_not_a_pdf(officer_client):
    fil = SimpleUploadedFile("skrivelse.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = officer_client.post(
        reverse("arenden:registrera"),
        {"titel": "T", "forfattare": "F", "beredning_datum": "2024-12-14", "text": "", "fil": fil},
    )
    assert response.status_code == 200
    assert "Filen är inte en PDF" in response.content.decode()
    assert not Arende.objects.exists()


def test_register_requires_text_or_file(officer_client):
    response = officer_client.post(
        reverse("arenden:registrera"), {"titel": "T", "forfattare": "F", "beredning_datum": "2024-12-14"}
    )
    assert "Skriv in skrivelsens text eller ladda upp den som PDF." in response.content.decode()
    assert not Arende.objects.exists()


def test_a_title_too_long_to_become_the_case_wording_is_refused_keeping_what_was_typed(officer_client):
    titel = "Skrivelse om " + "trygghet " * 31  # 292 characters: with "– Svar på skrivelse", over 300
    data = {"titel": titel, "forfattare": "F", "beredning_datum": "2024-12-14", "text": "Skrivelsens text."}
    response = officer_client.post(reverse("arenden:registrera"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Skriv en kortare ärendemening (högst 300 tecken)." in page
    assert titel.strip() in page and "Skrivelsens text." in page
    assert not Arende.objects.exists()

    data["arendemening"] = "Trygghet – Svar på skrivelse"
    assert officer_client.post(reverse("arenden:registrera"), data).status_code == 302
    assert Arende.objects.get().arendemening == "Trygghet – Svar på skrivelse"


def test_register_needs_a_role(client):
    client.force_login(UserFactory())
    assert client.get(reverse("arenden:registrera")).status_code == 403


def _save(client, tu, sektion, text, version):
    url = reverse("arenden:spara_sektion", args=[tu.pk, sektion.pk])
    return client.post(url, json.dumps({"text": text, "version": version}), content_type="application/json")


def test_a_section_larger_than_the_server_takes_is_refused_in_the_editors_shape(officer_client, handlaggare, settings):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    sektion = tu.sektioner.first()
    fore = (sektion.text, sektion.version, tu.atgard_val.count())
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_200_000

    # Django refused it with its HTML 400 page, of which the editor could only say
    # "Oväntat svar från servern (400)".
    svar = _save(officer_client, tu, sektion, "<p>" + "Lång text om drogscenen. " * 50_000 + "</p>", 1)
    assert svar.status_code == 413 and svar["Content-Type"] == "application/json"
    assert svar.json() == {
        "fel": "Texten är för lång för att sparas: servern tar emot högst 1,1 MB åt gången, omkring 300 sidor "
        "text. Korta texten eller lägg den långa delen som bilaga."
    }
    ordning = officer_client.post(
        reverse("arenden:atgarder", args=[tu.pk]),
        json.dumps({"ordning": [1] * 500_000, "sedd_ordning": []}),
        content_type="application/json",
    )
    assert ordning.status_code == 413 and "för lång" in ordning.json()["fel"]
    sektion.refresh_from_db()
    assert (sektion.text, sektion.version, tu.atgard_val.count()) == fore


def test_a_new_atgard_larger_than_the_server_takes_is_refused_in_the_editors_shape(handlaggare, settings):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    # With its token checked, as in the browser: CsrfViewMiddleware reads the form for it, and so
    # meets the oversized body before the view does.
    client = Client(enforce_csrf_checks=True)
    client.force_login(handlaggare)
    assert client.get(reverse("arenden:redigera", args=[tu.pk])).status_code == 200
    token = client.cookies["csrftoken"].value
    fore = (Atgard.objects.count(), Atgard.history.count(), tu.atgard_val.count())
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 40_000

    # Sent as the editor sends it (multipart, asking for JSON), it got Django's HTML 400 page, of
    # which the editor could only say "Oväntat svar från servern (400)".
    svar = client.post(
        reverse("arenden:ny_atgard", args=[tu.pk]),
        {"typ": "social", "titel": "Nattvandring", "beskrivning": "Vuxna går ut i Sätra centrum. " * 2_000},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert svar.status_code == 413 and svar["Content-Type"] == "application/json"
    assert svar.json() == {
        "fel": "Texten är för lång för att sparas: servern tar emot högst 39 kB åt gången, omkring 11 sidor "
        "text. Korta texten eller lägg den långa delen som bilaga."
    }
    assert (Atgard.objects.count(), Atgard.history.count(), tu.atgard_val.count()) == fore

    # Within the limit, the same request creates it.
    svar = client.post(
        reverse("arenden:ny_atgard", args=[tu.pk]),
        {"typ": "social", "titel": "Nattvandring", "beskrivning": "Vuxna går ut i Sätra centrum."},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert svar.status_code == 201
    assert [v.atgard.titel for v in tu.atgard_val.all()] == ["Nattvandring"]


def test_saving_a_section_sanitises_and_reports_conflicts(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    sektion = tu.sektioner.first()
    typed = '<p>Hej <strong>du</strong><script>alert(1)</script><img src=x onerror="alert(2)"></p>'
    response = _save(officer_client, tu, sektion, typed, sektion.version)
    assert response.status_code == 200
    sektion.refresh_from_db()
    assert sektion.text == "<p>Hej <strong>du</strong></p>"
    stale = _save(officer_client, tu, sektion, "<p>Min text</p>", sektion.version - 1)
    assert stale.status_code == 409
    data = stale.json()
    assert data["your_text"] == "<p>Min text</p>" and data["current_text"] == "<p>Hej <strong>du</strong></p>"
    # What the conflict shows of the user's text is sanitised as the stored text is.
    stale = _save(officer_client, tu, sektion, '<p>Min<img src=x onerror="alert(3)"></p>', sektion.version - 1)
    assert stale.status_code == 409 and stale.json()["your_text"] == "<p>Min</p>"
    sektion.refresh_from_db()
    assert sektion.text == "<p>Hej <strong>du</strong></p>"


def test_half_a_character_pasted_into_a_section_is_saved_as_a_replacement_character(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    sektion = tu.sektioner.first()
    url = reverse("arenden:spara_sektion", args=[tu.pk, sektion.pk])
    # As the browser's JSON.stringify writes a lone surrogate (half of an emoji, text from a PDF);
    # a whole pair is one character.
    body = '{"text": "<p>Sätra \\ud800centrum \\ud83d\\ude00</p>", "version": ' + str(sektion.version) + "}"

    response = officer_client.post(url, body, content_type="application/json")

    assert response.status_code == 200
    sektion.refresh_from_db()
    assert sektion.text == "<p>Sätra \ufffdcentrum \U0001f600</p>"


def test_a_save_of_the_stored_text_with_an_old_version_is_answered_with_the_current_version(
    officer_client, handlaggare
):
    # The same save sent twice: the second carries the version the first started from.
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    sektion = tu.sektioner.first()
    start = sektion.version
    assert _save(officer_client, tu, sektion, "<p>Min text</p>", start).status_code == 200
    again = _save(officer_client, tu, sektion, "<p>Min text</p>", start)
    assert again.status_code == 200
    assert again.json()["version"] == start + 1
    sektion.refresh_from_db()
    assert (sektion.text, sektion.version) == ("<p>Min text</p>", start + 1)
    # Different text from the old version would overwrite the stored one: still a conflict.
    stale = _save(officer_client, tu, sektion, "<p>Annan text</p>", start)
    assert stale.status_code == 409
    assert stale.json()["your_text"] == "<p>Annan text</p>" and stale.json()["current_version"] == start + 1
    sektion.refresh_from_db()
    assert (sektion.text, sektion.version) == ("<p>Min text</p>", start + 1)


def test_measure_register_add_reorder_remove_and_create(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    a, b = AtgardFactory(titel="Första"), AtgardFactory(titel="Andra", typ="situationell")
    url = reverse("arenden:atgarder", args=[tu.pk])
    for atgard in (a, b):
        officer_client.post(url, json.dumps({"lagg_till": atgard.pk}), content_type="application/json")
    response = officer_client.post(
        url, json.dumps({"ordning": [b.pk, a.pk], "sedd_ordning": [a.pk, b.pk]}), content_type="application/json"
    )
    assert [v["id"] for v in response.json()["valda"]] == [b.pk, a.pk]
    response = officer_client.post(url, json.dumps({"ta_bort": b.pk}), content_type="application/json")
    assert [v["id"] for v in response.json()["valda"]] == [a.pk]
    scen = DrogscenFactory()
    created = officer_client.post(
        reverse("arenden:ny_atgard", args=[tu.pk]),
        {"typ": "social", "titel": "Nattvandring", "beskrivning": "Vuxna går ut.", "drogscener": [scen.pk]},
    )
    assert created.status_code == 201
    ny = Atgard.objects.get(titel="Nattvandring")
    assert list(ny.drogscener.all()) == [scen]
    assert ny.history.first().history_user == handlaggare
    hits = officer_client.get(reverse("atgarder:sok"), {"drogscen": scen.pk}).json()["traffar"]
    assert [h["titel"] for h in hits] == ["Nattvandring"]


def test_a_new_atgard_for_a_document_locked_meanwhile_is_refused_and_not_stored(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    befintlig = AtgardFactory(titel="Platsaktivering")
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=befintlig, user=handlaggare)
    # The secretary put it on a meeting's list while the officer's editor was open.
    tu.status = S.PA_FOREDRAGNINGSLISTA
    tu.save()
    scen = DrogscenFactory()
    fore = (Atgard.objects.count(), Atgard.history.count())

    svar = officer_client.post(
        reverse("arenden:ny_atgard", args=[tu.pk]),
        {"typ": "social", "titel": "Nattvandring", "beskrivning": "Vuxna går ut.", "drogscener": [scen.pk]},
    )

    assert svar.status_code == 400
    assert svar.json()["fel"] == "Dokumentet har status ”På föredragningslista” och kan inte ändras."
    assert [v["id"] for v in svar.json()["valda"]] == [befintlig.pk]
    assert (Atgard.objects.count(), Atgard.history.count()) == fore
    assert not Atgard.objects.filter(titel="Nattvandring").exists()


def test_a_new_atgard_is_created_and_added_to_the_document_in_one_request(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    svar = officer_client.post(
        reverse("arenden:ny_atgard", args=[tu.pk]), {"typ": "social", "titel": "Läxhjälp", "beskrivning": "Öppet."}
    )
    assert svar.status_code == 201
    ny = Atgard.objects.get(titel="Läxhjälp")
    assert svar.json()["atgard"]["id"] == ny.pk
    assert [v["id"] for v in svar.json()["valda"]] == [ny.pk]
    assert ny.history.get().history_user == handlaggare


def test_a_new_atgard_for_a_document_outside_the_users_scope_is_not_found(officer_client):
    tu = TjansteutlatandeFactory()
    svar = officer_client.post(
        reverse("arenden:ny_atgard", args=[tu.pk]), {"typ": "social", "titel": "Utanför", "beskrivning": "Nej."}
    )
    assert svar.status_code == 404
    assert not Atgard.objects.filter(titel="Utanför").exists()


def test_a_register_change_refused_or_of_an_unknown_atgard_answers_with_the_stored_list(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    a, b = AtgardFactory(titel="Första"), AtgardFactory(titel="Andra")
    url = reverse("arenden:atgarder", args=[tu.pk])

    def post(body):
        return officer_client.post(url, json.dumps(body), content_type="application/json")

    post({"lagg_till": a.pk})
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=b, user=handlaggare)  # in another tab

    igen = post({"lagg_till": b.pk})  # the page did not show it as added
    assert igen.status_code == 400 and igen.json()["fel"]
    assert [v["id"] for v in igen.json()["valda"]] == [a.pk, b.pk]
    okand = post({"ta_bort": 10**12})
    assert okand.status_code == 404 and okand["Content-Type"] == "application/json"
    assert okand.json()["fel"] == "Åtgärden finns inte i registret."
    assert [v["id"] for v in okand.json()["valda"]] == [a.pk, b.pk]


def test_a_reordering_from_an_order_no_longer_stored_is_refused_with_the_stored_list(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    a, b, c = (AtgardFactory(titel=t) for t in ("A", "B", "C"))
    for atgard in (a, b, c):
        services.lagg_till_atgard(tjansteutlatande=tu, atgard=atgard, user=handlaggare)
    # A colleague puts C first after the officer's page showed A, B, C.
    services.ordna_atgarder(tjansteutlatande=tu, atgard_ids=[c.pk, a.pk, b.pk], user=handlaggare)
    tu.refresh_from_db()
    version, rader = tu.version, TjansteutlatandeAtgard.history.count()
    url = reverse("arenden:atgarder", args=[tu.pk])

    def ordna(ordning, sedd):
        body = {"ordning": [x.pk for x in ordning], "sedd_ordning": [x.pk for x in sedd]}
        return officer_client.post(url, json.dumps(body), content_type="application/json")

    svar = ordna([b, a, c], [a, b, c])
    assert svar.status_code == 409
    assert svar.json()["fel"].startswith("Någon annan har ändrat åtgärderna i dokumentet medan du arbetade.")
    assert [v["id"] for v in svar.json()["valda"]] == [c.pk, a.pk, b.pk]
    tu.refresh_from_db()
    assert list(tu.atgard_val.order_by("ordning", "pk").values_list("atgard_id", flat=True)) == [c.pk, a.pk, b.pk]
    assert (tu.version, TjansteutlatandeAtgard.history.count()) == (version, rader)
    # The colleague's order is the one asked for: nothing is undone, so nothing is refused.
    assert ordna([c, a, b], [a, b, c]).status_code == 200
    # From the stored order, the move is made.
    svar = ordna([a, c, b], [c, a, b])
    assert svar.status_code == 200 and [v["id"] for v in svar.json()["valda"]] == [a.pk, c.pk, b.pk]
    # A reordering that does not say what it moved from is not taken.
    assert (
        officer_client.post(
            url, json.dumps({"ordning": [c.pk, a.pk, b.pk]}), content_type="application/json"
        ).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("ordning", "sedd"), [("aab", "abc"), ("abc", "aabc"), ("abcc", "abc")], ids=["ny", "sedd", "en-for-mycket"]
)
def test_a_reordering_naming_an_atgard_twice_is_refused_as_malformed(officer_client, handlaggare, ordning, sedd):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    atgarder = {n: AtgardFactory(titel=n.upper()) for n in "abc"}
    for atgard in atgarder.values():
        services.lagg_till_atgard(tjansteutlatande=tu, atgard=atgard, user=handlaggare)
    tu.refresh_from_db()
    fore = (tu.version, TjansteutlatandeAtgard.history.count())
    body = {"ordning": [atgarder[n].pk for n in ordning], "sedd_ordning": [atgarder[n].pk for n in sedd]}

    svar = officer_client.post(
        reverse("arenden:atgarder", args=[tu.pk]), json.dumps(body), content_type="application/json"
    )

    # It was answered as a conflict (409: a colleague's change, or "Ladda om sidan"), or with a
    # duplicate only in the order it was moved from, taken: no one had changed anything.
    assert svar.status_code == 400
    assert svar.json()["fel"] == "Felaktig begäran: ordningen tar upp samma åtgärd mer än en gång."
    assert "konflikt" not in svar.json()
    assert [v["id"] for v in svar.json()["valda"]] == [atgarder[n].pk for n in "abc"]
    tu.refresh_from_db()
    assert (tu.version, TjansteutlatandeAtgard.history.count()) == fore


def test_a_section_save_with_true_for_its_version_is_refused(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    sektion = tu.sektioner.first()
    fore = (sektion.text, sektion.version)
    assert sektion.version == 1  # which JSON's true was taken for
    svar = _save(officer_client, tu, sektion, "<p>Sparat med version true.</p>", True)
    assert svar.status_code == 400 and svar.json() == {"fel": "Felaktig begäran: text och version behövs."}
    sektion.refresh_from_db()
    assert (sektion.text, sektion.version) == fore


@pytest.mark.parametrize(
    "body",
    [
        {"lagg_till": True},
        {"ta_bort": True},
        {"ordning": [True], "sedd_ordning": [1]},
        {"ordning": [1], "sedd_ordning": [True]},
    ],
    ids=["lagg_till", "ta_bort", "ordning", "sedd_ordning"],
)
def test_a_register_change_with_true_for_an_atgard_id_is_refused(officer_client, handlaggare, body):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    # JSON's true was taken for the åtgärd with id 1.
    ett = Atgard.objects.filter(pk=1).first() or AtgardFactory(pk=1)
    if "lagg_till" not in body:
        services.lagg_till_atgard(tjansteutlatande=tu, atgard=ett, user=handlaggare)
    tu.refresh_from_db()
    fore = (list(tu.atgard_val.values_list("atgard_id", flat=True)), tu.version, TjansteutlatandeAtgard.history.count())

    svar = officer_client.post(
        reverse("arenden:atgarder", args=[tu.pk]), json.dumps(body), content_type="application/json"
    )

    assert svar.status_code == 400 and svar.json() == {"fel": "Felaktig begäran."}
    tu.refresh_from_db()
    assert (
        list(tu.atgard_val.values_list("atgard_id", flat=True)),
        tu.version,
        TjansteutlatandeAtgard.history.count(),
    ) == fore


@pytest.mark.parametrize("andring", ["lagg_till", "ta_bort", "ordning"])
@pytest.mark.parametrize("fran", [S.TILL_ATTEST, S.ATTESTERAD])
def test_the_register_answers_with_the_documents_status_a_change_voiding_the_attest(
    officer_client, handlaggare, fran, andring
):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    a, b = AtgardFactory(), AtgardFactory()
    for atgard in (a, b):
        services.lagg_till_atgard(tjansteutlatande=tu, atgard=atgard, user=handlaggare)
    tu.status = fran
    tu.save()
    body = {
        "lagg_till": {"lagg_till": AtgardFactory().pk},
        "ta_bort": {"ta_bort": a.pk},
        "ordning": {"ordning": [b.pk, a.pk], "sedd_ordning": [a.pk, b.pk]},
    }[andring]
    svar = officer_client.post(
        reverse("arenden:atgarder", args=[tu.pk]), json.dumps(body), content_type="application/json"
    )
    assert svar.status_code == 200
    assert svar.json()["status"] == "Utkast"
    tu.refresh_from_db()
    assert tu.status == S.UTKAST


@pytest.mark.parametrize(
    "q", ["ordningsvakter skärholmen", "Skärholmens ordningsvakter", "mobila vakter", "ordningsvakt*", "  vakter  "]
)
def test_the_register_search_finds_an_atgard_by_each_of_several_words(officer_client, q):
    """Officers type a few words, not a phrase ("ordningsvakter skärholmen"): each word is looked
    for in the title or the description, wherever it stands, instead of the whole text as one."""
    AtgardFactory(
        titel="Mobila ordningsvakter och väktare",
        beskrivning="Ordningsvakter anställda av centrumägare finns i Skärholmens centrum.",
    )
    AtgardFactory(titel="Trygghetsvandringar", beskrivning="Vandringar med polisen i Sätra.")
    svar = officer_client.get(reverse("atgarder:sok"), {"q": q}).json()
    assert [h["titel"] for h in svar["traffar"]] == ["Mobila ordningsvakter och väktare"]


def test_the_register_search_says_when_it_shows_only_the_first_hits(officer_client, monkeypatch):
    from atgarder import views

    monkeypatch.setattr(views, "SOKTRAFFAR", 2)
    for titel in ("Vandring A", "Vandring B"):
        AtgardFactory(titel=titel)
    svar = officer_client.get(reverse("atgarder:sok"), {"q": "Vandring"}).json()
    assert (len(svar["traffar"]), svar["fler"]) == (2, False)
    AtgardFactory(titel="Vandring C")
    svar = officer_client.get(reverse("atgarder:sok"), {"q": "Vandring"}).json()
    assert [h["titel"] for h in svar["traffar"]] == ["Vandring A", "Vandring B"] and svar["fler"] is True


def test_creating_an_atgard_with_bad_period_is_refused_in_swedish(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    response = officer_client.post(
        reverse("arenden:ny_atgard", args=[tu.pk]),
        {"typ": "social", "titel": "X", "beskrivning": "Y", "period_start": "2024-05-01", "period_slut": "2024-01-01"},
    )
    assert response.status_code == 400
    assert "Periodens slut kan inte ligga före dess början." in json.dumps(response.json(), ensure_ascii=False)
    assert not Atgard.objects.filter(titel="X").exists()


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_start_page_query_count_does_not_grow_with_rows(officer_client, handlaggare):
    def make(n):
        for _ in range(n):
            TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))

    make(5)
    few = _queries(officer_client, reverse("arenden:start"))
    make(45)
    many = _queries(officer_client, reverse("arenden:start"))
    assert _queries(officer_client, reverse("arenden:start") + "?q=nummer&status=registrerat") == few
    assert few == many


def test_drogscen_page_query_count_does_not_grow_with_rows(officer_client, handlaggare):
    scen = DrogscenFactory()

    def make(n):
        for _ in range(n):
            atgard = AtgardFactory()
            atgard.drogscener.add(scen)
            atgard.utfall.create(antal=3, enhet="träffar", ar=2023)
            tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
            tu.atgard_val.create(atgard=atgard)

    url = reverse("atgarder:drogscen", args=[scen.pk])
    make(5)
    few = _queries(officer_client, url)
    make(45)
    many = _queries(officer_client, url)
    assert few == many


def _rapporterar(scen, handlaggare, n, **arende):
    atgard = AtgardFactory()
    atgard.drogscener.add(scen)
    arenden = []
    for i in range(n):
        a = ArendeFactory(handlaggare=handlaggare, registrerad=f"2024-01-{i + 1:02d}", **arende)
        TjansteutlatandeFactory(arende=a).atgard_val.create(atgard=atgard)
        arenden.append(a)
    return arenden


def test_drogscen_page_lists_the_users_reporting_cases_newest_first(officer_client, handlaggare):
    scen = DrogscenFactory()
    egna = _rapporterar(scen, handlaggare, 3)
    _rapporterar(scen, UserFactory(), 2, arendemening="Någon annans ärende")
    ArendeFactory(handlaggare=handlaggare, arendemening="Utan rapport om platsen")
    html = officer_client.get(reverse("atgarder:drogscen", args=[scen.pk])).content.decode()
    assert "3 ärenden, nyast först" in html and "Fler än" not in html
    positions = [html.index(a.diarienummer) for a in reversed(egna)]
    assert positions == sorted(positions)
    assert "Någon annans ärende" not in html and "Utan rapport om platsen" not in html


def test_drogscen_page_shows_each_atgard_with_period_actors_and_outputs(officer_client):
    from atgarder.models import Aktor

    scen = DrogscenFactory()
    vandring = AtgardFactory(typ="social", titel="Nattvandring", period_start="2024-01-01")
    belysning = AtgardFactory(
        typ="situationell", titel="Belysning", period_start="2023-05-01", period_slut="2023-09-30"
    )
    for atgard in (vandring, belysning):
        atgard.drogscener.add(scen)
    vandring.aktorer.add(Aktor.objects.create(namn="Polisen"), Aktor.objects.create(namn="Fältassistenterna"))
    vandring.utfall.create(antal=70, enhet="kvällar", ar=2024)
    html = officer_client.get(reverse("atgarder:drogscen", args=[scen.pk])).content.decode()
    social, situationell = html.index('id="grupp-social"'), html.index('id="grupp-situationell"')
    assert social < html.index("Nattvandring") < situationell < html.index("Belysning")
    assert f'href="{reverse("atgarder:atgard", args=[vandring.pk])}"' in html
    assert "Period 2024-01-01 – pågår · Fältassistenterna, Polisen" in html
    assert "<li>70 kvällar 2024</li>" in html
    assert "Period 2023-05-01 – 2023-09-30</p>" in html  # no actors, no outputs


def test_drogscen_page_without_cases_says_so(officer_client, handlaggare):
    scen = DrogscenFactory()
    html = officer_client.get(reverse("atgarder:drogscen", args=[scen.pk])).content.decode()
    assert "Inga ärenden som du kan se." in html


def test_drogscen_page_stops_counting_past_its_limit(officer_client, handlaggare, monkeypatch):
    from atgarder import views

    monkeypatch.setattr(views, "ARENDEN_GRANS", 3)
    monkeypatch.setattr(views, "ARENDEN_PER_SIDA", 2)
    scen = DrogscenFactory()
    arenden = _rapporterar(scen, handlaggare, 5)
    url = reverse("atgarder:drogscen", args=[scen.pk])
    first = officer_client.get(url).content.decode()
    assert "Fler än 3 ärenden, nyast först; de 3 senaste visas här" in first
    assert reverse("arenden:sok") in first and "Sida 1 av 2" in first
    assert arenden[4].diarienummer in first and arenden[3].diarienummer in first
    second = officer_client.get(url, {"sida": 2}).content.decode()
    assert "Sida 2 av 2" in second and arenden[2].diarienummer in second
    assert arenden[1].diarienummer not in second and arenden[0].diarienummer not in second
    exactly = DrogscenFactory()
    _rapporterar(exactly, handlaggare, 3)
    html = officer_client.get(reverse("atgarder:drogscen", args=[exactly.pk])).content.decode()
    assert "3 ärenden, nyast först" in html and "Fler än" not in html


# (method, page, its arguments, what someone in scope gets). A POST carries an empty JSON body:
# the send form and the new-document form (on the case's page) show their errors, and the JSON
# endpoints refuse the body; someone out of scope gets a 404 from all.
SCOPED_PAGES = [
    ("GET", "arenden:arende", lambda tu: [tu.arende.pk], 200),
    ("GET", "arenden:redigera", lambda tu: [tu.pk], 200),
    ("GET", "arenden:forhandsgranska", lambda tu: [tu.pk], 200),
    ("GET", "arenden:skicka_for_attest", lambda tu: [tu.pk], 200),
    ("POST", "arenden:skicka_for_attest", lambda tu: [tu.pk], 200),
    ("POST", "arenden:skapa_tjansteutlatande", lambda tu: [tu.arende.pk], 400),
    ("POST", "arenden:atgarder", lambda tu: [tu.pk], 400),
    ("POST", "arenden:spara_sektion", lambda tu: [tu.pk, tu.sektioner.first().pk], 400),
]


@pytest.mark.parametrize("who", ["handlaggaren", "kollegan", "utomstaende"])
@pytest.mark.parametrize(("method", "name", "args", "i_scope"), SCOPED_PAGES)
def test_case_pages_are_scoped(client, who, method, name, args, i_scope):
    avdelning = AvdelningFactory()
    roll = Group.objects.get_or_create(name="Handläggare")[0]
    people = {
        "handlaggaren": ProfilFactory(avdelning=avdelning).user,
        "kollegan": ProfilFactory(avdelning=avdelning).user,  # same avdelning
        "utomstaende": ProfilFactory(avdelning=AvdelningFactory()).user,
    }
    for person in people.values():
        person.groups.add(roll)
    owner = people["handlaggaren"]
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=owner, avdelning=avdelning))
    client.force_login(people[who])
    url = reverse(name, args=args(tu))
    if method == "GET":
        status = client.get(url).status_code
    else:
        status = client.post(url, "{}", content_type="application/json").status_code
    assert status == (404 if who == "utomstaende" else i_scope)


def test_editor_register_forms_offer_every_place_and_actor_as_the_forms_do(officer_client, handlaggare):
    from atgarder.forms import AtgardSokForm, NyAtgardForm
    from atgarder.models import Aktor

    DrogscenFactory(namn="Östberga <torg>")
    DrogscenFactory(namn="Bredäng centrum")
    Aktor.objects.create(namn="Polisen & skolan")
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    html = officer_client.get(reverse("arenden:redigera", args=[tu.pk])).content.decode()
    sok, ny = AtgardSokForm(auto_id="sok_%s", label_suffix=""), NyAtgardForm(auto_id="ny_%s")
    for field in (sok["drogscen"], sok["aktor"], ny["drogscener"], ny["aktorer"]):
        assert str(field) in html, field.name
    assert "Östberga &lt;torg&gt;" in html and "Polisen &amp; skolan" in html


def test_editor_register_forms_follow_places_added_and_renamed_after_the_first_opening(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    editor = reverse("arenden:redigera", args=[tu.pk])
    plats = DrogscenFactory(namn="Sätra torg")

    def visad(html, namn):
        # An option of the search form's list, and a check box of the new åtgärd's form.
        return (html.count(f">{namn}</option>"), html.count(f" {namn}</label>"))

    assert visad(officer_client.get(editor).content.decode(), "Sätra torg") == (1, 1)
    ny = DrogscenFactory(namn="Vårbergs centrum")
    plats.namn = "Sätra centrum"
    plats.save()
    html = officer_client.get(editor).content.decode()
    assert visad(html, "Vårbergs centrum") == (1, 1) and f'value="{ny.pk}"' in html
    assert visad(html, "Sätra centrum") == (1, 1) and "Sätra torg" not in html


def test_editor_and_atgard_pages_query_count_does_not_grow_with_rows(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    atgard = AtgardFactory()
    url = reverse("atgarder:atgard", args=[atgard.pk])
    editor = reverse("arenden:redigera", args=[tu.pk])

    def make(n):
        for i in range(n):
            tu.atgard_val.create(atgard=AtgardFactory(), ordning=tu.atgard_val.count() + 1)
            atgard.titel = f"Ändrad {atgard.history.count()} {i}"
            atgard.save()
            atgard.utfall.create(antal=i, enhet="besök", ar=2020 + i)

    make(5)
    few = (_queries(officer_client, editor), _queries(officer_client, url))
    make(45)
    assert (_queries(officer_client, editor), _queries(officer_client, url)) == few


def _redovisar(atgard, handlaggare, n):
    """`n` documents of the officer's cases that report on `atgard`, oldest first."""
    dokument = []
    for i in range(n):
        tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare), titel=f"Redovisande {i:03d}")
        tu.atgard_val.create(atgard=atgard, ordning=1)
        dokument.append(tu)
    # Newest first by when each was written, not by id.
    bas = timezone.now() - datetime.timedelta(days=n)
    for i, tu in enumerate(dokument):
        type(tu).objects.filter(pk=tu.pk).update(skapad=bas + datetime.timedelta(days=i))
    return dokument


def test_the_atgard_page_pages_the_documents_that_report_it_newest_first(officer_client, handlaggare, monkeypatch):
    from atgarder import views

    monkeypatch.setattr(views, "DOKUMENT_GRANS", 5)
    monkeypatch.setattr(views, "ARENDEN_PER_SIDA", 2)
    atgard = AtgardFactory()
    dokument = _redovisar(atgard, handlaggare, 4)
    annans = TjansteutlatandeFactory(titel="Annan förvaltnings dokument")
    annans.atgard_val.create(atgard=atgard, ordning=1)
    url = reverse("atgarder:atgard", args=[atgard.pk])

    first = officer_client.get(url).content.decode()
    assert "4 tjänsteutlåtanden, nyast först" in first and "Sida 1 av 2" in first
    assert first.index("Redovisande 003") < first.index("Redovisande 002")
    assert "Redovisande 001" not in first and "Redovisande 000" not in first
    assert 'aria-label="Tjänsteutlåtandenas sidor"' in first and 'href="?sida=2"' in first
    second = officer_client.get(url, {"sida": 2}).content.decode()
    assert "Sida 2 av 2" in second and second.index("Redovisande 001") < second.index("Redovisande 000")
    assert "Redovisande 003" not in second and "Annan förvaltnings dokument" not in first + second
    assert f'href="{reverse("arenden:arende", args=[dokument[0].arende.pk])}"' in second

    _redovisar(atgard, handlaggare, 2)
    over = officer_client.get(url).content.decode()
    assert "Fler än 5 tjänsteutlåtanden, nyast först; de 5 senaste visas här" in over
    assert reverse("arenden:sok") in over and "Sida 1 av 3" in over


def test_the_atgard_page_query_count_does_not_grow_with_its_documents(officer_client, handlaggare):
    atgard = AtgardFactory()
    url = reverse("atgarder:atgard", args=[atgard.pk])
    _redovisar(atgard, handlaggare, 3)
    few = _queries(officer_client, url)
    _redovisar(atgard, handlaggare, 60)
    assert _queries(officer_client, url) == few
    page = officer_client.get(url).content.decode()
    assert page.count("Redovisande ") == 50 and "Sida 1 av 2" in page


def test_a_document_page_reads_along_with_the_document_only_what_it_shows(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    sektion = tu.sektioner.first()

    def tables_read_with_the_document(request):
        with CaptureQueriesContext(connection) as queries:
            assert request().status_code == 200
        first = next(q["sql"] for q in queries if q["sql"].startswith('SELECT "arenden_tjansteutlatande"."id"'))
        return set(re.findall(r'JOIN "(\w+)"', first))

    # The scope test joins the case; a save and the register's changes read nothing more.
    assert tables_read_with_the_document(lambda: _save(officer_client, tu, sektion, "<p>Text</p>", 1)) == {
        "arenden_arende"
    }
    add = reverse("arenden:atgarder", args=[tu.pk])
    assert tables_read_with_the_document(
        lambda: officer_client.post(add, json.dumps({"lagg_till": AtgardFactory().pk}), content_type="application/json")
    ) == {"arenden_arende"}
    assert tables_read_with_the_document(lambda: officer_client.get(reverse("arenden:redigera", args=[tu.pk]))) == {
        "arenden_arende",
        "auth_user",
        "arenden_namnd",
    }


def test_an_account_without_an_avdelning_is_told_why_it_cannot_register_and_keeps_what_it_typed(client):
    AvdelningFactory()  # another förvaltning's series, which the case must not take a number from
    profil = ProfilFactory(avdelning=None, befattning="Registrator")
    profil.user.groups.add(Group.objects.get_or_create(name="Registrator")[0])
    client.force_login(profil.user)
    varfor = "Ditt konto hör inte till någon avdelning"
    assert varfor in client.get(reverse("arenden:registrera")).content.decode()
    data = {"titel": "Belysning", "forfattare": "Ledamot (V)", "beredning_datum": "2024-10-10", "text": "Mer ljus."}
    response = client.post(reverse("arenden:registrera"), data)
    page = response.content.decode()
    assert response.status_code == 200 and varfor in page
    assert 'value="Belysning"' in page and "Mer ljus." in page
    assert not Arende.objects.exists()


def test_registrator_registers_a_case_without_becoming_its_handlaggare(client):
    profil = ProfilFactory(avdelning=AvdelningFactory(), befattning="Registrator")
    profil.user.groups.add(Group.objects.get_or_create(name="Registrator")[0])
    client.force_login(profil.user)
    response = client.post(
        reverse("arenden:registrera"),
        {"titel": "Belysning", "forfattare": "Ledamot (V)", "beredning_datum": "2024-10-10", "text": "Mer ljus."},
    )
    arende = Arende.objects.get()
    assert response["Location"] == reverse("arenden:arende", args=[arende.pk])
    assert arende.handlaggare is None and arende.avdelning == profil.avdelning
    assert arende.skrivelser.get().history.get().history_user == profil.user
    page = client.get(response["Location"])
    assert page.status_code == 200 and arende.diarienummer in page.content.decode()


def test_header_fields_are_saved_and_a_stale_form_keeps_what_was_typed(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare), titel="Gammal titel")
    url = reverse("arenden:uppgifter", args=[tu.pk])
    data = {"titel": "Ny titel", "undertitel": "Svar på skrivelse", "sammantradesdatum": KOMMANDE}
    response = officer_client.post(url, {**data, "version": tu.version})
    assert response.status_code == 302
    tu.refresh_from_db()
    assert (tu.titel, str(tu.sammantradesdatum)) == ("Ny titel", KOMMANDE)
    stale = officer_client.post(url, {**data, "titel": "Ännu nyare titel", "version": tu.version - 1})
    assert stale.status_code == 409
    assert 'value="Ännu nyare titel"' in stale.content.decode()
    tu.refresh_from_db()
    assert tu.titel == "Ny titel"


def test_a_header_save_never_undoes_anothers_header_change_nor_conflicts_with_section_saves(
    officer_client, handlaggare
):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare), titel="Titel")
    url = reverse("arenden:uppgifter", args=[tu.pk])
    header = {"titel": "Titel", "undertitel": "Svar på skrivelse", "sammantradesdatum": ""}

    # The officer's own section save raises the version; the form from before it still saves.
    laddad = tu.version
    assert _save(officer_client, tu, tu.sektioner.first(), "<p>Egen text.</p>", 1).status_code == 200
    assert officer_client.post(url, {**header, "sammantradesdatum": KOMMANDE, "version": laddad}).status_code == 302
    tu.refresh_from_db()
    assert str(tu.sammantradesdatum) == KOMMANDE

    # A colleague renames the document after the officer's page was made: that is not undone.
    laddad = tu.version
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu, data={"titel": "Kollegans titel"}, expected_version=laddad, user=handlaggare
    )
    stale = officer_client.post(url, {**header, "sammantradesdatum": SENARE, "version": laddad})
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "Någon annan har ändrat titel medan du arbetade." in page and f'value="{SENARE}"' in page
    tu.refresh_from_db()
    assert (tu.titel, str(tu.sammantradesdatum)) == ("Kollegans titel", KOMMANDE)
    # Having compared, the officer saves again: the form now carries the version saved.
    again = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert int(again) == tu.version
    assert officer_client.post(url, {**header, "sammantradesdatum": SENARE, "version": again}).status_code == 302
    tu.refresh_from_db()
    assert (tu.titel, str(tu.sammantradesdatum)) == ("Titel", SENARE)

    # The form's address, reloaded, leads back to the editor.
    assert officer_client.get(url)["Location"] == reverse("arenden:redigera", args=[tu.pk])


class _Uppgifter(_Formular):
    """The editor's header form as the browser posts it, hidden copies included."""

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.inne = dict(attrs).get("class") == "uppgifter"
        else:
            super().handle_starttag(tag, attrs)


def _uppgifter(client, tu, **typed):
    formular = _Uppgifter(None)
    formular.feed(client.get(reverse("arenden:redigera", args=[tu.pk])).content.decode())
    return {**formular.data, **typed}


def test_a_header_save_after_the_document_left_a_meetings_list_is_no_conflict(client):
    w = build_world()
    tu = w.attesterat()
    mote = sammantrade(namnd=tu.namnd, datum=datetime.date(2030, 1, 10))
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=w.sekreterare)
    services.ta_bort_fran_foredragningslista(punkt=punkt, user=w.sekreterare)
    tu.refresh_from_db()
    assert tu.sammantradesdatum is None  # a date came and went, the version stayed

    client.force_login(w.officer)
    form = _uppgifter(client, tu, titel="Ny titel")
    sektion = tu.sektioner.first()  # saved in another tab meanwhile: the version goes up
    services.spara_sektion(sektion=sektion, text="<p>Ny text</p>", expected_version=sektion.version, user=w.officer)
    response = client.post(reverse("arenden:uppgifter", args=[tu.pk]), form)
    assert response.status_code == 302  # was 409: "Någon annan har ändrat sammanträdesdatum"
    tu.refresh_from_db()
    assert (tu.titel, tu.sammantradesdatum) == ("Ny titel", None)
    assert tu.history.first().history_change_reason == "Uppgifter ändrade: titel"


def test_a_header_field_someone_changed_after_the_page_was_opened_is_refused_and_kept(officer_client, handlaggare):
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare), titel="Titel")
    url = reverse("arenden:uppgifter", args=[tu.pk])
    form = _uppgifter(officer_client, tu, titel="Min titel", sammantradesdatum=SENARE)
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu,
        data={"titel": "Kollegans titel", "undertitel": "Kollegans undertitel"},
        expected_version=tu.version,
        user=handlaggare,
    )

    stale = officer_client.post(url, form)
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "Någon annan har ändrat titel medan du arbetade." in page
    assert 'value="Min titel"' in page and f'value="{SENARE}"' in page  # what the officer typed
    assert 'name="undertitel" value="Kollegans undertitel"' in page  # left alone: shows what is saved
    tu.refresh_from_db()
    assert (tu.titel, tu.undertitel, tu.sammantradesdatum) == ("Kollegans titel", "Kollegans undertitel", None)

    # Having compared, the officer saves the page again: their changes replace, nothing else does.
    formular = _Uppgifter(None)
    formular.feed(page)
    assert officer_client.post(url, formular.data).status_code == 302
    tu.refresh_from_db()
    assert (tu.titel, tu.undertitel, str(tu.sammantradesdatum)) == ("Min titel", "Kollegans undertitel", SENARE)

    # A field the officer left alone is not written back over a colleague's change of it.
    form = _uppgifter(officer_client, tu, sammantradesdatum=SIST)
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu, data={"titel": "Ny kollegatitel"}, expected_version=tu.version, user=handlaggare
    )
    assert officer_client.post(url, form).status_code == 302
    tu.refresh_from_db()
    assert (tu.titel, str(tu.sammantradesdatum)) == ("Ny kollegatitel", SIST)


def test_a_person_is_named_alike_on_every_page_full_name_or_else_username(officer_client, handlaggare, admin_client):
    utan_namn = UserFactory(username="k.utan.namn", first_name="", last_name="")
    arende = ArendeFactory(handlaggare=utan_namn, avdelning=handlaggare.profil.avdelning, arendemening="Utan namn")
    TjansteutlatandeFactory(arende=arende, handlaggare=utan_namn)
    TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare), handlaggare=handlaggare)
    fullt = handlaggare.get_full_name()
    assert fullt and fullt != handlaggare.username

    start = officer_client.get(reverse("arenden:start")).content.decode()
    rad = start[start.index("Utan namn") : start.index("</tr>", start.index("Utan namn"))]
    assert "k.utan.namn" in rad  # was "–": the list read only the names
    assert fullt in start  # and in the page's header, the signed-in officer
    assert "k.utan.namn" in officer_client.get(reverse("arenden:arende", args=[arende.pk])).content.decode()

    lista = admin_client.get("/admin/arenden/arende/").content.decode()
    assert fullt in lista and handlaggare.username not in lista  # was the username
    assert "k.utan.namn" in lista
    assert fullt in admin_client.get("/admin/arenden/tjansteutlatande/").content.decode()
    # The column sorts by surname, as Django's column sorted by the account.
    assert "k.utan.namn" in admin_client.get("/admin/arenden/tjansteutlatande/?o=3").content.decode()


def test_the_admin_shows_the_case_timeline_the_officer_sees(demo, admin_user):
    def tidslinje(client, url):
        page = client.get(url).content.decode()
        return page[page.index('<ol class="tidslinje">') : page.index("</ol>", page.index('<ol class="tidslinje">'))]

    officer, admin = Client(), Client()
    officer.force_login(demo.handlaggare)
    admin.force_login(admin_user)
    sedd = tidslinje(officer, reverse("arenden:arende", args=[demo.arende.pk]))
    assert "Ärendet registrerat" in sedd and "Attesterat" in sedd and "Christoffer Carlander" in sedd
    assert sedd.count("<li>") >= 5
    assert tidslinje(admin, reverse("admin:arenden_arende_change", args=[demo.arende.pk])) == sedd


@pytest.mark.parametrize("roll", ["Attestant", "Nämndsekreterare", "Registrator"])
def test_only_a_role_that_adds_to_the_register_creates_an_atgard(client, roll):
    user = ProfilFactory(avdelning=AvdelningFactory()).user
    user.groups.add(Group.objects.get(name=roll))
    client.force_login(user)
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=user))  # a case they see
    url = reverse("arenden:ny_atgard", args=[tu.pk])
    svar = client.post(url, {"typ": "social", "titel": "Obehörig", "beskrivning": "Nej."})
    assert svar.status_code == 403
    assert svar.json()["fel"]["__all__"] == ["Du har inte behörighet att lägga till åtgärder i registret."]
    assert not Atgard.objects.filter(titel="Obehörig").exists()


def test_history_rows_without_a_reason_are_named_in_swedish_on_the_atgard_page_and_in_the_admin(
    officer_client, admin_client
):
    atgard = AtgardFactory(titel="Nattvandring")
    atgard.beskrivning = "Ny beskrivning."
    atgard.save()
    scen = DrogscenFactory()
    scen_pk = scen.pk
    scen.delete()
    assert [h.history_change_reason for h in atgard.history.all()] == [None, None]
    sidor = {
        "åtgärdens sida": officer_client.get(reverse("atgarder:atgard", args=[atgard.pk])).content.decode(),
        "admin": admin_client.get(f"/admin/atgarder/atgard/{atgard.pk}/history/").content.decode(),
        "admin, borttagen": admin_client.get(f"/admin/atgarder/drogscen/{scen_pk}/history/").content.decode(),
    }
    handelser = {
        namn: re.findall(r"<td>(Skapad|Ändrad|Borttagen|Created|Changed|Deleted)</td>", sida)
        for namn, sida in sidor.items()
    }
    assert handelser == {
        "åtgärdens sida": ["Ändrad", "Skapad"],
        "admin": ["Ändrad", "Skapad"],
        "admin, borttagen": ["Borttagen", "Skapad"],
    }


def test_the_atgard_page_names_only_the_cited_cases_the_officer_may_see(officer_client, handlaggare):
    atgard = AtgardFactory()
    egen = ArendeFactory(handlaggare=handlaggare, arendemening="Eget citerat ärende")
    annan = ArendeFactory(arendemening="Annan förvaltnings hemliga ärende")
    atgard.citerade_arenden.add(egen, annan)
    page = officer_client.get(reverse("atgarder:atgard", args=[atgard.pk])).content.decode()
    assert "Eget citerat ärende" in page and egen.diarienummer in page
    assert "hemliga" not in page and annan.diarienummer not in page
    assert "och 1 ärende som du inte har åtkomst till" in page


# --- taking a document back from attest ------------------------------------------------------


@pytest.fixture
def varld(db):
    from tests.arenden.world import build_world

    return build_world()


def _dra_tillbaka_url(tu):
    return reverse("arenden:dra_tillbaka", args=[tu.pk])


def test_the_withdraw_button_is_shown_only_to_the_handlaggare_of_a_document_waiting_for_attest(client, varld):
    from tests.arenden.world import person

    skickat, utkast, attesterat = varld.skickat(), varld.dokument(), varld.attesterat()
    granne = person("granne", Roll.HANDLAGGARE, avdelning=varld.avdelning)
    fall = [
        (varld.officer, skickat, True),
        (varld.officer, utkast, False),
        (varld.officer, attesterat, False),
        (granne, skickat, False),  # may write in it, did not send it
        (varld.chef1, skickat, False),
        (varld.sekreterare, skickat, False),
        (varld.registrator, skickat, False),
        (varld.superuser, skickat, False),
    ]
    for user, tu, syns in fall:
        client.force_login(user)
        for sida in ("arenden:redigera", "arenden:skicka_for_attest"):
            response = client.get(reverse(sida, args=[tu.pk]), follow=True)
            assert response.status_code == 200
            html = response.content.decode()
            assert (_dra_tillbaka_url(tu) in html) is syns, (user.username, tu.status, sida)
            assert ("Dra tillbaka från attest" in html) is syns, (user.username, tu.status, sida)


@pytest.mark.parametrize(
    ("vem", "method", "expected"),
    [
        ("officer", "GET", 200),
        ("granne", "GET", 403),
        ("granne", "POST", 403),
        ("chef1", "GET", 403),
        ("chef1", "POST", 403),
        ("sekreterare", "POST", 403),
        ("registrator", "POST", 403),
        ("superuser", "POST", 403),
        ("kollega", "GET", 404),  # another avdelning's officer: outside their scope
        ("kollega", "POST", 404),
        ("anonym", "POST", 302),  # to the login page
    ],
)
def test_the_withdraw_page_is_the_handlaggares_alone(client, varld, vem, method, expected):
    from tests.arenden.world import person

    user = person("granne", Roll.HANDLAGGARE, avdelning=varld.avdelning) if vem == "granne" else varld.user(vem)
    tu = varld.skickat()
    if user is not None:
        client.force_login(user)
    if method == "GET":
        response = client.get(_dra_tillbaka_url(tu))
    else:
        response = client.post(_dra_tillbaka_url(tu), {"omgang": tu.attest_omgang})
    assert response.status_code == expected
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST


def test_the_officer_confirms_and_is_back_in_the_editor_with_a_draft(varld):
    tu = varld.skickat()
    services.attestera(tjansteutlatande=tu, user=varld.chef1)
    tu.refresh_from_db()
    client = Client(enforce_csrf_checks=True)
    client.force_login(varld.officer)
    url = _dra_tillbaka_url(tu)

    # The confirmation says what happens, and names the attest this round already has.
    html = client.get(url).content.decode()
    assert "Tjänsteutlåtandet blir ett utkast igen" in html and "Texten ändras inte" in html
    assert "Attester som redan har getts i den här attestomgången makuleras" in html
    assert "Chef1 Testsson, attesterade " in html and "Chef2 Testsson" not in html
    form = re.search(r'<form method="post">(.*?)</form>', html, re.S).group(1)
    assert f'name="omgang" value="{tu.attest_omgang}"' in form
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)

    # Without the form's token nothing happens.
    assert client.post(url, {"omgang": tu.attest_omgang}).status_code == 403
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST

    response = client.post(url, {"omgang": tu.attest_omgang, "csrfmiddlewaretoken": token}, follow=True)
    assert response.redirect_chain == [(reverse("arenden:redigera", args=[tu.pk]), 302)]
    html = response.content.decode()
    assert "Tjänsteutlåtandet är draget tillbaka från attest och är ett utkast igen" in html
    assert 'Status: <span id="dokumentstatus">Utkast</span>' in html and url not in html
    tu.refresh_from_db()
    assert tu.status == S.UTKAST
    assert all(a.makulerad for a in tu.attesteringar.all())
    assert tu.history.first().history_change_reason == services.DRAGET_TILLBAKA

    # The same click again (the Back button, a second tab) changes nothing and says so.
    rader = tu.history.count()
    response = client.post(url, {"omgang": tu.attest_omgang, "csrfmiddlewaretoken": token}, follow=True)
    assert response.redirect_chain == [(reverse("arenden:redigera", args=[tu.pk]), 302)]
    assert "Tjänsteutlåtandet är redan ett utkast och kan ändras." in response.content.decode()
    assert tu.history.count() == rader
    # And the page itself, opened again, leads to the editor.
    response = client.get(url, follow=True)
    assert response.redirect_chain == [(reverse("arenden:redigera", args=[tu.pk]), 302)]


def test_a_document_attested_before_the_confirmation_is_refused_with_why(client, varld):
    tu = varld.skickat()
    client.force_login(varld.officer)
    url = _dra_tillbaka_url(tu)
    assert client.get(url).status_code == 200  # the officer reads the confirmation …
    services.attestera(tjansteutlatande=tu, user=varld.chef1)
    services.attestera(tjansteutlatande=tu, user=varld.chef2)  # … while the last chef attests

    response = client.post(url, {"omgang": tu.attest_omgang}, follow=True)

    assert response.redirect_chain == [(reverse("arenden:skicka_for_attest", args=[tu.pk]), 302)]
    assert services.REDAN_ATTESTERAT in response.content.decode()
    tu.refresh_from_db()
    assert tu.status == S.ATTESTERAD
    # Opened now, the page says it is past withdrawing.
    response = client.get(url, follow=True)
    assert response.redirect_chain == [(reverse("arenden:skicka_for_attest", args=[tu.pk]), 302)]
    assert "Tjänsteutlåtandet har status ”Attesterad” och kan inte dras tillbaka från attest." in (
        response.content.decode()
    )


@pytest.mark.parametrize("omgang", [None, "", "x", "0", "-1", "9" * 40])
def test_a_withdrawal_without_a_round_it_was_shown_changes_nothing(client, varld, omgang):
    tu = varld.skickat()
    client.force_login(varld.officer)
    response = client.post(_dra_tillbaka_url(tu), {} if omgang is None else {"omgang": omgang})
    assert response.status_code == 400
    assert "Formuläret kom inte fram helt" in response.content.decode()
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST


def _skrivande_och_lasande(varld):
    """(user, whether they write the case's document): its officer writes, the others read."""
    return ((varld.officer, True), (varld.chef1, False), (varld.sekreterare, False), (varld.registrator, False))


def test_the_send_form_is_offered_only_to_those_who_may_send_the_document(client, varld):
    """A chef, a secretary or a registrator who opens a draft's attest page reads the chain and
    what is missing; a send form there would only be refused by the service when used."""
    utkast = varld.dokument()
    url = reverse("arenden:skicka_for_attest", args=[utkast.pk])
    for user, erbjuds in _skrivande_och_lasande(varld):
        client.force_login(user)
        html = client.get(url).content.decode()
        assert ("Skicka för attest</button>" in html) is erbjuds, user.username
        if not erbjuds:
            response = client.post(url, {"forsta": varld.chef1.pk, "andra": varld.chef2.pk}, follow=True)
            assert "Du har inte behörighet att skicka dokumentet för attest." in response.content.decode()
            utkast.refresh_from_db()
            assert utkast.status == S.UTKAST


def test_the_new_document_form_is_offered_only_to_those_who_may_write_one(client, varld):
    """A chef, a secretary or a registrator who opens a case without a document reads it; a form
    there only led to a refusal, after the title and meeting date were typed. A closed case takes
    no new document from anyone."""
    arende = ArendeFactory(forvaltning=varld.forvaltning, handlaggare=varld.officer, avdelning=varld.avdelning)
    avslutat = ArendeFactory(forvaltning=varld.forvaltning, handlaggare=varld.officer, avdelning=varld.avdelning)
    Arende.objects.filter(pk=avslutat.pk).update(status=ArendeStatus.AVSLUTAT)
    skapa = reverse("arenden:skapa_tjansteutlatande", args=[arende.pk])
    for user, erbjuds in _skrivande_och_lasande(varld):
        client.force_login(user)
        html = client.get(reverse("arenden:arende", args=[arende.pk])).content.decode()
        assert (skapa in html) is erbjuds, user.username
        assert ("Inget tjänsteutlåtande ännu." in html) is not erbjuds, user.username
    client.force_login(varld.officer)
    html = client.get(reverse("arenden:arende", args=[avslutat.pk])).content.decode()
    assert reverse("arenden:skapa_tjansteutlatande", args=[avslutat.pk]) not in html
    assert "Inget tjänsteutlåtande ännu." in html

    # One sent all the same (a page opened before the role was taken away) is refused with why.
    client.force_login(varld.chef1)
    response = client.post(skapa, _ny_handling())
    assert response.status_code == 409
    assert "Du har inte behörighet att skriva tjänsteutlåtanden i ärendet." in response.content.decode()
    assert not arende.tjansteutlatanden.exists()


def test_the_officers_pages_answer_head_as_they_answer_get(client, handlaggare):
    """A HEAD request (an uptime monitor's, `curl -I`) gets the page's status and headers without
    its body; it was refused with 405 on every page that takes GET only."""
    tu = TjansteutlatandeFactory(arende=ArendeFactory(handlaggare=handlaggare))
    atgard = AtgardFactory()
    scen = DrogscenFactory()
    urls = [
        reverse("arenden:start"),
        reverse("arenden:arende", args=[tu.arende.pk]),
        reverse("arenden:sok") + "?q=drogscener",
        reverse("arenden:inloggad"),
        reverse("atgarder:drogscener"),
        reverse("atgarder:drogscen", args=[scen.pk]),
        reverse("atgarder:atgard", args=[atgard.pk]),
    ]
    anonym = {url: client.head(url) for url in urls}
    assert all(svar.status_code == 302 and svar["Location"].startswith(reverse("login")) for svar in anonym.values())
    client.force_login(handlaggare)
    for url in urls:
        get, head = client.get(url), client.head(url)
        assert (head.status_code, head["Content-Type"], head.content) == (get.status_code, get["Content-Type"], b"")


def test_the_session_question_answers_204_logged_in_and_the_login_page_when_not(client, handlaggare):
    url = reverse("arenden:inloggad")
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(handlaggare)
    assert client.get(url).status_code == 204
    assert client.post(url).status_code == 405


def test_a_refused_fields_error_is_the_one_its_input_is_described_by(officer_client):
    """Django names `<id>_error` in a refused field's aria-describedby: the error shown beside
    the field must carry that id, or a screen reader on the field never reads why."""
    html = officer_client.post(reverse("arenden:registrera"), {"titel": "", "forfattare": ""}).content.decode()
    falt = re.search(r"<input[^>]*name=\"titel\"[^>]*>", html).group(0)
    beskrivs = re.search(r'aria-describedby="([^"]+)"', falt).group(1).split()
    assert 'aria-invalid="true"' in falt
    fel = re.search(r'<p class="faltfel" id="([^"]+)">([^<]+)</p>\s*' + re.escape(falt), html)
    assert fel is not None and fel.group(1) in beskrivs
    assert "Detta fält måste fyllas i." in fel.group(2)


def test_a_header_save_refused_because_the_document_went_on_a_meetings_list_leads_to_its_preview(client):
    """The editor page made again for a document that can no longer change would offer every
    section for writing, each save then refused: the page says why and shows it as it reads."""
    w = build_world()
    tu = w.attesterat()
    client.force_login(w.officer)
    form = _uppgifter(client, tu, titel="Ny titel")
    mote = sammantrade(namnd=tu.namnd, datum=datetime.date(2030, 1, 10))
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=w.sekreterare)

    response = client.post(reverse("arenden:uppgifter", args=[tu.pk]), form, follow=True)
    assert response.redirect_chain == [(reverse("arenden:forhandsgranska", args=[tu.pk]), 302)]
    html = response.content.decode()
    assert "Dokumentet har status ”På föredragningslista” och kan inte ändras." in html
    assert "Ny titel" in html  # what was typed, told with the refusal
    tu.refresh_from_db()
    assert tu.titel != "Ny titel"


def test_register_refuses_a_skrivelse_sent_for_beredning_on_a_day_still_to_come(officer_client):
    imorgon = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    data = {"titel": "Trygghet", "forfattare": "F", "beredning_datum": imorgon, "text": "Text."}
    response = officer_client.post(reverse("arenden:registrera"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["beredning_datum"] == [f"Dagen {imorgon} har inte kommit än."]
    assert not Arende.objects.exists() and not DiarieSekvens.objects.filter(senaste__gt=0).exists()
