"""New bilagor on the document's admin page, added with the admin's own "Lägg till" link: each
is a copy of one empty row, so each shows the same offered number."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from arenden import services
from arenden.models import Arende, Bilaga, Mall
from tests.factories import ArendeFactory

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_bilagor_added_on_the_page_without_typing_a_number_are_numbered_in_turn(demo_site, page):
    anette = get_user_model().objects.get(username="anette")
    demo = Arende.objects.get(diarienummer="SKHLM 2024/123")
    arende = ArendeFactory(handlaggare=anette, avdelning=demo.avdelning, forvaltning=demo.forvaltning)
    tu = services.skapa_tjansteutlatande(arende=arende, mall=Mall.objects.get(), user=anette, titel="Parklekar")
    for ordning, titel in ((1, "Skrivelse; Parklekar"), (3, "Karta över Sätra centrum")):
        services.spara_dokumentdel(
            tjansteutlatande=tu, obj=Bilaga(ordning=ordning, titel=titel, text=titel), user=anette
        )
    login(page, demo_site, "anette")
    page.goto(f"{demo_site}/admin/arenden/tjansteutlatande/{tu.pk}/change/")

    grupp = page.locator("#bilagor-group")
    for titel in ("Protokollsutdrag", "Polisens lägesbild"):
        grupp.get_by_role("button", name="Lägg till ytterligare Bilaga").click()
        rad = grupp.locator("tr.dynamic-bilagor").last
        expect(rad.locator("input[name^='bilagor-'][name$='-ordning']")).to_have_value("4")
        rad.locator("input[name^='bilagor-'][name$='-titel']").fill(titel)
        rad.locator("textarea[name^='bilagor-']").fill(f"Text till {titel.lower()}.")
    page.get_by_role("button", name="Spara och fortsätt redigera").click()
    expect(page.locator(".messagelist")).to_contain_text("Ändrade tjänsteutlåtande")

    assert list(tu.bilagor.order_by("ordning").values_list("ordning", "titel")) == [
        (1, "Skrivelse; Parklekar"),
        (3, "Karta över Sätra centrum"),
        (4, "Protokollsutdrag"),
        (5, "Polisens lägesbild"),
    ]
    # The page saved shows them so, and offers 6 for the next.
    expect(grupp.locator("input[name='bilagor-3-ordning']")).to_have_value("5")
    grupp.get_by_role("button", name="Lägg till ytterligare Bilaga").click()
    expect(grupp.locator("tr.dynamic-bilagor").last.locator("input[name^='bilagor-'][name$='-ordning']")).to_have_value(
        "6"
    )
