"""Production serving: static files through WhiteNoise, hashed and compressed by collectstatic."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.templatetags.static import static


def test_static_files_are_served_by_the_app_without_collectstatic(client):
    response = client.get(static("pdf/dokument.css"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).strip()


def test_the_app_starts_without_a_warning_where_nothing_was_collected(settings, tmp_path):
    import warnings

    from whitenoise.middleware import WhiteNoiseMiddleware

    settings.STATIC_ROOT = tmp_path / "aldrig-insamlat"  # as on a fresh clone: `make run`
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WhiteNoiseMiddleware(lambda request: None)


def test_production_collects_hashed_compressed_static_files_and_serves_them(tmp_path):
    env = {
        **os.environ,
        "PRODUCTION": "true",
        "DEBUG": "false",
        "SECRET_KEY": "x7#Qv2!pL9m@Zr4$Tn8&Wc1^Hb6*Yd3(Ks5)Fg0-Jh2+Ue7=Ra9",
        "STATIC_ROOT": str(tmp_path),
        "TRUSTED_PROXY_COUNT": "1",  # served as behind the proxy that terminates TLS
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    hashed = manifest["paths"]["pdf/dokument.css"]
    assert hashed != "pdf/dokument.css"
    assert (tmp_path / (hashed + ".gz")).exists()

    # The page names the hashed file, and the app serves it with a far-future cache header.
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "from django.templatetags.static import static\n"
        "url = static('pdf/dokument.css')\n"
        "r = Client(HTTP_X_FORWARDED_PROTO='https').get(url)\n"
        "print(url, r.status_code, r['Cache-Control'])\n"
    )
    env["DJANGO_SETTINGS_MODULE"] = "skarholmen.settings"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    url, status, cache_control = result.stdout.split(" ", 2)
    assert url.endswith(hashed)
    assert status == "200"
    assert "immutable" in cache_control or "max-age=315360000" in cache_control


@pytest.mark.parametrize(("proxies", "secure"), [("0", "False"), ("1", "True")])
def test_a_request_claims_https_only_through_a_trusted_proxy(proxies, secure):
    env = {
        **os.environ,
        "PRODUCTION": "true",
        "DEBUG": "false",
        "SECRET_KEY": "x7#Qv2!pL9m@Zr4$Tn8&Wc1^Hb6*Yd3(Ks5)Fg0-Jh2+Ue7=Ra9",
        "ALLOWED_HOSTS": "testserver",
        "TRUSTED_PROXY_COUNT": proxies,
        "DJANGO_SETTINGS_MODULE": "skarholmen.settings",
    }
    # Sent by the client itself when no proxy is in front: the request is plain http still (and
    # SECURE_SSL_REDIRECT sends it to https).
    script = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == secure
