"""`make prune`: the job queue's finished rows go after their retention, and nothing else does:
not a job that waits or runs, not an export's row or its file."""

import datetime
import os
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from arenden import services
from arenden.constants import ExportStatus
from arenden.models import Sammantradesexport
from tests.arenden.meeting import attesterat_dokument, sammantrade, sekreterare

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url():
    """The test database, for a `make` run in a process of its own."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _prune():
    env = {**os.environ, "DATABASE_URL": _database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    result = subprocess.run(
        ["make", "-s", "prune"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _jobb(status, dagar_sedan, **falt):
    """A job row as the worker leaves it, `dagar_sedan` days ago."""
    da = timezone.now() - datetime.timedelta(days=dagar_sedan)
    if status in ("SUCCESSFUL", "FAILED"):
        falt.setdefault("started_at", da)
        falt.setdefault("finished_at", da)
    elif status == "RUNNING":
        falt.setdefault("started_at", da)
    jobb = DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [0], "kwargs": {}},  # no export: the worker never runs these
        task_path="arenden.tasks.bygg_export",
        backend_name="default",
        queue_name="default",
        run_after=get_date_max(),
        **falt,
    )
    DBTaskResult.objects.filter(pk=jobb.pk).update(enqueued_at=da)
    return jobb.pk


def _bestall(mote, sekr, typ):
    return services.bestall_export(sammantrade=mote, typ=typ, user=sekr)


def _jobbet(export):
    """The job that builds `export` (bygg_export's one argument is the export's id)."""
    (jobb,) = [j for j in DBTaskResult.objects.all() if j.args_kwargs["args"] == [export.pk]]
    return jobb


def test_prune_removes_old_finished_jobs_and_keeps_recent_waiting_and_running_ones_and_the_exports():
    sekr = sekreterare()
    mote = sammantrade()
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)

    # A packet built a month ago: its job done long since, its file the meeting's packet.
    klar = _bestall(mote, sekr, "paket")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    klar.refresh_from_db()
    assert klar.status == ExportStatus.KLAR and klar.fil
    gammal = timezone.now() - datetime.timedelta(days=30)
    DBTaskResult.objects.filter(pk=_jobbet(klar).pk).update(enqueued_at=gammal, started_at=gammal, finished_at=gammal)
    # A zip ordered when no worker ran, still waiting for one: its job is as old, and not done.
    vantar = _bestall(mote, sekr, "zip")
    DBTaskResult.objects.filter(pk=_jobbet(vantar).pk).update(enqueued_at=gammal)

    borta = {
        _jobb("SUCCESSFUL", 15),
        _jobb("FAILED", 91, exception_class_path="arenden.pdf.PunktFel", traceback="Traceback …"),
        _jobbet(klar).pk,
    }
    kvar = {
        _jobb("SUCCESSFUL", 13),
        _jobb("FAILED", 89, exception_class_path="arenden.pdf.PunktFel", traceback="Traceback …"),
        _jobb("RUNNING", 60),  # a worker killed mid-job leaves it so: not finished
        _jobbet(vantar).pk,
    }

    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == borta | kvar

    assert "Deleted 3 task result(s)" in _prune().stdout

    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == kvar
    assert {e.pk: e.status for e in Sammantradesexport.objects.all()} == {
        klar.pk: ExportStatus.KLAR,
        vantar.pk: ExportStatus.VANTAR,
    }
    klar.refresh_from_db()
    assert klar.fil.storage.exists(klar.fil.name)
    # The waiting export's job is still there for the worker, which builds it.
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    vantar.refresh_from_db()
    assert vantar.status == ExportStatus.KLAR and vantar.fil.storage.exists(vantar.fil.name)
