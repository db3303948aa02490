"""The meeting's admin page in the browser: its tools (add an item, exports) stand below the
meeting's form, not under it. The form floats (the admin's #content-main), and the tools' box
started at its top: its blue heading bars showed through between the form's parts, as an empty
bar under "Föredragningslista", while their text was pushed below."""

import pytest
from playwright.sync_api import expect

from tests.arenden.meeting import sammantrade, sekreterare

from .conftest import PASSWORD, login

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_empty_meetings_page_says_so_and_its_tools_stand_below_the_form(roller, live_server, page):
    sekr = sekreterare()
    sekr.set_password(PASSWORD)
    sekr.save()
    mote = sammantrade()
    login(page, live_server.url, sekr.username)
    page.goto(f"{live_server.url}/admin/arenden/sammantrade/{mote.pk}/change/")

    expect(page.locator("#punkter-group")).to_contain_text("Föredragningslistan är tom.")
    formular = page.locator("#sammantrade_form").bounding_box()
    verktyg = page.locator("#sammantrade-verktyg").bounding_box()
    assert verktyg["y"] >= formular["y"] + formular["height"], (formular, verktyg)
