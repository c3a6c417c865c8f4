from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Comic",
            fields=[
                ("number", models.IntegerField(primary_key=True, serialize=False)),
                ("title", models.CharField(max_length=200)),
                ("alt_text", models.TextField()),
                ("image", models.FileField(upload_to="comics/")),
            ],
        ),
        migrations.CreateModel(
            name="XKCDComicViews",
            fields=[
                ("comic_number", models.IntegerField(primary_key=True, serialize=False, unique=True)),
                ("view_count", models.IntegerField(default=0)),
            ],
        ),
    ]
