# The two commands: `make run` and `make test`. Everything else is set-up they call.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed
TEST_STAMP := .venv/.installed-test
NODE_STAMP := node_modules/.installed

.PHONY: run test install install-test lock system-packages test-system-packages demo pdf lint clean backup restore prune screenshots

# The interpreter: the system's python3.11 where there is one, else python3.11 on PATH, else
# python3 when it is 3.11; `make clean install PYTHON=…` chooses another. Distribution builds
# (Debian's, the official Docker images) are compiled with profile-guided optimisation and LTO; a
# plain source build, such as pyenv's default, costs the app more CPU a request (the README's load
# figures).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) $(shell command -v python3.11) python3)
PIP_VERSION := 26.3

# A venv that failed half-way (Debian without python3.11-venv makes one without pip), or one of
# another Python than 3.11 (pyproject's requires-python), is removed, so that the next run tries
# again instead of failing on it.
$(PY):
	$(PYTHON) -m venv .venv \
	  || { rm -rf .venv; echo "error: could not make .venv with $(PYTHON); on Debian: apt-get install python3.11-venv" >&2; exit 1; }
	.venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
	  || { rm -rf .venv; echo "error: $(PYTHON) is not Python 3.11; make install PYTHON=/path/to/python3.11" >&2; exit 1; }

# What the app needs to run (make run, backup, restore, a server), and what the tests need besides.
# Every file pip fetches must match a sha256 in the lock files (`make lock`): first pip and the
# build backend, then the dependencies. The project itself comes last, on its own, because pip
# cannot hash an editable install and so refuses one under --require-hashes: --no-deps, and built
# by the build backend just installed (--no-build-isolation), so that nothing unhashed is fetched.
$(STAMP): pyproject.toml requirements.lock requirements-build.lock | $(PY)
	$(PIP) install --quiet --require-hashes -r requirements-build.lock
	$(PIP) install --quiet --require-hashes -r requirements.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.lock
	$(PIP) install --quiet --require-hashes -r requirements-test.lock
	touch $(TEST_STAMP)

install: system-packages $(STAMP)

install-test: system-packages test-system-packages $(TEST_STAMP)

# The lock files, made again from pyproject.toml (and pip's and the build backend's pins) by uv,
# which a throwaway venv holds, installed by the hashes of requirements-uv.lock: it is no
# dependency of the app. Each pins the whole tree of what it installs, with the sha256 of every
# file the registry offers for that version (wheels for every platform, and the sdist), so pip on
# any machine finds its file's hash. Versions already locked
# stay unless pyproject.toml moves them or LOCK_FLAGS says so (`make lock LOCK_FLAGS=--upgrade`,
# `LOCK_FLAGS='--upgrade-package certifi'`). The test and bench locks are resolved within the
# app's, and the bench lock within the test lock too, because they are installed on top of each
# other into one .venv. Resolved for Linux on x86_64 and on aarch64, which must give the same files.
LOCKS := requirements-build.lock requirements.lock requirements-test.lock requirements-bench.lock
LOCK_PLATFORMS := x86_64 aarch64

lock:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; "$$tmp/venv/bin/pip" install --quiet --require-hashes -r requirements-uv.lock; \
	build=$$($(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"])'); \
	for platform in $(LOCK_PLATFORMS); do \
	  mkdir "$$tmp/$$platform"; cp pyproject.toml "$$tmp/$$platform/"; \
	  for f in $(LOCKS); do [ ! -f $$f ] || cp $$f "$$tmp/$$platform/"; done; \
	  ( cd "$$tmp/$$platform"; \
	    compile() { "$$tmp/venv/bin/uv" --no-config pip compile --quiet --python-version 3.11 \
	      --python-platform $$platform-unknown-linux-gnu --generate-hashes \
	      --custom-compile-command "make lock" $(LOCK_FLAGS) "$$@"; }; \
	    printf '%s\n' pip==$(PIP_VERSION) $$build | compile - -o requirements-build.lock; \
	    compile pyproject.toml -o requirements.lock; \
	    compile pyproject.toml --extra test -c requirements.lock -o requirements-test.lock; \
	    compile pyproject.toml --extra bench -c requirements-test.lock -o requirements-bench.lock ); \
	done; \
	first=$(firstword $(LOCK_PLATFORMS)); \
	for platform in $(LOCK_PLATFORMS); do for f in $(LOCKS); do \
	  diff -u "$$tmp/$$first/$$f" "$$tmp/$$platform/$$f" >&2 \
	    || { echo "error: $$f differs between $$first and $$platform; nothing written" >&2; exit 1; }; \
	done; done; \
	for f in $(LOCKS); do cp "$$tmp/$$first/$$f" $$f; done

# axe-core, injected into each page by the browser tests; pinned by package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Debian's packages the app runs with: python3.11-venv makes the .venv; Pango is what WeasyPrint
# lays text out with; HarfBuzz-subset makes its font subsetting several times faster.
# The tests' besides: poppler-utils gives pdftoppm/pdftotext for looking at PDFs; chromium is the
# browser the tests in tests/e2e drive (Debian's build, never one Playwright downloads); Node.js
# and npm install axe-core for them (npm is looked for as a command: Node.js from NodeSource
# carries its own). Installed where we may (root with apt); otherwise the missing ones are named.
DEBIAN_PACKAGES := python3.11-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
DEBIAN_TEST_PACKAGES := poppler-utils chromium nodejs
define install_debian
	@command -v dpkg >/dev/null || exit 0; \
	missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done; $(2)); \
	[ -n "$$missing" ] || exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null \
	    || echo "warning: could not install" $$missing >&2; \
	else \
	  echo "warning: these Debian packages are missing (install them as root):" $$missing >&2; \
	fi
endef

system-packages:
	$(call install_debian,$(DEBIAN_PACKAGES),true)

test-system-packages:
	$(call install_debian,$(DEBIAN_TEST_PACKAGES),command -v npm >/dev/null || echo npm)

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

# The job worker (meeting packets) runs beside the web server and stops with it.
run: demo
	@$(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:8000

test: install-test $(NODE_STAMP)
	$(PY) -m pytest

# The README's pictures: the pages, taken by the browser tests, and the demo PDF's pages.
screenshots: install-test $(NODE_STAMP) pdf
	SCREENSHOT_DIR=$(CURDIR)/docs $(PY) -m pytest tests/e2e -q
	pdftoppm -png -r 60 out/SKHLM-2024-123-oppna-drogscener.pdf docs/tjansteutlatande-sida

pdf: demo
	$(PY) manage.py render_pdf --demo --out out/

lint: install-test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

clean:
	rm -rf .venv node_modules db.sqlite3 out

# The job queue's finished rows (django-tasks-db's, the admin's Bakgrundsjobb › Jobb), removed
# once older than these many days; run daily from cron. Only jobs that succeeded or failed are
# removed, never one that waits or runs. An export's progress, error and file are kept on its own
# row (Sammantradesexport), which this leaves alone.
PRUNE_DAYS ?= 14
PRUNE_FAILED_DAYS ?= 90

prune: $(STAMP)
	$(PY) manage.py prune_db_task_results --queue-name '*' \
	  --min-age-days $(PRUNE_DAYS) --failed-min-age-days $(PRUNE_FAILED_DAYS)

# Backups of the PostgreSQL database (pg_dump custom format) and of the uploaded files beside it.
# Each backup's name is the time to the second and a random part that mktemp reserves by
# creating the file: cron's backup and a manual one started in the same second get a pair each,
# and neither writes over, or on failure removes, the other's. The names still sort by time.
# Both files are readable by their owner only (mktemp's mode, and umask 077 for the media).
BACKUP_DIR ?= backups
MEDIA_DIR = $(shell $(PY) -c 'import skarholmen.settings as s; print(s.MEDIA_ROOT)')
need_postgres = case "$$DATABASE_URL" in postgres://*|postgresql://*) ;; \
	*) echo "DATABASE_URL must point at PostgreSQL"; exit 2;; esac

backup: $(STAMP)
	@$(need_postgres)
	@set -e; umask 077; media="$(MEDIA_DIR)"; [ -n "$$media" ] || { echo "MEDIA_ROOT could not be read" >&2; exit 1; }; \
	  mkdir -p "$(BACKUP_DIR)"; \
	  dump=$$(mktemp --suffix=.dump "$(BACKUP_DIR)/skarholmen-$$(date -u +%Y%m%dT%H%M%SZ)-XXXXXX"); \
	  name="$${dump%.dump}"; \
	  (set -C; : > "$$name.media.tar.gz") 2>/dev/null \
	    || { rm -f "$$dump"; echo "error: $$name.media.tar.gz exists already; nothing written" >&2; exit 1; }; \
	  pg_dump --format=custom --no-owner --file "$$dump" "$$DATABASE_URL" || { rm -f "$$dump" "$$name.media.tar.gz"; exit 1; }; \
	  if [ -d "$$media" ]; then files=(-C "$$media" .); else files=(--files-from /dev/null); fi; \
	  tar -czf "$$name.media.tar.gz" "$${files[@]}" || { rm -f "$$dump" "$$name.media.tar.gz"; exit 1; }; \
	  echo "$$dump"

# Replaces what the database DATABASE_URL points at (empty or not) with the backup, in one
# transaction, and MEDIA_ROOT's files with the backup's, or neither. The files are unpacked inside
# MEDIA_ROOT first (the same file system, a mount point too); only when that worked is the
# database restored, and only when that worked is what MEDIA_ROOT held removed and the unpacked
# files moved in. A dump without its files beside it is refused: the database alone would name
# files that are not there, and leave files that no row names. So is a database holding a table
# the dump does not (one a later release's migration made): pg_restore --clean replaces only what
# the dump holds, so the table would stay, and that migration, run again, stop at "already exists".
restore: $(STAMP)
	@$(need_postgres)
	@test -f "$(FILE)" || { echo "usage: make restore FILE=backups/skarholmen-<time>-<random>.dump"; exit 2; }
	@set -e; media="$(basename $(FILE)).media.tar.gz"; \
	  [ -f "$$media" ] || { echo "error: $$media is missing; a backup is the .dump and that file of its uploads. Nothing restored." >&2; exit 2; }; \
	  held=$$(psql -X -qtA -d "$$DATABASE_URL" -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public'" | sort); \
	  dumped=$$(pg_restore --list "$(FILE)" | awk '$$4 == "TABLE" && $$5 == "public" {print $$6}' | sort); \
	  extra=$$(comm -23 <(echo "$$held") <(echo "$$dumped") | grep . | paste -sd ' ' || true); \
	  [ -z "$$extra" ] || { echo "error: the database holds tables the backup does not: $$extra. Restore into an empty database (createdb), or drop them first. Nothing restored." >&2; exit 2; }; \
	  dir="$(MEDIA_DIR)"; [ -n "$$dir" ] || { echo "MEDIA_ROOT could not be read" >&2; exit 1; }; \
	  mkdir -p "$$dir"; new=$$(mktemp -d "$$dir/.restore.XXXXXX"); trap 'rm -rf "$$new"' EXIT; \
	  tar -xzf "$$media" -C "$$new" || { echo "error: $$media could not be unpacked. Nothing restored." >&2; exit 1; }; \
	  pg_restore --clean --if-exists --no-owner --exit-on-error --single-transaction \
	    --dbname "$$DATABASE_URL" "$(FILE)" || { echo "error: pg_restore failed. Nothing restored." >&2; exit 1; }; \
	  find "$$dir" -mindepth 1 -maxdepth 1 ! -path "$$new" -exec rm -rf {} +; \
	  find "$$new" -mindepth 1 -maxdepth 1 -exec mv -t "$$dir" {} +; rmdir "$$new"
