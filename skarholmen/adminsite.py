"""The admin site: Django's, with an autocomplete that names each row as the admin of the listed
model names it in its choice lists (`autocomplete_text`), not only by `str(obj)`: a person by name
and username (UserAdmin), where `str(user)` is the username alone."""

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView


class AutocompleteView(AutocompleteJsonView):
    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        text = getattr(self.model_admin, "autocomplete_text", None)
        return result if text is None else {**result, "text": text(obj)}


class AdminSite(admin.AdminSite):
    def autocomplete_view(self, request):
        return AutocompleteView.as_view(admin_site=self)(request)
