"""Loads the comics shipped with the example: rows in PostgreSQL, images in the media storage (the media
bucket on AWS and on the local AWS). There is no network here, so nothing is fetched from xkcd.com."""

import json
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import migrations

COMICS = Path(__file__).resolve().parent.parent / "comics"


def load(apps, schema_editor):
    Comic = apps.get_model("xkcd_app", "Comic")
    for entry in json.loads((COMICS / "comics.json").read_text())["comics"]:
        name = f"comics/{entry['image']}"
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile((COMICS / "images" / entry["image"]).read_bytes()))
        Comic.objects.update_or_create(
            number=entry["number"], defaults={"title": entry["title"], "alt_text": entry["alt"], "image": name}
        )


def unload(apps, schema_editor):
    apps.get_model("xkcd_app", "Comic").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("xkcd_app", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
