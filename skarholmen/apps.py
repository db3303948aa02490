"""The apps of packages that have no Swedish translation, named in Swedish on the admin's pages.
Their models' and fields' names come from the project's catalogue (`locale/sv`). And Django's
admin, on the project's own site."""

from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin.apps import AdminConfig
from django_tasks_db.apps import TasksAppConfig


class InloggningsskyddConfig(AxesAppConfig):
    verbose_name = "Inloggningsskydd"


class BakgrundsjobbConfig(TasksAppConfig):
    verbose_name = "Bakgrundsjobb"


class AdministrationConfig(AdminConfig):
    # Django's admin, on a site of its own (skarholmen/adminsite.py): `admin.site` is that site.
    default_site = "skarholmen.adminsite.AdminSite"
