"""The officer's target meeting in the browser: one already held is refused beside its field,
with what was typed kept, and one still to come saves."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from arenden import services
from arenden.models import Arende, Mall
from tests.factories import ArendeFactory

from .conftest import axe_violations, login

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_officer_is_told_beside_the_field_that_the_meeting_has_been_held(demo_site, page):
    anette = get_user_model().objects.get(username="anette")
    demo = Arende.objects.get(diarienummer="SKHLM 2024/123")
    arende = ArendeFactory(handlaggare=anette, avdelning=demo.avdelning, forvaltning=demo.forvaltning)
    tu = services.skapa_tjansteutlatande(arende=arende, mall=Mall.objects.get(), user=anette, titel="Trygghet")
    idag = timezone.localdate()
    igar, nasta = (idag - datetime.timedelta(days=1)).isoformat(), (idag + datetime.timedelta(days=21)).isoformat()

    login(page, demo_site, "anette")
    page.goto(f"{demo_site}/tjansteutlatanden/{tu.pk}/redigera/")
    page.get_by_text("Ändra titel, undertitel och sammanträde").click()
    page.locator("#uppgift_titel").fill("Trygghet i Sätra")
    page.locator("#uppgift_sammantradesdatum").fill(igar)
    page.get_by_role("button", name="Spara uppgifterna").click()

    fel = page.locator("#uppgift_sammantradesdatum_error")
    expect(fel).to_have_text(
        f"Sammanträdet {igar} har redan hållits. Ange dagen för det sammanträde som dokumentet ska till, "
        f"{idag.isoformat()} eller senare."
    )
    # What was typed is still there, and nothing of it was stored.
    expect(page.locator("#uppgift_sammantradesdatum")).to_have_value(igar)
    expect(page.locator("#uppgift_titel")).to_have_value("Trygghet i Sätra")
    tu.refresh_from_db()
    assert (tu.titel, tu.sammantradesdatum) == ("Trygghet", None)
    assert axe_violations(page) == []

    page.locator("#uppgift_sammantradesdatum").fill(nasta)
    page.get_by_role("button", name="Spara uppgifterna").click()
    expect(page.get_by_role("status").first).to_contain_text("uppgifter är sparade")
    tu.refresh_from_db()
    assert (tu.titel, tu.sammantradesdatum.isoformat()) == ("Trygghet i Sätra", nasta)
