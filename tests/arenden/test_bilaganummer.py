"""A new bilaga's number on the document's admin page: the next free one is offered, so the
usual case needs no typing; a number typed by hand is kept, and one that is taken is refused."""

import html
import re

import pytest

from arenden import services
from arenden.models import Bilaga
from tests.arenden.test_admin import _change_form_data
from tests.arenden.world import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def dokument(world):
    """A draft with bilagor 1 and 3 (the second was removed, or numbered by hand)."""
    tu = world.dokument()
    for ordning, titel in ((1, "Skrivelse; Öppna drogscener"), (3, "Karta över Sätra centrum")):
        services.spara_dokumentdel(
            tjansteutlatande=tu, obj=Bilaga(ordning=ordning, titel=titel, text=titel), user=world.officer
        )
    return tu


def _url(tu):
    return f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"


def _erbjudet(page):
    """The number in the row that "Lägg till ytterligare bilaga" copies, and its hidden copy."""
    varden = {
        namn: re.search(rf'name="{namn}"[^>]*value="([^"]*)"', page)
        or re.search(rf'value="([^"]*)"[^>]*name="{namn}"', page)
        for namn in ("bilagor-__prefix__-ordning", "initial-bilagor-__prefix__-ordning")
    }
    return tuple(m and m.group(1) for m in varden.values())


def _med_nya(tu, *rader):
    """The page as posted after adding a row for each of `rader` (number shown, number posted,
    title), the way the admin's script copies the empty row: each with the hidden copy of the
    number the page offered."""
    data = _change_form_data(tu)
    forst = tu.bilagor.count()
    data["bilagor-TOTAL_FORMS"] = str(forst + len(rader))
    for i, (visat, nummer, titel) in enumerate(rader, start=forst):
        data.update(
            {
                f"bilagor-{i}-tjansteutlatande": tu.pk,
                f"bilagor-{i}-ordning": nummer,
                f"initial-bilagor-{i}-ordning": visat,
                f"bilagor-{i}-titel": titel,
                f"bilagor-{i}-text": f"Text till {titel.lower()}.",
            }
        )
    return data


def _sparat(response):
    assert response.status_code == 302, html.unescape(response.content.decode())[:3000]


def _bilagor(tu):
    return list(tu.bilagor.order_by("ordning").values_list("ordning", "titel"))


def test_a_new_bilaga_is_offered_one_more_than_the_highest_number(client, world, dokument):
    client.force_login(world.officer)
    assert _erbjudet(client.get(_url(dokument)).content.decode()) == ("4", "4")
    utan = world.dokument()
    assert _erbjudet(client.get(_url(utan)).content.decode()) == ("1", "1")


def test_a_bilaga_added_with_the_offered_number_is_saved_with_it(client, world, dokument):
    client.force_login(world.officer)
    _sparat(client.post(_url(dokument), _med_nya(dokument, ("4", "4", "Protokollsutdrag"))))
    assert _bilagor(dokument) == [
        (1, "Skrivelse; Öppna drogscener"),
        (3, "Karta över Sätra centrum"),
        (4, "Protokollsutdrag"),
    ]


def test_two_bilagor_added_in_one_save_with_the_offered_number_are_numbered_in_turn(client, world, dokument):
    # Both rows are copies of the same empty row, so both showed 4: they must not both be saved
    # as 4 and fail on the second.
    client.force_login(world.officer)
    data = _med_nya(dokument, ("4", "4", "Protokollsutdrag"), ("4", "4", "Polisens lägesbild"))
    _sparat(client.post(_url(dokument), data))
    assert _bilagor(dokument)[2:] == [(4, "Protokollsutdrag"), (5, "Polisens lägesbild")]


def test_a_number_typed_by_hand_is_kept_and_the_offered_ones_go_around_it(client, world, dokument):
    client.force_login(world.officer)
    data = _med_nya(
        dokument,
        ("4", "4", "Protokollsutdrag"),
        ("4", "2", "Yttrande från Polisen"),  # the gap filled on purpose
        ("4", "5", "Polisens lägesbild"),  # typed: the number offered would have been 4
        ("4", "4", "Trygghetsmätning"),
    )
    _sparat(client.post(_url(dokument), data))
    assert _bilagor(dokument) == [
        (1, "Skrivelse; Öppna drogscener"),
        (2, "Yttrande från Polisen"),
        (3, "Karta över Sätra centrum"),
        (4, "Protokollsutdrag"),
        (5, "Polisens lägesbild"),
        (6, "Trygghetsmätning"),
    ]


def test_a_number_taken_meanwhile_moves_the_offered_one_on(client, world, dokument):
    # The page offered 4; bilaga 4 was added (in another tab, or by a colleague) before it was
    # saved. The user typed no number, so theirs becomes 5 rather than a clash they did not make.
    client.force_login(world.officer)
    assert _erbjudet(client.get(_url(dokument)).content.decode()) == ("4", "4")
    data = _med_nya(dokument, ("4", "4", "Protokollsutdrag"))
    services.spara_dokumentdel(
        tjansteutlatande=dokument, obj=Bilaga(ordning=4, titel="Kollegans bilaga", text="x"), user=world.superuser
    )
    _sparat(client.post(_url(dokument), data))
    assert _bilagor(dokument)[2:] == [(4, "Kollegans bilaga"), (5, "Protokollsutdrag")]


def _fel(page):
    return re.findall(r'<ul class="errorlist[^"]*"[^>]*><li>(.*?)</li>', page)


@pytest.mark.parametrize(
    "rader, fel",
    [
        # The number of a stored bilaga: Django's formset said "Korrigera duplikatdata för ordning."
        (
            [("4", "3", "Protokollsutdrag")],
            ["Bilaga 3 finns redan (”Karta över Sätra centrum”). Välj ett annat nummer."],
        ),
        (
            [("4", "6", "Protokollsutdrag"), ("4", "6", "Polisens lägesbild")],
            [
                "Bilaga 6 finns redan (”Polisens lägesbild”). Välj ett annat nummer.",
                "Bilaga 6 finns redan (”Protokollsutdrag”). Välj ett annat nummer.",
            ],
        ),
    ],
)
def test_a_typed_number_that_is_taken_is_refused_with_the_input_kept(client, world, dokument, rader, fel):
    client.force_login(world.officer)
    response = client.post(_url(dokument), _med_nya(dokument, *rader))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert _fel(page) == fel
    for i, (_, nummer, titel) in enumerate(rader, start=2):
        assert re.search(rf'name="bilagor-{i}-ordning" value="{nummer}"', page)
        assert f'value="{titel}"' in page
    assert len(_bilagor(dokument)) == 2


def test_a_typed_number_stored_since_the_page_was_opened_is_refused(client, world, dokument):
    client.force_login(world.officer)
    data = _med_nya(dokument, ("4", "5", "Protokollsutdrag"))
    services.spara_dokumentdel(
        tjansteutlatande=dokument, obj=Bilaga(ordning=5, titel="Kollegans bilaga", text="x"), user=world.superuser
    )
    response = client.post(_url(dokument), data)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert _fel(page) == ["Bilaga 5 finns redan (”Kollegans bilaga”). Välj ett annat nummer."]
    assert 'value="Protokollsutdrag"' in page
    assert _bilagor(dokument)[2:] == [(5, "Kollegans bilaga")]


def test_a_stored_bilaga_renumbered_to_anothers_number_is_refused(client, world, dokument):
    client.force_login(world.officer)
    data = _change_form_data(dokument, **{"bilagor-1-ordning": "1"})
    response = client.post(_url(dokument), data)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert _fel(page) == ["Bilaga 1 finns redan (”Skrivelse; Öppna drogscener”). Välj ett annat nummer."]
    assert re.search(r'name="bilagor-1-ordning" value="1"', page)
    assert _bilagor(dokument) == [(1, "Skrivelse; Öppna drogscener"), (3, "Karta över Sätra centrum")]
