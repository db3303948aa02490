"""Attesting and returning are the attestant's only while the case is theirs to see: the
services refuse a chef who has left the förvaltning, whatever door calls them."""

import pytest

from arenden import services
from tests.arenden.world import build_world


@pytest.fixture
def world(db):
    return build_world()


def test_a_chef_who_has_left_the_forvaltning_cannot_attest_or_return_what_waits_at_their_step(world):
    from arenden.models import Avdelning, Profil

    tu = world.skickat()
    # chef1 moves to the other förvaltning while the document waits at their step.
    ny = Avdelning.objects.create(forvaltning=world.frammande.profil.avdelning.forvaltning, namn="Ny avdelning")
    Profil.objects.filter(user=world.chef1).update(avdelning=ny)
    Avdelning.objects.filter(pk=world.avdelning.pk).update(chef=None)

    with pytest.raises(services.WorkflowError):
        services.attestera(tjansteutlatande=tu, user=world.chef1)
    with pytest.raises(services.WorkflowError):
        services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Nej.")
    tu.refresh_from_db()
    assert tu.status == "till_attest" and not tu.attesteringar.filter(attesterad__isnull=False).exists()
