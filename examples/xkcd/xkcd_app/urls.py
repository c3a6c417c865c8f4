from django.urls import path

from .views import healthz, homepage

urlpatterns = [
    path("", homepage, name="homepage"),
    path("healthz", healthz, name="healthz"),
]
