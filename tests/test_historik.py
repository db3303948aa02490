"""Each model's history manager class is built once, and history still works as simple_history's."""

from django.apps import apps
from django.utils.module_loading import import_string

from arenden.models import Arende
from tests.factories import ArendeFactory


def test_the_history_manager_class_is_built_once_per_model(db):
    first, second = ArendeFactory(), ArendeFactory()
    assert type(first.history) is type(second.history) is type(Arende.history)
    assert first.history.instance is first and second.history.instance is second


def test_history_is_recorded_and_read_per_instance(db):
    arende, other = ArendeFactory(), ArendeFactory()
    arende.arendemening = "Ny mening"
    arende.save()
    assert [h.arendemening for h in arende.history.order_by("history_id")][-1] == "Ny mening"
    assert arende.history.count() == 2 and other.history.count() == 1
    assert Arende.history.count() == 3


def test_every_model_imports_by_its_own_name():
    # manage.py shell imports each model by its module and name; the historical models of a
    # models package are named after the app's module.
    for model in apps.get_models():
        if model._meta.app_label in {"arenden", "atgarder"}:
            assert import_string(f"{model.__module__}.{model.__name__}") is model, model
