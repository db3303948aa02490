"""When PostgreSQL cannot be reached (a restart, a failover) users get a Swedish 503 page with
Retry-After, never a traceback or a generic 500. The database really is unreachable here: the
app runs in a subprocess pointed at a port where nothing listens."""

import json
import os
import socket
import subprocess
import sys

from django.conf import settings

SCRIPT = """
import json, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
answers = {}
r = client.post("/logga-in/", {"username": "anette", "password": "skarholmen-demo"})
answers["login"] = [r.status_code, r.get("Retry-After"), r["Content-Type"], r.content.decode()]
client.cookies["sessionid"] = "x" * 32
r = client.post("/tjansteutlatanden/1/sektioner/1/", '{"text": "t", "version": 1}', content_type="application/json")
answers["save"] = [r.status_code, r.get("Retry-After"), r["Content-Type"], r.content.decode()]
r = client.post("/tjansteutlatanden/1/atgarder/ny/", {"titel": "t"}, headers={"Accept": "application/json"})
answers["ny_atgard"] = [r.status_code, r.get("Retry-After"), r["Content-Type"], r.content.decode()]
print(json.dumps(answers))
"""


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_database_gives_swedish_503_with_retry_after():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "skarholmen.settings",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/skarholmen",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])

    status, retry_after, content_type, body = answers["login"]
    assert (status, retry_after) == (503, "30")
    assert content_type.startswith("text/html")
    assert '<html lang="sv">' in body and "tillfälligt otillgänglig" in body
    assert "Traceback" not in body and "OperationalError" not in body and "psycopg" not in body

    # The editor's saves go as JSON; its new-åtgärd form as multipart, asking for JSON back.
    for answer in ("save", "ny_atgard"):
        status, retry_after, content_type, body = answers[answer]
        assert (status, retry_after, content_type) == (503, "30", "application/json")
        assert json.loads(body)["fel"].startswith("Databasen går inte att nå just nu")
