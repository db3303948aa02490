"""The admin of the packages without a Swedish translation (django-axes, django-tasks-db) speaks
Swedish to the superuser, who alone sees their pages: the app names, the model names, the
column headers, the filters and the choices."""

import re
import uuid

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

ENGELSKA = [
    "Axes",
    "Access attempt",
    "Access failure",
    "Access log",
    "Tasks Database Backend",
    "Task Result",
    "Task result",
    "Attempt Time",
    "Attempt time",
    "IP Address",
    "User Agent",
    "Username",
    "Path",
    "Failed Logins",
    "Logout Time",
    "Access lock out",
    "Locked Out",
    "Attempt Remaining",
    "Task name",
    "Enqueued at",
    "Started at",
    "Finished at",
    "Priority",
    "Queue name",
    "Successful",
    "Ready",
]


def _text(response):
    """What the page shows: its HTML without the tags' attributes and the scripts' code."""
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"<([a-zA-Z0-9]+)[^>]*>", r"<\1>", html)


def _inga_engelska(text, sida):
    for ord_ in ENGELSKA:
        assert ord_ not in text, f"{ord_!r} på {sida}"


@pytest.fixture
def rader(db):
    AccessAttempt.objects.create(
        user_agent="Firefox",
        ip_address="203.0.113.7",
        username="anette",
        http_accept="text/html",
        path_info="/logga-in/",
        get_data="",
        post_data="",
        failures_since_start=2,
    )
    AccessLog.objects.create(
        user_agent="Firefox", ip_address="203.0.113.7", username="anette", http_accept="*/*", path_info="/logga-in/"
    )
    AccessFailureLog.objects.create(
        user_agent="Firefox", ip_address="203.0.113.7", username="anette", http_accept="*/*", path_info="/logga-in/"
    )
    DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status="SUCCESSFUL",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="arenden.tasks.exportera_sammantrade",
        backend_name="default",
        run_after=timezone.now(),
        finished_at=timezone.now(),
    )


def test_the_admin_index_names_the_login_and_job_tables_in_swedish(admin_client, rader):
    text = _text(admin_client.get("/admin/"))
    for namn in ("Inloggningsskydd", "Inloggningsförsök", "Misslyckade inloggningar", "Inloggningar"):
        assert namn in text
    for namn in ("Bakgrundsjobb", "Jobb"):
        assert namn in text
    _inga_engelska(text, "/admin/")


@pytest.mark.parametrize(
    ("sida", "svenska"),
    [
        (
            "/admin/axes/accessattempt/",
            ["Inloggningsförsök", "Tidpunkt", "IP-adress", "Webbläsare", "Användarnamn", "Sökväg", "Spärrad", "Status"],
        ),
        ("/admin/axes/accesslog/", ["Inloggningar", "Tidpunkt", "Utloggad", "IP-adress", "Användarnamn", "Sökväg"]),
        (
            "/admin/axes/accessfailurelog/",
            ["Misslyckade inloggningar", "Tidpunkt", "IP-adress", "Användarnamn", "Sökväg", "Spärrad"],
        ),
        (
            "/admin/django_tasks_database/dbtaskresult/",
            ["Jobb", "Uppgift", "Status", "Köad", "Startad", "Klar", "Prioritet", "Kö", "Lyckades"],
        ),
    ],
)
def test_each_list_of_the_login_and_job_tables_is_in_swedish(admin_client, rader, sida, svenska):
    response = admin_client.get(sida)
    assert response.status_code == 200
    text = _text(response)
    for namn in svenska:
        assert namn in text, namn
    _inga_engelska(text, sida)
