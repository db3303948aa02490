"""What every request reads about its user: the user, the profile and the roles, together."""

from django.contrib.auth.models import Group
from django.db import connection

from arenden.constants import Roll
from arenden.models import roller
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
