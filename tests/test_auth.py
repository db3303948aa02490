"""What every request reads about its user: the user, the profile and the roles, together."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from arenden.constants import Roll
from arenden.models import Profil, roller
from skarholmen.auth import ProfilBackend
from tests.factories import AvdelningFactory, ProfilFactory, UserFactory


def test_a_request_reads_its_user_with_profile_and_roles(db, django_assert_num_queries):
    avdelning = AvdelningFactory()
    user = ProfilFactory(user=UserFactory(roller=[Roll.HANDLAGGARE, Roll.REGISTRATOR]), avdelning=avdelning).user
    # One query on PostgreSQL (the role names come as an array in the user's row); SQLite
    # asks for the roles on their own.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        loaded = ProfilBackend().get_user(user.pk)
        assert roller(loaded) == {Roll.HANDLAGGARE, Roll.REGISTRATOR}
        assert loaded.profil.avdelning_id == avdelning.pk


def test_a_role_taken_away_is_gone_on_the_next_request(db):
    user = UserFactory(roller=[Roll.HANDLAGGARE])
    assert roller(ProfilBackend().get_user(user.pk)) == {Roll.HANDLAGGARE}
    user.groups.remove(Group.objects.get(name=Roll.HANDLAGGARE))
    loaded = ProfilBackend().get_user(user.pk)
    assert roller(loaded) == frozenset()
    assert getattr(loaded, "profil", None) is None  # a user without a profile loads as well


def test_an_inactive_user_is_not_loaded(db):
    user = UserFactory(is_active=False)
    assert ProfilBackend().get_user(user.pk) is None


def test_the_loaded_user_is_the_same_as_the_orms_in_every_field(db, django_assert_num_queries):
    user = ProfilFactory(user=UserFactory(roller=[Roll.ATTESTANT], email="a@example.se"), befattning="Enhetschef").user
    user.last_login = timezone.now()
    user.save()
    orm = get_user_model().objects.select_related("profil").get(pk=user.pk)
    loaded = ProfilBackend().get_user(user.pk)
    for field in get_user_model()._meta.concrete_fields + Profil._meta.concrete_fields:
        owner, expected = (loaded, orm) if field.model is get_user_model() else (loaded.profil, orm.profil)
        assert getattr(owner, field.attname) == getattr(expected, field.attname), field.name
    # A complete instance: nothing deferred, its profile points back at it, saving it writes no
    # stale column, and nothing more is read to use it.
    assert loaded.get_deferred_fields() == set()
    with django_assert_num_queries(0):
        assert loaded.profil.user is loaded
        assert loaded.get_full_name() == orm.get_full_name()
    loaded.first_name = "Ändrad"
    loaded.save()
    assert get_user_model().objects.get(pk=user.pk).email == "a@example.se"


def test_a_user_without_profile_or_id_in_the_database(db, django_assert_num_queries):
    user = UserFactory()
    loaded = ProfilBackend().get_user(user.pk)
    with django_assert_num_queries(0):
        assert getattr(loaded, "profil", None) is None
    assert ProfilBackend().get_user(user.pk + 1000) is None


def test_a_users_permissions_are_read_in_one_query_as_modelbackend_gives_them(db, django_assert_num_queries):
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Permission

    attest = Permission.objects.get(codename="attestera_tjansteutlatande")
    officer = UserFactory(username="handlaggare", roller=[Roll.HANDLAGGARE])
    personlig = UserFactory(username="personlig")
    personlig.user_permissions.add(attest)
    bada = UserFactory(username="bada", roller=[Roll.REGISTRATOR])
    bada.user_permissions.add(attest)
    inaktiv = UserFactory(username="inaktiv", roller=[Roll.HANDLAGGARE], is_active=False)
    for user in (officer, personlig, bada, UserFactory(username="ingen"), inaktiv):
        forvantat = ModelBackend().get_all_permissions(get_user_model().objects.get(pk=user.pk))
        loaded = get_user_model().objects.get(pk=user.pk)
        with django_assert_num_queries(0 if user is inaktiv else 1):
            assert ProfilBackend().get_all_permissions(loaded) == forvantat
            assert loaded.has_perm("arenden.change_tjansteutlatande") == (user is officer)
            assert loaded.has_perm("arenden.attestera_tjansteutlatande") == (user in (personlig, bada))
    assert ProfilBackend().get_all_permissions(officer) >= {"arenden.change_tjansteutlatande"}
