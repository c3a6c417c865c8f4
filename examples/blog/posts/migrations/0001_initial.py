from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Post",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=200)),
                ("slug", models.SlugField(unique=True)),
                ("body", models.TextField()),
                ("image", models.ImageField(blank=True, upload_to="posts/")),
                ("thumbnail", models.ImageField(blank=True, editable=False, upload_to="thumbnails/")),
                ("publish_at", models.DateTimeField(blank=True, help_text="Publish at this time (the scheduled job does it).", null=True)),
                ("published_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["-published_at", "-created_at"]},
        ),
    ]
