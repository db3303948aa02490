"""A return's comment on the chef's admin pages, in the browser: a long unbroken one (a link, a
pasted path) wraps in its column on the document's page and in its history, instead of running
out of its column and widening the page."""

import pytest
from playwright.sync_api import expect

from arenden import services
from tests.arenden.world import build_world

from .conftest import PASSWORD, login

pytestmark = pytest.mark.django_db(transaction=True)

# The history shows a change's values in full up to 100 characters (simple_history's
# `max_displayed_delta_change_chars`): the longest unbroken text it prints.
KOMMENTAR = "https://intranat.stockholm.se/" + "a" * 70


def _sticker_ut(page, selektor):
    """How many pixels the widest of the elements runs out of the box it is drawn in."""
    return page.evaluate(
        """(selektor) => Math.max(...[...document.querySelectorAll(selektor)].map(
               e => e.scrollWidth - e.clientWidth))""",
        selektor,
    )


def test_a_long_unbroken_return_comment_wraps_on_the_document_page_and_in_its_history(roller, live_server, page):
    world = build_world()
    world.chef1.set_password(PASSWORD)
    world.chef1.save()
    tu = world.skickat()
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar=KOMMENTAR)
    page.set_viewport_size({"width": 900, "height": 900})  # a laptop's half screen

    login(page, live_server.url, "chef1")
    page.goto(f"{live_server.url}/admin/arenden/tjansteutlatande/{tu.pk}/change/")
    expect(page.locator(".field-aterremiss_kommentar .readonly")).to_have_text(KOMMENTAR)
    assert _sticker_ut(page, ".field-aterremiss_kommentar, .field-aterremiss_kommentar *") <= 0

    page.goto(f"{live_server.url}/admin/arenden/tjansteutlatande/{tu.pk}/history/")
    expect(page.locator("#change-history")).to_contain_text(KOMMENTAR)
    assert _sticker_ut(page, "#content-main, #content-main .module, #change-history, #change-history td") <= 0
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
