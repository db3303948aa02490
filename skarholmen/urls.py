from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Skärholmens stadsdelsförvaltning – ärenden"
admin.site.site_title = "Ärendehantering"
admin.site.index_title = "Administration"

# Uploaded files (skrivelser, bilagor) are never served as public media: they are read
# through views that check the user's access to the case.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("arenden.urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
