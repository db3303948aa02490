from django.urls import path

from . import views

app_name = "atgarder"

urlpatterns = [
    path("drogscener/", views.drogscener, name="drogscener"),
    path("drogscener/<int:pk>/", views.drogscen, name="drogscen"),
    path("atgarder/sok/", views.sok, name="sok"),
    path("atgarder/<int:pk>/", views.atgard, name="atgard"),
]
