"""The apps of packages that have no Swedish translation, named in Swedish on the admin's pages.
Their models' and fields' names come from the project's catalogue (`locale/sv`)."""

from axes.apps import AppConfig as AxesAppConfig
from django_tasks_db.apps import TasksAppConfig


class InloggningsskyddConfig(AxesAppConfig):
    verbose_name = "Inloggningsskydd"


class BakgrundsjobbConfig(TasksAppConfig):
    verbose_name = "Bakgrundsjobb"
