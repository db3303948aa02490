from django.apps import AppConfig


class ArendenConfig(AppConfig):
    name = "arenden"
    verbose_name = "Ärenden"

    def ready(self):
        from skarholmen import sqlite  # noqa: F401  (connects its signal)
