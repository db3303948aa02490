"""The login backend: Django's ModelBackend, with what every page asks about the user read in
the same query as the user."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models.expressions import RawSQL


class ProfilBackend(ModelBackend):
    """Every request loads its user, and most pages then ask for the profile's avdelning and the
    user's roles to know which cases the user may see. The profile is joined to the user row,
    and on PostgreSQL the role names come along as an array (arenden.models.roller reads them):
    two queries fewer on every request."""

    def get_user(self, user_id):
        User = get_user_model()
        users = User._default_manager.select_related("profil")
        if connection.vendor == "postgresql":
            users = users.annotate(rollnamn=_rollnamn(User))
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


def _rollnamn(User):
    """The user's group names as an array, written out: the same subquery built with the ORM
    (an ArraySubquery) cost more to compile than the whole user query takes to run, on every
    request. It names the user table itself, so it serves only a query on that table."""
    quote = connection.ops.quote_name
    groups = User._meta.get_field("groups")
    group, through = Group._meta, groups.remote_field.through._meta
    return RawSQL(
        f"ARRAY(SELECT g.{quote(group.get_field('name').column)} FROM {quote(group.db_table)} g "
        f"JOIN {quote(through.db_table)} ug ON ug.{quote(groups.m2m_reverse_name())} = g.{quote(group.pk.column)} "
        f"WHERE ug.{quote(groups.m2m_column_name())} = {quote(User._meta.db_table)}.{quote(User._meta.pk.column)})",
        (),
    )
