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
