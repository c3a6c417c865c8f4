"""Touchdown's entry point on AWS Lambda (web.compute: lambda), packaged beside your Django project.

Lambda calls `handler` with one of:

- an API Gateway HTTP API request (payload 2.0): served by your WSGI application through apig-wsgi;
- {"touchdown": "manage", "args": ["migrate", "--noinput"]}: runs one management command and answers
  {"exitCode": 0, "output": "..."} (the release phase's migrate and collectstatic, and scheduled jobs).

At cold start the stack's secrets are read from Parameter Store into os.environ, by the names Touchdown
passes in TOUCHDOWN_PARAMETERS ({"DJANGO_SECRET_KEY": "/app/stage/DJANGO_SECRET_KEY", ...}): the same
settings Fargate tasks get injected, never written into the function's configuration.
"""

import contextlib
import importlib
import io
import json
import os
import signal
import sys
import traceback

# What the answer to a management command carries of its output: Lambda answers at most 6 MB.
_OUTPUT_LIMIT = 64 * 1024


def _load_parameters() -> None:
    wanted = json.loads(os.environ.get("TOUCHDOWN_PARAMETERS") or "{}")
    if not wanted:
        return
    import boto3  # noqa: PLC0415 - only when there is something to read

    ssm = boto3.client("ssm")
    # One parameter may stand under two names (the project's own name for the secret key beside Touchdown's).
    by_name: dict = {}
    for setting, name in wanted.items():
        by_name.setdefault(name, []).append(setting)
    names = sorted(by_name)
    missing = []
    # GetParameters takes ten names a call.
    for start in range(0, len(names), 10):
        answer = ssm.get_parameters(Names=names[start : start + 10], WithDecryption=True)
        for parameter in answer["Parameters"]:
            for setting in by_name[parameter["Name"]]:
                os.environ[setting] = parameter["Value"]
        missing += answer.get("InvalidParameters", [])
    if missing:
        settings = ", ".join(sorted(setting for name in missing for setting in by_name[name]))
        raise RuntimeError(f"Parameter Store has no value for {settings}: set it with `touchdown secrets set`")


def _wsgi_application():
    module, _, attribute = os.environ["TOUCHDOWN_WSGI"].partition(":")
    return getattr(importlib.import_module(module), attribute or "application")


def _serve():
    from apig_wsgi import make_lambda_handler  # noqa: PLC0415 - installed into the package by Touchdown

    return make_lambda_handler(_wsgi_application(), binary_support=True)


class RequestTimeout(Exception):
    """A request ran longer than web.timeout: stopped here, as gunicorn stops a worker."""


def _on_timeout(signum, frame):
    raise RequestTimeout(f"the request ran longer than {os.environ.get('TOUCHDOWN_REQUEST_TIMEOUT')} seconds")


def _http(event, context):
    # The function may run for minutes (migrations), but API Gateway gives up on a request sooner: stop it then.
    seconds = int(os.environ.get("TOUCHDOWN_REQUEST_TIMEOUT") or 0)
    if seconds:
        signal.signal(signal.SIGALRM, _on_timeout)
        signal.alarm(seconds)
    try:
        return _serve_request(event, context)
    finally:
        if seconds:
            signal.alarm(0)


class _Tee(io.TextIOBase):
    """Writes to the captured output and to the real stream (CloudWatch Logs on Lambda)."""

    def __init__(self, captured, real):
        self.captured, self.real = captured, real

    def write(self, text):
        self.captured.write(text)
        self.real.write(text)
        return len(text)

    def flush(self):
        self.real.flush()


def _manage(args):
    from django.core.management import ManagementUtility  # noqa: PLC0415
    from django.db import connections  # noqa: PLC0415

    captured = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(_Tee(captured, sys.stdout)), contextlib.redirect_stderr(_Tee(captured, sys.stderr)):
        try:
            ManagementUtility(["manage.py", *[str(a) for a in args]]).execute()
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except Exception:  # noqa: BLE001 - the command's failure is the answer, not the function's
            traceback.print_exc()
            code = 1
        finally:
            # The next invocation may come after a long freeze: never reuse a connection across it.
            connections.close_all()
    output = captured.getvalue()
    return {"exitCode": code, "output": output[-_OUTPUT_LIMIT:]}


def handler(event, context):
    if isinstance(event, dict) and event.get("touchdown") == "manage":
        return _manage(event.get("args") or [])
    return _http(event, context)


_load_parameters()
_serve_request = _serve()
