"""Who may sign in, with which roles and rights, is in the history as the cases are: the admin's
changes to a person are recorded with who made them, a login adds nothing, and no password hash
is copied."""

import html

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from arenden.constants import Roll
from arenden.models import Avdelning
from tests.arenden.test_admin_versioner import _formular
from tests.factories import AvdelningFactory, ProfilFactory, UserFactory

User = get_user_model()


@pytest.fixture
def anna(db):
    user = UserFactory(username="anna", first_name="Anna", last_name="Andersson", is_staff=True)
    ProfilFactory(user=user, befattning="Handläggare")
    return user


def test_a_role_given_and_an_account_closed_in_the_admin_are_in_the_users_history(admin_client, admin_user, anna):
    url = f"/admin/auth/user/{anna.pk}/change/"
    sidan = _formular(admin_client.get(url), "user_form")
    attestant = Group.objects.get(name=Roll.ATTESTANT)
    sidan["groups"] = [str(attestant.pk)]
    sidan.pop("user_permissions", None)
    sidan.pop("is_active")

    response = admin_client.post(url, sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    senaste = anna.history.order_by("history_id").last()
    assert senaste.history_user == admin_user
    assert senaste.is_active is False
    assert [rad.group for rad in senaste.groups.all()] == [attestant]
    # The first row is the account as it was made: active, without the role.
    forsta = anna.history.order_by("history_id").first()
    assert forsta.history_type == "+" and forsta.is_active is True and not forsta.groups.exists()

    historik = admin_client.get(f"/admin/auth/user/{anna.pk}/history/")
    assert historik.status_code == 200
    sida = html.unescape(historik.content.decode())
    assert "Historik: anna" in sida
    assert Roll.ATTESTANT in sida
    assert "root" in sida


def test_a_login_adds_no_history_row_and_no_password_hash_is_kept(client, db):
    user = User.objects.create_user("berit", password="rätt-lösenord-1")
    rader = user.history.count()

    response = client.post("/logga-in/", {"username": "berit", "password": "rätt-lösenord-1"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.last_login is not None
    assert user.history.count() == rader == 1
    historical_fields = {f.name for f in User.history.model._meta.fields}
    assert "password" not in historical_fields and "last_login" not in historical_fields


def test_a_changed_password_is_a_row_without_the_hash(admin_client, anna):
    rader = anna.history.count()
    response = admin_client.post(
        f"/admin/auth/user/{anna.pk}/password/",
        {"password1": "Ett-nytt-lösenord-77", "password2": "Ett-nytt-lösenord-77", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert anna.history.count() == rader + 1


def test_the_history_begins_with_every_user_and_their_roles_as_they_stand(roller):
    fore, efter = ("arenden", "0019_foredragningspunkt_handling"), ("arenden", "0020_anvandarhistorik")
    executor = MigrationExecutor(connection)
    executor.migrate([fore])
    try:
        gamla = executor.loader.project_state(fore).apps
        gammal_user = gamla.get_model("auth", "User").objects.create(username="cecilia", is_staff=True)
        gamla.get_model("auth", "User").groups.through.objects.create(
            user_id=gammal_user.pk, group_id=gamla.get_model("auth", "Group").objects.get(name=Roll.ATTESTANT).pk
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([efter])
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    cecilia = User.objects.get(username="cecilia")
    [forsta] = cecilia.history.all()
    assert (forsta.history_type, forsta.history_change_reason) == ("+", "Historiken börjar")
    assert forsta.is_staff is True
    assert [rad.group.name for rad in forsta.groups.all()] == [Roll.ATTESTANT]


def test_a_users_history_page_makes_as_many_queries_with_many_rights_given_one_by_one(admin_client, anna):
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def fragor():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(f"/admin/auth/user/{anna.pk}/history/").status_code == 200
        return len(queries)

    ratter = list(Permission.objects.order_by("pk")[:30])
    for ratt in ratter[:3]:
        anna.user_permissions.add(ratt)
    anna.groups.add(Group.objects.get(name=Roll.HANDLAGGARE))
    fa = fragor()
    for ratt in ratter[3:]:  # each a history row naming every right she then had
        anna.user_permissions.add(ratt)

    assert anna.history.count() > 30
    assert fragor() == fa


def test_a_users_history_page_reads_who_made_each_change_with_the_rows(admin_client, anna):
    """simple_history joins each row's author, then asks for the rows' tracked foreign keys: for a
    model with none (a user, a role, a nämnd) the call without names dropped the join, and the page
    read each row's author on its own, 50 queries for a page changed by 50 people."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def andrad_av(*personer):
        for i, vem in enumerate(personer):
            anna.first_name, anna._history_user = f"Anna ({i})", vem
            anna.save()

    def fragor():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(f"/admin/auth/user/{anna.pk}/history/").status_code == 200
        return len(queries)

    andrad_av(UserFactory(username="p0"))
    admin_client.get(f"/admin/auth/user/{anna.pk}/history/")  # what the first request reads once
    en = fragor()
    andrad_av(*[UserFactory(username=f"p{i}") for i in range(1, 21)])

    assert fragor() == en


def test_an_old_version_of_a_user_shows_no_password(admin_client, anna):
    version = anna.history.order_by("history_id").first()

    sida = admin_client.get(f"/admin/auth/user/{anna.pk}/history/{version.history_id}/").content.decode()

    assert 'name="username"' in sida or "field-username" in sida
    assert "field-password" not in sida and "Återställ lösenord" not in sida
    # Today's page has it.
    assert "field-password" in admin_client.get(f"/admin/auth/user/{anna.pk}/change/").content.decode()


def test_a_person_read_only_is_shown_without_the_password_reset_link(client, anna):
    # A chef may read a colleague's page, not change it: the password's reset link led to a 403.
    avdelning = AvdelningFactory()
    anna.profil.avdelning = avdelning
    anna.profil.save()
    chef = ProfilFactory(
        user=UserFactory(username="chefen", roller=[Roll.ATTESTANT], is_staff=True), avdelning=avdelning
    ).user
    client.force_login(chef)
    response = client.get(f"/admin/auth/user/{anna.pk}/change/")
    assert response.status_code == 200
    sida = response.content.decode()
    assert "field-username" in sida
    assert "field-password" not in sida and "Återställ lösenord" not in sida
    assert client.get(f"/admin/auth/user/{anna.pk}/password/").status_code == 403


def test_an_avdelning_that_people_work_in_is_not_deleted_from_under_them(admin_client, anna):
    """Deleting an avdelning emptied its people's profiles in one UPDATE: no row in their history,
    and they lost every case of the förvaltning that the avdelning gave them, with no word said."""
    avdelning = AvdelningFactory(namn="Individ och familj")
    anna.profil.avdelning = avdelning
    anna.profil.save()
    rader_fore = anna.profil.history.count()

    sidan = admin_client.get(f"/admin/arenden/avdelning/{avdelning.pk}/delete/")
    assert "Anna Andersson" in sidan.content.decode()  # named as what stops the deletion
    admin_client.post(f"/admin/arenden/avdelning/{avdelning.pk}/delete/", {"post": "yes"})
    admin_client.post(
        "/admin/arenden/avdelning/",
        {"action": "delete_selected", "_selected_action": [avdelning.pk], "post": "yes"},
    )

    anna.profil.refresh_from_db()
    assert anna.profil.avdelning == avdelning
    assert anna.profil.history.count() == rader_fore


def test_an_avdelning_no_one_works_in_can_be_deleted(admin_client, db):
    avdelning = AvdelningFactory(namn="Nedlagd avdelning")
    response = admin_client.post(f"/admin/arenden/avdelning/{avdelning.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Avdelning.objects.filter(pk=avdelning.pk).exists()
