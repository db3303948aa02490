"""django-simple-history's `HistoricalRecords`, with each model's history manager class built
once.

simple_history builds the class of `obj.history` anew (`Manager.from_queryset`, which inspects
every QuerySet method) on every access, and it reads `obj.history` itself each time it writes
a history row: some 0.1 ms of CPU on every save and every history read, for the same class.

One change is one history row (`en_historikrad`): simple_history writes a row for a save and
another for each add, remove or clear of a many-to-many field it tracks (`m2m_fields`), so a
user's one change of a case's title and its cited cases read as three changes in its history."""

import contextlib
import functools
import importlib

from django.conf import settings
from django.db import models
from django.utils import timezone
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
        if not kwargs.get("raw", False) and self._vanta(instance, "+" if created else "~", using):
            return
        super().post_save(instance, created, using=using, update_fields=update_fields, **kwargs)

    def m2m_changed(self, instance, action, attr, pk_set, reverse, **kwargs):
        if action in ("post_add", "post_remove", "post_clear") and self._vanta(instance, "~", None):
            return
        super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)

    def _vanta(self, instance, history_type, using):
        """Within `en_historikrad(instance)`, note the row instead of writing it: the first
        write's type (a creation stays one) and time, written once at the block's end."""
        if VANTANDE not in instance.__dict__ or hasattr(instance, "skip_history_when_saving"):
            return False
        if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            return False
        if instance.__dict__[VANTANDE] is None:
            instance.__dict__[VANTANDE] = (self, history_type, timezone.now(), using)
        return True

    # A user's own rows, newest first (the admin's start page, `tidslinje.mina_handelser`), from
    # one index, whatever their number or age; it serves the user's foreign key too, which so
    # needs no index of its own.
    def _get_history_user_fields(self):
        fields = super()._get_history_user_fields()
        fields["history_user"].db_index = False
        return fields

    def get_meta_options(self, model):
        options = super().get_meta_options(model)
        options["indexes"] = [models.Index(fields=["history_user", "-history_date", "-history_id"])]
        return options

    # For a model in a models package simple_history names the historical models' module after the
    # app ("arenden") but puts the classes in the model's own module (arenden.models.arenden). They
    # are put where their names say too, so that they import by those names (manage.py shell's
    # automatic imports do).
    def create_history_model(self, model, inherited):
        return _importable_by_its_name(super().create_history_model(model, inherited))

    def create_history_m2m_model(self, model, through_model):
        return _importable_by_its_name(super().create_history_m2m_model(model, through_model))


# The instance's attribute that holds, within `en_historikrad`, the row to be written at its end.
VANTANDE = "_historik_vantande"


def borja_historikrad(instance):
    """What `instance` (this very object) writes from now on, its save and the many-to-many
    fields set on it, is one history row, written by `skriv_historikrad`. For a page whose save
    spans two methods (the admin's save_model and save_related); elsewhere, `en_historikrad`."""
    instance.__dict__[VANTANDE] = None


def skriv_historikrad(instance):
    """Write the one row of what `instance` wrote since `borja_historikrad`, if it wrote anything:
    its state now, its many-to-many fields included, with the user and change reason it carries
    (`_history_user`, `_change_reason`) and the time of its first write."""
    vantande = instance.__dict__.pop(VANTANDE, None)
    if vantande is None:
        return
    historik, history_type, tid, using = vantande
    egen_tid = "_history_date" in instance.__dict__
    if not egen_tid:
        instance._history_date = tid
    try:
        historik.create_historical_record(instance, history_type, using=using)
    finally:
        if not egen_tid:
            del instance._history_date


@contextlib.contextmanager
def en_historikrad(instance):
    """Everything the block writes of `instance`, its save and its many-to-many fields, is one
    history row with the state at the block's end: a new object with its aktörer is one "+"
    row that holds them. Nothing is written if the block raises (its transaction rolls back)."""
    borja_historikrad(instance)
    try:
        yield instance
    except BaseException:
        instance.__dict__.pop(VANTANDE, None)
        raise
    skriv_historikrad(instance)


def _importable_by_its_name(model):
    setattr(importlib.import_module(model.__module__), model.__name__, model)
    return model
