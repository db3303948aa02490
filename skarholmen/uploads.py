"""Uploads larger than PDF_MAX_UPLOAD_MB are not kept while they arrive.

Django stores an upload whole (in memory, then in a temporary file) before any form sees its
size, so a file of several GB filled the app server's disk before the form refused it. This
handler stands first in FILE_UPLOAD_HANDLERS: it counts each file's bytes and, past the limit,
passes no more of them on. The file then arrives as an empty stand-in that carries its real size,
which `arenden.forms.check_pdf` refuses with its Swedish message, while the form keeps the rest
of its input. The proxy's body limit still guards the request as a whole.
"""

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class StorlekUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.storlek = 0
        self.grans = settings.PDF_MAX_UPLOAD_MB * 1024 * 1024

    def receive_data_chunk(self, raw_data, start):
        self.storlek += len(raw_data)
        if self.storlek > self.grans:
            return None  # the handlers after this one get nothing more of this file
        return raw_data

    def file_complete(self, file_size):
        if self.storlek <= self.grans:
            return None  # the next handler hands out the file it stored
        return InMemoryUploadedFile(
            BytesIO(),
            self.field_name,
            self.file_name,
            self.content_type,
            self.storlek,
            self.charset,
            self.content_type_extra,
        )
