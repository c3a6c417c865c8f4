"""Settings for the blog (seed 000's radpress, with seed 001's thumbnailing worker). Everything that differs
between a laptop and AWS comes from the environment through touchdown_settings (imported last)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Overridden by DJANGO_SECRET_KEY from Parameter Store; this one is only for `manage.py test`.
SECRET_KEY = "insecure-only-for-local-tests"
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "posts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "blog.urls"
WSGI_APPLICATION = "blog.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# No silent SQLite: the blog needs PostgreSQL (DATABASE_URL), here as on AWS.
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "blog", "HOST": "localhost", "USER": "postgres"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = os.environ.get("DJANGO_MEDIA_ROOT") or BASE_DIR / "media"

THUMBNAIL_WIDTH = 240
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "").lower() == "true"

from .touchdown_settings import *  # noqa: E402,F401,F403  (keep this the last line)
