"""An officer's whole day in the browser, ending in an attested PDF."""

import datetime
import io
import re
from urllib.parse import urljoin

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from arenden.models import Arende, Sektion, Tjansteutlatande
from atgarder.models import Atgard

from .conftest import PASSWORD, demo_pa_listan, login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def pdf_text(data):
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def editor(page, rubrik, del_="text"):
    """The Quill editor of a section, found by its accessible name."""
    name = rubrik if del_ == "text" else f"{rubrik}: avslutande text"
    return page.get_by_role("textbox", name=name, exact=True)


def section(page, rubrik):
    return page.get_by_role("region", name=re.compile(rf"^{re.escape(rubrik)}( \(obligatorisk\))?$"))


def toolbar_button(page, rubrik, label, index=0):
    return section(page, rubrik).get_by_role("button", name=label).nth(index)


def write(page, rubrik, text):
    box = editor(page, rubrik)
    box.click()
    page.keyboard.type(text)


def save(page, rubrik):
    region = section(page, rubrik)
    region.get_by_role("button", name=re.compile("^Spara ")).click()
    expect(region.locator(".sektion-fot .sparstatus")).to_contain_text("Sparat")


def download_pdf(page, link_name="Ladda ner PDF"):
    """Follow the page's PDF link with the browser's session (inline or attachment alike)."""
    href = page.get_by_role("link", name=link_name).first.get_attribute("href")
    response = page.context.request.get(urljoin(page.url, href))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    return response.body()


def test_officer_registers_writes_previews_and_sends_for_attest(demo_site, page):
    login(page, demo_site, "anette")
    screenshot(page, "start.png")

    # Register a case from a skrivelse.
    page.get_by_role("link", name="Registrera skrivelse").first.click()
    page.get_by_label("Titel").fill("Trygghet i Bredängs centrum")
    page.get_by_label("Författare").fill("Anna Andersson (M)")
    page.get_by_label("Skickad för beredning").fill("2024-09-12")
    page.get_by_label("Text", exact=False).first.fill("Vi vill veta vad förvaltningen gör i Bredäng.")
    page.get_by_role("button", name="Registrera ärende").click()
    # The form goes once the page has heard that the session holds (sida.js).
    expect(page.get_by_role("status").first).to_contain_text("Ärendet är registrerat")
    arende = Arende.objects.get(arendemening="Trygghet i Bredängs centrum – Svar på skrivelse")
    expect(page.get_by_role("status").first).to_contain_text(f"diarienummer {arende.diarienummer}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(arende.diarienummer)
    expect(page.get_by_text("Vi vill veta vad förvaltningen gör i Bredäng.")).to_be_visible()

    # A tjänsteutlåtande from the mall, aimed at a meeting still to come (a held one is refused).
    idag = timezone.localdate()
    forsta, andra = ((idag + datetime.timedelta(days=d)).isoformat() for d in (30, 51))
    page.get_by_label("Sammanträde").fill(forsta)
    page.get_by_role("button", name="Skapa").click()
    expect(page.get_by_role("heading", name="Förvaltningens förslag till beslut")).to_be_visible()
    tu = Tjansteutlatande.objects.get(arende=arende)

    # Plain paragraphs in the sections the nämnd needs.
    for rubrik in (
        "Förvaltningens förslag till beslut",
        "Sammanfattning",
        "Bakgrund",
        "Ärendet",
        "Ärendets beredning",
        "Jämställdhetsanalys",
        "Barnkonsekvensanalys",
    ):
        write(page, rubrik, f"Text om {rubrik.lower()} i Bredäng.")
        save(page, rubrik)

    # The header, changed after some sections were saved (each save raised the version).
    page.get_by_text("Ändra titel, undertitel och sammanträde").click()
    page.get_by_label("Sammanträde").fill(andra)
    page.get_by_role("button", name="Spara uppgifterna").click()
    expect(page.get_by_role("status").first).to_contain_text("uppgifter är sparade")
    tu.refresh_from_db()
    assert str(tu.sammantradesdatum) == andra

    # Bold, a bullet list and a footnote with the editor's buttons.
    rubrik = "Förvaltningens synpunkter och förslag"
    write(page, rubrik, "Förvaltningen ser ")
    toolbar_button(page, rubrik, "Fet").click()
    page.keyboard.type("tre viktiga insatser")
    toolbar_button(page, rubrik, "Fet").click()
    page.keyboard.type(" i Bredäng")
    page.once("dialog", lambda dialog: dialog.accept("Enligt polisens lägesbild hösten 2024"))
    toolbar_button(page, rubrik, "Fotnot").click()
    page.keyboard.type(":")
    page.keyboard.press("Enter")
    toolbar_button(page, rubrik, "Punktlista").click()
    page.keyboard.type("Fler vuxna i rörelse kvällstid")
    page.keyboard.press("Enter")
    page.keyboard.type("Bättre belysning vid tunnelbanan")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("Arbetet fortsätter under 2025.")
    expect(page.locator("section.sektion.osparad")).to_have_count(1)
    save(page, rubrik)
    sektion = Sektion.objects.get(tjansteutlatande=tu, mall_sektion__rubrik=rubrik)
    assert "<strong>tre viktiga insatser</strong>" in sektion.text
    assert '<span class="fotnot">Enligt polisens lägesbild hösten 2024</span>' in sektion.text
    assert "<ul><li>Fler vuxna i rörelse kvällstid</li><li>Bättre belysning vid tunnelbanan</li></ul>" in sektion.text

    # Two åtgärder from the register, then a new third one.
    page.get_by_text("Sök i åtgärdsregistret").click()
    page.get_by_label("Typ", exact=True).first.select_option(label="Situationell prevention")
    page.get_by_label("Drogscen", exact=True).first.select_option(label="Sätra centrum")
    page.get_by_role("button", name="Sök", exact=True).click()
    page.get_by_role("button", name="Lägg till Platssamverkan och platsaktivering").click()
    expect(page.locator("#valda-atgarder li")).to_have_count(1)
    page.get_by_label("Typ", exact=True).first.select_option(label="Alla typer")
    page.get_by_label("Drogscen", exact=True).first.select_option(label="Alla drogscener")
    page.get_by_label("Aktör", exact=True).first.select_option(label="Föreningen Blåuggla")
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page.locator("#sok-status")).to_have_text("1 träff.")
    page.get_by_role("button", name="Lägg till Föreningen Blåuggla: trivselvandringar och aktiviteter").click()
    expect(page.locator("#valda-atgarder li")).to_have_count(2)
    page.get_by_text("Ny åtgärd", exact=True).click()
    nyform = page.locator("#nyform")
    nyform.get_by_label("Typ").select_option(label="Social prevention")
    nyform.get_by_label("Titel").fill("Nattvandring med föräldrar i Bredäng")
    nyform.get_by_label("Beskrivning").fill("Föräldrar vandrar i Bredängs centrum fredag och lördag kväll.")
    nyform.get_by_label("Bredängs centrum", exact=True).check()
    nyform.get_by_role("button", name="Skapa och lägg till").click()
    expect(page.locator("#valda-atgarder li")).to_have_count(3)
    assert Atgard.objects.get(titel="Nattvandring med föräldrar i Bredäng").drogscener.get().namn == "Bredängs centrum"
    # Reorder: the new one first.
    page.get_by_role("button", name="Flytta upp Nattvandring med föräldrar i Bredäng").click()
    expect(page.locator("#valda-atgarder li").nth(1)).to_contain_text("Nattvandring med föräldrar i Bredäng")
    assert [v.atgard.titel for v in tu.atgard_val.order_by("ordning", "pk")] == [
        "Platssamverkan och platsaktivering",
        "Nattvandring med föräldrar i Bredäng",
        "Föreningen Blåuggla: trivselvandringar och aktiviteter",
    ]
    page.evaluate(
        "id => window.scrollBy(0, document.getElementById(id).getBoundingClientRect().top - 20)", f"rubrik-{sektion.pk}"
    )
    screenshot(page, "editor.png")

    # Preview: the same content as the PDF.
    page.get_by_role("link", name="Förhandsgranska").first.click()
    frame = page.frame_locator("iframe.forhandsvisning")
    expect(frame.get_by_text("Fler vuxna i rörelse kvällstid")).to_be_visible()
    expect(frame.get_by_text("Föräldrar vandrar i Bredängs centrum fredag och lördag kväll.")).to_be_visible()
    screenshot(page, "forhandsgranskning.png")

    text = pdf_text(download_pdf(page))
    for expected in (
        "tre viktiga insatser",
        "Fler vuxna i rörelse kvällstid",
        "Bättre belysning vid tunnelbanan",
        "Enligt polisens lägesbild hösten 2024",
        "Arbetet fortsätter under 2025.",
        "Föräldrar vandrar i Bredängs centrum fredag och lördag kväll.",
        Atgard.objects.get(titel="Platssamverkan och platsaktivering").stycken[0][:40],
    ):
        assert expected in text, expected

    # Send for attest with the default chain.
    page.get_by_role("link", name="Tillbaka till texten").click()
    page.get_by_role("link", name="Skicka för attest").click()
    expect(page.get_by_label("Första attestant")).to_have_value(str(arende.avdelning.chef_id))
    page.get_by_role("button", name="Skicka för attest").click()
    expect(page.get_by_role("status").first).to_contain_text("skickat för attest")
    expect(page.get_by_role("heading", name="Attestkedjan")).to_be_visible()
    tu.refresh_from_db()
    assert tu.status == "till_attest"

    # The two chefs attest in the admin, each from their queue.
    for chef in ("christoffer", "lisa"):
        context = page.context.browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
        admin = context.new_page()
        admin.goto(f"{demo_site}/admin/login/?next=/admin/arenden/attestko/")
        admin.get_by_label("Användarnamn").fill(chef)
        admin.get_by_label("Lösenord").fill(PASSWORD)
        admin.locator("input[type=submit]").click()
        admin.get_by_role("link", name=str(tu)).click()
        admin.get_by_role("link", name="Attestera", exact=True).click()
        admin.get_by_role("button", name="Attestera").click()
        expect(admin.locator(".messagelist")).to_contain_text("Du har attesterat")
        context.close()
    tu.refresh_from_db()
    assert tu.status == "attesterad"

    # The officer sees the finished chain; the secretary downloads the PDF with its attestations.
    page.reload()
    expect(page.locator(".kedja li.klar")).to_have_count(2)
    secretary = page.context.browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    sekreterare = secretary.new_page()
    login(sekreterare, demo_site, "sekreterare")
    sekreterare.get_by_role("link", name=arende.diarienummer).click()
    text = pdf_text(download_pdf(sekreterare))
    assert "Attesterat av" in text
    assert "Detta dokument har godkänts digitalt av följande personer" in text
    for namn in ("Christoffer Carlander", "Lisa Kinnari"):
        assert namn in text, namn
    assert "Fler vuxna i rörelse kvällstid" in text
    secretary.close()


def test_a_second_click_while_the_form_is_on_its_way_sends_nothing_more(demo_site, page):
    login(page, demo_site, "anette")
    page.goto(f"{demo_site}/arenden/nytt/")
    page.get_by_label("Titel").fill("Belysning i Skärholmsdalen")
    page.get_by_label("Författare").fill("Anna Andersson (M)")
    page.get_by_label("Skickad för beredning").fill("2024-09-12")
    page.get_by_label("Text", exact=False).first.fill("Mer ljus i dalen.")
    # The server is slow today: each POST is held until the test lets it through.
    posts = []
    page.route(
        "**/arenden/nytt/", lambda route: posts.append(route) if route.request.method == "POST" else route.continue_()
    )
    # The officer, waiting, clicks again a moment later (set up in the page: Playwright itself
    # would wait for the first navigation before clicking). The page tells each submit, and
    # whether it was stopped, on its console.
    page.evaluate(
        """() => {
            const knapp = [...document.querySelectorAll("button")].find(b => b.textContent === "Registrera ärende");
            if (!knapp) throw new Error("no button Registrera ärende");
            window.addEventListener("submit", (e) => console.log(`skickat stoppat=${e.defaultPrevented}`));
            document.addEventListener("submit", () => setTimeout(() => knapp.click(), 300), {once: true});
        }"""
    )
    skickat = []
    page.on("console", lambda m: skickat.append(m.text) if m.text.startswith("skickat") else None)
    page.get_by_role("button", name="Registrera ärende").click(no_wait_after=True)
    for _ in range(50):
        if len(skickat) >= 3:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(500)  # time for a second POST to arrive, were one sent
    # The first submit waits while the page asks whether the session holds (sida.js), and then
    # goes once; the second click is stopped.
    assert sorted(skickat) == ["skickat stoppat=false", "skickat stoppat=true", "skickat stoppat=true"]
    assert len(posts) == 1
    with page.expect_navigation():
        posts[0].continue_()
    expect(page.get_by_role("status").first).to_contain_text("Ärendet är registrerat")
    assert Arende.objects.filter(arendemening__startswith="Belysning i Skärholmsdalen").count() == 1


def test_the_secretary_builds_the_meeting_packet_and_downloads_it(demo_site, page):
    """The agenda and the packet in the admin: the item added from the list of attested
    documents, the packet ordered, its progress followed on the page while the job queue builds
    it, and the file downloaded."""
    from django.core.management import call_command

    demo = demo_pa_listan(page, demo_site)

    page.get_by_role("button", name="Skapa mötespaket (en pdf)").click()
    rad = page.locator("#exporter tr[data-status-url]").first
    expect(rad.locator(".antal")).to_have_text("0 av 1 handling")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)  # the job queue
    expect(rad.locator(".antal")).to_have_text("1 av 1 handling")  # the page polls; no reload
    expect(rad.locator(".status")).to_have_text("Klar")

    with page.expect_download() as nedladdning:
        rad.get_by_role("link", name="Ladda ner").click()
    with open(nedladdning.value.path(), "rb") as fil:
        text = pdf_text(fil.read())
    assert text.startswith("Föredragningslista")
    assert f"1. {demo.titel}" in text and "Dnr SKHLM 2024/123" in text
    assert "Detta dokument har godkänts digitalt av följande personer" in text
    demo.refresh_from_db()
    assert demo.status == "pa_foredragningslista"


def test_the_officer_takes_a_sent_document_back_from_attest_and_writes_on(demo_site, page):
    """Sent to the wrong chain: the officer takes it back, unchanged, and is in an editable draft."""
    from django.contrib.auth import get_user_model

    from arenden import services
    from arenden.models import Mall
    from tests.factories import ArendeFactory

    from .conftest import axe_violations

    users = get_user_model().objects
    anette, christoffer = users.get(username="anette"), users.get(username="christoffer")
    demo = Arende.objects.get(diarienummer="SKHLM 2024/123")
    arende = ArendeFactory(handlaggare=anette, avdelning=demo.avdelning, forvaltning=demo.forvaltning)
    tu = services.skapa_tjansteutlatande(arende=arende, mall=Mall.objects.get(), user=anette, titel="Belysning i Sätra")
    Sektion.objects.filter(tjansteutlatande=tu).update(text="<p>Förvaltningens text.</p>")

    login(page, demo_site, "anette")
    page.goto(f"{demo_site}/tjansteutlatanden/{tu.pk}/redigera/")
    page.get_by_role("link", name="Skicka för attest").click()
    page.get_by_role("button", name="Skicka för attest").click()
    expect(page.get_by_role("status").first).to_contain_text("skickat för attest")
    tu.refresh_from_db()
    assert tu.status == "till_attest"
    services.attestera(tjansteutlatande=tu, user=christoffer)  # the first chef attests meanwhile

    # From the editor's note on the sent document, to the confirmation that says what happens.
    page.goto(f"{demo_site}/tjansteutlatanden/{tu.pk}/attest/")
    expect(page.get_by_role("link", name="Dra tillbaka från attest")).to_be_visible()
    assert axe_violations(page) == []
    page.goto(f"{demo_site}/tjansteutlatanden/{tu.pk}/redigera/")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Dra tillbaka från attest").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dra tillbaka från attest: Belysning i Sätra")
    expect(page.get_by_role("note")).to_contain_text("Attester som redan har getts i den här attestomgången makuleras")
    expect(page.get_by_role("note")).to_contain_text("Christoffer Carlander, attesterade ")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Dra tillbaka från attest").click()

    page.wait_for_url(f"{demo_site}/tjansteutlatanden/{tu.pk}/redigera/")
    expect(page.get_by_role("status").first).to_contain_text("draget tillbaka från attest och är ett utkast igen")
    expect(page.locator("#dokumentstatus")).to_have_text("Utkast")
    expect(page.get_by_role("link", name="Dra tillbaka från attest")).to_have_count(0)
    tu.refresh_from_db()
    assert tu.status == "utkast" and tu.innehall is None
    assert all(steg.makulerad for steg in tu.attesteringar.all())

    # An editable draft: the officer writes and saves, and could send it to other attestants.
    write(page, "Sammanfattning", " Tillagt efter att dokumentet dragits tillbaka.")
    save(page, "Sammanfattning")
    sektion = Sektion.objects.get(tjansteutlatande=tu, mall_sektion__rubrik="Sammanfattning")
    assert "Tillagt efter att dokumentet dragits tillbaka." in sektion.text
    tu.refresh_from_db()
    assert tu.status == "utkast"


def test_a_form_sent_after_the_session_ended_keeps_what_was_typed_until_logged_in_again(demo_site, page):
    """A skrivelse pasted into the register form, sent once the session has ended (here: logged
    out in another tab), went to the login page and was gone. The page keeps it and says why."""
    login(page, demo_site, "anette")
    page.goto(f"{demo_site}/arenden/nytt/")
    text = "Vi vill veta vad förvaltningen gör i Sätra.\n\nOch hur barnen i området påverkas."
    page.get_by_label("Titel").fill("Trygghet i Sätra centrum")
    page.get_by_label("Författare").fill("Anna Andersson (M)")
    page.get_by_label("Skickad för beredning").fill("2024-09-12")
    page.get_by_label("Text", exact=False).first.fill(text)

    annan = page.context.new_page()
    annan.goto(f"{demo_site}/")
    annan.get_by_role("button", name="Logga ut").click()
    page.get_by_role("button", name="Registrera ärende").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Du är utloggad, så formuläret skickades inte. Det du skrev finns kvar: logga in igen i en ny flik "
        "och skicka sedan formuläret här."
    )
    assert page.url == f"{demo_site}/arenden/nytt/"
    expect(page.get_by_label("Text", exact=False).first).to_have_value(text)
    assert not Arende.objects.filter(arendemening__startswith="Trygghet i Sätra centrum").exists()

    login(annan, demo_site, "anette")
    page.get_by_role("button", name="Registrera ärende").click()
    expect(page.get_by_role("status").first).to_contain_text("Ärendet är registrerat med diarienummer")
    arende = Arende.objects.get(arendemening="Trygghet i Sätra centrum – Svar på skrivelse")
    expect(page.get_by_role("status").first).to_contain_text(f"diarienummer {arende.diarienummer}")
    assert arende.skrivelser.get().text.replace("\r\n", "\n") == text


def test_a_long_unbroken_title_wraps_within_the_page(demo_site, page):
    """A title may hold 300 characters with no space among them (a pasted address, a
    diarienummer chain): the pages that show it as their heading keep it within their width.
    So does the page that shows a chef's return comment of one long word."""
    tu = Tjansteutlatande.objects.get(arende__diarienummer="SKHLM 2024/123")
    # A chef's return comment, shown where the officer sends the document again, likewise.
    Tjansteutlatande.objects.filter(pk=tu.pk).update(titel="x" * 300, aterremiss_kommentar="y" * 4000)
    page.set_viewport_size({"width": 800, "height": 900})
    login(page, demo_site, "anette")
    for path in (
        f"/tjansteutlatanden/{tu.pk}/redigera/",
        f"/arenden/{tu.arende_id}/",
        f"/tjansteutlatanden/{tu.pk}/attest/",
    ):
        page.goto(demo_site + path)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), path


def _named_cells(row):
    """Each cell of `row` as its column's name shown before it (none: "") and its text."""
    return row.evaluate(
        """tr => [...tr.cells].map(td => [getComputedStyle(td, '::before').content.replace(/^"|"$/g, '')
                                             .replace(/^none$/, ''), td.innerText.trim()])"""
    )


def test_mina_arenden_at_a_phones_width_fits_the_page_and_names_each_value(demo_site, page):
    """At 400 px the six columns ran the page out sideways, most of each row out of sight: each
    case is then a block of its own, every value named by its column."""
    page.set_viewport_size({"width": 400, "height": 800})
    login(page, demo_site, "anette")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    rad = page.get_by_role("row").filter(has_text="SKHLM 2024/123")
    assert _named_cells(rad) == [
        ["", "SKHLM 2024/123"],
        ["", "Öppna drogscener – Svar på skrivelse"],
        ["Status", "Redo för nämnd"],
        ["Nästa steg", "Sätts på föredragningslista"],
        ["Sammanträde", "2024-05-23"],
        ["Handläggare", "Anette Petersson"],
    ]
    for cell in rad.get_by_role("cell").all():
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 400, cell.inner_text()
    screenshot(page, "start-400.png")

    # At a desk's width a column's name stands once, in its head.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert all(namn == "" for namn, _ in _named_cells(rad))


def test_each_empty_section_on_the_attest_page_leads_to_its_place_in_the_editor(demo_site, page):
    """The attest page lists the required sections still empty: each is a link to its own
    field in the editor, not one link to the top of a long page to scroll through."""
    from django.contrib.auth import get_user_model

    from arenden import services
    from arenden.models import Mall
    from tests.factories import ArendeFactory

    anette = get_user_model().objects.get(username="anette")
    demo = Arende.objects.get(diarienummer="SKHLM 2024/123")
    arende = ArendeFactory(handlaggare=anette, avdelning=demo.avdelning, forvaltning=demo.forvaltning)
    tu = services.skapa_tjansteutlatande(arende=arende, mall=Mall.objects.get(), user=anette, titel="Belysning")
    Sektion.objects.filter(tjansteutlatande=tu).exclude(mall_sektion__rubrik__in=["Bakgrund", "Ärendet"]).update(
        text="<p>Ifylld.</p>"
    )

    login(page, demo_site, "anette")
    page.goto(f"{demo_site}/tjansteutlatanden/{tu.pk}/attest/")
    saknas = page.get_by_role("alert")
    expect(saknas.get_by_role("link")).to_have_text(["Bakgrund", "Ärendet"])
    saknas.get_by_role("link", name="Ärendet").click()
    page.wait_for_url(re.compile(rf"/tjansteutlatanden/{tu.pk}/redigera/#"))
    arendet = section(page, "Ärendet")
    expect(arendet.get_by_role("heading", level=2)).to_be_in_viewport()
    expect(editor(page, "Ärendet")).to_be_focused()
