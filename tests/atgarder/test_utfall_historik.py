"""An utfall added, changed or removed on an åtgärd's page is in the åtgärd's history: who,
when and what, on the admin's history page and the officers' page of the åtgärd."""

import html

import pytest

from arenden.constants import Roll
from atgarder.models import Utfall
from tests.atgarder.test_admin_versioner import _sidan
from tests.factories import AtgardFactory, UserFactory


@pytest.fixture
def handlaggare(db):
    return UserFactory(
        username="handlaggare", first_name="Hanna", last_name="Hall", is_staff=True, roller=[Roll.HANDLAGGARE]
    )


def _historik(client, atgard):
    admin = html.unescape(client.get(f"/admin/atgarder/atgard/{atgard.pk}/history/").content.decode())
    officer = html.unescape(client.get(f"/atgarder/{atgard.pk}/").content.decode())
    return admin, officer


def test_a_changed_utfall_is_in_the_atgards_history(client, handlaggare):
    atgard = AtgardFactory(titel="Platsaktiveringar")
    Utfall.objects.create(atgard=atgard, antal=70, enhet="platsaktiveringar", ar=2023)
    client.force_login(handlaggare)
    url = f"/admin/atgarder/atgard/{atgard.pk}/change/"
    sidan = _sidan(client, url)
    sidan["utfall-0-antal"] = "700"

    assert client.post(url, sidan).status_code == 302

    rad = atgard.history.order_by("-history_id").first()
    assert rad.history_user == handlaggare
    assert "70 platsaktiveringar 2023 → 700 platsaktiveringar 2023" in rad.history_change_reason
    for sida in _historik(client, atgard):
        assert "700 platsaktiveringar 2023" in sida


def test_an_added_and_a_removed_utfall_are_in_the_atgards_history(client, handlaggare):
    atgard = AtgardFactory(titel="Platsaktiveringar")
    Utfall.objects.create(atgard=atgard, antal=70, enhet="platsaktiveringar", ar=2023)
    client.force_login(handlaggare)
    url = f"/admin/atgarder/atgard/{atgard.pk}/change/"
    sidan = _sidan(client, url)
    sidan["utfall-0-DELETE"] = "on"
    sidan.update(
        {"utfall-TOTAL_FORMS": "2", "utfall-1-antal": "12", "utfall-1-enhet": "kvällar", "utfall-1-ar": "2024"}
    )

    assert client.post(url, sidan).status_code == 302

    rad = atgard.history.order_by("-history_id").first()
    assert rad.history_user == handlaggare
    assert "12 kvällar 2024" in rad.history_change_reason
    assert "70 platsaktiveringar 2023" in rad.history_change_reason


def test_a_page_saved_without_changes_adds_no_row(client, handlaggare):
    atgard = AtgardFactory(titel="Platsaktiveringar")
    Utfall.objects.create(atgard=atgard, antal=70, enhet="platsaktiveringar", ar=2023)
    rader = atgard.history.count()
    client.force_login(handlaggare)
    url = f"/admin/atgarder/atgard/{atgard.pk}/change/"

    assert client.post(url, _sidan(client, url)).status_code == 302
    assert atgard.history.count() == rader
