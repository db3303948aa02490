"""The answer to what was just done (Django's messages: "Du har attesterat …", a refusal) is
spoken by a screen reader without the keyboard focus moving (WCAG 4.1.3): a success politely,
an error as an alert. The admin's list of messages was no live region at all, and an officer's
page had its message in one from the start, which a screen reader does not speak either."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from arenden import services
from tests.arenden.world import build_world

from .conftest import PASSWORD, demo_pa_listan, login, lyssna, upplast

pytestmark = pytest.mark.django_db(transaction=True)


def _sagt(page, text, live):
    """Waits until a live region of the page has given `text` to say with that politeness."""
    for _ in range(50):
        if any(text in h["text"] and h["live"] == live for h in upplast(page)):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{text!r} was not said ({live}); said: {upplast(page)}")


def _fokus(page):
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return (e.getAttribute('aria-label') || e.textContent || '').trim() || e.tagName; }"""
    )


def test_a_chef_hears_that_the_document_is_attested_and_the_focus_stays(roller, live_server, page):
    world = build_world()
    world.chef1.set_password(PASSWORD)
    world.chef1.save()
    tu = world.skickat()
    lyssna(page)
    login(page, live_server.url, "chef1")
    page.goto(f"{live_server.url}/admin/arenden/tjansteutlatande/{tu.pk}/change/")
    page.get_by_role("link", name="Attestera", exact=True).click()
    page.get_by_role("button", name="Attestera").click()

    meddelande = page.locator(".messagelist li.success [role=status]")
    expect(meddelande).to_have_attribute("aria-live", "polite")
    expect(meddelande).to_have_text(f"Du har attesterat ”{tu}”. Nästa attestant har fått det.")
    _sagt(page, f"Du har attesterat ”{tu}”.", "polite")
    # Nothing took the focus: a screen reader reads on from the top of the page.
    assert page.evaluate("() => document.activeElement === document.body")


def test_a_refusal_in_the_admin_is_said_as_an_alert(demo_site, page):
    lyssna(page)
    demo = demo_pa_listan(page, demo_site)
    # A colleague takes the item off the list while the page still shows it.
    punkt = demo.foredragningspunkter.get()
    services.ta_bort_fran_foredragningslista(punkt=punkt, user=get_user_model().objects.get(username="sekreterare"))

    page.get_by_role("button", name="Ta bort, punkt 1", exact=True).click()
    fel = page.locator(".messagelist li.error [role=alert]")
    expect(fel).to_have_text(services.BORTTAGEN_PUNKT)
    _sagt(page, services.BORTTAGEN_PUNKT, "assertive")


def test_a_moved_item_is_said_and_the_focus_stays_on_its_button(demo_site, page):
    lyssna(page)
    demo_pa_listan(page, demo_site)
    page.get_by_label("Rubrik (för informationspunkt)").fill("Information om trygghetsarbetet")
    page.get_by_role("button", name="Lägg till sist på listan").click()
    _sagt(page, "Punkten är tillagd sist på föredragningslistan.", "polite")

    page.get_by_role("button", name="Upp, punkt 2", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#punkter-0 .field-arendet")).to_contain_text("Information om trygghetsarbetet")
    _sagt(page, "Föredragningslistan är omnumrerad.", "polite")
    # Said where the focus was put, not by taking it: on the item's other move at the list's top.
    assert _fokus(page) == "Ned, punkt 1"


def test_an_officer_hears_that_the_case_is_registered(demo_site, page):
    lyssna(page)
    login(page, demo_site, "anette")
    page.goto(f"{demo_site}/arenden/nytt/")
    page.get_by_label("Titel").fill("Trygghet i Bredängs centrum")
    page.get_by_label("Författare").fill("Anna Andersson (M)")
    page.get_by_label("Skickad för beredning").fill("2024-09-12")
    page.locator("#id_text").fill("Vi vill veta vad förvaltningen gör i Bredäng.")
    page.get_by_role("button", name="Registrera ärende").click()
    expect(page.get_by_role("status").first).to_contain_text("Ärendet är registrerat")
    _sagt(page, "Ärendet är registrerat med diarienummer", "polite")
