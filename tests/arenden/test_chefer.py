"""A förvaltning's and an avdelning's chef is its documents' attest chain: someone whose
account is closed cannot be made chef, in the admin or elsewhere, since every document sent
for attest would be refused for them. A chef who has left since they were chosen stays, shown
and saved with the row, until the field is changed."""

import html

import pytest
from django.core.exceptions import ValidationError

from arenden import services
from arenden.models import Avdelning, Forvaltning
from tests.arenden.test_admin_versioner import _formular, _sidan
from tests.factories import AvdelningFactory, ForvaltningFactory, NamndFactory, UserFactory


def _slutat(**extra):
    return UserFactory(username="slutat", first_name="Slutat", last_name="Testsson", is_active=False, **extra)


def _aktiv():
    return UserFactory(username="ny", first_name="Ny", last_name="Chefsson")


SLUTAT = {
    "förvaltningschef": "Slutat Testsson har inget aktivt konto och kan inte vara förvaltningschef. Välj någon annan.",
    "avdelningschef": "Slutat Testsson har inget aktivt konto och kan inte vara avdelningschef. Välj någon annan.",
}


def _objekt(modell):
    return ForvaltningFactory() if modell is Forvaltning else AvdelningFactory()


def _som(modell):
    return "förvaltningschef" if modell is Forvaltning else "avdelningschef"


def _andra(obj, *, falt, user):
    if isinstance(obj, Forvaltning):
        return services.andra_forvaltning(forvaltning=obj, falt=falt, user=user)
    return services.andra_avdelning(avdelning=obj, falt=falt, user=user)


@pytest.mark.parametrize("modell", [Forvaltning, Avdelning])
def test_a_closed_account_is_refused_as_chef_by_the_models_validation(db, modell):
    obj = _objekt(modell)
    obj.chef = _slutat()

    with pytest.raises(ValidationError) as fel:
        obj.full_clean()

    assert fel.value.message_dict == {"chef": [SLUTAT[_som(modell)]]}


@pytest.mark.parametrize("modell", [Forvaltning, Avdelning])
def test_a_closed_account_is_refused_as_chef_by_the_service_whatever_calls_it(db, admin_user, modell):
    obj = _objekt(modell)
    historik = obj.history.count()
    obj.chef = _slutat()

    with pytest.raises(ValidationError) as fel:
        _andra(obj, falt=["chef"], user=admin_user)

    assert fel.value.message_dict == {"chef": [SLUTAT[_som(modell)]]}
    assert type(obj).objects.get(pk=obj.pk).chef is None
    assert obj.history.count() == historik


def _med_chef_som_slutat(modell):
    """A row of `modell` whose chef was chosen while active and has left since; the row and the chef."""
    obj = _objekt(modell)
    chef = UserFactory(username="slutat", first_name="Slutat", last_name="Testsson")
    obj.chef = chef
    obj.save()
    chef.is_active = False
    chef.save()
    return obj, chef


@pytest.mark.parametrize("modell", [Forvaltning, Avdelning])
def test_a_chef_who_left_after_being_chosen_stays_and_the_row_still_saves(db, admin_user, modell):
    obj, chef = _med_chef_som_slutat(modell)

    obj.refresh_from_db()
    obj.full_clean()
    obj.namn = "Nytt namn"
    _andra(obj, falt=["namn"], user=admin_user)

    obj.refresh_from_db()
    assert (obj.namn, obj.chef) == ("Nytt namn", chef)
    # Chosen again (a form that posts every field), they are the one already in the place.
    _andra(obj, falt=["namn", "chef"], user=admin_user)


def _url(obj):
    return f"/admin/arenden/{obj._meta.model_name}/{obj.pk}/change/"


@pytest.mark.parametrize("modell", [Forvaltning, Avdelning])
def test_the_admin_refuses_a_closed_account_as_chef_on_the_field_and_keeps_the_input(admin_client, modell):
    obj = _objekt(modell)
    form_id = f"{obj._meta.model_name}_form"
    slutat = _slutat()
    sidan = _sidan(admin_client, _url(obj), form_id)
    sidan.update(namn="Nytt namn", chef=str(slutat.pk))

    response = admin_client.post(_url(obj), sidan)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"chef": [SLUTAT[_som(modell)]]}
    assert 'value="Nytt namn"' in html.unescape(response.content.decode())
    obj.refresh_from_db()
    assert obj.chef is None and obj.namn != "Nytt namn"

    # Another chef, chosen on the page shown again, is saved.
    sidan = _formular(response, form_id)
    ny = _aktiv()
    sidan["chef"] = str(ny.pk)
    assert admin_client.post(_url(obj), sidan).status_code == 302
    obj.refresh_from_db()
    assert (obj.chef, obj.namn) == (ny, "Nytt namn")


@pytest.mark.parametrize("modell", [Forvaltning, Avdelning])
def test_the_admin_saves_a_row_whose_chef_has_left_when_the_field_is_left_alone(admin_client, modell):
    obj, chef = _med_chef_som_slutat(modell)
    form_id = f"{obj._meta.model_name}_form"

    sidan = _sidan(admin_client, _url(obj), form_id)
    assert sidan["chef"] == str(chef.pk)  # shown on the page, as the chef the row has
    sidan["namn"] = "Nytt namn"
    response = admin_client.post(_url(obj), sidan)

    assert response.status_code == 302, response.context["adminform"].form.errors
    obj.refresh_from_db()
    assert (obj.namn, obj.chef) == ("Nytt namn", chef)


def test_a_new_forvaltning_or_avdelning_in_the_admin_refuses_a_closed_account_as_chef(admin_client):
    slutat = _slutat()
    namnd = NamndFactory()
    response = admin_client.post(
        "/admin/arenden/forvaltning/add/",
        {"namn": "Ny förvaltning", "diarieprefix": "NYF", "namnd": namnd.pk, "chef": slutat.pk},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"chef": [SLUTAT["förvaltningschef"]]}
    assert not Forvaltning.objects.filter(namn="Ny förvaltning").exists()

    forvaltning = ForvaltningFactory()
    response = admin_client.post(
        "/admin/arenden/avdelning/add/", {"forvaltning": forvaltning.pk, "namn": "Ny avdelning", "chef": slutat.pk}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"chef": [SLUTAT["avdelningschef"]]}
    assert not Avdelning.objects.filter(namn="Ny avdelning").exists()
