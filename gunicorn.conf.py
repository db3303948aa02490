"""gunicorn settings for `gunicorn skarholmen.wsgi` (read from the working directory).

Each value can be set from the environment, so one file serves a laptop, the load test and a
city's app servers; the README's table lists the variables.
"""

import gc
import os


def _env(name, default):
    """As the app's settings: an empty or blank value keeps the default."""
    return os.environ.get(name, "").strip() or default


def _int(name, default, minimum=0):
    raw = _env(name, None)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not an integer.") from None
    if value < minimum:
        raise SystemExit(f"{name}={raw!r} must be at least {minimum}.")
    return value


def _log_level(name, default):
    """gunicorn logs at info for a level it does not know; here that is an error naming it."""
    raw = _env(name, default)
    if raw.lower() not in {"debug", "info", "warning", "error", "critical"}:
        raise SystemExit(f"{name}={raw!r} is not a log level (use debug, info, warning, error or critical).")
    return raw.lower()


wsgi_app = "skarholmen.wsgi:application"
bind = _env("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: requests are short and CPU-bound (templates, PDF via the render process), so
# the classic 2 × cores + 1 keeps every core busy while one worker waits on the database.
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1, minimum=1)

# A worker silent for longer than this is killed and replaced. It must outlast the PDF time
# limit (PDF_RENDER_TIMEOUT, 30 s) so that a slow render ends with its Swedish message rather
# than with a killed worker.
timeout = _int("GUNICORN_TIMEOUT", 60, minimum=1)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Recycle each worker after a number of requests, with jitter so that they do not all restart
# at once: bounds the growth of any slow leak (fonts, caches) in a long-lived process. A new
# worker costs some 2.5 s of CPU (Django, the apps and its PDF render process starting), so
# recycling every 2,000 requests cost a tenth of all the CPU under load; every 10,000 costs a
# fiftieth, while a worker's memory grows by a few MB over that many requests.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 1000)

# The heartbeat file lives in memory, not on a disk that may stall under load.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

accesslog = _env("GUNICORN_ACCESSLOG", None)
errorlog = "-"
loglevel = _log_level("GUNICORN_LOGLEVEL", "info")
proc_name = "skarholmen"
# gunicorn's control socket is one per user by default, so two servers on a machine would share
# it; the service manager's signals are all this deployment uses.
control_socket_disable = True


def post_worker_init(worker):
    """Once the worker has loaded Django, its apps and models, hide those objects from the
    garbage collector: they live as long as the process, and walking them again in every full
    collection during requests is CPU spent on nothing. Then start its PDF render process."""
    gc.collect()
    gc.freeze()
    # The worker's PDF render process, started now rather than by its first PDF request.
    from arenden import pdf

    pdf.prestart_worker()
