"""The officers' main menu offers only what the user may open."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import resolve, reverse

from arenden.constants import Roll
from tests.factories import ProfilFactory, UserFactory

REGISTRERA = 'href="/arenden/nytt/"'


@pytest.mark.parametrize(
    ("roller", "far"),
    [
        ([Roll.HANDLAGGARE], True),
        ([Roll.REGISTRATOR], True),
        ([Roll.ATTESTANT], False),
        ([Roll.NAMNDSEKRETERARE], False),
        ([], False),
    ],
    ids=["handläggare", "registrator", "attestant", "nämndsekreterare", "ingen-roll"],
)
def test_the_menu_offers_registering_a_skrivelse_only_to_those_who_may(client, db, roller, far):
    user = ProfilFactory(user=UserFactory(roller=roller)).user
    client.force_login(user)
    for sida in ("/", "/drogscener/"):
        response = client.get(sida)
        assert response.status_code == 200
        # The menu led a chef to "Du har inte behörighet" (403) on every page.
        assert (REGISTRERA in response.content.decode()) is far, sida
    assert client.get("/arenden/nytt/").status_code == (200 if far else 403)


def _huvudmeny(html):
    return re.search(r'<nav aria-label="Huvudmeny">(.*?)</nav>', html, re.S).group(1)


@pytest.mark.parametrize("sida", ["/", "/drogscener/"])
def test_the_menu_leads_an_officer_to_the_diarium_search(client, db, sida):
    officer = ProfilFactory(user=UserFactory(roller=[Roll.HANDLAGGARE])).user
    client.force_login(officer)
    meny = _huvudmeny(client.get(sida).content.decode())
    # The search was reachable only from a drogscen page's "fler än 1000" line.
    lank = re.search(r'<a href="([^"]+)"[^>]*>Sök i diariet</a>', meny)
    assert lank and lank.group(1) == reverse("arenden:sok")
    assert 'aria-current="page">Sök i diariet' not in meny
    response = client.get(lank.group(1), {"q": "drogscener"})
    assert response.status_code == 200 and 'role="search"' in response.content.decode()


@pytest.mark.parametrize(
    ("url", "aktuell"),
    [("/sok/", "Sök i diariet"), ("/", "Mina ärenden"), ("/atgarder/sok/", "Drogscener och åtgärder")],
)
def test_the_menu_marks_the_page_it_is_on(rf, db, url, aktuell):
    request = rf.get(url)
    request.user = ProfilFactory(user=UserFactory(roller=[Roll.HANDLAGGARE])).user
    request.resolver_match = resolve(url)
    meny = _huvudmeny(render_to_string("base.html", request=request))
    assert re.findall(r'aria-current="page">([^<]+)</a>', meny) == [aktuell]


def test_the_diarium_search_is_one_of_the_officers_pages(client, db):
    """Reached from the officers' menu, the search kept that menu and the way out: it was drawn in
    the admin's frame, whose header and "Start" led an officer to the admin's login."""
    officer = ProfilFactory(user=UserFactory(roller=[Roll.HANDLAGGARE])).user
    client.force_login(officer)
    html = client.get("/sok/", {"q": "drogscener"}).content.decode()

    assert re.findall(r'aria-current="page">([^<]+)</a>', _huvudmeny(html)) == ["Sök i diariet"]
    assert "Logga ut" in html and "<h1>Sök i diariet</h1>" in html
    assert 'href="/admin/' not in html
    # No hits: the count says so, with no empty list beside it.
    assert "Inga träffar för ”drogscener”." in html and "sokresultat" not in html
