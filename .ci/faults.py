"""Fault test: the app under load while a gunicorn worker is killed and PostgreSQL restarts.

Runs against a PRIVATE PostgreSQL cluster made here (initdb in a temp dir, its own port, as the
postgres user when run as root), never the shared one. Simulated officers save sections (with
the editor's optimistic-lock version) and register new ärenden while, mid-run, one gunicorn
worker gets SIGKILL and PostgreSQL is stopped hard (`-m immediate`, as in a crash) and started
again. Every answer is kept. Afterwards it fails (exit 1) when

- a save answered 200 is missing from the database or has no history row with that version and text,
- an ärende answered as registered is missing or has another diarienummer,
- a diarienummer series repeats or skips a number (or its counter disagrees),
- any response shows a traceback, or an error status comes without a Swedish page / message.

    .venv/bin/python .ci/faults.py --seconds 20
"""

import argparse
import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_EDITOR = re.compile(r'data-csrf="([^"]+)"')
SECTION = re.compile(r'data-sektion="(\d+)" data-version="(\d+)" data-url="([^"]+)"')
DIARIENUMMER = re.compile(r"registrerat med diarienummer ([^.<]+)\.")
LEAKS = ("Traceback", "OperationalError", "InterfaceError", "psycopg", 'File "/')


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """A throwaway cluster in a temp dir; as root its files and processes belong to postgres."""

    def __init__(self, base):
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
        if not versions:
            raise SystemExit("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are missing.")
        self.bin = Path(versions[-1])
        self.dir = Path(base) / "pg"
        self.dir.mkdir()
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
            os.chmod(base, 0o755)

    def run(self, *args, check=True):
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def init(self):
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        self.start()

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w", "-t", "60", "start")

    def crash(self):
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self):
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def url(self, name):
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


class Answers:
    """Everything the clients were told, shared between their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.saves = []  # (sektion pk, version, text) answered 200
        self.registrations = []  # (arende pk, diarienummer or None)
        self.bad_pages = []
        self.statuses = {}
        self.connection_errors = 0

    def saw(self, response):
        with self.lock:
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        body = response.text
        leak = next((word for word in LEAKS if word in body), None)
        problem = None
        if leak:
            problem = f"shows {leak!r}"
        elif response.status_code >= 400:
            kind = response.headers.get("Content-Type", "")
            if kind.startswith("application/json"):
                if not str(response.json().get("fel", "")).strip():
                    problem = "JSON error without a Swedish message"
            elif '<html lang="sv">' not in body:
                problem = "error page that is not the Swedish one"
        if problem:
            with self.lock:
                self.bad_pages.append(f"{response.status_code} {response.request.method} {response.url}: {problem}")


class Officer(threading.Thread):
    """One handläggare: logs in, then saves sections of their own draft or registers a case."""

    def __init__(self, base, account, password, answers, stop, registers):
        super().__init__(daemon=True)
        self.base, self.account, self.password = base, account, password
        self.answers, self.stop, self.registers = answers, stop, registers
        self.http = requests.Session()
        self.sections = []
        self.csrf = None
        self.counter = 0

    def get(self, path, **kwargs):
        response = self.http.get(self.base + path, timeout=30, **kwargs)
        self.answers.saw(response)
        return response

    def post(self, path, **kwargs):
        response = self.http.post(self.base + path, timeout=30, **kwargs)
        self.answers.saw(response)
        return response

    def login(self):
        page = self.get("/logga-in/")
        token = CSRF_INPUT.search(page.text).group(1)
        response = self.post(
            "/logga-in/",
            data={"username": self.account["username"], "password": self.password, "csrfmiddlewaretoken": token},
            allow_redirects=False,
        )
        return response.status_code == 302 and "/logga-in/" not in response.headers.get("Location", "")

    def open_editor(self):
        page = self.get(f"/tjansteutlatanden/{self.account['tjansteutlatande']}/redigera/", allow_redirects=False)
        if page.status_code != 200:
            return False
        self.csrf = CSRF_EDITOR.search(page.text).group(1)
        self.sections = [{"pk": int(p), "version": int(v), "url": u} for p, v, u in SECTION.findall(page.text)]
        return bool(self.sections)

    def save(self):
        section = self.sections[self.counter % len(self.sections)]
        self.counter += 1
        text = f"<p>{self.account['username']} sparar version {self.counter} ({secrets.token_hex(4)}).</p>"
        response = self.post(
            section["url"],
            json={"text": text, "version": section["version"]},
            headers={"X-CSRFToken": self.csrf, "Accept": "application/json"},
            allow_redirects=False,
        )
        if response.status_code == 200:
            version = response.json()["version"]
            with self.answers.lock:
                self.answers.saves.append((section["pk"], version, text))
            section["version"] = version
        elif response.status_code == 409:
            # Our earlier save was committed but its answer was lost (the worker died or the
            # database went away after the commit): continue from the version that is stored.
            section["version"] = response.json()["current_version"]

    def register(self):
        page = self.get("/arenden/nytt/", allow_redirects=False)
        if page.status_code != 200:
            return
        token = CSRF_INPUT.search(page.text).group(1)
        self.counter += 1
        titel = f"Felprov {self.account['username']} {self.counter}"
        response = self.post(
            "/arenden/nytt/",
            data={
                "csrfmiddlewaretoken": token,
                "titel": titel,
                "forfattare": "Ledamöter i stadsdelsnämnden",
                "beredning_datum": "2024-03-14",
                "text": "Skrivelse inför sammanträdet.",
                "arendemening": "",
            },
            allow_redirects=False,
        )
        location = response.headers.get("Location", "") if response.status_code == 302 else ""
        match = re.fullmatch(r"/arenden/(\d+)/", location)
        if not match:
            return
        pk = int(match.group(1))
        diarienummer = None
        try:
            shown = self.get(f"/arenden/{pk}/", allow_redirects=False)
            found = DIARIENUMMER.search(shown.text)
            diarienummer = found.group(1).strip() if found else None
        except requests.RequestException:
            pass
        with self.answers.lock:
            self.answers.registrations.append((pk, diarienummer))

    def run(self):
        logged_in = False
        while not self.stop.is_set():
            try:
                if not logged_in:
                    logged_in = self.login() and (self.registers or self.open_editor())
                    if not logged_in:
                        time.sleep(0.5)
                    continue
                if self.registers:
                    self.register()
                elif not self.sections:
                    self.open_editor()
                else:
                    self.save()
            except requests.RequestException:
                with self.answers.lock:
                    self.answers.connection_errors += 1
                time.sleep(0.2)
            except (AttributeError, ValueError, KeyError):
                # A page without the expected form (an error page, already counted): start over.
                logged_in = False
                time.sleep(0.2)
            time.sleep(0.05)


def gunicorn_workers(master_pid):
    return [child.pid for child in psutil.Process(master_pid).children()]


def verify(answers, started_year):
    """Check what the clients were told against the database, through the app's own models."""
    import django

    django.setup()
    from django.db.models import Count

    from arenden.models import Arende, DiarieSekvens, Sektion

    problems = []
    history = Sektion.history.model
    for pk, version, text in answers.saves:
        if not Sektion.objects.filter(pk=pk, version__gte=version).exists():
            problems.append(f"save of sektion {pk} version {version} was acknowledged but is not stored")
        elif not history.objects.filter(id=pk, version=version, text=text).exists():
            problems.append(f"save of sektion {pk} version {version} has no history row")
    for pk, diarienummer in answers.registrations:
        arende = Arende.objects.filter(pk=pk).first()
        if arende is None:
            problems.append(f"ärende {pk} was acknowledged as registered but is not stored")
        elif diarienummer and arende.diarienummer != diarienummer:
            problems.append(f"ärende {pk} was shown as {diarienummer} but is stored as {arende.diarienummer}")
        elif not arende.history.exists():
            problems.append(f"ärende {pk} has no history row")
    duplicates = Arende.objects.values("diarienummer").annotate(n=Count("pk")).filter(n__gt=1)
    problems += [f"diarienummer {row['diarienummer']} is used {row['n']} times" for row in duplicates]
    for series in DiarieSekvens.objects.filter(ar__gte=started_year):
        numbers = sorted(
            Arende.objects.filter(diarienummer__startswith=f"{series.prefix} {series.ar}/").values_list(
                "lopnummer", flat=True
            )
        )
        if numbers != list(range(1, series.senaste + 1)):
            missing = sorted(set(range(1, series.senaste + 1)) - set(numbers))
            problems.append(
                f"series {series.prefix} {series.ar} has numbers {numbers[:5]}…{numbers[-5:]} for counter "
                f"{series.senaste} (missing {missing[:10]})"
            )
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of the load (the faults come within it)")
    parser.add_argument("--officers", type=int, default=6, help="officers saving sections")
    parser.add_argument("--registrars", type=int, default=2, help="officers registering new ärenden")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    args = parser.parse_args()

    # `timeout` (.ci/faults) stops the run with SIGTERM: exit through `finally`, so that the private
    # cluster, gunicorn and the folder go with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("fault test: stopped by SIGTERM"))
    began = time.monotonic()
    base = tempfile.mkdtemp(prefix="skarholmen-faults.")
    pg = PrivatePostgres(base)
    gunicorn = None
    try:
        log(f"private PostgreSQL ({pg.bin.parent.name}) on 127.0.0.1:{pg.port} in {pg.dir}")
        pg.init()
        subprocess.run(
            [str(pg.bin / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "skarholmen_faults"],
            check=True,
            timeout=60,
        )
        env = {
            **os.environ,
            "DATABASE_URL": pg.url("skarholmen_faults"),
            "PRODUCTION": "true",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_HSTS_SECONDS": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "STATIC_ROOT": f"{base}/static",
            "MEDIA_ROOT": f"{base}/media",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "skarholmen.settings",
        }
        os.environ.update(env)
        manage = [PY, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], check=True, env=env, timeout=300)
        # The demo's accounts are refused in production; the test uses them on its private cluster.
        demo_env = {**env, "PRODUCTION": "false"}
        subprocess.run([*manage, "load_demo"], check=True, env=demo_env, timeout=300, stdout=subprocess.DEVNULL)
        plan_file = Path(base) / "plan.json"
        subprocess.run(
            [
                PY,
                str(ROOT / "bench" / "load_setup.py"),
                str(plan_file),
                "--chefer",
                "0",
                "--no-pdf",
                "--handlaggare",
                str(args.officers + args.registrars),
            ],
            check=True,
            env=env,
            timeout=300,
        )
        subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], check=True, env=env, timeout=300)
        plan = json.loads(plan_file.read_text())

        port = free_port()
        gunicorn_log = open(Path(base) / "gunicorn.log", "w")
        gunicorn = subprocess.Popen(
            [str(Path(PY).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            stdout=gunicorn_log,
            stderr=subprocess.STDOUT,
            env={
                **env,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": str(args.workers),
                "GUNICORN_TIMEOUT": "30",
            },
        )
        base_url = f"http://127.0.0.1:{port}"
        for _ in range(60):
            try:
                requests.get(base_url + "/logga-in/", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.5)
        log(f"gunicorn on {base_url} ({args.workers} workers); load for {args.seconds:g} s")

        answers, stop = Answers(), threading.Event()
        accounts = plan["handlaggare"]
        officers = [
            Officer(base_url, account, plan["password"], answers, stop, registers=i >= args.officers)
            for i, account in enumerate(accounts)
        ]
        started_year = time.localtime().tm_year
        for officer in officers:
            officer.start()
        start = time.monotonic()

        def at(fraction):
            time.sleep(max(0.0, start + args.seconds * fraction - time.monotonic()))

        at(0.3)
        victim = gunicorn_workers(gunicorn.pid)[0]
        os.kill(victim, signal.SIGKILL)
        log(f"SIGKILL gunicorn worker {victim} ({len(answers.saves)} saves acknowledged so far)")
        at(0.5)
        pg.crash()
        log("PostgreSQL stopped hard (immediate: no checkpoint, like a crash)")
        time.sleep(2)
        pg.start()
        log("PostgreSQL started again")
        at(1.0)
        stop.set()
        for officer in officers:
            officer.join(40)
        log(
            f"answers: {answers.statuses}, {answers.connection_errors} connection errors, "
            f"{len(answers.saves)} saves and {len(answers.registrations)} registrations acknowledged"
        )

        problems = verify(answers, started_year)
        problems += [f"bad page: {page}" for page in answers.bad_pages[:20]]
        if len(answers.saves) < 10 or len(answers.registrations) < 3:
            problems.append("too little was acknowledged for the test to mean anything")
        if not any(status == 503 for status in answers.statuses):
            problems.append("no request met the database restart (no 503 answer): the fault was not exercised")
        if problems:
            print("FAULT TEST FAILED:")
            for problem in problems:
                print(" -", problem)
            return 1
        print(
            f"fault test passed: {len(answers.saves)} acknowledged saves and {len(answers.registrations)} "
            "registrations are stored with their history, every diarienummer series is without repeats or "
            f"holes, and every error answer was a Swedish page ({time.monotonic() - began:.0f} s with set-up)"
        )
        return 0
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
