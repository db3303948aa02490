from django.urls import path

from . import views

app_name = "arenden"

urlpatterns = [
    path("sok/", views.sok, name="sok"),
    path("protokollsutdrag/<int:pk>/", views.protokollsutdrag, name="protokollsutdrag"),
    path("tjansteutlatanden/<int:pk>/pdf/", views.tjansteutlatande_pdf, name="tjansteutlatande_pdf"),
]
