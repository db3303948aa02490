"""What the register refuses: a name that differs from another only by case or spacing."""

import html
import sys

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from atgarder.models import BLANKSTEG, Aktor, Drogscen
from tests.atgarder.test_admin_versioner import _sidan
from tests.factories import DrogscenFactory


def _page(response):
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("namn", ["polisen", "POLISEN", "Polisen ", "  polisen"])
def test_an_aktor_named_as_another_but_for_case_or_spacing_is_refused(admin_client, namn):
    Aktor.objects.create(namn="Polisen")

    response = admin_client.post("/admin/atgarder/aktor/add/", {"namn": namn})

    assert response.status_code == 200
    assert Aktor.objects.count() == 1
    assert "finns redan" in _page(response)
    assert namn.strip() in _page(response)


def test_a_drogscen_named_as_another_but_for_case_or_inner_spacing_is_refused(admin_client):
    Drogscen.objects.create(namn="Sätra centrum", omrade="Sätra")

    response = admin_client.post(
        "/admin/atgarder/drogscen/add/", {"namn": "SÄTRA  centrum", "omrade": "Sätra", "beskrivning": ""}
    )

    assert response.status_code == 200
    assert Drogscen.objects.count() == 1
    assert "finns redan" in _page(response)


def test_renaming_a_drogscen_to_another_ones_name_in_other_case_is_refused(admin_client):
    DrogscenFactory(namn="Vårbergs centrum")
    scen = DrogscenFactory(namn="Bredängs centrum")
    url = f"/admin/atgarder/drogscen/{scen.pk}/change/"
    sidan = _sidan(admin_client, url, "drogscen_form")
    sidan["namn"] = "vårbergs centrum"
    response = admin_client.post(url, sidan)

    assert response.status_code == 200
    scen.refresh_from_db()
    assert scen.namn == "Bredängs centrum"
    assert "finns redan" in _page(response)


def test_a_name_keeps_its_own_case_when_saved_again(admin_client):
    aktor = Aktor.objects.create(namn="Polisen")
    url = f"/admin/atgarder/aktor/{aktor.pk}/change/"
    sidan = _sidan(admin_client, url, "aktor_form")
    sidan["namn"] = "POLISEN"
    assert admin_client.post(url, sidan).status_code == 302
    aktor.refresh_from_db()
    assert aktor.namn == "POLISEN"


@pytest.mark.parametrize(
    ("model", "forsta", "andra"),
    [
        (Aktor, "Polisen", "polisen"),
        (Aktor, "Polisen", " POLISEN\t"),
        (Aktor, "Fastighetsägare Sätra", "fastighetsägare\u00a0\u00a0 sätra"),
        (Drogscen, "Sätra centrum", "SÄTRA  centrum"),
        (Drogscen, "Vårbergs centrum", "vårbergs\ncentrum "),
    ],
)
def test_the_database_refuses_a_name_that_differs_only_by_case_or_spacing(db, model, forsta, andra):
    # A save that skips full_clean (a script, two admin saves at the same instant) meets the
    # database's own rule, the one unikt_namn tells the form.
    falt = {"omrade": "Sätra"} if model is Drogscen else {}
    model.objects.create(namn=forsta, **falt)

    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(namn=andra, **falt)

    assert list(model.objects.values_list("namn", flat=True)) == [forsta]


def test_names_that_differ_by_more_than_case_or_spacing_are_both_stored(db):
    for namn in ("Polisen", "Polisen Syd", "Polisens", "Poli sen"):
        Aktor.objects.create(namn=namn)
    assert Aktor.objects.count() == 4


def test_the_register_and_the_database_normalise_a_name_alike(db):
    # The form check asks the database with the constraint's own expression: what one refuses,
    # the other does.
    Aktor.objects.create(namn="Kriminalvården")
    aktor = Aktor(namn="  KRIMINALVÅRDEN\u3000")
    with pytest.raises(ValidationError) as fel:
        aktor.full_clean()
    assert fel.value.message_dict == {"namn": ["Aktören ”Kriminalvården” finns redan i registret."]}


def test_the_spacing_the_database_folds_is_what_python_splits_on():
    assert set(BLANKSTEG) | {" "} == {chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()}


@pytest.mark.django_db(transaction=True)
def test_the_migration_folds_spacing_and_renames_near_duplicates_in_their_history():
    fore, efter = [("atgarder", "0002_rimliga_ar")], [("atgarder", "0003_namn_unikt")]
    executor = MigrationExecutor(connection)
    executor.migrate(fore)
    gamla = executor.loader.project_state(fore).apps
    GammalAktor = gamla.get_model("atgarder", "Aktor")
    polisen = GammalAktor.objects.create(namn="Polisen")
    dubblett = GammalAktor.objects.create(namn="polisen ")
    skolan = GammalAktor.objects.create(namn=" Skolan\u00a0i  Sätra")
    scen = gamla.get_model("atgarder", "Drogscen").objects.create(namn="Sätra centrum", omrade="Sätra")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(efter)
    # Back to every app's latest migration: those after 0003, and the other apps' that depend on
    # them, were unapplied by going back, and the tests after this one use their tables.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    namn = dict(Aktor.objects.values_list("pk", "namn"))
    assert namn == {
        polisen.pk: "Polisen",
        dubblett.pk: f"polisen (dubblett {dubblett.pk})",
        skolan.pk: "Skolan i Sätra",
    }
    assert Drogscen.objects.get(pk=scen.pk).namn == "Sätra centrum"
    rad = Aktor.history.get(id=dubblett.pk)
    assert (rad.history_type, rad.history_change_reason) == ("~", "Nytt namn: ”Polisen” fanns redan")
    assert not Aktor.history.filter(id=polisen.pk).exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        Aktor.objects.create(namn="POLISEN")
