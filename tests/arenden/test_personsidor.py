"""Whose page in the users' admin each person may read. Every role holds `auth.view_user` (the
autocompletes of the people fields need it), which let any chef list every förvaltning's staff and
open their pages and histories: names, e-mail, roles, last login. Now a user sees the people who
work in a förvaltning they work in and themselves (`synliga_personer`); anyone else is a 404, and
a history page names them without a link that would lead there. A superuser sees everyone."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arenden.constants import Roll
from arenden.models import valbara_medarbetare
from tests.arenden.world import build_world, person

SKHLM = {"chef1", "chef2", "officer", "kollega", "sekreterare", "registrator", "outsider"}


@pytest.fixture
def world(db):
    return build_world()


def _listade(client, **params):
    response = client.get("/admin/auth/user/", params)
    assert response.status_code == 200
    return {user.username for user in response.context["cl"].result_list}


def _sidor(user):
    version = user.history.order_by("history_id").first()
    return [
        f"/admin/auth/user/{user.pk}/change/",
        f"/admin/auth/user/{user.pk}/history/",
        f"/admin/auth/user/{user.pk}/history/{version.history_id}/",
        f"/admin/auth/user/{user.pk}/password/",
    ]


@pytest.mark.parametrize("roll", ["chef1", "chef2", "officer", "sekreterare", "registrator"])
def test_each_role_lists_the_people_of_its_forvaltning_and_not_anothers(client, world, roll):
    client.force_login(world.user(roll))

    assert _listade(client) == SKHLM
    assert _listade(client, q="Testsson") == SKHLM
    assert _listade(client, q="frammande") == set()


def test_a_chef_of_another_forvaltning_lists_its_people_only(client, world):
    haso = person("hasse", Roll.HANDLAGGARE, avdelning=world.frammande.profil.avdelning)
    client.force_login(world.frammande)

    assert _listade(client) == {"frammande", haso.username}


@pytest.mark.parametrize("roll", ["chef1", "chef2", "officer", "sekreterare", "registrator"])
def test_a_person_of_another_forvaltning_is_a_404_with_their_history(client, world, roll):
    client.force_login(world.user(roll))

    for url in _sidor(world.frammande):
        assert client.get(url).status_code == 404, url
    # The superuser, who works in no förvaltning, is no one's colleague.
    assert client.get(f"/admin/auth/user/{world.superuser.pk}/change/").status_code == 404


def test_a_colleague_in_another_avdelning_is_read_with_their_history(client, world):
    client.force_login(world.chef1)

    for url in _sidor(world.kollega)[:3]:
        assert client.get(url).status_code == 200, url
    # Read, not changed: the password page is refused, as before.
    assert client.get(_sidor(world.kollega)[3]).status_code == 403


def test_someone_who_works_nowhere_sees_only_themselves(client, world):
    ny = person("ny", Roll.HANDLAGGARE)  # no avdelning yet
    client.force_login(ny)

    assert _listade(client) == {"ny"}
    assert client.get(f"/admin/auth/user/{ny.pk}/change/").status_code == 200
    assert client.get(f"/admin/auth/user/{ny.pk}/history/").status_code == 200
    assert client.get(f"/admin/auth/user/{world.officer.pk}/change/").status_code == 404


def test_a_closed_account_is_left_out_as_the_people_fields_leave_it_out(client, world):
    # `medarbetare`: the active accounts of those who work there.
    slutat = person("slutat", Roll.HANDLAGGARE, avdelning=world.avdelning, is_active=False)
    client.force_login(world.chef1)

    assert "slutat" not in _listade(client)
    assert client.get(f"/admin/auth/user/{slutat.pk}/change/").status_code == 404

    client.force_login(world.superuser)
    assert "slutat" in _listade(client)
    assert client.get(f"/admin/auth/user/{slutat.pk}/change/").status_code == 200


def test_a_superuser_sees_everyone(client, world):
    client.force_login(world.superuser)

    assert _listade(client) == {*SKHLM, "frammande", "superuser"}
    for url in _sidor(world.frammande)[:3]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("roll", "model_name", "field_name", "behover_roll"),
    [
        ("chef1", "arende", "handlaggare", True),
        ("registrator", "tjansteutlatande", "handlaggare", True),
        ("chef1", "undertecknare", "anvandare", False),
    ],
)
def test_the_people_autocompletes_still_list_who_may_be_chosen(
    client, world, roll, model_name, field_name, behover_roll
):
    client.force_login(world.user(roll))
    haso = world.frammande.profil.avdelning.forvaltning

    def listar(forvaltning):
        fragan = {"term": "Testsson", "app_label": "arenden", "model_name": model_name, "field_name": field_name}
        svar = client.get("/admin/autocomplete/", {**fragan, "forvaltning": forvaltning.pk})
        assert svar.status_code == 200
        return {int(rad["id"]) for rad in svar.json()["results"]}

    valbara = valbara_medarbetare([world.forvaltning.pk], behover_roll=behover_roll)
    assert listar(world.forvaltning) == set(valbara.values_list("pk", flat=True))
    assert world.officer.pk in listar(world.forvaltning)
    assert listar(haso) == set()


def _andrad_av(arende, *personer):
    for i, vem in enumerate(personer):
        arende.arendemening = f"Öppna drogscener ({i})"
        arende._history_user = vem
        arende.save()


def _lankade(sida):
    return {int(pk) for pk in re.findall(r'href="/admin/auth/user/(\d+)/change/"', sida.content.decode())}


def test_a_history_page_links_only_the_people_the_reader_may_open(client, world):
    arende = world.dokument().arende
    _andrad_av(arende, world.officer, world.superuser, world.frammande)
    url = f"/admin/arenden/arende/{arende.pk}/history/"

    client.force_login(world.chef1)
    sida = client.get(url)
    assert _lankade(sida) == {world.officer.pk}
    # The others are named, without a link that led to a 404.
    assert "Superuser Testsson" in sida.content.decode() and "Frammande Testsson" in sida.content.decode()

    client.force_login(world.superuser)
    assert _lankade(client.get(url)) == {world.officer.pk, world.superuser.pk, world.frammande.pk}


def test_a_users_history_names_the_superuser_who_changed_them_without_a_link(client, world):
    world.officer.first_name = "Olle"
    world.officer._history_user = world.superuser
    world.officer.save()
    client.force_login(world.chef1)

    sida = client.get(f"/admin/auth/user/{world.officer.pk}/history/")

    assert sida.status_code == 200
    assert "Superuser Testsson" in sida.content.decode()
    assert world.superuser.pk not in _lankade(sida)


def test_a_history_page_asks_once_which_of_its_people_it_may_link(client, world):
    arende = world.dokument().arende
    url = f"/admin/arenden/arende/{arende.pk}/history/"
    client.force_login(world.chef1)

    def fragor():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    _andrad_av(arende, world.officer, world.frammande)
    client.get(url)  # what the first request reads once
    tva = fragor()
    _andrad_av(arende, *[person(f"p{i}", Roll.HANDLAGGARE, avdelning=world.avdelning) for i in range(10)])
    _andrad_av(arende, *[person(f"q{i}", Roll.HANDLAGGARE) for i in range(10)])

    assert len(_lankade(client.get(url))) == 11  # the officer and the ten of the avdelning
    assert fragor() == tva
