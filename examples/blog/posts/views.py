from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import Post


def post_list(request):
    return render(request, "posts/post_list.html", {"posts": Post.objects.published()})


def post_detail(request, slug):
    return render(request, "posts/post_detail.html", {"post": get_object_or_404(Post.objects.published(), slug=slug)})


def healthz(request):
    """The load balancer's health check: the app answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
