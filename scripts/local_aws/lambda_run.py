"""Lambda invocations run the function's handler here: its package unzipped, a local Python (the virtualenv the
local AWS runs with, or LOCAL_AWS_LAMBDA_PYTHON) started without this machine's site-packages (-S, as Lambda puts
only /var/task and the runtime on the path), the function's environment with the stack's endpoints pointed at the
local PostgreSQL and Redis, its timeout, and its output in the function's log group. A package built for another
processor (arm64 wheels) cannot load its compiled modules here: build such test packages for x86_64.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from io import BytesIO

from .data_stores import point_at_local
from .settings import settings

_lock = threading.Lock()
_unpacked: dict = {}

DRIVER = r"""
import importlib, json, sys, traceback
sys.path.insert(0, sys.argv[1])
module, _, name = sys.argv[2].rpartition(".")
event = json.loads(sys.stdin.read() or "{}")
class Context:
    function_name = sys.argv[3]
    aws_request_id = sys.argv[4]
    def get_remaining_time_in_millis(self):
        return 30000
try:
    result = getattr(importlib.import_module(module), name)(event, Context())
    answer = {"ok": True, "result": result}
except Exception as error:
    answer = {"ok": False, "result": {"errorMessage": str(error), "errorType": type(error).__name__,
              "stackTrace": traceback.format_tb(error.__traceback__)}}
    traceback.print_exc()
sys.stdout.flush()
sys.stderr.flush()
print("\n__touchdown_local_lambda__" + json.dumps(answer, default=str), flush=True)
"""


def _unpack(code: bytes) -> str:
    digest = hashlib.sha256(code).hexdigest()
    with _lock:
        if digest not in _unpacked:
            folder = tempfile.mkdtemp(prefix=f"lambda-{digest[:8]}-")
            zipfile.ZipFile(BytesIO(code)).extractall(folder)
            _unpacked[digest] = folder
        return _unpacked[digest]


def invoke(function, event) -> tuple:
    """(payload, errored, log tail) as moto's own invoke answers."""
    from moto.rds.models import rds_backends

    root = _unpack(function.code_bytes)
    request_id = hashlib.sha1(f"{time.time()}{id(event)}".encode()).hexdigest()
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/tmp",
        "LAMBDA_TASK_ROOT": root,
        "_HANDLER": function.handler,
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(function.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": f"http://localhost:{settings.moto_port}",
        "AWS_S3_ENDPOINT_URL": f"http://localhost:{settings.moto_port}",
        **point_at_local(dict(function.environment_vars or {}), rds_backends[function.account_id][function.region]),
    }
    python = os.environ.get("LOCAL_AWS_LAMBDA_PYTHON") or sys.executable
    started = time.time()
    try:
        done = subprocess.run(
            [python, "-S", "-c", DRIVER, root, function.handler, function.function_name, request_id],
            input=json.dumps(event) if not isinstance(event, str) else event,
            capture_output=True,
            text=True,
            cwd=root,
            env=environment,
            timeout=int(function.timeout or 3),
        )
        output, _, answer = done.stdout.rpartition("__touchdown_local_lambda__")
        logs = output + done.stderr
        if not answer:
            result = {"errorMessage": f"Runtime exited with error: exit status {done.returncode}", "errorType": "Runtime.ExitError"}
            errored = True
        else:
            parsed = json.loads(answer)
            result, errored = parsed["result"], not parsed["ok"]
    except subprocess.TimeoutExpired as timeout:
        logs = (timeout.stdout or b"").decode() if isinstance(timeout.stdout, bytes) else (timeout.stdout or "")
        result = {"errorMessage": f"Task timed out after {float(function.timeout):.2f} seconds"}
        errored = True
    lines = [f"START RequestId: {request_id} Version: {function.version}", *logs.splitlines(),
             f"END RequestId: {request_id}",
             f"REPORT RequestId: {request_id}\tDuration: {(time.time() - started) * 1000:.2f} ms"]
    _write_logs(function, request_id, lines)
    return json.dumps(result), errored, "\n".join(lines)[-4096:]


def _write_logs(function, request_id: str, lines: list) -> None:
    backend = function.logs_backend
    backend.ensure_log_group(function.logs_group_name)
    stream = time.strftime("%Y/%m/%d") + f"/[{function.version}]{request_id}"
    backend.create_log_stream(function.logs_group_name, stream)
    now = int(time.time() * 1000)
    backend.put_log_events(function.logs_group_name, stream, [{"timestamp": now, "message": line} for line in lines if line])


def run_functions() -> None:
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend

    # Without Docker (config lambda.use_docker false) moto answers canned results: here the handler runs instead.
    LambdaSimpleBackend.invoke = LambdaBackend.invoke

    def _invoke_lambda(self, event=None):
        return invoke(self, event if event is not None else {})

    LambdaFunction._invoke_lambda = _invoke_lambda
