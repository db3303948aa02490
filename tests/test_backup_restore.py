"""`make backup` and `make restore` on PostgreSQL: a restore changes the database and the files
together or neither. The whole round trip with the app's data is `.ci/backup-roundtrip`."""

import os
import subprocess

import pytest
from django.conf import settings

pytestmark = pytest.mark.postgresql


def _url(name):
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _psql(name, sql):
    result = subprocess.run(
        ["psql", "-qtAX", "-v", "ON_ERROR_STOP=1", "-d", _url(name), "-c", sql],
        capture_output=True,
        text=True,
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def databases():
    """A source and a target database beside the one the settings name, dropped afterwards."""
    names = [f"{settings.DATABASES['default']['NAME']}_backup_{part}" for part in ("src", "dst")]
    for name in names:
        _psql("postgres", f"DROP DATABASE IF EXISTS {name}")
        _psql("postgres", f"CREATE DATABASE {name}")
    yield names
    for name in names:
        _psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _start(target, database, media, backups, path=None, **variables):
    env = {**os.environ, "DATABASE_URL": _url(database), "MEDIA_ROOT": str(media), "BACKUP_DIR": str(backups)}
    if path:
        env["PATH"] = f"{path}:{env['PATH']}"
    args = [f"{key}={value}" for key, value in variables.items()]
    return subprocess.Popen(
        ["make", "-s", target, *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(process):
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _make(target, database, media, backups, path=None, **variables):
    return _wait(_start(target, database, media, backups, path, **variables))


@pytest.fixture
def kalla(databases, tmp_path):
    """The database to back up, with one row, and its uploads folder, with one file."""
    src, _ = databases
    _psql(src, "CREATE TABLE rad (text text); INSERT INTO rad VALUES ('ur säkerhetskopian')")
    (tmp_path / "media-src").mkdir()
    (tmp_path / "media-src" / "skrivelse.pdf").write_text("ur säkerhetskopian")
    return src, tmp_path / "media-src"


@pytest.fixture
def backup(databases, kalla, tmp_path):
    """A backup of a database with one row and one file; the target holds other ones."""
    src, media = kalla
    _, dst = databases
    _psql(dst, "CREATE TABLE rad (text text); INSERT INTO rad VALUES ('fanns före')")
    (tmp_path / "media-dst").mkdir()
    (tmp_path / "media-dst" / "gammal.pdf").write_text("fanns före")
    result = _make("backup", src, media, tmp_path / "backups")
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp_path / result.stdout.strip().splitlines()[-1]


def _unchanged(dst, tmp_path):
    assert _psql(dst, "SELECT text FROM rad") == "fanns före"
    assert [p.name for p in (tmp_path / "media-dst").iterdir()] == ["gammal.pdf"]


def test_a_restore_brings_back_the_rows_and_exactly_the_files(databases, backup, tmp_path):
    result = _make("restore", databases[1], tmp_path / "media-dst", tmp_path / "backups", FILE=backup)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _psql(databases[1], "SELECT text FROM rad") == "ur säkerhetskopian"
    assert [p.name for p in (tmp_path / "media-dst").iterdir()] == ["skrivelse.pdf"]


def test_a_dump_without_its_files_is_not_restored(databases, backup, tmp_path):
    # Only the .dump copied to the new server: the database alone would name files it lacks.
    (backup.parent / backup.name.replace(".dump", ".media.tar.gz")).unlink()
    result = _make("restore", databases[1], tmp_path / "media-dst", tmp_path / "backups", FILE=backup)
    assert result.returncode != 0
    assert "media.tar.gz" in result.stdout + result.stderr
    _unchanged(databases[1], tmp_path)


def test_files_that_cannot_be_unpacked_leave_the_database_as_it_was(databases, backup, tmp_path):
    (backup.parent / backup.name.replace(".dump", ".media.tar.gz")).write_bytes(b"inte ett arkiv")
    result = _make("restore", databases[1], tmp_path / "media-dst", tmp_path / "backups", FILE=backup)
    assert result.returncode != 0
    _unchanged(databases[1], tmp_path)
    assert not [p for p in (tmp_path / "media-dst").iterdir() if p.name.startswith(".restore")]


def test_a_backup_of_an_installation_without_files_yet_restores_an_empty_media_root(databases, tmp_path):
    src, dst = databases
    _psql(src, "CREATE TABLE rad (text text)")
    result = _make("backup", src, tmp_path / "ingen-media", tmp_path / "backups")
    assert result.returncode == 0, result.stdout + result.stderr
    dump = tmp_path / result.stdout.strip().splitlines()[-1]
    (tmp_path / "media-dst").mkdir()
    (tmp_path / "media-dst" / "gammal.pdf").write_text("fanns före")
    result = _make("restore", dst, tmp_path / "media-dst", tmp_path / "backups", FILE=dump)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list((tmp_path / "media-dst").iterdir()) == []


@pytest.fixture
def samma_sekund(tmp_path):
    """A `date` that always answers the same second, put first on the PATH of `make backup`: two
    backups started at once need not fall in one second, and these must."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "date").write_text("#!/bin/sh\necho 20240523T101500Z\n")
    (bin_dir / "date").chmod(0o755)
    return bin_dir


def _restored(dump, database, tmp_path):
    """Restores the backup into `database` and returns its row and the names of its files."""
    media = tmp_path / "media-dst"
    result = _make("restore", database, media, dump.parent, FILE=dump)
    assert result.returncode == 0, result.stdout + result.stderr
    return _psql(database, "SELECT text FROM rad"), sorted(p.name for p in media.iterdir())


def test_two_backups_started_in_the_same_second_both_leave_a_restorable_pair(databases, kalla, tmp_path, samma_sekund):
    # Cron's nightly backup and an operator's manual one: named to the second, both wrote the
    # same two files, each over the other's.
    src, media = kalla
    _, dst = databases
    backups = tmp_path / "backups"

    started = [_start("backup", src, media, backups, samma_sekund) for _ in range(2)]
    results = [_wait(process) for process in started]

    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr
    dumps = [tmp_path / result.stdout.strip().splitlines()[-1] for result in results]
    assert dumps[0] != dumps[1]
    assert all(dump.name.startswith("skarholmen-20240523T101500Z-") for dump in dumps)
    assert sorted(p.name for p in backups.iterdir()) == sorted(
        name for dump in dumps for name in (dump.name, dump.name.replace(".dump", ".media.tar.gz"))
    )
    for dump in dumps:
        assert _restored(dump, dst, tmp_path) == ("ur säkerhetskopian", ["skrivelse.pdf"])


def test_a_failed_backup_in_the_same_second_leaves_the_earlier_one_whole(databases, kalla, tmp_path, samma_sekund):
    # The failing one removed "its" dump, which was the other's.
    src, media = kalla
    _, dst = databases
    backups = tmp_path / "backups"
    result = _make("backup", src, media, backups, samma_sekund)
    assert result.returncode == 0, result.stdout + result.stderr
    dump = tmp_path / result.stdout.strip().splitlines()[-1]
    before = {p.name: p.read_bytes() for p in backups.iterdir()}

    failed = _make("backup", f"{src}_finns_inte", media, backups, samma_sekund)

    assert failed.returncode != 0
    assert {p.name: p.read_bytes() for p in backups.iterdir()} == before
    assert _restored(dump, dst, tmp_path) == ("ur säkerhetskopian", ["skrivelse.pdf"])


def test_a_database_holding_tables_the_backup_lacks_is_not_restored(databases, backup, tmp_path):
    # A release's migration made a table after the backup: restored around it, the table would
    # stay with rows no restored row names, and the release's migration, run again, would stop
    # at "relation already exists".
    dst = databases[1]
    _psql(dst, "CREATE TABLE ny_tabell (text text); INSERT INTO ny_tabell VALUES ('efter säkerhetskopian')")
    result = _make("restore", dst, tmp_path / "media-dst", tmp_path / "backups", FILE=backup)
    assert result.returncode != 0
    assert "ny_tabell" in result.stderr
    assert "Nothing restored" in result.stderr
    _unchanged(dst, tmp_path)
    assert _psql(dst, "SELECT text FROM ny_tabell") == "efter säkerhetskopian"
