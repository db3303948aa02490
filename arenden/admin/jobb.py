"""The job queue's page (django-tasks-db, where the meeting packets are built), in Swedish: the
package's own admin, with the columns it names in code rather than through a translation."""

from django.contrib import admin
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class JobbAdmin(DBTaskResultAdmin):
    list_display = ("id", "uppgift", "status", "enqueued_at", "started_at", "finished_at", "priority", "queue_name")

    @admin.display(description="uppgift")
    def uppgift(self, obj):
        return obj.task_name

    @admin.display(description="spårning")
    def formatted_traceback(self, obj):
        return super().formatted_traceback(obj)

    @admin.display(description="körs tidigast")
    def display_run_after(self, obj):
        return super().display_run_after(obj)
