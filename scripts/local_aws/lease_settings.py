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
"""

import json
import os
import threading

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


def _current() -> dict[str, str]:
    return {name: os.environ[name] for name in SETTABLE if name in os.environ}


def apply(requested: dict) -> dict[str, str]:
    """Sets these settings, the others back to their start-up values; raises ValueError for one it cannot set."""
    if not isinstance(requested, dict):
        raise ValueError('the settings are a JSON object, {"NAME": "value"}')
    unknown = sorted(set(requested) - set(SETTABLE))
    if unknown:
        raise ValueError(
            f"the local AWS cannot change {', '.join(unknown)} while it runs: start a server of your own with it,"
            f" or teach scripts/local_aws/lease_settings.py where moto reads it (settable: {', '.join(SETTABLE)})"
        )
    if any(not isinstance(v, str) for v in requested.values()):
        raise ValueError("each setting's value is a string, as in an environment")
    from moto import settings as moto_settings

    with _lock:
        for name in SETTABLE:
            value = requested.get(name, _at_start.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        moto_settings.ACM_VALIDATION_WAIT = int(os.environ.get("MOTO_ACM_VALIDATION_WAIT", "60"))
        return _current()


def serve_settings() -> None:
    """Adds the settings endpoint beside moto's own /moto-api/ ones; remembers the start-up values."""
    from moto.moto_api._internal import urls

    _at_start.update({name: os.environ.get(name) for name in SETTABLE})

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
