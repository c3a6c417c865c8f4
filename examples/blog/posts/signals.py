from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Post


@receiver(post_save, sender=Post)
def queue_thumbnail(sender, instance: Post, update_fields=None, **kwargs):
    # Only once the transaction commits, so the worker finds the saved image.
    if instance.image and (update_fields is None or "image" in update_fields):
        from .tasks import make_thumbnail

        transaction.on_commit(lambda: make_thumbnail.delay(instance.pk))
