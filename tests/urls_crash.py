from django.urls import path


def crash(request):
    return 1 / 0


urlpatterns = [path("krasch/", crash)]
