"""Security headers and what the pages may contain: the Content-Security-Policy on the officers'
pages and the admin, and templates without inline scripts, styles or event handlers."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from tests.arenden.meeting import sammantrade


def directives(response):
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def assert_strict_policy(response):
    policy = directives(response)
    for directive in ("script-src", "style-src"):
        assert policy[directive] == ["'self'"], (directive, policy)
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'self'"]


@pytest.fixture
def anette_client(client, demo):
    client.force_login(get_user_model().objects.get(username="anette"))
    return client


def test_officer_pages_carry_a_policy_without_inline_script_or_style(anette_client, demo):
    for url in (
        "/",
        f"/arenden/{demo.arende.pk}/",
        f"/tjansteutlatanden/{demo.pk}/redigera/",
        "/drogscener/",
        f"/tjansteutlatanden/{demo.pk}/forhandsgranska/",
        "/sok/",
    ):
        response = anette_client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)
        assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_login_and_error_pages_carry_the_policy(client, db):
    for url, status in (("/logga-in/", 200), ("/admin/login/", 200), ("/finns-inte/", 404)):
        response = client.get(url)
        assert response.status_code == status, url
        assert_strict_policy(response)


def test_admin_pages_carry_a_policy_without_inline_script(admin_client, demo):
    mote = sammantrade()
    for url in (
        "/admin/",
        "/admin/arenden/arende/",
        f"/admin/arenden/tjansteutlatande/{demo.pk}/change/",
        f"/admin/arenden/arende/{demo.arende.pk}/change/",
        f"/admin/arenden/sammantrade/{mote.pk}/change/",
        "/admin/arenden/arende/add/",
        "/admin/atgarder/atgard/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html), url


def test_preview_frame_allows_no_script_and_no_inline_style(anette_client, demo):
    response = anette_client.get(f"/tjansteutlatanden/{demo.pk}/forhandsgranska/dokument/")
    policy = directives(response)
    assert policy["default-src"] == ["'none'"]
    assert policy["style-src"] == ["'self'"]
    assert "script-src" not in policy
    assert "<style" not in response.content.decode()


# Templates the browser shows (the PDF templates are read by WeasyPrint only, never served).
BROWSER_TEMPLATES = [p for p in (settings.BASE_DIR / "templates").rglob("*.html") if "pdf" not in p.parts]


@pytest.mark.parametrize("template", BROWSER_TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_templates_have_no_inline_script_style_or_handler(template):
    text = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text, "inline <style>"
    assert not re.search(r"\sstyle=", text), "style= attribute"
    assert not re.search(r"\son[a-z]+\s*=", text), "event handler attribute"
    assert "javascript:" not in text
