"""The officer misspells a word in the diarium search and follows "Menade du …?"."""

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_officer_follows_the_suggestion_to_the_case(demo_site, page):
    login(page, demo_site, "anette")
    page.goto(f"{demo_site}/sok/")
    page.get_by_label("Sök på diarienummer, ärendemening, skrivelse, text i tjänsteutlåtanden och åtgärder").fill(
        "drogsener"
    )
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page.get_by_text("Inga träffar för ”drogsener”.")).to_be_visible()
    expect(page.locator(".sokforslag")).to_have_text("Menade du: drogscener?")
    page.get_by_role("link", name="drogscener", exact=True).click()
    expect(page).to_have_url(f"{demo_site}/sok/?q=drogscener")
    expect(
        page.get_by_label("Sök på diarienummer, ärendemening, skrivelse, text i tjänsteutlåtanden och åtgärder")
    ).to_have_value("drogscener")
    page.get_by_role("link", name="SKHLM 2024/123").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Öppna drogscener")
