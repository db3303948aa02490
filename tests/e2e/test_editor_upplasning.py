"""What the officer's editor says to a screen reader while they write: a section's status is a
live region, spoken at each change of its text."""

import pytest
from playwright.sync_api import expect

from arenden.models import Tjansteutlatande

from .conftest import login, lyssna, upplast

pytestmark = pytest.mark.django_db(transaction=True)


def test_typing_says_unsaved_once_and_a_save_that_voids_the_attest_says_so(demo_site, page):
    tu = Tjansteutlatande.objects.get(arende__diarienummer="SKHLM 2024/123")
    assert tu.status == "attesterad"
    lyssna(page)
    login(page, demo_site, "anette")
    page.goto(f"{demo_site}/tjansteutlatanden/{tu.pk}/redigera/")
    page.on("dialog", lambda dialog: dialog.accept())

    # Written at every key, the status was spoken again at every key.
    falt = page.get_by_role("textbox", name="Sammanfattning", exact=True)
    falt.click()
    page.keyboard.press("End")
    page.keyboard.type(" Mer.")
    sektion = page.locator("section.sektion", has=falt)
    expect(sektion.locator(".sektion-fot [role=status]")).to_have_text("Ändrad, inte sparad")
    assert [h["text"] for h in upplast(page)] == ["Ändrad, inte sparad"]

    # The save voids the attest: the page's status changes, and that is said, not only shown.
    sektion.get_by_role("button", name="Spara sammanfattning").click()
    expect(page.locator("#dokumentstatus")).to_have_text("Utkast")
    expect(sektion.locator(".sektion-fot [role=status]")).to_contain_text(
        "Attesteringen är makulerad och dokumentet är ett utkast igen."
    )
    assert upplast(page)[-1]["text"].endswith("Attesteringen är makulerad och dokumentet är ett utkast igen.")
