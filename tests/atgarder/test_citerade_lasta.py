"""A page that only shows an åtgärd or a case (the user may read it, not change it) counts the
cited cases outside the user's scope, as the history pages and the officers' pages do, instead
of naming them."""

import re

from tests.arenden.test_admin import _namner, _utanfor, world  # noqa: F401 - the fixture
from tests.factories import ArendeFactory, AtgardFactory

DOLT = "1 ärende som du inte har åtkomst till"


def test_an_atgard_read_by_a_chef_counts_a_cited_case_outside_their_scope(client, world):  # noqa: F811
    utanfor = _utanfor()
    egen = ArendeFactory(forvaltning=world.forvaltning, avdelning=world.avdelning, arendemening="Eget ärende")
    atgard = AtgardFactory()
    atgard.citerade_arenden.add(egen, utanfor)
    client.force_login(world.chef1)  # reads the register, changes nothing in it

    svar = client.get(f"/admin/atgarder/atgard/{atgard.pk}/change/")

    assert svar.status_code == 200
    assert not _namner(svar, utanfor)
    assert f"{egen}, {DOLT}" in svar.content.decode()


def test_a_case_read_by_an_officer_counts_a_cited_case_outside_their_scope(client, world):  # noqa: F811
    utanfor = _utanfor()
    egen = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, arendemening="Eget ärende")
    egen.citerade.add(utanfor)
    client.force_login(world.officer)  # reads cases, changes none

    svar = client.get(f"/admin/arenden/arende/{egen.pk}/change/")

    assert svar.status_code == 200
    assert not _namner(svar, utanfor)
    assert DOLT in svar.content.decode()


def test_an_old_version_read_by_a_chef_counts_them_too(client, world):  # noqa: F811
    utanfor = _utanfor()
    atgard = AtgardFactory()
    atgard.citerade_arenden.add(utanfor)
    version = atgard.history.order_by("-history_id").first()
    atgard.citerade_arenden.clear()
    client.force_login(world.chef1)

    svar = client.get(f"/admin/atgarder/atgard/{atgard.pk}/history/{version.history_id}/")

    assert svar.status_code == 200
    assert not _namner(svar, utanfor)


def test_whoever_sees_the_case_reads_its_name(client, world):  # noqa: F811
    utanfor = _utanfor()
    atgard = AtgardFactory()
    atgard.citerade_arenden.add(utanfor)
    client.force_login(world.superuser)

    svar = client.get(f"/admin/atgarder/atgard/{atgard.pk}/change/")

    assert _namner(svar, utanfor)


def test_a_page_read_only_shows_no_cited_cases_as_the_admins_empty_value(client, world):  # noqa: F811
    atgard = AtgardFactory()
    arende = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer)
    client.force_login(world.chef1)
    atgard_sida = client.get(f"/admin/atgarder/atgard/{atgard.pk}/change/").content.decode()
    client.force_login(world.officer)
    arende_sida = client.get(f"/admin/arenden/arende/{arende.pk}/change/").content.decode()

    for sida, falt in ((atgard_sida, "citerade_arenden_som_syns"), (arende_sida, "citerade_som_syns")):
        visat = re.search(rf'field-{falt}".*?<div class="readonly">(.*?)</div>', sida, re.S)
        assert visat.group(1) == "-", falt
