import pytest
from django.urls import reverse

from arenden.urls_per_id import url_per_id


@pytest.mark.parametrize(
    "name",
    [
        "arenden:arende",
        "arenden:redigera",
        "arenden:tjansteutlatande_pdf",
        "atgarder:drogscen",
        "admin:arenden_tjansteutlatande_change",
    ],
)
def test_url_per_id_is_what_reverse_gives(name):
    url = url_per_id(name, current_app="admin")
    for pk in (1, 10, 90, 918273645546372819, 2**63 - 1):
        assert url(pk) == reverse(name, args=[pk], current_app="admin")


def test_url_per_id_keeps_a_script_prefix(settings):
    from django.urls import set_script_prefix

    set_script_prefix("/diarium/")
    try:
        assert url_per_id("arenden:arende")(7) == "/diarium/arenden/7/" == reverse("arenden:arende", args=[7])
    finally:
        set_script_prefix("/")
