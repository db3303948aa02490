"""The lists that pick a person offer only those the save would take: a förvaltning's and an
avdelning's chef. Someone a row already holds who may no longer be chosen (a chef who has left)
stays in its list, named with why, and the row saves unchanged; chosen anew, the same rule
refuses them."""

import html
import re

import pytest

from arenden.constants import Hinder
from arenden.models import Avdelning, Forvaltning, hinder_som_chef, valbara_chefer
from tests.arenden.test_admin_versioner import _sidan
from tests.arenden.test_chefer import _med_chef_som_slutat, _objekt, _slutat, _url
from tests.factories import AvdelningFactory, ForvaltningFactory, UserFactory


def _alternativ(sida, namn):
    """The options of the page's select `namn`, as {value: text}."""
    select = re.search(rf'<select name="{namn}"[^>]*>(.*?)</select>', sida.content.decode(), re.S)
    assert select, namn
    return {
        varde: html.unescape(text).strip()
        for varde, text in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', select.group(1), re.S)
    }


# --- a förvaltning's and an avdelning's chef ------------------------------------------------


@pytest.mark.parametrize("modell", [Forvaltning, Avdelning])
def test_the_chef_list_leaves_out_closed_accounts(admin_client, modell):
    obj = _objekt(modell)
    slutat = _slutat()
    aktiv = UserFactory(username="aktiv")
    lagg_till = f"/admin/arenden/{obj._meta.model_name}/add/"

    for url in (lagg_till, _url(obj)):
        listade = _alternativ(admin_client.get(url), "chef")
        assert str(aktiv.pk) in listade, url
        assert str(slutat.pk) not in listade, url


@pytest.mark.parametrize("modell", [Forvaltning, Avdelning])
def test_a_chef_who_has_left_stays_in_the_list_named_so_and_the_row_saves_unchanged(admin_client, modell):
    obj, chef = _med_chef_som_slutat(modell)
    form_id = f"{obj._meta.model_name}_form"

    sida = admin_client.get(_url(obj))
    assert _alternativ(sida, "chef")[str(chef.pk)] == "slutat (avslutat konto)"
    data = _sidan(admin_client, _url(obj), form_id)
    assert data["chef"] == str(chef.pk)
    data["namn"] = "Nytt namn"

    svar = admin_client.post(_url(obj), data)

    assert svar.status_code == 302, svar.context["adminform"].form.errors
    obj.refresh_from_db()
    assert (obj.namn, obj.chef) == ("Nytt namn", chef)
    # Another row is not offered them (posted, the model's rule refuses them: test_chefer.py).
    annan = ForvaltningFactory(diarieprefix="ANNAN") if modell is Forvaltning else AvdelningFactory()
    assert str(chef.pk) not in _alternativ(admin_client.get(_url(annan)), "chef")


def test_the_chef_list_and_the_rule_that_refuses_a_chef_agree(db):
    aktiv, slutat = UserFactory(username="aktiv"), _slutat()
    for user in (aktiv, slutat):
        listad = valbara_chefer().filter(pk=user.pk).exists()
        assert listad == (hinder_som_chef(user) is None), user
    assert hinder_som_chef(slutat) == Hinder.AVSLUTAT_KONTO
