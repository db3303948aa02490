"""Where the app keeps files: the media archive (uploads and the PDFs it stores) and the static files."""

import threading

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.storage import FileSystemStorage
from django.core.signals import request_finished
from django.db import transaction
from whitenoise.storage import CompressedManifestStaticFilesStorage

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
    written by one that was rolled back. (Inside a transaction that outlives the request, as a
    test's does, nothing is decided yet and nothing is removed.)"""
    oavgjorda = _oavgjorda.__dict__.pop("filer", None)
    if not oavgjorda or transaction.get_connection().in_atomic_block:
        return
    for name, storage in oavgjorda.items():
        storage.delete(name)


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
