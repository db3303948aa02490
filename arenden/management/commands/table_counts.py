"""Print the row count of every table the project's models own, as JSON (for backup checks)."""

import json

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Skriver antalet rader i varje tabell som JSON."

    def handle(self, *args, **options):
        counts = {
            model._meta.db_table: model._default_manager.using("default").count()
            for model in apps.get_models(include_auto_created=True)
        }
        self.stdout.write(json.dumps(dict(sorted(counts.items())), indent=1))
