from django.urls import path

from . import views

app_name = "arenden"

urlpatterns = [
    path("tjansteutlatanden/<int:pk>/pdf/", views.tjansteutlatande_pdf, name="tjansteutlatande_pdf"),
]
