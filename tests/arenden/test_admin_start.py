"""The admin's start page: its box of the user's recent actions tells what the history records."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arenden import services
from tests.arenden.meeting import sammantrade
from tests.arenden.world import build_world


@pytest.fixture
def world(db):
    return build_world()


def _rutan(client):
    """The start page's box of recent actions, as text lines, and its links."""
    page = client.get("/admin/").content.decode()
    ruta = re.search(r'<div class="module" id="recent-actions-module">(.*?)</div>', page, re.S).group(1)
    lankar = re.findall(r'<a href="([^"]+)">', ruta)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", ruta)).strip()
    return text, lankar


def test_a_chef_finds_what_they_attested_and_returned_in_their_recent_actions(world, client):
    attesterat = world.skickat(titel="Öppna drogscener")
    aterremitterat = world.skickat(titel="Parklekar")
    services.attestera(tjansteutlatande=attesterat, user=world.chef1)
    services.aterremittera(tjansteutlatande=aterremitterat, user=world.chef1, kommentar="Förtydliga.")

    client.force_login(world.chef1)
    text, lankar = _rutan(client)

    assert "Inga tillgängliga" not in text
    # Newest first, each once: the case's row that followed the document is the same act.
    assert text.count("Parklekar") == 1 and text.count("Öppna drogscener") == 1
    assert text.index("Parklekar") < text.index("Öppna drogscener")
    assert "Återremitterat" in text and "Attesterat" in text
    assert f"/admin/arenden/tjansteutlatande/{aterremitterat.pk}/change/" in lankar
    assert f"/admin/arenden/tjansteutlatande/{attesterat.pk}/change/" in lankar
    # What others did is not theirs: the officer sent both.
    assert "Skickat för attest" not in text


def test_a_user_who_has_done_nothing_is_told_so(world, client):
    world.attesterat()
    client.force_login(world.sekreterare)
    text, lankar = _rutan(client)
    assert "Inga tillgängliga" in text and lankar == []


def test_the_recent_actions_are_read_in_one_query_however_many_there_are(world, client):
    client.force_login(world.chef1)
    client.get("/admin/")  # warm: the content types are cached after the first request
    with CaptureQueriesContext(connection) as fore:
        client.get("/admin/")
    for titel in ("Ett", "Två", "Tre"):
        tu = world.skickat(titel=titel)
        services.attestera(tjansteutlatande=tu, user=world.chef1)
    with CaptureQueriesContext(connection) as efter:
        text, _ = _rutan(client)
    assert "Tre" in text
    assert len(efter) == len(fore)


def test_a_secretary_finds_the_items_they_put_on_a_list_each_once_leading_to_a_page(world, client):
    tu = world.attesterat()
    mote = sammantrade(namnd=tu.namnd)
    services.satt_pa_foredragningslista(sammantrade=mote, user=world.sekreterare, tjansteutlatande=tu)
    services.satt_pa_foredragningslista(sammantrade=mote, user=world.sekreterare, titel="Information om budget")

    client.force_login(world.sekreterare)
    text, lankar = _rutan(client)

    # The document's item is told by the document (its case's and item's rows are the same act);
    # the information item, which has no page of its own, leads to its meeting.
    assert text.count("Satt på föredragningslistan") == 2
    assert text.index("Information om budget") < text.index(tu.titel)
    assert lankar == [
        f"/admin/arenden/sammantrade/{mote.pk}/change/",
        f"/admin/arenden/tjansteutlatande/{tu.pk}/change/",
    ]
