"""The login backend: Django's ModelBackend, with what every page asks about the user read in
the same query as the user."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import OuterRef


class ProfilBackend(ModelBackend):
    """Every request loads its user, and most pages then ask for the profile's avdelning and the
    user's roles to know which cases the user may see. The profile is joined to the user row,
    and on PostgreSQL the role names come along as an array (arenden.models.roller reads them):
    two queries fewer on every request."""

    def get_user(self, user_id):
        user = self.get_user_queryset().filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_user_queryset(self):
        users = get_user_model()._default_manager.select_related("profil")
        if connection.vendor == "postgresql":
            from django.contrib.postgres.expressions import ArraySubquery

            users = users.annotate(rollnamn=ArraySubquery(Group.objects.filter(user=OuterRef("pk")).values("name")))
        return users
