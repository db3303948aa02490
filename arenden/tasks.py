"""Background jobs, run by django-tasks' database worker (`manage.py db_worker`)."""

from django_tasks import task

from . import services


@task()
def bygg_export(export_id):
    """Build a meeting packet or zip that a secretary ordered (services.bestall_export)."""
    services.kor_export(export_id=export_id)
