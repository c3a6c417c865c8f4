"""Emulator settings a test file sets on a server it leased (test/support/local-aws.ts), for the lease only.

POST /moto-api/local-aws/settings {"NAME": "value", ...}: the server runs with these from now on, each name not
given back at the value it started with (so {} gives the server back as it was); the answer, and GET, is what
is set. A name the harness cannot change on a running server is refused (400), never silently ignored.

Each setting is changed where it is read, so it really takes effect:
- MOTO_ACM_VALIDATION_WAIT: moto reads it once, at import, into moto.settings.ACM_VALIDATION_WAIT, which each
  DescribeCertificate compares with the certificate's age: the constant is set.
- MOTO_ECS_SERVICE_RUNNING, MOTO_ECS_SERVICE_FAILED_TASKS: read from the environment as each service is made.
- MOTO_EC2_LOAD_DEFAULT_AMIS: read as each region's EC2 backend is made, i.e. after the next reset (the lease
  resets the server once its settings are set).
- LOCAL_AWS_TASK_EXIT_CODES, LOCAL_AWS_ECS_SERVICES_START, LOCAL_AWS_ECS_AGENT, LOCAL_AWS_SES_PRODUCTION_ACCESS:
  the harness's own (scripts/local_aws.py), read from the environment at each call.
- LOCAL_AWS_IMAGES, LOCAL_AWS_TIME_SCALE (only on a server that runs apps, LOCAL_AWS_APPS=true): read at start
  into scripts/local_aws/settings.py, whose images and time scale every task, health check and stop reads at
  the time: those are set. The lease's reset stops what ran for the previous holder first.
"""

import json
import os
import threading

APPS = ("LOCAL_AWS_IMAGES", "LOCAL_AWS_TIME_SCALE")
SETTABLE = (
    "MOTO_ACM_VALIDATION_WAIT",
    "MOTO_ECS_SERVICE_RUNNING",
    "MOTO_ECS_SERVICE_FAILED_TASKS",
    "MOTO_EC2_LOAD_DEFAULT_AMIS",
    "LOCAL_AWS_TASK_EXIT_CODES",
    "LOCAL_AWS_ECS_SERVICES_START",
    "LOCAL_AWS_ECS_AGENT",
    "LOCAL_AWS_SES_PRODUCTION_ACCESS",
)

_lock = threading.Lock()
_at_start: dict[str, str | None] = {}
_settable: tuple[str, ...] = SETTABLE


def _current() -> dict[str, str]:
    return {name: os.environ[name] for name in _settable if name in os.environ}


def apply(requested: dict) -> dict[str, str]:
    """Sets these settings, the others back to their start-up values; raises ValueError for one it cannot set."""
    if not isinstance(requested, dict):
        raise ValueError('the settings are a JSON object, {"NAME": "value"}')
    unknown = sorted(set(requested) - set(_settable))
    if unknown:
        raise ValueError(
            f"the local AWS cannot change {', '.join(unknown)} while it runs: start a server of your own with it,"
            f" or teach scripts/local_aws/lease_settings.py where moto reads it (settable: {', '.join(_settable)})"
        )
    if any(not isinstance(v, str) for v in requested.values()):
        raise ValueError("each setting's value is a string, as in an environment")
    from moto import settings as moto_settings

    from .settings import settings as local_settings

    wanted = {name: requested.get(name, _at_start.get(name)) for name in _settable}
    # Read before anything is set: a value these cannot read is refused with the server unchanged.
    acm_wait = int(wanted["MOTO_ACM_VALIDATION_WAIT"] or "60")
    apps = _settable != SETTABLE
    images = json.loads(wanted.get("LOCAL_AWS_IMAGES") or "{}") if apps else None
    time_scale = float(wanted.get("LOCAL_AWS_TIME_SCALE") or "1") if apps else None
    with _lock:
        for name, value in wanted.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        moto_settings.ACM_VALIDATION_WAIT = acm_wait
        if apps:
            local_settings.images, local_settings.time_scale = images, time_scale
        return _current()


def serve_settings(apps: bool) -> None:
    """Adds the settings endpoint beside moto's own /moto-api/ ones; remembers the start-up values."""
    from moto.moto_api._internal import urls

    global _settable
    _settable = SETTABLE + APPS if apps else SETTABLE
    _at_start.update({name: os.environ.get(name) for name in _settable})

    def settings(request, full_url, headers):
        answer = {"Content-Type": "application/json"}
        if request.method == "POST":
            length = int(headers.get("Content-Length") or 0)
            body = request.environ["wsgi.input"].read(length).decode("utf-8") if length else "{}"
            try:
                return 200, answer, json.dumps(apply(json.loads(body))).encode()
            except ValueError as error:
                return 400, answer, json.dumps({"error": str(error)}).encode()
        return 200, answer, json.dumps(_current()).encode()

    urls.url_paths["{0}/moto-api/local-aws/settings"] = settings
