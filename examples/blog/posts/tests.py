from datetime import timedelta
from io import BytesIO, StringIO

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.utils import timezone
from PIL import Image

from .models import Post


def png(width=800, height=600) -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


# The worker's task runs inline here; on AWS and under `touchdown up` a Celery worker runs it.
@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
class PostsTest(TestCase):
    def test_uploading_an_image_makes_a_thumbnail(self):
        with self.captureOnCommitCallbacks(execute=True):
            post = Post.objects.create(title="Hello", slug="hello", body="...", image=png(), published_at=timezone.now())
        post.refresh_from_db()
        self.assertTrue(post.thumbnail.name.startswith("thumbnails/"))
        with post.thumbnail.open("rb") as f:
            self.assertEqual(Image.open(f).size, (240, 180))

    def test_only_published_posts_are_listed(self):
        Post.objects.create(title="Out", slug="out", body="x", published_at=timezone.now())
        Post.objects.create(title="Draft", slug="draft", body="x")
        response = self.client.get("/")
        self.assertContains(response, "Out")
        self.assertNotContains(response, "Draft")
        self.assertEqual(self.client.get("/draft/").status_code, 404)

    def test_the_scheduled_job_publishes_posts_whose_time_has_come(self):
        Post.objects.create(title="Soon", slug="soon", body="x", publish_at=timezone.now() - timedelta(minutes=1))
        Post.objects.create(title="Later", slug="later", body="x", publish_at=timezone.now() + timedelta(days=1))
        out = StringIO()
        call_command("publish_scheduled", stdout=out)
        self.assertEqual(out.getvalue().strip(), "published 1 post")
        self.assertEqual(self.client.get("/soon/").status_code, 200)

    def test_an_editor_creates_a_post_with_an_image_in_the_admin(self):
        User.objects.create_superuser("editor", "editor@example.com", "a-long-password")
        self.client.login(username="editor", password="a-long-password")
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/admin/posts/post/add/",
                {"title": "From the admin", "slug": "from-the-admin", "body": "Hi", "image": png(), "published_at_0": "2026-01-01", "published_at_1": "10:00:00"},
            )
        self.assertEqual(response.status_code, 302, response.content[:500])
        post = Post.objects.get(slug="from-the-admin")
        self.assertTrue(post.thumbnail)
        self.assertContains(self.client.get("/from-the-admin/"), 'id="thumbnail"')

    def test_the_health_check_reaches_the_database(self):
        self.assertContains(self.client.get("/healthz"), "ok")
