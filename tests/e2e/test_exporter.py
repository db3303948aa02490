"""The meeting's exports in the admin follow their job by asking its status every 2 s
(static/js/exporter.js). A question that fails is told in Swedish, not swallowed: the row would
read its last status for the quarter of an hour the page polls, as if the job were running."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from playwright.sync_api import expect

from arenden.constants import Roll

from .conftest import demo_pa_listan, login

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
    expect(meddelande).to_have_attribute("role", "status")
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
