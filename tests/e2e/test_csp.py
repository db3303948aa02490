"""The Content-Security-Policy holds in a real browser: an inline script is refused, and the
watch every browser test runs under reports it."""

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_injected_inline_script_is_refused_and_reported(demo_site, page, csp_violations):
    login(page, demo_site, "anette")
    # The browser's reports arrive on their own; the test waits for both before reading them.
    with (
        page.expect_console_message(lambda m: "script-src" in m.text),
        page.expect_console_message(lambda m: "style-src" in m.text),
    ):
        page.evaluate(
            """() => { const s = document.createElement('script'); s.textContent = 'document.title = "körd"';
                       document.body.append(s);
                       const d = document.createElement('div'); d.setAttribute('style', 'color: red');
                       d.id = 'stil'; document.body.append(d); }"""
        )
    expect(page.locator("#stil")).to_be_attached()
    assert page.title() != "körd"
    refused = list(csp_violations)
    csp_violations.clear()  # expected here; any other test fails on them
    assert any("script-src" in text for text in refused), refused
    assert any("style-src" in text for text in refused), refused
