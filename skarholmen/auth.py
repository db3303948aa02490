"""The login backend: Django's ModelBackend, with the user's profile read in the same query."""

from django.contrib.auth.backends import ModelBackend


class ProfilBackend(ModelBackend):
    """Every request loads its user, and most pages then read the profile's avdelning to know
    which cases the user may see: one join instead of a second query on every request."""

    def get_user(self, user_id):
        user = self.get_user_queryset().filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_user_queryset(self):
        from django.contrib.auth import get_user_model

        return get_user_model()._default_manager.select_related("profil")
