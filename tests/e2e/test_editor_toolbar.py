"""The editor's formatting toolbars as the WAI-ARIA toolbar pattern: one Tab stop each, the arrow
keys within it."""

import pytest
from playwright.sync_api import expect

from arenden.models import Tjansteutlatande

from .conftest import axe_violations, login

pytestmark = pytest.mark.django_db(transaction=True)

KNAPPAR = ["Fet", "Kursiv", "Punktlista", "Numrerad lista", "Fotnot"]


def focused(page):
    """The focused element's accessible name, as far as the page tells it."""
    return page.evaluate(
        """() => { const el = document.activeElement;
                   return el.getAttribute('aria-label') || el.textContent.trim(); }"""
    )


def test_each_toolbar_is_one_tab_stop_and_its_buttons_are_reached_with_the_arrow_keys(demo_site, page):
    tu = Tjansteutlatande.objects.get(arende__diarienummer="SKHLM 2024/123")
    rubriker = list(tu.sektioner.order_by("mall_sektion__ordning", "pk").values_list("mall_sektion__rubrik", flat=True))
    forsta, andra = rubriker[:2]
    login(page, demo_site, "anette")
    page.goto(f"{demo_site}/tjansteutlatanden/{tu.pk}/redigera/")

    # Every toolbar names its section and lets one of its buttons into the Tab order.
    for rubrik in rubriker:
        expect(page.get_by_role("toolbar", name=f"Formatering av {rubrik}", exact=True)).to_be_visible()
    expect(
        page.get_by_role(
            "toolbar", name="Formatering av Förvaltningens synpunkter och förslag: avslutande text", exact=True
        )
    ).to_be_visible()
    in_tab_order = page.evaluate(
        """() => Array.from(document.querySelectorAll('[role=toolbar]'),
                 t => Array.from(t.querySelectorAll('button')).filter(b => b.tabIndex >= 0).length)"""
    )
    assert in_tab_order == [1] * (len(rubriker) + 1)

    # From one section's text to the next: its save button and one stop in the next toolbar.
    page.get_by_role("textbox", name=forsta, exact=True).click()
    stops = []
    for _ in range(10):
        page.keyboard.press("Tab")
        if focused(page) == andra:
            break
        stops.append(focused(page))
    assert stops == [f"Spara {forsta.lower()}", "Fet"]

    # The arrow keys move within the toolbar, round its ends; Home and End go to them.
    for key, expected in [
        ("Shift+Tab", "Fet"),
        ("ArrowRight", "Kursiv"),
        ("ArrowLeft", "Fet"),
        ("ArrowLeft", "Fotnot"),
        ("ArrowRight", "Fet"),
        ("End", "Fotnot"),
        ("Home", "Fet"),
        ("ArrowRight", "Kursiv"),
        ("ArrowRight", "Punktlista"),
    ]:
        page.keyboard.press(key)
        assert focused(page) == expected, key
    toolbar = page.get_by_role("toolbar", name=f"Formatering av {andra}", exact=True)
    for name in KNAPPAR:
        expect(toolbar.get_by_role("button", name=name, exact=True)).to_have_attribute(
            "tabindex", "0" if name == "Punktlista" else "-1"
        )

    # The button last used is the toolbar's Tab stop, from either side.
    page.keyboard.press("Tab")
    assert focused(page) == andra
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "Punktlista"

    # Pressed from the keyboard, it formats the text it came from.
    text = page.get_by_role("textbox", name=andra, exact=True)
    text.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(text).to_be_focused()
    page.keyboard.type("En punkt från verktygsfältet")
    expect(text.locator("li").last).to_have_text("En punkt från verktygsfältet")

    assert axe_violations(page) == []
