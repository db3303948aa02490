"""The simulated users of bench/load.sh (locust, headless).

Handläggare mostly read (Mina ärenden, a case, a drogscen, the diarium search, attested PDFs)
and now and then open the editor, save a section with the version the editor holds (the
optimistic lock) and download their own draft as PDF. Attestants attest the documents sent to
them in the admin. Every user logs in once, at start (password hashing is deliberately slow);
the measured two minutes start when all have logged in, so logins are reported on their own.
"""

import itertools
import json
import os
import random
import re
import statistics
import sys
import time

import gevent
import psutil
from locust import FastHttpUser, between, events, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"], encoding="utf-8").read())
SECONDS = float(os.environ.get("LOAD_SECONDS", "120"))
TARGET_P95_MS = 300
TARGET_RPS = 150

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_EDITOR = re.compile(r'data-csrf="([^"]+)"')
INNEHALL = re.compile(r'name="innehall_hash" value="([0-9a-f]+)"')
SECTION = re.compile(r'data-sektion="(\d+)" data-version="(\d+)" data-url="([^"]+)"')

_officers = itertools.cycle(PLAN["handlaggare"])
_chefs = itertools.cycle(PLAN["chefer"])
_logins = {"started": 0, "done": 0, "failed": 0, "seconds": []}
_measure = {"start": None, "cpu": None}


def _cpu_seconds():
    """CPU seconds used so far by gunicorn (master, workers, their PDF render processes), by
    the PostgreSQL backends serving the load database and by locust itself: divided by the
    requests, the cost of a request whatever else the machine is doing."""
    totals = {"app": 0.0, "db": 0.0, "locust": 0.0}
    processes = [("locust", psutil.Process())]
    if os.environ.get("LOAD_GUNICORN_PID"):
        master = psutil.Process(int(os.environ["LOAD_GUNICORN_PID"]))
        processes += [("app", p) for p in [master, *master.children(recursive=True)]]
    database = os.environ.get("LOAD_DB_NAME")
    postmasters = set()
    if database:
        for process in psutil.process_iter(["cmdline", "ppid"]):
            if " ".join(process.info["cmdline"] or []).startswith("postgres:") and f" {database} " in " ".join(
                process.info["cmdline"]
            ):
                processes.append(("db", process))
                postmasters.add(process.info["ppid"])
    for kind, process in processes:
        try:
            times = process.cpu_times()
            totals[kind] += times.user + times.system
            if kind == "app":
                # Workers that gunicorn replaced (max_requests) and render processes that ended
                # count in their parent's time for its waited-for children.
                totals[kind] += times.children_user + times.children_system
        except psutil.Error:
            pass
    for pid in postmasters:
        # Backends that ended (a worker replaced, a connection past its age) and the autovacuum
        # workers the load set off count in the postmaster's time for its children.
        try:
            times = psutil.Process(pid).cpu_times()
            totals["db"] += times.children_user + times.children_system
        except psutil.Error:
            pass
    return totals


def _all_logged_in(environment):
    """Start the measured window: forget the login phase, stop after SECONDS."""
    environment.stats.reset_all()
    _measure["start"] = time.time()
    _measure["cpu"] = _cpu_seconds()
    print(f"Alla {_logins['done']} användare inloggade; mäter i {SECONDS:g} s.", flush=True)
    gevent.spawn_later(SECONDS, environment.runner.quit)


class LoggedIn(FastHttpUser):
    abstract = True
    # Short pauses between clicks: 50 people working fast, to reach the request rate the
    # target names with the user count it names.
    wait_time = between(0.05, 0.45)
    account = None

    def on_start(self):
        _logins["started"] += 1
        started = time.perf_counter()
        page = self.client.get("/logga-in/", name="logga in (sida)")
        token = CSRF_INPUT.search(page.text).group(1)
        with self.client.post(
            "/logga-in/",
            data={"username": self.account["username"], "password": PLAN["password"], "csrfmiddlewaretoken": token},
            name="logga in",
            catch_response=True,
        ) as response:
            if "/logga-in/" in response.url or response.status_code != 200:
                response.failure("inloggningen misslyckades")
                _logins["failed"] += 1
            else:
                _logins["done"] += 1
        _logins["seconds"].append(time.perf_counter() - started)
        if _logins["done"] + _logins["failed"] == self.environment.parsed_options.num_users:
            _all_logged_in(self.environment)

    def read(self, url, name):
        self.client.get(url, name=name)


class Handlaggare(LoggedIn):
    def on_start(self):
        self.account = next(_officers)
        super().on_start()
        self.tu = self.account["tjansteutlatande"]
        self.sections = []
        self.csrf = None

    @task(20)
    def mina_arenden(self):
        self.read("/", "/ (mina ärenden)")

    @task(4)
    def mina_arenden_filtrerade(self):
        self.read("/?status=avslutat&sida=2", "/?status=&sida= (mina ärenden, filtrerat)")

    @task(20)
    def arende(self):
        self.read(f"/arenden/{random.choice(PLAN['arenden'])}/", "/arenden/[id]/")

    @task(10)
    def drogscen(self):
        self.read(f"/drogscener/{random.choice(PLAN['drogscener'])}/", "/drogscener/[id]/")

    @task(10)
    def sok(self):
        self.client.get("/sok/", params={"q": random.choice(PLAN["sokord"])}, name="/sok/?q=")

    @task(10)
    def attesterad_pdf(self):
        if PLAN["attesterade"]:
            pk = random.choice(PLAN["attesterade"])
            self.read(f"/tjansteutlatanden/{pk}/pdf/", "/tjansteutlatanden/[id]/pdf/ (attesterad)")

    @task(4)
    def redigera(self):
        page = self.client.get(f"/tjansteutlatanden/{self.tu}/redigera/", name="/tjansteutlatanden/[id]/redigera/")
        self.csrf = CSRF_EDITOR.search(page.text).group(1)
        self.sections = [
            {"pk": int(pk), "version": int(version), "url": url} for pk, version, url in SECTION.findall(page.text)
        ]

    @task(8)
    def spara_sektion(self):
        if not self.sections:
            self.redigera()
        section = random.choice(self.sections)
        text = f"<p>Förvaltningen har sett över platsen {random.randint(1, 10**9)} gånger.</p>"
        with self.client.post(
            section["url"],
            json={"text": text, "version": section["version"]},
            headers={"X-CSRFToken": self.csrf, "Accept": "application/json"},
            name="/tjansteutlatanden/[id]/sektioner/[id]/ (spara)",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                section["version"] = response.json()["version"]
            else:
                response.failure(f"sparades inte: {response.status_code} {response.text[:200]}")

    @task(1)
    def eget_utkast_som_pdf(self):
        self.read(f"/tjansteutlatanden/{self.tu}/pdf/", "/tjansteutlatanden/[id]/pdf/ (utkast)")


class Attestant(LoggedIn):
    fixed_count = len(PLAN["chefer"])

    def on_start(self):
        self.account = next(_chefs)
        self.queue = list(self.account["att_attestera"])
        super().on_start()

    @task(3)
    def attestera(self):
        if not self.queue:
            return self.mina_arenden()
        pk = self.queue.pop(0)
        url = f"/admin/arenden/tjansteutlatande/{pk}/attestera/"
        page = self.client.get(url, name="/admin/…/[id]/attestera/ (bekräfta)")
        data = {"csrfmiddlewaretoken": CSRF_INPUT.search(page.text).group(1)}
        data["innehall_hash"] = INNEHALL.search(page.text).group(1)  # the content the chef was shown
        with self.client.post(
            url, data=data, name="/admin/…/[id]/attestera/ (attestera)", catch_response=True
        ) as response:
            if response.status_code != 200 or "Du har attesterat" not in response.text:
                response.failure(f"inte attesterat: {response.status_code}")

    @task(5)
    def mina_arenden(self):
        self.read("/", "/ (mina ärenden)")

    @task(3)
    def arende(self):
        self.read(f"/arenden/{random.choice(PLAN['arenden'])}/", "/arenden/[id]/")


@events.quitting.add_listener
def report(environment, **kwargs):
    stats = environment.stats
    total = stats.total
    window = (total.last_request_timestamp or time.time()) - (_measure["start"] or total.start_time)
    rps = total.num_requests / window if window > 0 else 0.0
    p50, p95, p99 = (total.get_response_time_percentile(p) for p in (0.5, 0.95, 0.99))
    errors = total.num_failures
    out = sys.stdout

    def verdict(ok):
        return "met" if ok else "MISSED"

    print("", file=out)
    print(f"{'request':<52}{'count':>7}{'fel':>5}{'p50':>7}{'p95':>7}{'p99':>7}", file=out)
    for entry in sorted(stats.entries.values(), key=lambda e: -e.num_requests):
        print(
            f"{entry.name[:51]:<52}{entry.num_requests:>7}{entry.num_failures:>5}"
            f"{entry.get_response_time_percentile(0.5):>7.0f}{entry.get_response_time_percentile(0.95):>7.0f}"
            f"{entry.get_response_time_percentile(0.99):>7.0f}",
            file=out,
        )
    for error in stats.errors.values():
        print(f"fel: {error.occurrences} × {error.method} {error.name}: {str(error.error)[:300]}", file=out)
    seconds = _logins["seconds"]
    if seconds:
        print(
            f"\ninloggningar: {_logins['done']} lyckade, {_logins['failed']} misslyckade, median "
            f"{statistics.median(seconds) * 1000:.0f} ms (före mätfönstret)",
            file=out,
        )
    print(f"\nmätfönster {window:.0f} s, {environment.parsed_options.num_users} användare", file=out)
    print(f"requests/s  {rps:8.1f}   target >= {TARGET_RPS}   {verdict(rps >= TARGET_RPS)}", file=out)
    print(f"p50 ms      {p50:8.0f}", file=out)
    print(f"p95 ms      {p95:8.0f}   target <= {TARGET_P95_MS}   {verdict(p95 <= TARGET_P95_MS)}", file=out)
    print(f"p99 ms      {p99:8.0f}", file=out)
    if _measure["cpu"] and total.num_requests:
        end = _cpu_seconds()
        app, db, locust = ((end[k] - _measure["cpu"][k]) * 1000 / total.num_requests for k in ("app", "db", "locust"))
        cores = os.cpu_count() or 1
        print(
            f"CPU/request {app + db:8.1f}   ms (app {app:.1f}, PostgreSQL {db:.1f}): {cores} free cores would "
            f"serve at most {cores * 1000 / (app + db):.0f} requests/s",
            file=out,
        )
        print(f"load tool   {locust:8.1f}   ms CPU per request (locust itself, on the same cores)", file=out)
        if os.environ.get("LOAD_REFERENCE_MS"):
            # In units of the reference loop timed just before the run: that follows the host's
            # speed from one hour to the next, though not its moves within the run.
            reference = float(os.environ["LOAD_REFERENCE_MS"])
            print(f"CPU/request {(app + db) / reference:8.3f}   reference loops (app and PostgreSQL)", file=out)
    print(f"errors      {errors:8d}   target 0   {verdict(errors == 0 and not _logins['failed'])}", file=out)
    environment.process_exit_code = 1 if errors or _logins["failed"] or _measure["start"] is None else 0
