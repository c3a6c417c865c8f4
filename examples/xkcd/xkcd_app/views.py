from django.db import connection
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import render

from .models import Comic, XKCDComicViews


def count_view(comic_number: int) -> int:
    """One more view, counted in the database without a race between concurrent requests."""
    XKCDComicViews.objects.get_or_create(comic_number=comic_number)
    XKCDComicViews.objects.filter(comic_number=comic_number).update(view_count=F("view_count") + 1)
    return XKCDComicViews.objects.get(comic_number=comic_number).view_count


def homepage(request):
    # ?comic=N shows one comic (for links and tests); otherwise a random one.
    wanted = request.GET.get("comic")
    comics = Comic.objects.all()
    comic = comics.filter(number=wanted).first() if wanted and wanted.isdigit() else comics.order_by("?").first()
    if comic is None:
        return HttpResponse("No comics loaded yet: run `manage.py migrate`.", status=503)
    views = count_view(comic.number)
    # The session lives in Redis: how many comics this visitor has seen.
    request.session["seen"] = request.session.get("seen", 0) + 1
    context = {
        "number": comic.number,
        "title": comic.title,
        "alt_text": comic.alt_text,
        "image_link": comic.image.url,
        "views": views,
        "seen": request.session["seen"],
    }
    return render(request, "xkcd_app/homepage.html", context)


def healthz(request):
    """The load balancer's health check: the app answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
