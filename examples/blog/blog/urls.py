from django.contrib import admin
from django.urls import path

from posts import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", views.post_list, name="post_list"),
    path("healthz", views.healthz, name="healthz"),
    path("<slug:slug>/", views.post_detail, name="post_detail"),
]
