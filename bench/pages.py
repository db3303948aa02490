"""Server time and SQL queries of the main pages at 1,000 and at 200,000 ärenden, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/skarholmen_bench .venv/bin/python bench/pages.py \
        [--sizes 1000 200000] [--runs 20] [--reuse]

For each size it uses the database `<name>_<size>` on DATABASE_URL's server: it drops and
creates it, migrates, loads the demo and fills it with `generate_volume --arenden <size>`
(with --reuse, a database that already holds at least that many ärenden is only migrated and
used as it is). Each page is fetched with Django's test Client, one process per size, logged in
as a user of the role that uses it: a handläggare of the volume data for the officers' pages, an
attestant chef (staff) and the superuser for the admin. The sizes take turns on each page: after
3 warm-up requests each, the --runs timed requests go in 4 rounds, alternating which size goes
first, so that a change in a shared host's speed falls on both sizes alike and the ratio between
them holds. They give the median and the 95th percentile; one more request counts the SQL
queries and the rows the page lists (hits, list rows or history rows; "-" for a page that is no
list). The table compares the sizes against the targets: median <= 50 ms and p95 <= 150 ms at
the largest size, the same query count at every size, and a median at most 1.5 times that of the
smallest size.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from reference import machine  # bench/reference.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
TARGET_MEDIAN_MS = 50
TARGET_P95_MS = 150
TARGET_RATIO = 1.5
WARMUP = 3
ROUNDS = 4


def database_url(base, size):
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{size}"))


def server_connection(url):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def existing_count(url):
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT count(*) FROM arenden_arende").fetchone()[0]
    except psycopg.Error:
        return None


def manage(url, *args):
    """Run a management command on the database at `url`: what it prints is shown as it comes
    (on stderr) and returned."""
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    with subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        lines = []
        for line in process.stdout:
            sys.stderr.write(line)
            lines.append(line)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return "".join(lines)


def new_database(url):
    """The database at `url` made anew, migrated, with the demo."""
    name = urlsplit(url).path.lstrip("/")
    with server_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage(url, "migrate", "--noinput", "-v0")
    manage(url, "load_demo")


def prepare(url, size, reuse):
    count = existing_count(url) if reuse else None
    if count is not None and count >= size:
        print(f"{urlsplit(url).path.lstrip('/')}: reusing {count} ärenden", file=sys.stderr)
        manage(url, "migrate", "--noinput", "-v0")
        return None
    new_database(url)
    started = time.monotonic()
    manage(url, "generate_volume", "--arenden", str(size))
    elapsed = time.monotonic() - started
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # planner statistics as a database in use has them
    return elapsed


# --- The measuring child: one database, Django set up against it -----------------------------

# The context variable each kind of list page shows its rows by: an admin changelist, the
# diarium search's page of hits, a history page, Mina ärenden.
ROWS = (
    ("cl", lambda cl: len(cl.result_list)),
    ("sida", lambda page: len(page.object_list)),
    ("page_obj", lambda page: len(page.object_list)),
    ("rader", len),
)


def rows_shown(response):
    """How many rows the page lists, or None for a page that is no list."""
    for key, count in ROWS:
        if response.context is not None and key in response.context:
            return count(response.context[key])
    return None


def pages():
    """(label, user, url) for every main page, with objects chosen alike at every size."""
    from django.contrib.auth import get_user_model

    from arenden.constants import ArendeStatus, TjansteutlatandeStatus
    from arenden.models import Arende, Tjansteutlatande
    from atgarder.models import Atgard, Drogscen

    User = get_user_model()
    # The officer is the handläggare of the first draft in Skärholmen; the chef attests there.
    utkast = (
        Tjansteutlatande.objects.filter(status=TjansteutlatandeStatus.UTKAST, handlaggare__username__startswith="vol-")
        .order_by("pk")
        .select_related("arende__forvaltning")
    )
    draft = utkast.filter(arende__forvaltning__diarieprefix="SKHLM").first() or utkast.first()
    officer = draft.handlaggare
    prefix = draft.arende.forvaltning.diarieprefix.lower()
    chef = User.objects.get(username=f"vol-{prefix}-1")
    superuser = User.objects.filter(is_superuser=True).order_by("pk").first()
    decided = (
        Arende.objects.for_user(officer).filter(status=ArendeStatus.AVSLUTAT).order_by("-ar", "-lopnummer").first()
    )
    decided_tu = decided.tjansteutlatanden.get()
    scen = Drogscen.objects.filter(namn=f"Centrum {prefix.upper()} 1").first() or Drogscen.objects.first()
    atgard = Atgard.objects.filter(titel__startswith="Åtgärd ").order_by("pk").first()
    # An åtgärd the officer's decided case reports: its page lists at least that document at every size.
    rapporterad = decided_tu.atgarder.order_by("pk").first() or atgard
    return [
        ("start page (Mina ärenden)", officer, "/"),
        ("start page, search", officer, "/?q=parklekar"),
        ("ärende page", officer, f"/arenden/{decided.pk}/"),
        ("editor", officer, f"/tjansteutlatanden/{draft.pk}/redigera/"),
        ("drogscen page", officer, f"/drogscener/{scen.pk}/"),
        ("åtgärd page", officer, f"/atgarder/{rapporterad.pk}/"),
        ("diarium search", officer, "/sok/?q=parklekar"),
        ("diarium search, common word", officer, "/sok/?q=polisen"),
        ("admin start page", chef, "/admin/"),
        ("admin ärenden", chef, "/admin/arenden/arende/"),
        ("admin ärenden, superuser", superuser, "/admin/arenden/arende/"),
        ("admin ärenden, filter", chef, "/admin/arenden/arende/?status__exact=avslutat"),
        ("admin ärenden, search", chef, "/admin/arenden/arende/?q=parklekar"),
        ("admin ärenden, search number", chef, f"/admin/arenden/arende/?q={decided.diarienummer}"),
        ("admin ärende history", chef, f"/admin/arenden/arende/{decided.pk}/history/"),
        ("admin tjänsteutlåtanden", chef, "/admin/arenden/tjansteutlatande/"),
        ("admin tjänsteutlåtanden, search", chef, "/admin/arenden/tjansteutlatande/?q=parklekar"),
        ("admin tjänsteutlåtande history", chef, f"/admin/arenden/tjansteutlatande/{decided_tu.pk}/history/"),
        ("admin sektioner", chef, "/admin/arenden/sektion/"),
        ("admin sektioner, search number", chef, f"/admin/arenden/sektion/?q={decided.diarienummer}"),
        ("admin skrivelser", chef, "/admin/arenden/skrivelse/"),
        ("admin attesteringar", chef, "/admin/arenden/attestering/"),
        ("admin åtgärder", chef, "/admin/atgarder/atgard/"),
        ("admin åtgärder, search", chef, "/admin/atgarder/atgard/?q=polisen"),
        ("admin åtgärd history", chef, f"/admin/atgarder/atgard/{atgard.pk}/history/"),
    ]


class Pages:
    """The measuring child's pages on its own database: `time` fetches a page n times, `count`
    counts one fetch's SQL queries and rows."""

    def __init__(self):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skarholmen.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connection
        from django.test import Client
        from django.test.utils import setup_test_environment

        from arenden.models import Arende

        setup_test_environment()  # the test Client's ALLOWED_HOSTS; nothing else changes
        self.connection = connection
        self.pages, clients = {}, {}
        for label, user, url in pages():
            if user.pk not in clients:
                clients[user.pk] = Client()
                clients[user.pk].force_login(user)
            self.pages[label] = (clients[user.pk], url)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            postgres = cursor.fetchone()[0]
        self.info = {"arenden": Arende.objects.count(), "postgres": postgres, "labels": list(self.pages)}

    def get(self, label):
        client, url = self.pages[label]
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{label}: {url} answered {response.status_code}")
        return response

    def time(self, label, n):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            self.get(label)
            times.append((time.perf_counter() - start) * 1000)
        return times

    def count(self, label):
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(self.connection) as queries:
            response = self.get(label)
        return {"url": self.pages[label][1], "queries": len(queries), "rows": rows_shown(response)}


def serve():
    """The child's loop: one JSON request a line on stdin, one JSON answer a line on stdout."""
    out, sys.stdout = sys.stdout, sys.stderr  # nothing but answers on the pipe
    child = Pages()
    print(json.dumps(child.info), file=out, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "time":
            answer = child.time(request["label"], request["n"])
        else:
            answer = child.count(request["label"])
        print(json.dumps(answer), file=out, flush=True)


class Child:
    """A measuring child on the database at `url` (`serve`), asked one request at a time."""

    def __init__(self, url):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            env={**os.environ, "DATABASE_URL": url, "DEBUG": "false"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.info = self.read()

    def read(self):
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the measuring child ended with {self.process.wait()}")
        return json.loads(line)

    def ask(self, **request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def measure(urls, runs):
    """{size: results} with the sizes taking turns on each page: ROUNDS rounds of runs/ROUNDS
    requests each, in alternating order, so that a change in the host's speed during the run
    falls on every size alike instead of on whichever size was measured at the time."""
    children = {size: Child(url) for size, url in urls.items()}
    try:
        results = {size: {k: child.info[k] for k in ("arenden", "postgres")} for size, child in children.items()}
        order = list(children)
        chunks = [runs // ROUNDS + (i < runs % ROUNDS) for i in range(ROUNDS)]
        for label in children[order[0]].info["labels"]:
            times = {size: [] for size in order}
            for size in order:
                children[size].ask(op="time", label=label, n=WARMUP)
            for i, n in enumerate(chunks):
                for size in order if i % 2 == 0 else reversed(order):
                    times[size] += children[size].ask(op="time", label=label, n=n)
            for size in order:
                results[size][label] = {
                    **children[size].ask(op="count", label=label),
                    "median": statistics.median(times[size]),
                    "p95": statistics.quantiles(times[size], n=100, method="inclusive")[94],
                }
            medians = "  ".join(f"{results[size][label]['median']:6.1f} ms" for size in order)
            print(f"  {label:<34} {medians}", file=sys.stderr)
    finally:
        for child in children.values():
            child.close()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 200000])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="use databases that already hold the ärenden")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        serve()
        return
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must point at PostgreSQL (the databases <name>_<size> are made beside it).")

    urls = {size: database_url(base, size) for size in args.sizes}
    filled = {size: prepare(url, size, args.reuse) for size, url in urls.items()}
    print(f"measuring {', '.join(map(str, args.sizes))} ärenden, taking turns …", file=sys.stderr)
    report(args, measure(urls, args.runs), filled)


def report(args, results, filled):
    small, large = min(args.sizes), max(args.sizes)
    print(f"machine: {machine()}")
    print(f"PostgreSQL {results[large]['postgres']}; {args.runs} timed requests per page after {WARMUP} warm-up")
    for size in args.sizes:
        note = f", filled in {filled[size]:.0f} s" if filled[size] else " (reused)"
        print(f"database of {size}: {results[size]['arenden']} ärenden{note}")
    print()
    head = (
        f"{'page':<34} {'queries':>9} {'rows':>7} {'median ' + str(small):>13} {'median ' + str(large):>15} "
        f"{'p95 ' + str(large):>12} {'ratio':>6}  target"
    )
    print(head)
    print("-" * len(head))
    met_all = True
    for label in [k for k in results[large] if isinstance(results[large][k], dict)]:
        a, b = results[small][label], results[large][label]
        ratio = b["median"] / a["median"] if a["median"] else float("inf")
        counts = sorted({results[s][label]["queries"] for s in args.sizes})
        missed = []
        if b["median"] > TARGET_MEDIAN_MS:
            missed.append("median")
        if b["p95"] > TARGET_P95_MS:
            missed.append("p95")
        if len(counts) > 1:
            missed.append("queries")
        if ratio > TARGET_RATIO:
            missed.append("ratio")
        met_all &= not missed
        queries = "/".join(str(results[s][label]["queries"]) for s in args.sizes)
        shown = [results[s][label]["rows"] for s in args.sizes]
        rows = "/".join("-" if n is None else str(n) for n in shown)
        print(
            f"{label:<34} {queries:>9} {rows:>7} {a['median']:10.1f} ms {b['median']:12.1f} ms {b['p95']:9.1f} ms "
            f"{ratio:6.2f}  {'met' if not missed else 'MISSED: ' + ', '.join(missed)}"
        )
    print()
    print(
        f"targets at {large}: median <= {TARGET_MEDIAN_MS} ms, p95 <= {TARGET_P95_MS} ms, same queries at every "
        f"size, median ratio {large}/{small} <= {TARGET_RATIO}: {'all met' if met_all else 'not all met'}"
    )


if __name__ == "__main__":
    main()
