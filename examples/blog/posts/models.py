from django.db import models
from django.urls import reverse
from django.utils import timezone


class PostQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False, published_at__lte=timezone.now())


class Post(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    body = models.TextField()
    image = models.ImageField(upload_to="posts/", blank=True)
    # Made by the Celery worker from `image`, in the media bucket too.
    thumbnail = models.ImageField(upload_to="thumbnails/", blank=True, editable=False)
    publish_at = models.DateTimeField(null=True, blank=True, help_text="Publish at this time (the scheduled job does it).")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("post_detail", args=[self.slug])
