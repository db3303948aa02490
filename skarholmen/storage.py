"""Where the app keeps files: the media archive (uploads and the PDFs it stores) and the static files."""

import logging
import threading

from django.apps import apps
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.storage import FileSystemStorage
from django.core.signals import request_finished
from django.db import DatabaseError, models, transaction
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)
_oavgjorda = threading.local()


class Arkiv(FileSystemStorage):
    """The media archive. A file written inside a transaction that is then rolled back (an upload
    on a page whose save was refused as a conflict, a beslut that failed after its protokollsutdrag
    was written) is removed when the request ends, so that no file stays behind that no row names:
    a skrivelse never registered is not kept on disk either."""

    def _save(self, name, content):
        name = super()._save(name, content)
        if transaction.get_connection().in_atomic_block:
            oavgjorda = _oavgjorda.__dict__.setdefault("filer", {})
            oavgjorda[name] = self
            # Django drops the callback if the transaction, or the savepoint it was made in, is
            # rolled back: the name then stays among the undecided.
            transaction.on_commit(lambda: oavgjorda.pop(name, None))
        return name


def _ta_bort_atervalsade(**kwargs):
    """At the end of a request every transaction it opened has ended: a file still undecided was
    written by one that was rolled back, or by one whose commit callbacks stopped at another's
    error before reaching its own. So a file is removed only when no row names it. (Inside a
    transaction that outlives the request, as a test's does, nothing is decided yet and nothing
    is removed; when the database cannot be asked, nothing is removed either.)"""
    oavgjorda = _oavgjorda.__dict__.pop("filer", None)
    if not oavgjorda or transaction.get_connection().in_atomic_block:
        return
    try:
        for name, storage in oavgjorda.items():
            if not _namnges_av_en_rad(name):
                storage.delete(name)
    except DatabaseError:
        logger.warning("Filer från återställda transaktioner lämnades kvar: %s", ", ".join(oavgjorda))


def _namnges_av_en_rad(name):
    """Whether a row's file field holds `name`. A scan of each such column, made only for the
    rare request that leaves a file undecided."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField) and model._default_manager.filter(**{field.name: name}).exists():
                return True
    return False


request_finished.connect(_ta_bort_atervalsade, dispatch_uid="skarholmen.storage.ta_bort_atervalsade")


def _without_source_maps(patterns):
    def keep(pattern):
        regex = pattern[0] if isinstance(pattern, tuple) else pattern
        return "sourceMappingURL" not in regex

    return tuple((glob, tuple(p for p in group if keep(p))) for glob, group in patterns)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed, compressed static files. The vendored Quill build names source maps
    that its npm package does not ship, so those comments are left as they are instead of
    failing collectstatic; every url() and @import is still rewritten to its hashed name."""

    patterns = _without_source_maps(ManifestStaticFilesStorage.patterns)
