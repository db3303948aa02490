"""The officers' main menu offers only what the user may open."""

import pytest

from arenden.constants import Roll
from tests.factories import ProfilFactory, UserFactory

REGISTRERA = 'href="/arenden/nytt/"'


@pytest.mark.parametrize(
    ("roller", "far"),
    [
        ([Roll.HANDLAGGARE], True),
        ([Roll.REGISTRATOR], True),
        ([Roll.ATTESTANT], False),
        ([Roll.NAMNDSEKRETERARE], False),
        ([], False),
    ],
    ids=["handläggare", "registrator", "attestant", "nämndsekreterare", "ingen-roll"],
)
def test_the_menu_offers_registering_a_skrivelse_only_to_those_who_may(client, db, roller, far):
    user = ProfilFactory(user=UserFactory(roller=roller)).user
    client.force_login(user)
    for sida in ("/", "/drogscener/"):
        response = client.get(sida)
        assert response.status_code == 200
        # The menu led a chef to "Du har inte behörighet" (403) on every page.
        assert (REGISTRERA in response.content.decode()) is far, sida
    assert client.get("/arenden/nytt/").status_code == (200 if far else 403)
