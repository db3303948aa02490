from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "Skärholmens stadsdelsförvaltning – ärenden"
admin.site.site_title = "Ärendehantering"
admin.site.index_title = "Administration"

# Uploaded files (skrivelser, bilagor) are never served as public media: they are read
# through views that check the user's access to the case.
urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "logga-in/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("atgarder.urls")),
    path("", include("arenden.urls")),
]
