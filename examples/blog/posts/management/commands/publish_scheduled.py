"""The blog's scheduled job: publishes posts whose time has come (runs every 15 minutes)."""
from django.core.management.base import BaseCommand
from django.utils import timezone

from posts.models import Post


class Command(BaseCommand):
    help = "Publish posts whose publish_at time has passed."

    def handle(self, *args, **options):
        now = timezone.now()
        count = Post.objects.filter(published_at__isnull=True, publish_at__lte=now).update(published_at=now)
        self.stdout.write(f"published {count} post{'s' if count != 1 else ''}")
