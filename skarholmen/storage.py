from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage


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
