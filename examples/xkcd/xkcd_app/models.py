from django.db import models


class Comic(models.Model):
    """A comic from the dataset shipped with the example; its image lives in the media bucket."""

    number = models.IntegerField(primary_key=True)
    title = models.CharField(max_length=200)
    alt_text = models.TextField()
    image = models.FileField(upload_to="comics/")

    def __str__(self) -> str:
        return f"#{self.number} {self.title}"


class XKCDComicViews(models.Model):
    """How often each comic was shown (seed 004's model)."""

    comic_number = models.IntegerField(primary_key=True, unique=True)
    view_count = models.IntegerField(default=0)
