from django.contrib import admin
from django.urls import include, path

from skarholmen.views import Inloggning, Utloggning

# A database outage in any view or middleware is a Swedish 503 page, not a 500 (skarholmen/views.py).
handler500 = "skarholmen.views.server_error"
# A request larger than DATA_UPLOAD_MAX_MEMORY_SIZE, refused wherever Django first reads it, is a
# Swedish 413 in the editor's shape or as a page; any other 400 is Django's (skarholmen/views.py).
handler400 = "skarholmen.views.bad_request"

admin.site.site_header = "Skärholmens stadsdelsförvaltning – ärenden"
admin.site.site_title = "Ärendehantering"
admin.site.index_title = "Administration"

# Uploaded files (skrivelser, bilagor) are never served as public media: they are read
# through views that check the user's access to the case.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("logga-in/", Inloggning.as_view(), name="login"),
    path("logga-ut/", Utloggning.as_view(), name="logout"),
    path("", include("atgarder.urls")),
    path("", include("arenden.urls")),
]
