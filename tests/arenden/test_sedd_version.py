"""A chef's comparison on the document's page is against the version they read last: the one
they attested or returned, not a round sent and withdrawn in between that they never saw."""

import html

import pytest

from arenden import services
from tests.arenden.world import build_world


@pytest.fixture
def world(db):
    return build_world()


def _sida(client, tu):
    return html.unescape(client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode())


def test_a_round_withdrawn_before_the_chef_read_it_does_not_hide_what_changed_since_their_return(world, client):
    tu = world.skickat()
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Skriv om Sätra.")
    sektion = tu.sektioner.order_by("mall_sektion__ordning").first()
    sektion.refresh_from_db()
    services.spara_sektion(
        sektion=sektion,
        text="<p>Fokus 2024 är Sätra centrum.</p>",
        expected_version=sektion.version,
        user=world.officer,
    )
    # Sent to the wrong chef first, taken back unchanged, and sent again.
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef2])
    services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer)
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)

    client.force_login(world.chef1)
    page = _sida(client, tu)

    assert "Inga ändringar" not in page
    assert 'class="diff"' in page and "Fokus 2024 är Sätra centrum." in page


def test_without_a_version_of_their_own_a_chef_compares_with_the_round_before(world, client):
    tu = world.skickat()
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Skriv om Sätra.")
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)

    client.force_login(world.chef2)  # never reached in the first round
    assert "Inga ändringar i texten eller formateringen sedan versionen skickad för attest" in _sida(client, tu)
