from django.urls import path

from . import views

app_name = "arenden"

urlpatterns = [
    path("", views.start, name="start"),
    path("arenden/nytt/", views.registrera, name="registrera"),
    path("arenden/<int:pk>/", views.arende, name="arende"),
    path("arenden/<int:pk>/tjansteutlatande/", views.skapa_tjansteutlatande, name="skapa_tjansteutlatande"),
    path("skrivelser/<int:pk>/fil/", views.skrivelse_fil, name="skrivelse_fil"),
    path("bilagor/<int:pk>/fil/", views.bilaga_fil, name="bilaga_fil"),
    path("tjansteutlatanden/<int:pk>/redigera/", views.redigera, name="redigera"),
    path("tjansteutlatanden/<int:pk>/uppgifter/", views.uppgifter, name="uppgifter"),
    path("tjansteutlatanden/<int:pk>/sektioner/<int:sektion_pk>/", views.spara_sektion, name="spara_sektion"),
    path("tjansteutlatanden/<int:pk>/atgarder/", views.atgarder, name="atgarder"),
    path("tjansteutlatanden/<int:pk>/atgarder/ny/", views.ny_atgard, name="ny_atgard"),
    path("tjansteutlatanden/<int:pk>/forhandsgranska/", views.forhandsgranska, name="forhandsgranska"),
    path(
        "tjansteutlatanden/<int:pk>/forhandsgranska/dokument/",
        views.forhandsgranska_dokument,
        name="forhandsgranska_dokument",
    ),
    path("tjansteutlatanden/<int:pk>/attest/", views.skicka_for_attest, name="skicka_for_attest"),
    path("tjansteutlatanden/<int:pk>/dra-tillbaka/", views.dra_tillbaka, name="dra_tillbaka"),
    path("sok/", views.sok, name="sok"),
    path("inloggad/", views.inloggad, name="inloggad"),
    path("protokollsutdrag/<int:pk>/", views.protokollsutdrag, name="protokollsutdrag"),
    path("bordlagd-handling/<int:pk>/", views.bordlagd_handling, name="bordlagd_handling"),
    path("tjansteutlatanden/<int:pk>/pdf/", views.tjansteutlatande_pdf, name="tjansteutlatande_pdf"),
]
