"""django-simple-history's `HistoricalRecords`, with each model's history manager class built
once.

simple_history builds the class of `obj.history` anew (`Manager.from_queryset`, which inspects
every QuerySet method) on every access, and it reads `obj.history` itself each time it writes
a history row: some 0.1 ms of CPU on every save and every history read, for the same class."""

import functools
import importlib

from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords


class HistorikManager(HistoryManager):
    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class, class_name=None):
        return super().from_queryset(queryset_class, class_name)


class Historik(HistoricalRecords):
    def __init__(self, *args, history_manager=HistorikManager, **kwargs):
        super().__init__(*args, history_manager=history_manager, **kwargs)

    def post_save(self, instance, created, using=None, update_fields=None, **kwargs):
        # A save of only the fields the history leaves out (a login's `last_login`, a password
        # rehashed on login) changes nothing the history shows, and writes no row.
        if not created and update_fields and set(update_fields) <= set(self.excluded_fields):
            return
        super().post_save(instance, created, using=using, update_fields=update_fields, **kwargs)

    # For a model in a models package simple_history names the historical models' module after the
    # app ("arenden") but puts the classes in the model's own module (arenden.models.arenden). They
    # are put where their names say too, so that they import by those names (manage.py shell's
    # automatic imports do).
    def create_history_model(self, model, inherited):
        return _importable_by_its_name(super().create_history_model(model, inherited))

    def create_history_m2m_model(self, model, through_model):
        return _importable_by_its_name(super().create_history_m2m_model(model, through_model))


def _importable_by_its_name(model):
    setattr(importlib.import_module(model.__module__), model.__name__, model)
    return model
