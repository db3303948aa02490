"""axe-core finds no serious or critical violation, nor a skipped heading level, on any officer page."""

import pytest
from playwright.sync_api import expect

from arenden.models import Skrivelse, Tjansteutlatande
from atgarder.models import Atgard, Drogscen
from tests.arenden.world import build_world

from .conftest import AXE, PASSWORD, axe_violations, demo_pa_listan, login

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_serious_axe_violations_on_any_officer_page(demo_site, page):
    page.goto(f"{demo_site}/logga-in/")
    assert axe_violations(page) == [], "login"
    login(page, demo_site, "anette")
    tu = Tjansteutlatande.objects.select_related("arende").get(arende__diarienummer="SKHLM 2024/123")
    scen = Drogscen.objects.get(namn="Sätra centrum")
    atgard = Atgard.objects.get(titel="Platssamverkan och platsaktivering")
    pages = {
        "start": "/",
        "start, filtrerad": "/?q=drog&status=redo_for_namnd",
        "registrera": "/arenden/nytt/",
        "ärende": f"/arenden/{tu.arende.pk}/",
        "editor": f"/tjansteutlatanden/{tu.pk}/redigera/",
        "förhandsgranskning": f"/tjansteutlatanden/{tu.pk}/forhandsgranska/",
        "attest": f"/tjansteutlatanden/{tu.pk}/attest/",
        "drogscener": "/drogscener/",
        "drogscen": f"/drogscener/{scen.pk}/",
        "åtgärd": f"/atgarder/{atgard.pk}/",
        "sök i diariet": "/sok/?q=drogscener",
    }
    found = {}
    page.on("dialog", lambda dialog: dialog.accept())  # leaving the editor after the Tab check below
    for name, path in pages.items():
        response = page.goto(demo_site + path)
        assert response.status == 200, name
        if name == "editor":
            # The panels that open inside the editor are part of the page too.
            page.get_by_text("Sök i åtgärdsregistret").click()
            page.get_by_role("button", name="Sök", exact=True).click()
            page.get_by_text("Ny åtgärd", exact=True).click()
            page.get_by_text("Ändra titel, undertitel och sammanträde").click()
            page.locator("#sokresultat li").first.wait_for()
            # Tab leaves a text field, also from inside a list, instead of indenting.
            field = page.get_by_role("textbox", name="Sammanfattning", exact=True)
            field.click()
            page.keyboard.press("Control+Shift+L")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.getAttribute('aria-label')") != "Sammanfattning"
            assert "\t" not in field.inner_text()
        found[name] = axe_violations(page)
    # A form with errors, and a newly registered case.
    page.goto(demo_site + "/arenden/nytt/")
    page.get_by_role("button", name="Registrera ärende").click()
    # The form goes once the page has heard that the session holds (sida.js).
    expect(page.get_by_role("alert")).to_be_visible()
    found["registrera med fel"] = axe_violations(page)
    page.get_by_label("Titel").fill("Tillgänglighet")
    page.get_by_label("Författare").fill("Ledamot (S)")
    page.get_by_label("Skickad för beredning").fill("2024-09-01")
    page.locator("#id_text").fill("Text.")
    page.get_by_role("button", name="Registrera ärende").click()
    expect(page.get_by_role("status").first).to_contain_text("Ärendet är registrerat")
    assert Skrivelse.objects.filter(titel="Tillgänglighet").exists()
    found["nytt ärende"] = axe_violations(page)
    assert {name: v for name, v in found.items() if v} == {}


def _fokus(page):
    """The accessible name of the element that has the keyboard focus, or its tag if it has none."""
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return (e.getAttribute('aria-label') || e.textContent || '').trim() || e.tagName; }"""
    )


def test_the_agenda_s_buttons_name_their_item_and_the_focus_stays_on_the_item_moved(demo_site, page):
    """Each item of the föredragningslista has the same buttons: a screen reader read "▲ Upp",
    "Ta bort" without saying which item they act on. And each press reloads the meeting's page
    with the focus at its top, so a keyboard user moving an item three places tabbed through the
    whole menu three times; now it stays on the item's button, as in the officer's editor."""
    demo_pa_listan(page, demo_site)
    page.get_by_label("Rubrik (för informationspunkt)").fill("Information om trygghetsarbetet")
    page.get_by_role("button", name="Lägg till sist på listan").click()
    expect(page.locator(".messagelist")).to_contain_text("Punkten är tillagd")
    for namn in ("Upp, punkt 1", "Ned, punkt 2", "Ta bort, punkt 2"):
        expect(page.get_by_role("button", name=namn, exact=True)).to_be_visible()
    # The meeting's day is past in the demo: the items can be decided, each from its own page.
    expect(page.get_by_role("link", name="Registrera beslut, punkt 2", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Bordlägg, punkt 1", exact=True)).to_be_visible()

    page.get_by_role("button", name="Upp, punkt 2", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("omnumrerad")
    expect(page.locator("#punkter-0 .field-arendet")).to_contain_text("Information om trygghetsarbetet")
    # At the top of the list its move up does nothing more: the focus is on its other move.
    assert _fokus(page) == "Ned, punkt 1"
    page.keyboard.press("Enter")
    expect(page.locator("#punkter-1 .field-arendet")).to_contain_text("Information om trygghetsarbetet")
    assert _fokus(page) == "Upp, punkt 2"

    # A removed item passes the focus to the one that took its place, and the last one to the list's heading.
    page.get_by_role("button", name="Ta bort, punkt 1", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("Punkt 1 är borttagen")
    assert _fokus(page) == "Ta bort, punkt 1"
    page.keyboard.press("Enter")
    expect(page.locator("#punkter-group")).to_contain_text("Föredragningslistan är tom.")
    assert _fokus(page) == "Föredragningslista"


def _sidled(page):
    """How many CSS pixels the page is wider than the window: what the reader scrolls sideways."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_a_chef_s_pages_reflow_at_320_css_pixels(roller, live_server, page):
    """At 320 CSS pixels (a phone, or 400 % zoom: WCAG 1.4.10) nothing on a chef's pages makes
    the reader scroll sideways; tables of data scroll in their own box. The return's comment
    field was 80 columns wide, and what the chef typed ran out of the window."""
    world = build_world()
    world.chef1.set_password(PASSWORD)
    world.chef1.save()
    tu = world.skickat()
    page.set_viewport_size({"width": 320, "height": 640})
    login(page, live_server.url, "chef1")
    admin = f"{live_server.url}/admin/arenden"
    for sida in (
        "/attestko/",
        f"/tjansteutlatande/{tu.pk}/change/",
        f"/tjansteutlatande/{tu.pk}/attestera/",
        f"/tjansteutlatande/{tu.pk}/aterremittera/",
        f"/tjansteutlatande/{tu.pk}/history/",
        f"/arende/{tu.arende.pk}/history/",
    ):
        page.goto(admin + sida)
        assert _sidled(page) <= 0, sida


def test_a_meeting_s_pages_reflow_at_320_css_pixels(demo_site, page):
    """The meeting's history has a second table, its list's changes, that stood outside the
    admin's scrolling box: at 320 CSS pixels the whole page scrolled sideways."""
    demo = demo_pa_listan(page, demo_site)
    page.set_viewport_size({"width": 320, "height": 640})
    mote = demo.foredragningspunkter.get().sammantrade
    punkt = demo.foredragningspunkter.get()
    admin = f"{demo_site}/admin/arenden/sammantrade"
    for sida in ("/", f"/{mote.pk}/change/", f"/{mote.pk}/history/", f"/{mote.pk}/punkt/{punkt.pk}/beslut/"):
        page.goto(admin + sida)
        assert _sidled(page) <= 0, sida


def _beskrivning(page):
    """What a screen reader reads for the focused field after its name: the texts its
    aria-describedby points to (an id pointing nowhere reads nothing)."""
    return page.evaluate(
        """() => (document.activeElement.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)
               .map(id => document.getElementById(id) ? document.getElementById(id).textContent.trim() : '(saknas)')"""
    )


def test_a_refused_return_comment_or_decision_is_told_at_its_field_where_the_focus_goes(roller, live_server, page):
    """A comment of only spaces, or a decision's text of only spaces, passes the browser's own
    check and is refused by the server. The return's refusal stood as a message at the top of the
    page, not at the field; the decision's was at the field, but its help text's id was missing,
    and after either the focus was at the top of the page, far from what to correct."""
    from arenden import services
    from tests.arenden.meeting import attesterat_dokument, sammantrade, sekreterare

    world = build_world()
    world.chef1.set_password(PASSWORD)
    world.chef1.save()
    tu = world.skickat()
    login(page, live_server.url, "chef1")
    page.goto(f"{live_server.url}/admin/arenden/tjansteutlatande/{tu.pk}/aterremittera/")
    page.get_by_label("Kommentar till handläggaren").fill("   ")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#id_kommentar")).to_be_focused()
    assert page.locator("#id_kommentar").get_attribute("aria-invalid") == "true"
    assert _beskrivning(page) == ["Skriv en kommentar om vad som behöver ändras innan du återremitterar."]

    mote = sammantrade()
    sekr = sekreterare("sekr2")
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
    page.context.clear_cookies()
    sekr.set_password(PASSWORD)
    sekr.save()
    login(page, live_server.url, "sekr2")
    page.goto(f"{live_server.url}/admin/arenden/sammantrade/{mote.pk}/punkt/{punkt.pk}/beslut/")
    page.get_by_label("Nämndens beslut").fill("   ")
    page.get_by_role("button", name="Registrera beslut").click()
    expect(page.locator(".errornote")).to_contain_text("Rätta felen nedan.")
    expect(page.locator("#id_beslut")).to_be_focused()
    assert _beskrivning(page) == [
        "Förifyllt med förvaltningens förslag till beslut. Ändra om nämnden beslutade något annat.",
        "Detta fält måste fyllas i.",
    ]


def _axe_alla(page):
    """Every WCAG 2.1 A/AA and best-practice finding of axe-core on the page, of any impact, but
    those of Django's own admin markup that its look would have to change for: the empty header
    cells over a tabular inline's row title and delete column (minor), and the list that
    select2's chosen items are drawn in (a <ul> holding the field's <span>)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    # Without axe's preload: it reads the page's style sheets by writing their text into <style>
    # elements, which the page's Content-Security-Policy (rightly) refuses on the admin's forms.
    result = page.evaluate(
        """() => axe.run(document, {preload: false, runOnly: {type: 'tag',
              values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    godtagna = {"empty-table-header", "list"}
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["id"] not in godtagna
    ]


def test_axe_finds_nothing_of_any_impact_on_the_chefs_and_secretaries_pages(demo_site, page):
    """The admin's breadcrumbs were told from their text by colour alone (white on pale blue,
    1.4:1); the admin's own login page had no level-one heading; the search field of a
    multiple choice (the case's cited cases) had no name."""
    from arenden.models import Arende

    page.goto(f"{demo_site}/admin/login/")
    found = {"admin: logga in": _axe_alla(page)}
    demo = demo_pa_listan(page, demo_site)  # the secretary's
    mote = demo.foredragningspunkter.get().sammantrade
    punkt = demo.foredragningspunkter.get()
    arende = Arende.objects.get(diarienummer="SKHLM 2024/123")
    admin = f"{demo_site}/admin/arenden"
    for sida in (
        "/sammantrade/",
        f"/sammantrade/{mote.pk}/change/",
        f"/sammantrade/{mote.pk}/history/",
        f"/sammantrade/{mote.pk}/punkt/{punkt.pk}/beslut/",
        f"/sammantrade/{mote.pk}/punkt/{punkt.pk}/bordlagg/",
        f"/arende/{arende.pk}/change/",
        f"/arende/{arende.pk}/history/",
        f"/tjansteutlatande/{demo.pk}/change/",
        f"/tjansteutlatande/{demo.pk}/history/",
    ):
        page.goto(admin + sida)
        found[sida] = _axe_alla(page)
    page.context.clear_cookies()
    login(page, demo_site, "christoffer")
    for sida in ("/attestko/", "/tjansteutlatande/", f"/tjansteutlatande/{demo.pk}/change/"):
        page.goto(admin + sida)
        found["chef " + sida] = _axe_alla(page)
    assert {sida: fynd for sida, fynd in found.items() if fynd} == {}
