"""Work done by the Celery worker, outside any request."""
from io import BytesIO
from pathlib import PurePosixPath

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image


@shared_task(bind=True, max_retries=3, default_retry_delay=5)
def make_thumbnail(self, post_id: int) -> str:
    """Reads the post's image from the media storage, writes a JPEG thumbnail beside it."""
    from .models import Post

    post = Post.objects.get(pk=post_id)
    if not post.image:
        return ""
    with post.image.open("rb") as f:
        image = Image.open(f)
        image.load()
    image = image.convert("RGB")
    ratio = settings.THUMBNAIL_WIDTH / image.width
    image = image.resize((settings.THUMBNAIL_WIDTH, max(1, round(image.height * ratio))))
    out = BytesIO()
    image.save(out, format="JPEG", quality=85)
    name = f"{PurePosixPath(post.image.name).stem}.jpg"
    post.thumbnail.save(name, ContentFile(out.getvalue()), save=False)
    Post.objects.filter(pk=post.pk).update(thumbnail=post.thumbnail.name)
    return post.thumbnail.name
