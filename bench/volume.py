"""How fast `generate_volume` fills PostgreSQL with one writing process and with several.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/skarholmen_vol .venv/bin/python bench/volume.py \
        [--arenden 20000] [--runs 3] [--workers 2]

Each run makes the database `<name>_volym` beside DATABASE_URL's, migrates it, loads the demo and
runs `generate_volume --arenden N` with `--workers 1` and with `--workers W`, in turns, so that
both meet the same machine, and takes the rate the command reports (its writing of the cases,
not the reference data it makes first). Prints the median rate of each and their ratio; asserts nothing. The
database is dropped at the end. The 15-minute target for 200,000 ärenden is judged on a full
fill (`bench/pages.py` times it), since the rate falls a little as the tables grow.
"""

import argparse
import os
import re
import statistics
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import manage, new_database, server_connection  # noqa: E402
from reference import machine  # noqa: E402


def fill(url, arenden, workers):
    new_database(url)
    out = manage(url, "generate_volume", "--arenden", str(arenden), "--workers", str(workers))
    # The command's own rate ("Klart: N ärenden på S s"): the writing of the cases, after the
    # people, places and åtgärder it makes once per database.
    seconds = float(re.search(r"Klart: \d+ ärenden på ([\d.]+) s", out).group(1))
    return arenden / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arenden", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must point at PostgreSQL (the database <name>_volym is made beside it).")
    parts = urlsplit(base)
    url = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_volym"))

    rates = {1: [], args.workers: []}
    try:
        for run in range(args.runs):
            for workers in rates:
                rate = fill(url, args.arenden, workers)
                rates[workers].append(rate)
                print(f"run {run + 1}, {workers} process(es): {rate:.0f} ärenden/s", file=sys.stderr)
    finally:
        with server_connection(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')

    print(f"machine: {machine()}")
    print(f"{args.arenden} ärenden a fill, {args.runs} runs each, into a new database with the demo")
    one = statistics.median(rates[1])
    for workers, values in rates.items():
        median = statistics.median(values)
        runs = ", ".join(f"{v:.0f}" for v in values)
        print(
            f"  {workers} process(es): median {median:6.0f} ärenden/s ({runs}); "
            f"200,000 would take {200000 / median / 60:4.1f} min; {median / one:.2f} × one process"
        )


if __name__ == "__main__":
    main()
