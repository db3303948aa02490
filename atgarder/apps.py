from django.apps import AppConfig


class AtgarderConfig(AppConfig):
    name = "atgarder"
    verbose_name = "Drogscener och åtgärder"
