"""Years no one could mean, an utfall's or a drogscen's fokusår, are refused on the field in
Swedish, with what was typed kept."""

import html

import pytest

from atgarder.models import Drogscen
from tests.atgarder.test_admin_versioner import _sidan
from tests.factories import AtgardFactory, DrogscenFactory


@pytest.mark.parametrize("ar", ["20233", "203", "0"])
def test_an_utfall_in_a_year_no_one_could_mean_is_refused(admin_client, ar):
    atgard = AtgardFactory(titel="Platsaktiveringar")
    url = f"/admin/atgarder/atgard/{atgard.pk}/change/"
    sidan = _sidan(admin_client, url)
    sidan.update({"utfall-TOTAL_FORMS": "1", "utfall-0-antal": "70", "utfall-0-enhet": "kvällar", "utfall-0-ar": ar})

    response = admin_client.post(url, sidan)

    assert response.status_code == 200
    assert not atgard.utfall.exists()
    page = html.unescape(response.content.decode())
    assert "Ange ett år mellan" in page
    assert f'value="{ar}"' in page


def test_an_utfall_in_a_real_year_is_saved(admin_client):
    atgard = AtgardFactory(titel="Platsaktiveringar")
    url = f"/admin/atgarder/atgard/{atgard.pk}/change/"
    sidan = _sidan(admin_client, url)
    sidan.update(
        {"utfall-TOTAL_FORMS": "1", "utfall-0-antal": "70", "utfall-0-enhet": "kvällar", "utfall-0-ar": "2023"}
    )

    assert admin_client.post(url, sidan).status_code == 302
    assert atgard.utfall.get().ar == 2023


def test_a_drogscen_focus_year_no_one_could_mean_is_refused(admin_client):
    scen = DrogscenFactory(namn="Sätra centrum", omrade="Sätra")
    url = f"/admin/atgarder/drogscen/{scen.pk}/change/"
    sidan = _sidan(admin_client, url, "drogscen_form")
    sidan["fokusar"] = "20244"

    response = admin_client.post(url, sidan)

    assert response.status_code == 200
    assert Drogscen.objects.get(pk=scen.pk).fokusar is None
    assert "Ange ett år mellan" in html.unescape(response.content.decode())
