"""The meeting's exports in the admin follow their job by asking its status every 2 s
(static/js/exporter.js). A question that fails is told in Swedish, not swallowed: the row would
read its last status for the quarter of an hour the page polls, as if the job were running."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from playwright.sync_api import expect

from arenden.constants import Roll

from .conftest import demo_pa_listan, login, lyssna, upplast

pytestmark = pytest.mark.django_db(transaction=True)

STATUS = re.compile(r"/admin/arenden/sammantrade/export/\d+/$")
UTLOGGAD = (
    "Du är utloggad, så sidan kan inte visa hur exporten går. Logga in igen i en ny flik; då fortsätter sidan "
    "här att visa förloppet."
)


def _bestall_paket(page, demo_site):
    """The secretary puts the demo's document on the meeting's list and orders its packet; the
    row of the export, waiting for the job queue. Returns the row and a list that collects the
    page's status requests."""
    demo_pa_listan(page, demo_site)
    fragor = []
    page.on("request", lambda request: fragor.append(request.url) if STATUS.search(request.url) else None)
    page.get_by_role("button", name="Skapa mötespaket (en pdf)").click()
    rad = page.locator("#exporter tr[data-status-url]").first
    expect(rad.locator(".antal")).to_have_text("0 av 1 handling")
    return rad, fragor


def _vanta_pa_fler(page, fragor, antal):
    for _ in range(100):
        if len(fragor) >= antal:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{len(fragor)} status requests, expected {antal}")


def test_a_failing_status_request_is_told_and_asked_again_until_the_job_is_followed_again(demo_site, page):
    rad, fragor = _bestall_paket(page, demo_site)
    status = rad.locator(".status").inner_text()
    meddelande = page.locator("#exporter-meddelande")

    # The server fails (a 500 with its error page): said above the table, and asked again.
    page.route(STATUS, lambda route: route.fulfill(status=500, content_type="text/html", body="<h1>Serverfel</h1>"))
    expect(meddelande).to_have_text(
        "Exportens status kunde inte hämtas: servern svarade med ett fel (500). Förloppet nedan kan vara "
        "inaktuellt; sidan försöker igen om en stund."
    )
    # In a status region that the page had before it had anything to say: one arriving with its
    # text is not spoken.
    expect(page.locator("#exporter-lage[role=status][aria-live=polite] > #exporter-meddelande")).to_be_visible()
    fore = len(fragor)
    _vanta_pa_fler(page, fragor, fore + 2)
    expect(rad.locator(".status")).to_have_text(status)

    # No connection at all: the same, in its own words.
    page.unroute(STATUS)
    page.route(STATUS, lambda route: route.abort())
    expect(meddelande).to_contain_text("sidan fick ingen kontakt med servern")

    # The server answers again: the message goes, and the row follows the job to its file.
    page.unroute(STATUS)
    expect(meddelande).to_have_count(0)
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    expect(rad.locator(".antal")).to_have_text("1 av 1 handling")
    expect(rad.locator(".status")).to_have_text("Klar")
    expect(rad.get_by_role("link", name="Ladda ner")).to_be_visible()


def test_an_ended_session_is_told_and_the_page_follows_the_job_again_once_logged_in(demo_site, page):
    rad, fragor = _bestall_paket(page, demo_site)
    meddelande = page.locator("#exporter-meddelande")

    annan = page.context.new_page()
    annan.goto(f"{demo_site}/")
    annan.get_by_role("button", name="Logga ut").click()
    # The status request now gets the admin's login page, not the job's status.
    expect(meddelande).to_have_text(UTLOGGAD)
    expect(rad.locator(".antal")).to_have_text("0 av 1 handling")

    login(annan, demo_site, "sekreterare")
    expect(meddelande).to_have_count(0)
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    expect(rad.locator(".status")).to_have_text("Klar")


def test_an_export_no_longer_the_secretarys_to_follow_is_told_on_its_row_and_not_asked_again(demo_site, page):
    from django.contrib.auth import get_user_model

    rad, fragor = _bestall_paket(page, demo_site)
    status = rad.locator(".status")
    # Their role is taken from them while the page is open: the status answers 403.
    get_user_model().objects.get(username="sekreterare").groups.remove(Group.objects.get(name=Roll.NAMNDSEKRETERARE))

    expect(status).to_contain_text(
        "Du har inte längre behörighet att följa exporten (rollen Nämndsekreterare). Sidan frågar inte längre "
        "efter den."
    )
    fore = len(fragor)
    page.wait_for_timeout(5000)  # two and a half rounds of polling
    assert len(fragor) == fore
    expect(page.locator("#exporter-meddelande")).to_have_count(0)


def test_an_export_gone_from_the_server_is_told_on_its_row_and_not_asked_again(demo_site, page):
    rad, fragor = _bestall_paket(page, demo_site)
    page.route(STATUS, lambda route: route.fulfill(status=404, content_type="text/html", body="<h1>Hittades inte</h1>"))

    expect(rad.locator(".status")).to_contain_text(
        "Exporten finns inte längre, eller så har du inte längre åtkomst till den. Sidan frågar inte längre efter "
        "den; ladda om sidan för att se mötets exporter."
    )
    fore = len(fragor)
    page.wait_for_timeout(5000)
    assert len(fragor) == fore


def _sagt(page, villkor):
    """What the page's live regions have given a screen reader to say that meets `villkor`, once
    at least one has been said (waiting up to 10 s)."""
    for _ in range(100):
        hort = [h for h in upplast(page) if villkor(h)]
        if hort:
            return hort
        page.wait_for_timeout(100)
    raise AssertionError(f"nothing such was said; said: {upplast(page)}")


def test_a_finished_export_is_said_once_and_its_download_is_reached_by_keyboard(demo_site, page):
    from arenden import services
    from arenden.models import Sammantradesexport

    lyssna(page)
    _bestall_paket(page, demo_site)
    fragor = []
    page.on("request", lambda request: fragor.append(request.url) if STATUS.search(request.url) else None)
    page.get_by_role("button", name="Skapa zip med en pdf per punkt").click()
    expect(page.locator("#exporter tr[data-klar='0']")).to_have_count(2)
    # The packet is built (the job the queue would run); the zip still waits, and is asked on about.
    services.kor_export(export_id=Sammantradesexport.objects.get(typ="paket").pk)

    def ar_klar(h):
        return h["text"].startswith("Exporten ”") and "klar" in h["text"]

    klar = _sagt(page, ar_klar)
    assert klar == [
        {
            "role": "status",
            "live": "polite",
            "text": "Exporten ”Mötespaket (en PDF)” är klar. Ladda ner den på dess rad i tabellen under "
            "Exportera handlingarna.",
        }
    ]
    # Polled on, the packet's row says the same at every answer: nothing more is said of it.
    fore = len(fragor)
    _vanta_pa_fler(page, fragor, fore + 2)
    assert [h for h in upplast(page) if ar_klar(h)] == klar

    # The link is in the keyboard's way from the export buttons on.
    page.get_by_role("button", name="Skapa zip med en pdf per punkt").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == "Ladda ner":
            break
    else:
        raise AssertionError("Tab never reached the download link")
    with page.expect_download() as nedladdning:
        page.keyboard.press("Enter")
    assert nedladdning.value.suggested_filename.endswith(".pdf")


def test_a_failed_export_is_said_once_as_an_alert(demo_site, page):
    from datetime import timedelta

    from django.utils import timezone

    from arenden.models import Sammantradesexport

    lyssna(page)
    rad, fragor = _bestall_paket(page, demo_site)
    # No worker takes the job: after ten minutes in the queue it shows as failed.
    Sammantradesexport.objects.update(skapad=timezone.now() - timedelta(minutes=11))
    expect(rad.locator(".status")).to_contain_text("Misslyckades")

    fel = _sagt(page, lambda h: "misslyckades" in h["text"])
    assert len(fel) == 1 and fel[0]["role"] == "alert" and fel[0]["live"] == "assertive"
    assert fel[0]["text"].startswith("Exporten ”Mötespaket (en PDF)” misslyckades. ")
    fore = len(fragor)
    page.wait_for_timeout(4500)  # polling has stopped for the row: it is said no more
    assert len(fragor) == fore
    assert [h for h in upplast(page) if "misslyckades" in h["text"]] == fel


def test_a_failing_status_request_is_said(demo_site, page):
    """The note above the table stood in a status region that arrived with its text: a screen
    reader said nothing of it."""
    lyssna(page)
    _bestall_paket(page, demo_site)
    page.route(STATUS, lambda route: route.fulfill(status=500, content_type="text/html", body="<h1>Serverfel</h1>"))
    _sagt(page, lambda h: h["text"].startswith("Exportens status kunde inte hämtas") and h["live"] == "polite")
