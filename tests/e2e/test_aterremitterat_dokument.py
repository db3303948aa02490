"""A document a chef returned, from the officer's side in the browser: Mina ärenden says it came
back, and the chef's comment stands in the editor where the officer makes the change, not only on
the case's timeline and the attest page."""

import pytest
from playwright.sync_api import expect

from arenden import services
from tests.arenden.world import build_world

from .conftest import PASSWORD, axe_violations, login

pytestmark = pytest.mark.django_db(transaction=True)

KOMMENTAR = "Bakgrunden behöver datum för nämndens beslut.\nLägg till Polisens synpunkter."


def test_a_returned_document_shows_the_chefs_comment_from_mina_arenden_to_the_editor(roller, live_server, page):
    world = build_world()
    world.officer.set_password(PASSWORD)
    world.officer.save()
    tu = world.skickat(titel="Belysning i Sätra")
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar=KOMMENTAR)

    login(page, live_server.url, "officer")
    rad = page.get_by_role("row").filter(has_text=tu.arende.diarienummer)
    expect(rad).to_contain_text("Återremitterat: ändra och skicka för attest igen")
    rad.get_by_role("link", name="Återremitterat: ändra och skicka för attest igen").click()

    page.wait_for_url(f"{live_server.url}/tjansteutlatanden/{tu.pk}/redigera/")
    note = page.get_by_role("note").filter(has_text="Återremitterat med kommentar")
    expect(note).to_contain_text("Bakgrunden behöver datum för nämndens beslut.")
    expect(note).to_contain_text("Lägg till Polisens synpunkter.")
    expect(note).to_contain_text("Chef1 Testsson")
    assert axe_violations(page) == []

    # Sent again, the comment was about the round that ended: neither page shows it any more.
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("row").filter(has_text=tu.arende.diarienummer)).to_contain_text(
        "Skriv färdigt och skicka för attest"
    )
    page.goto(f"{live_server.url}/tjansteutlatanden/{tu.pk}/redigera/")
    expect(page.get_by_text("Återremitterat med kommentar")).to_have_count(0)
