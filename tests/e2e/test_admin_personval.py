"""The admin's autocomplete of a case's handläggare, in the browser: select2 shows the chosen
person and its results by name and username, as the admin's lists name people."""

import pytest
from playwright.sync_api import expect

from arenden.models import Arende

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_handlaggare_autocomplete_shows_and_finds_people_by_name(demo_site, page):
    arende = Arende.objects.get(diarienummer="SKHLM 2024/123")
    login(page, demo_site, "sekreterare")  # also the förvaltning's registrator: may change the case
    page.goto(f"{demo_site}/admin/arenden/arende/{arende.pk}/change/")

    vald = page.locator("#select2-id_handlaggare-container")
    expect(vald).to_have_attribute("title", "Anette Petersson (anette)")  # its text has the clear button too

    vald.click()
    page.locator(".select2-search__field[aria-controls='select2-id_handlaggare-results']").fill("peters")
    expect(page.locator("#select2-id_handlaggare-results .select2-results__option")).to_have_text(
        ["Anette Petersson (anette)"]
    )
