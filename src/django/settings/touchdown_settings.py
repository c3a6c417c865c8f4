"""Django settings from the environment, as Touchdown provides it on AWS and on your laptop.

Written into your project by `touchdown init`. Import it at the END of settings.py:

    from .touchdown_settings import *  # noqa: E402,F401,F403

Every value comes from an environment variable in the conventions Django users know; each is optional, so
the same settings run under `manage.py runserver` with your own defaults. Secrets (DJANGO_SECRET_KEY,
DATABASE_URL) reach the process as environment variables injected from AWS Systems Manager Parameter Store by
ECS or by `touchdown up`; they are never written in this file, an image, or a task definition.
"""

import json
import os
from urllib.parse import parse_qs, unquote, urlparse

_env = os.environ


def _load_parameters_from_ssm() -> None:
    """On Lambda there is no secret injection: read the stack's parameters once, at start."""
    path = _env.get("TOUCHDOWN_SSM_PATH")
    if not path:
        return
    import boto3  # noqa: PLC0415 - only needed on Lambda

    ssm = boto3.client("ssm")
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, WithDecryption=True):
        for parameter in page["Parameters"]:
            _env.setdefault(parameter["Name"].rsplit("/", 1)[-1], parameter["Value"])


def _list(name: str) -> list:
    return [item.strip() for item in _env.get(name, "").split(",") if item.strip()]


def _task_addresses() -> list:
    """The ECS task's own private addresses: the load balancer's health checks send `Host: <ip>:<port>`.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html"""
    uri = _env.get("ECS_CONTAINER_METADATA_URI_V4")
    if not uri:
        return []
    from urllib.request import urlopen  # noqa: PLC0415 - only on ECS

    try:
        with urlopen(uri, timeout=2) as answer:  # noqa: S310 - ECS's own link-local endpoint
            container = json.load(answer)
    except (OSError, ValueError):
        return []
    return [ip for network in container.get("Networks", []) for ip in network.get("IPv4Addresses", [])]


def _database(url: str) -> dict:
    """postgres://user:password@host:port/name?sslmode=require → DATABASES['default']."""
    parts = urlparse(url)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or 5432),
        "CONN_MAX_AGE": int(_env.get("DATABASE_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


def _cache(url: str) -> dict:
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss"):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "memcached":
        return {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": urlparse(url).netloc}
    raise ValueError(f"CACHE_URL {url!r}: use redis://, rediss:// or memcached://")


def _s3_storage(bucket: str, location: str = "") -> dict:
    options = {
        "bucket_name": bucket,
        "region_name": _env.get("AWS_S3_REGION_NAME") or _env.get("AWS_REGION"),
        "location": location,
        "file_overwrite": False,
        "querystring_auth": False,
        "default_acl": None,
    }
    if _env.get("AWS_S3_CUSTOM_DOMAIN"):
        options["custom_domain"] = _env["AWS_S3_CUSTOM_DOMAIN"]
        # `touchdown up` serves the buckets from its entry point over plain HTTP, as CloudFront does over HTTPS.
        options["url_protocol"] = _env.get("AWS_S3_URL_PROTOCOL", "https:")
    if _env.get("AWS_S3_ENDPOINT_URL"):
        # A local AWS: path-style URLs on its own host.
        options["endpoint_url"] = _env["AWS_S3_ENDPOINT_URL"]
        options["addressing_style"] = "path"
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


_load_parameters_from_ssm()

if "DJANGO_SECRET_KEY" in _env:
    SECRET_KEY = _env["DJANGO_SECRET_KEY"]
if "DJANGO_DEBUG" in _env:
    DEBUG = _env["DJANGO_DEBUG"].lower() in ("1", "true", "yes")
if "ALLOWED_HOSTS" in _env:
    ALLOWED_HOSTS = _list("ALLOWED_HOSTS") + _task_addresses()
if "CSRF_TRUSTED_ORIGINS" in _env:
    CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS")

if "DATABASE_URL" in _env:
    DATABASES = {"default": _database(_env["DATABASE_URL"])}
    # On AWS the URL carries no password: ECS injects it apart, from Parameter Store.
    if "DATABASE_PASSWORD" in _env:
        DATABASES["default"]["PASSWORD"] = _env["DATABASE_PASSWORD"]

_cache_url = _env.get("CACHE_URL") or _env.get("REDIS_URL")
if _cache_url:
    CACHES = {"default": _cache(_cache_url)}
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"

if "CELERY_BROKER_URL" in _env:
    CELERY_BROKER_URL = _env["CELERY_BROKER_URL"]
    CELERY_BROKER_TRANSPORT_OPTIONS = json.loads(_env.get("CELERY_BROKER_TRANSPORT_OPTIONS", "{}"))
    CELERY_TASK_DEFAULT_QUEUE = _env.get("CELERY_TASK_DEFAULT_QUEUE", "celery")

if _env.get("AWS_STATIC_BUCKET_NAME") or _env.get("AWS_STORAGE_BUCKET_NAME"):
    STORAGES = {
        "default": _s3_storage(_env.get("AWS_STORAGE_BUCKET_NAME", ""), "media")
        if _env.get("AWS_STORAGE_BUCKET_NAME")
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": _s3_storage(_env.get("AWS_STATIC_BUCKET_NAME", ""), "static")
        if _env.get("AWS_STATIC_BUCKET_NAME")
        else {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

if _env.get("EMAIL_BACKEND") == "ses":
    # Amazon SES through its API with the task's own role: no SMTP password to keep.
    EMAIL_BACKEND = "django_ses.SESBackend"
    AWS_SES_REGION_NAME = _env.get("AWS_SES_REGION_NAME") or _env.get("AWS_REGION")
    # A local AWS (touchdown up, tests): django-ses builds its own endpoint and ignores AWS_ENDPOINT_URL.
    if _env.get("AWS_ENDPOINT_URL_SES") or _env.get("AWS_ENDPOINT_URL"):
        AWS_SES_REGION_ENDPOINT_URL = _env.get("AWS_ENDPOINT_URL_SES") or _env["AWS_ENDPOINT_URL"]
if "DEFAULT_FROM_EMAIL" in _env:
    DEFAULT_FROM_EMAIL = SERVER_EMAIL = _env["DEFAULT_FROM_EMAIL"]

if _env.get("TOUCHDOWN_BEHIND_PROXY", "").lower() in ("1", "true"):
    # The load balancer or CloudFront ends TLS; trust its header and keep cookies HTTPS-only.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
