"""The blog's Celery app: thumbnails are made by a worker (seed 001), not in the request."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog.settings")
app = Celery("blog")
# CELERY_BROKER_URL and friends come from the environment through touchdown_settings.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
