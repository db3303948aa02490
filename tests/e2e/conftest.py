"""Browser tests: Debian's chromium driven by Playwright against Django's live server.

The browser is the system's /usr/bin/chromium (CI installs it with apt), never a downloaded
build; axe-core comes from the npm registry (`npm ci`) and is injected into each page.
"""

import os
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Screenshots of the pages the tests visit: into docs/ with `make screenshots`, otherwise a
# temporary folder, so a test run leaves the working tree as it found it.
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "skarholmen-screenshots")
PASSWORD = "skarholmen-demo"


@pytest.fixture(scope="package", autouse=True)
def _orm_beside_playwright():
    # Playwright's sync API runs an event loop in the test thread; the ORM calls the tests (and
    # the database flush between them) make are still plain synchronous code, so Django's guard
    # is lifted while this package runs, and put back after it: `check --deploy` in other
    # tests rightly refuses the variable.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


def _is_csp_violation(message):
    # Chromium reports every blocked script, style, handler or frame on the console as
    # "Refused to … because it violates the following Content Security Policy directive …".
    return "Content Security Policy" in message.text


@pytest.fixture(autouse=True)
def csp_violations(monkeypatch):
    """Every browser context a test opens (the `page` fixture's and those made with
    `browser.new_context`) reports Content-Security-Policy violations here; a test that caused
    any fails, so an inline script or style that the policy blocks cannot go unnoticed."""
    seen = []
    new_context = Browser.new_context

    def watched_new_context(self, *args, **kwargs):
        context = new_context(self, *args, **kwargs)
        context.on(
            "console",
            lambda msg: (
                seen.append(f"{msg.page.url if msg.page else ''} ({msg.location['url']}): {msg.text}")
                if _is_csp_violation(msg)
                else None
            ),
        )
        return context

    monkeypatch.setattr(Browser, "new_context", watched_new_context)
    yield seen
    assert seen == [], "Content-Security-Policy violations in the browser:\n" + "\n".join(seen)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: apt-get install -y chromium"
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "locale": "sv-SE",
        "timezone_id": "Europe/Stockholm",
        "viewport": {"width": 1280, "height": 900},
        "accept_downloads": True,
    }


@pytest.fixture
def demo_site(roller, live_server):
    """The demo data behind a live server; returns its base URL. The live server needs real
    commits, so these tests run on committed data, with the roles written again (`roller`)."""
    call_command("load_demo", stdout=open(os.devnull, "w"))
    return live_server.url


def login(page, base_url, username):
    page.goto(f"{base_url}/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base_url}/")


def demo_pa_listan(page, base_url):
    """The secretary puts the demo's attested document on the demo meeting's list, in the admin;
    returns the document. The meeting's page is open, ready to order its exports."""
    from arenden.models import Tjansteutlatande

    demo = Tjansteutlatande.objects.get(arende__diarienummer="SKHLM 2024/123")
    login(page, base_url, "sekreterare")
    page.goto(f"{base_url}/admin/arenden/sammantrade/")
    page.get_by_role("link", name="Skärholmens stadsdelsnämnd 2024-05-23").click()
    page.get_by_label("Attesterat tjänsteutlåtande").select_option(value=str(demo.pk))
    page.get_by_role("button", name="Lägg till sist på listan").click()
    expect(page.locator(".messagelist")).to_contain_text("Punkten är tillagd")
    return demo


def axe_violations(page):
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the current page, and
    headings that skip a level (moderate to axe, but a screen reader's outline of the page)."""
    assert AXE.exists(), "axe-core is missing: run `npm ci` in the project root"
    # Evaluated through the DevTools protocol rather than added as a <script> element, which
    # the page's Content-Security-Policy would (rightly) refuse as an inline script.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag',
              values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical") or v["id"] == "heading-order"
    ]


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The preview's frame loads the document's own fonts: until they are in, its bold text and
    # headings are not drawn at all, and the picture would show them missing.
    for frame in page.frames:
        frame.evaluate("document.fonts.ready.then(() => document.fonts.status)")
    page.screenshot(path=str(SCREENSHOTS / name), full_page=False)


# What a screen reader is given to speak without the focus moving: the text of a live region
# (role status, alert or log, or aria-live) when it changes after the page has loaded, and an
# alert that arrives. A region's text at load, or a region that arrives with its text (other than
# an alert), is not spoken, and is not recorded here either.
_LIVE_RECORDER = """
(() => {
  const heard = [];
  window.__upplast = heard;
  let loaded = false;
  window.addEventListener("load", () => { loaded = true; });
  const LIVE = '[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"], [role="log"]';
  const politeness = (region) => region.getAttribute("aria-live") ||
    (region.getAttribute("role") === "alert" ? "assertive" : "polite");
  new MutationObserver((mutations) => {
    if (!loaded) return;
    const changed = new Set();
    for (const m of mutations) {
      const target = m.target.nodeType === Node.ELEMENT_NODE ? m.target : m.target.parentElement;
      const region = target && target.closest(LIVE);
      if (region) { changed.add(region); continue; }
      m.addedNodes.forEach((node) => {
        if (node.nodeType === Node.ELEMENT_NODE && node.matches('[role="alert"]')) changed.add(node);
      });
    }
    changed.forEach((region) => {
      const text = region.textContent.replace(/\\s+/g, " ").trim();
      if (text && region.isConnected) {
        heard.push({role: region.getAttribute("role"), live: politeness(region), text: text});
      }
    });
  }).observe(document, {childList: true, subtree: true, characterData: true});
})();
"""


def lyssna(page):
    """Records, from the next page loaded on, what its live regions give a screen reader to say
    (`upplast`)."""
    page.add_init_script(_LIVE_RECORDER)


def upplast(page):
    """What the current page's live regions have given a screen reader to say since it loaded, in
    order: dicts of role, politeness ("polite" or "assertive") and text."""
    return page.evaluate("() => window.__upplast || []")
