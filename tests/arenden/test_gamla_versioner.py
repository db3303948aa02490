"""An old version's page in the admin shows only what the reader may see: the fields that pick a
row list the rows of the reader's scope, never the city's other documents."""

import pytest

from arenden.models import Attestering
from tests.arenden.world import build_world
from tests.factories import ArendeFactory, TjansteutlatandeFactory


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def frammande_dokument(world):
    """A document of the other förvaltning, which no one in Skärholmen may see."""
    arende = ArendeFactory(forvaltning=world.frammande.profil.avdelning.forvaltning, arendemening="Hemligt ärende")
    return TjansteutlatandeFactory(arende=arende, titel="Hemlig titel")


def _gammal_version(obj, modell):
    version = obj.history.order_by("history_id").first()
    return f"/admin/arenden/{modell}/{obj.pk}/history/{version.history_id}/"


@pytest.mark.parametrize("roll", ["officer", "chef1", "sekreterare"])
@pytest.mark.parametrize("modell", ["attestering", "sektion"])
def test_an_old_version_names_no_document_outside_the_readers_scope(client, world, frammande_dokument, roll, modell):
    tu = world.skickat()
    obj = Attestering.objects.filter(tjansteutlatande=tu).first() if modell == "attestering" else tu.sektioner.first()
    client.force_login(world.user(roll))

    response = client.get(_gammal_version(obj, modell))

    assert response.status_code == 200
    sida = response.content.decode()
    assert tu.arende.diarienummer in sida
    assert frammande_dokument.arende.diarienummer not in sida
    assert "Hemlig titel" not in sida
