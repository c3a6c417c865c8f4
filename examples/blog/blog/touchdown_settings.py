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
import sys
from urllib.parse import parse_qs, unquote, urlparse

_env = os.environ


def _project_settings() -> dict:
    """The settings module that imports this one, as far as it has run: what the project set before the import.

    Touchdown sets only its part of each setting (DATABASES["default"], CACHES["default"], the storages it
    serves) and keeps the rest of the project's own values.
    """
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        # Skip this module and the import machinery; the importer is the first module body above them.
        if frame.f_globals.get("__name__") != __name__ and not code.co_filename.startswith("<frozen importlib"):
            return frame.f_globals if code.co_name == "<module>" else {}
        frame = frame.f_back
    return {}


_project = _project_settings()


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


def _database(url: str, project: dict) -> dict:
    """postgres://user:password@host:port/name?sslmode=require → DATABASES['default'].

    The project's own choices that do not say where the database is (ATOMIC_REQUESTS, TEST, a PostGIS engine, its
    PostgreSQL OPTIONS) are kept.
    """
    parts = urlparse(url)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    engine = project.get("ENGINE", "")
    postgres = "postgresql" in engine or "postgis" in engine
    kept = {k: v for k, v in project.items() if k not in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")}
    return {
        "CONN_MAX_AGE": int(_env.get("DATABASE_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        **kept,
        "ENGINE": engine if postgres else "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or 5432),
        "OPTIONS": {**(project.get("OPTIONS", {}) if postgres else {}), **options},
    }


def _cache(url: str, project: dict) -> dict:
    """The cache at the URL; the project's own backend is kept when it speaks the same protocol (django-redis)."""
    scheme = urlparse(url).scheme
    backend = project.get("BACKEND", "")
    # Timeouts, key prefixes and versions are the project's choice wherever the cache is.
    kept = {k: v for k, v in project.items() if k in ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")}
    if scheme in ("redis", "rediss"):
        if "redis" in backend.lower():
            return {**project, "LOCATION": url}
        return {**kept, "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "memcached":
        location = urlparse(url).netloc
        if "memcache" in backend.lower():
            return {**project, "LOCATION": location}
        return {**kept, "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": location}
    raise ValueError(f"CACHE_URL {url!r}: use redis://, rediss:// or memcached://")


def _opensearch(url: str, project: dict) -> dict:
    """OPENSEARCH_URL → the keyword arguments of opensearch-py's OpenSearch client (OPENSEARCH_DSL["default"]).

    On AWS (an *.amazonaws.com host) the domain admits only the app's role: every request is signed with the role's
    credentials (SigV4, service "es"), which boto3 finds and renews itself. Elsewhere (touchdown up, your own server)
    the URL is all. The project's own options (timeouts, retries) are kept.
    """
    options = {**project, "hosts": [url]}
    host = urlparse(url).hostname or ""
    if host.endswith(".amazonaws.com"):
        import boto3  # noqa: PLC0415 - only needed with search
        from opensearchpy import AWSV4SignerAuth, RequestsHttpConnection  # noqa: PLC0415

        session = boto3.Session()
        region = _env.get("AWS_REGION") or session.region_name
        options.update(
            http_auth=AWSV4SignerAuth(session.get_credentials(), region, "es"),
            use_ssl=True,
            verify_certs=True,
            connection_class=RequestsHttpConnection,
        )
    return options


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


# django-compressor's storages on the local disk (COMPRESS_ROOT): a release task's disk, on AWS.
_COMPRESSOR_DISK_STORAGES = {
    "compressor.storage.CompressorFileStorage",
    "compressor.storage.GzipCompressorFileStorage",
    "compressor.storage.BrotliCompressorFileStorage",
}


def _compressor_to_bucket(bucket: str) -> None:
    """django-compressor's output and offline manifest go to the static bucket, where every web task reads them.

    `compress` runs in the release task, whose disk no web task sees (templates would raise OfflineGenerationError).
    The STORAGES aliases "compressor" and "compressor-offline" are django-compressor's (4.5+), see
    https://django-compressor.readthedocs.io/en/stable/settings.html ; a project's own compressor storage is kept,
    unless it is one of compressor's own, which write to this disk (healthchecks names GzipCompressorFileStorage).
    """
    apps = _project.get("INSTALLED_APPS", [])
    if not any(app == "compressor" or app.startswith("compressor.") for app in apps):
        return
    named = STORAGES.get("compressor", {}).get("BACKEND") or _project.get("COMPRESS_STORAGE")
    if "COMPRESS_STORAGE_ALIAS" in _project or (named and named not in _COMPRESSOR_DISK_STORAGES):
        return
    STORAGES["compressor"] = STORAGES["staticfiles"]
    own_manifest = {"COMPRESS_OFFLINE_MANIFEST_STORAGE", "COMPRESS_OFFLINE_MANIFEST_STORAGE_ALIAS"} & _project.keys()
    if "compressor-offline" not in STORAGES and not own_manifest:
        manifest = _s3_storage(bucket, f"static/{_project.get('COMPRESS_OUTPUT_DIR', 'CACHE')}")
        # Each release rewrites manifest.json in place; a manifest_<random>.json would never be read.
        manifest["OPTIONS"]["file_overwrite"] = True
        STORAGES["compressor-offline"] = manifest
    # {% compress %} finds its sources by cutting COMPRESS_URL off their {% static %} URLs: the bucket's, as
    # S3Storage writes them (CloudFront's domain, the local AWS's path-style URL, else the bucket's global name,
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html).
    global COMPRESS_URL
    if _env.get("AWS_S3_CUSTOM_DOMAIN"):
        COMPRESS_URL = f"{_env.get('AWS_S3_URL_PROTOCOL', 'https:')}//{_env['AWS_S3_CUSTOM_DOMAIN']}/static/"
    elif _env.get("AWS_S3_ENDPOINT_URL"):
        COMPRESS_URL = f"{_env['AWS_S3_ENDPOINT_URL'].rstrip('/')}/{bucket}/static/"
    else:
        COMPRESS_URL = f"https://{bucket}.s3.amazonaws.com/static/"


_load_parameters_from_ssm()

if "DJANGO_SECRET_KEY" in _env:
    SECRET_KEY = _env["DJANGO_SECRET_KEY"]
if "DJANGO_DEBUG" in _env:
    DEBUG = _env["DJANGO_DEBUG"].lower() in ("1", "true", "yes")
if "ALLOWED_HOSTS" in _env:
    ALLOWED_HOSTS = _list("ALLOWED_HOSTS")
if "CSRF_TRUSTED_ORIGINS" in _env:
    CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS")

if "DATABASE_URL" in _env:
    # Only the default alias is Touchdown's: the project's other databases stay as they are.
    DATABASES = {**_project.get("DATABASES", {})}
    DATABASES["default"] = _database(_env["DATABASE_URL"], DATABASES.get("default", {}))
    # On AWS the URL carries no password: ECS injects it apart, from Parameter Store.
    if "DATABASE_PASSWORD" in _env:
        DATABASES["default"]["PASSWORD"] = _env["DATABASE_PASSWORD"]
    # On PostgreSQL, apps with PostgreSQL fields (wagtail's search index) need django.contrib.postgres installed
    # (Django 6.1's postgres.E005), which a project written for SQLite does not list.
    if "django.contrib.postgres" not in _project.get("INSTALLED_APPS", ["django.contrib.postgres"]):
        INSTALLED_APPS = [*_project["INSTALLED_APPS"], "django.contrib.postgres"]

_cache_url = _env.get("CACHE_URL") or _env.get("REDIS_URL")
if _cache_url:
    CACHES = {**_project.get("CACHES", {})}
    CACHES["default"] = _cache(_cache_url, CACHES.get("default", {}))
    if "SESSION_ENGINE" not in _project:
        SESSION_ENGINE = "django.contrib.sessions.backends.cache"

if "CELERY_BROKER_URL" in _env:
    CELERY_BROKER_URL = _env["CELERY_BROKER_URL"]
    CELERY_BROKER_TRANSPORT_OPTIONS = json.loads(_env.get("CELERY_BROKER_TRANSPORT_OPTIONS", "{}"))
    CELERY_TASK_DEFAULT_QUEUE = _env.get("CELERY_TASK_DEFAULT_QUEUE", "celery")

if "OPENSEARCH_URL" in _env:
    # django-opensearch-dsl reads OPENSEARCH_DSL; opensearch-py users build OpenSearch(**OPENSEARCH_DSL["default"]).
    OPENSEARCH_URL = _env["OPENSEARCH_URL"]
    OPENSEARCH_DSL = {**_project.get("OPENSEARCH_DSL", {})}
    OPENSEARCH_DSL["default"] = _opensearch(OPENSEARCH_URL, OPENSEARCH_DSL.get("default", {}))

if _env.get("AWS_STATIC_BUCKET_NAME") or _env.get("AWS_STORAGE_BUCKET_NAME"):
    # The project's own storages (and the Django 4.2 names for them, which may not stand beside STORAGES) are
    # kept; only the files Touchdown has a bucket for move to it.
    STORAGES = {
        "default": {"BACKEND": _project.pop("DEFAULT_FILE_STORAGE", "django.core.files.storage.FileSystemStorage")},
        "staticfiles": {
            "BACKEND": _project.pop("STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")
        },
        **_project.get("STORAGES", {}),
    }
    if _env.get("AWS_STORAGE_BUCKET_NAME"):
        STORAGES["default"] = _s3_storage(_env["AWS_STORAGE_BUCKET_NAME"], "media")
    if _env.get("AWS_STATIC_BUCKET_NAME"):
        STORAGES["staticfiles"] = _s3_storage(_env["AWS_STATIC_BUCKET_NAME"], "static")
        _compressor_to_bucket(_env["AWS_STATIC_BUCKET_NAME"])

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
elif _env.get("TOUCHDOWN_BEHIND_PROXY", "").lower() in ("0", "false"):
    # `touchdown up` serves plain HTTP on localhost: the project's HTTPS-only settings would redirect every page to
    # an https:// nobody serves and drop its cookies. On AWS they apply as the project wrote them.
    SECURE_SSL_REDIRECT = False
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
    SECURE_HSTS_SECONDS = 0


def health_check_middleware(get_response):
    """Answers the load balancer's health check before any other middleware can refuse it.

    The ALB checks each target with `Host: <the target's private IP>:<port>` and follows no redirect
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html): Django's
    ALLOWED_HOSTS would answer 400 and SECURE_SSL_REDIRECT a redirect to that IP, and a project's URLconf may have
    nothing at the path. Only requests from the health checker (its User-Agent) on the health path are answered
    here; everyone else's request to that path reaches the project's own view. The database is not checked unless
    TOUCHDOWN_HEALTH_CHECK_DATABASE is set: when it is down, ECS would replace every task in a loop.
    """
    path = _env.get("TOUCHDOWN_HEALTH_PATH", "/")
    check_database = _env.get("TOUCHDOWN_HEALTH_CHECK_DATABASE", "").lower() in ("1", "true", "yes")

    def middleware(request):
        if request.path_info != path or not request.META.get("HTTP_USER_AGENT", "").startswith("ELB-HealthChecker/"):
            return get_response(request)
        from django.http import HttpResponse  # noqa: PLC0415 - settings load before the apps

        if check_database:
            from django.db import connection  # noqa: PLC0415

            try:
                connection.ensure_connection()
            except Exception as error:  # noqa: BLE001 - any failure means unhealthy
                return HttpResponse(f"database: {error.__class__.__name__}\n", status=503, content_type="text/plain")
        return HttpResponse("ok\n", content_type="text/plain")

    return middleware


if "TOUCHDOWN_HEALTH_PATH" in _env:
    # First, so that no middleware of the project's sees the health checker's Host.
    MIDDLEWARE = [f"{__name__}.health_check_middleware", *_project.get("MIDDLEWARE", [])]

# On AWS the task's role gives boto3 and django-storages their credentials; fixed keys in settings win over it.
_fixed_keys = [
    name
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_S3_ACCESS_KEY_ID", "AWS_S3_SECRET_ACCESS_KEY")
    if _project.get(name) and _project.get(name) != _env.get(name)
]
if _fixed_keys:
    print(
        f"touchdown: the settings set {', '.join(_fixed_keys)} to a fixed value: on AWS the task's role must serve;"
        " remove them from the settings (or read them from the environment)",
        file=sys.stderr,
    )
