import json
from pathlib import Path

from django.core.files.storage import default_storage
from django.test import TestCase

from .models import Comic, XKCDComicViews

DATASET = json.loads((Path(__file__).resolve().parent / "comics" / "comics.json").read_text())["comics"]


class ComicsTest(TestCase):
    def test_every_comic_of_the_dataset_is_loaded_with_its_image_in_storage(self):
        self.assertEqual(Comic.objects.count(), len(DATASET))
        for comic in Comic.objects.all():
            self.assertTrue(default_storage.exists(comic.image.name), comic.image.name)

    def test_the_homepage_shows_a_comic_and_counts_the_view(self):
        response = self.client.get("/?comic=3")
        self.assertContains(response, "#3 | Cache Invalidation")
        self.assertContains(response, 'id="views">1<')
        self.client.get("/?comic=3")
        self.assertEqual(XKCDComicViews.objects.get(comic_number=3).view_count, 2)

    def test_a_random_comic_without_a_number(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="comic"')

    def test_the_session_counts_comics_seen_this_visit(self):
        self.client.get("/?comic=1")
        response = self.client.get("/?comic=2")
        self.assertContains(response, 'id="seen">2<')

    def test_the_health_check_reaches_the_database(self):
        self.assertContains(self.client.get("/healthz"), "ok")
