"""The role groups in the admin: the code knows a role by its name, and a person's roles are in
their history, so a role is neither deleted nor renamed from the admin."""

import pytest
from django.contrib.auth.models import Group

from arenden.constants import Roll
from arenden.models import roller
from skarholmen.auth import ProfilBackend
from tests.arenden.test_admin_versioner import _formular
from tests.factories import UserFactory


@pytest.fixture
def chef(db):
    return UserFactory(username="christoffer", roller=[Roll.ATTESTANT])


def test_a_role_cannot_be_deleted_from_the_admin(admin_client, chef):
    attestant = Group.objects.get(name=Roll.ATTESTANT)
    rader = chef.history.count()

    assert admin_client.get(f"/admin/auth/group/{attestant.pk}/delete/").status_code == 403
    response = admin_client.post(f"/admin/auth/group/{attestant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    lista = admin_client.post(
        "/admin/auth/group/", {"action": "delete_selected", "_selected_action": [attestant.pk], "post": "yes"}
    )
    assert lista.status_code in (200, 302)

    # Deleting it took the role from every member without a row in anyone's history.
    assert Group.objects.filter(pk=attestant.pk).exists()
    assert roller(ProfilBackend().get_user(chef.pk)) == {Roll.ATTESTANT}
    assert chef.history.count() == rader


def test_a_roles_name_cannot_be_changed_from_the_admin(admin_client, chef):
    attestant = Group.objects.get(name=Roll.ATTESTANT)
    url = f"/admin/auth/group/{attestant.pk}/change/"
    sida = admin_client.get(url)
    data = _formular(sida, "group_form")
    data["name"] = "Chefer"
    data["permissions"] = [str(p) for p in attestant.permissions.values_list("pk", flat=True)]

    admin_client.post(url, data)

    # Renamed, the chefs lost the förvaltning's cases they see as Attestant, with no word said.
    attestant.refresh_from_db()
    assert attestant.name == Roll.ATTESTANT
    assert roller(ProfilBackend().get_user(chef.pk)) == {Roll.ATTESTANT}
    assert "name" not in _formular(admin_client.get(url), "group_form")


def test_a_group_no_one_has_and_no_code_reads_can_be_renamed_and_deleted(admin_client, db):
    grupp = Group.objects.create(name="Felstavad")
    url = f"/admin/auth/group/{grupp.pk}/change/"
    data = _formular(admin_client.get(url), "group_form")
    data["name"] = "Rättstavad"
    data.pop("permissions", None)
    assert admin_client.post(url, data).status_code == 302
    grupp.refresh_from_db()
    assert grupp.name == "Rättstavad"

    assert admin_client.post(f"/admin/auth/group/{grupp.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Group.objects.filter(pk=grupp.pk).exists()


def test_a_right_given_to_a_role_is_in_the_roles_history(admin_client, admin_user, chef):
    from django.contrib.auth.models import Permission

    handlaggare = Group.objects.get(name=Roll.HANDLAGGARE)
    attestera = Permission.objects.get(codename="attestera_tjansteutlatande")
    url = f"/admin/auth/group/{handlaggare.pk}/change/"
    data = _formular(admin_client.get(url), "group_form")
    data["permissions"] = [str(pk) for pk in handlaggare.permissions.values_list("pk", flat=True)] + [str(attestera.pk)]

    assert admin_client.post(url, data).status_code == 302

    # Every handläggare could now attest, and nothing said who made it so, or when.
    senaste = handlaggare.history.order_by("history_id").last()
    assert senaste.history_user == admin_user
    assert attestera in [rad.permission for rad in senaste.permissions.all()]
    sida = admin_client.get(f"/admin/auth/group/{handlaggare.pk}/history/")
    assert sida.status_code == 200
    assert "Kan attestera tjänsteutlåtanden" in sida.content.decode()


def test_the_roles_history_begins_with_their_rights_as_they_stand(roller):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    fore, efter = ("arenden", "0020_anvandarhistorik"), ("arenden", "0021_rollhistorik")
    MigrationExecutor(connection).migrate([fore])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([efter])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    attestant = Group.objects.get(name=Roll.ATTESTANT)
    [forsta] = attestant.history.all()
    assert (forsta.history_type, forsta.history_change_reason) == ("+", "Historiken börjar")
    assert {rad.permission_id for rad in forsta.permissions.all()} == set(
        attestant.permissions.values_list("pk", flat=True)
    )
