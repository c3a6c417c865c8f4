"""Lambda invocations run the function's handler here: its package unzipped, the Python of its runtime (python3.12
for "python3.12", found on PATH; LOCAL_AWS_LAMBDA_PYTHON overrides it) started without this machine's
site-packages (-S, as Lambda puts only /var/task and the runtime on the path), the runtime's own boto3 after the
package (Lambda's runtimes carry it), the function's environment with the stack's endpoints pointed at the local
PostgreSQL and Redis, its timeout, and its output in the function's log group.

An execution environment is kept warm between invocations, as Lambda keeps one: the handler's module is imported
once (its cold start), and later events reuse it; each environment runs one event at a time, and a burst starts
more. A new version, code or configuration gets fresh environments; a timeout or a crash ends the environment.
This machine is x86_64: a package built for arm64 cannot load its compiled modules here, and its invocations
fail saying so (build test packages with web.architecture: x86_64).
"""

import glob
import hashlib
import json
import os
import platform
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from io import BytesIO

from .data_stores import point_at_local
from .settings import settings

_lock = threading.Lock()
_unpacked: dict = {}
# environment key -> idle environments; every environment alive, to stop them at reset
_idle: dict = {}
_alive: list = []
_pythons: dict = {}
MARK = "__touchdown_local_lambda__"
# The runtime's own SDK: what Lambda's Python runtimes put on the path after the package.
RUNTIME_SDK = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3"]
# Idle environments kept warm, all functions together.
MAX_IDLE = 6

DRIVER = r"""
import importlib, json, os, sys, time, traceback
sys.path.insert(0, sys.argv[1])
sys.path.append(sys.argv[3])
module, _, name = sys.argv[2].rpartition(".")
# Events come on stdin, which the handler must not read (Lambda gives it none).
events = os.fdopen(os.dup(0))
os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
sys.stdin = open(os.devnull)
handler = None
request_id = ""
# The runtime's own log handler: logging calls reach the log as "[LEVEL]\t<time>\t<request id>\t<message>".
import logging
class _WithRequestId(logging.Filter):
    def filter(self, record):
        record.aws_request_id = request_id
        return True
_handler = logging.StreamHandler(sys.stdout)
_handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"))
_handler.formatter.converter = time.gmtime
_handler.addFilter(_WithRequestId())
logging.getLogger().addHandler(_handler)
class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
    memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
    def __init__(self, request_id, deadline):
        self.aws_request_id, self.deadline = request_id, deadline
    def get_remaining_time_in_millis(self):
        return max(int(self.deadline - time.time() * 1000), 0)
for line in events:
    request = json.loads(line)
    request_id = request["id"]
    broken = False
    try:
        if handler is None:
            handler = getattr(importlib.import_module(module), name)
        result = handler(request["event"], Context(request["id"], request["deadline"]))
        answer = {"ok": True, "result": result}
    except Exception as error:
        # An error at import is the environment's: Lambda starts another for the next event.
        broken = handler is None
        answer = {"ok": False, "result": {"errorMessage": str(error), "errorType": type(error).__name__,
                  "stackTrace": traceback.format_tb(error.__traceback__)}}
        # As the runtime logs an unhandled error: "[ERROR] <type>: <message>", then the traceback.
        print(f"[ERROR] {type(error).__name__}: {error}")
        traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    print("\n__touchdown_local_lambda__" + json.dumps(answer, default=str), flush=True)
    if broken:
        break
"""


def _unpack(code: bytes) -> str:
    digest = hashlib.sha256(code).hexdigest()
    with _lock:
        if digest not in _unpacked:
            folder = tempfile.mkdtemp(prefix=f"lambda-{digest[:8]}-")
            zipfile.ZipFile(BytesIO(code)).extractall(folder)
            _unpacked[digest] = folder
        return _unpacked[digest]


def _runtime_python(runtime: str) -> str:
    """The runtime's own Python (python3.12 for "python3.12"), resolved past pyenv's shims."""
    chosen = os.environ.get("LOCAL_AWS_LAMBDA_PYTHON")
    if chosen:
        return chosen
    with _lock:
        if runtime not in _pythons:
            _pythons[runtime] = _find_python(runtime or "") or sys.executable
        return _pythons[runtime]


def _find_python(runtime: str) -> str | None:
    """pyenv's and uv's Pythons first (their shims on PATH may answer for another version), then PATH's."""
    if not re.fullmatch(r"python3\.\d+", runtime):
        return None
    version = runtime.removeprefix("python")
    managed = sorted(glob.glob(os.path.join(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"), "versions", f"{version}.*", "bin", runtime)))
    managed += sorted(glob.glob(os.path.expanduser(f"~/.local/share/uv/python/cpython-{version}.*/bin/{runtime}")))
    for candidate in [*reversed(managed), shutil.which(runtime)]:
        if not candidate:
            continue
        done = subprocess.run([candidate, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return None


def _runtime_sdk() -> str:
    """A folder holding the runtime's boto3 and what it needs (pure Python), linked from this virtualenv."""
    with _lock:
        if "sdk" not in _pythons:
            import boto3

            site = os.path.dirname(os.path.dirname(boto3.__file__))
            folder = tempfile.mkdtemp(prefix="lambda-runtime-")
            for name in RUNTIME_SDK:
                if os.path.exists(os.path.join(site, name)):
                    os.symlink(os.path.join(site, name), os.path.join(folder, name))
            _pythons["sdk"] = folder
        return _pythons["sdk"]


def _foreign_modules(root: str, architecture: str) -> bool:
    """Whether the package carries compiled modules for a processor other than this machine's."""
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    if architecture == machine:
        return False
    other = "aarch64" if architecture == "arm64" else "x86_64"
    for _, _, files in os.walk(root):
        if any(f.endswith(".so") and other in f for f in files):
            return True
    return False


class Environment:
    """One warm execution environment: a Python process that runs one event at a time."""

    def __init__(self, python: str, root: str, handler: str, environment: dict):
        self.process = subprocess.Popen(
            [python, "-S", "-u", "-c", DRIVER, root, handler, _runtime_sdk()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=root,
            env=environment,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True, name="lambda-environment").start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def run(self, event, request_id: str, seconds: float) -> tuple:
        """(answer or None when the environment died or timed out, the lines it wrote)"""
        deadline = time.time() + seconds
        try:
            self.process.stdin.write(json.dumps({"event": event, "id": request_id, "deadline": deadline * 1000}) + "\n")
            self.process.stdin.flush()
        except OSError:
            return None, []
        lines: list = []
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.time(), 0.01))
            except queue.Empty:
                self.stop()
                return "timeout", lines
            if line is None:
                return None, lines
            if line.startswith(MARK):
                # The driver starts its answer on a line of its own.
                return json.loads(line[len(MARK):]), lines[:-1] if lines and not lines[-1] else lines
            lines.append(line)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()


def _environment_of(function, root: str) -> tuple:
    from moto.rds.models import rds_backends

    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/tmp",
        "LAMBDA_TASK_ROOT": root,
        "_HANDLER": function.handler,
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(function.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": function.logs_group_name,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.run_time}",
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": f"http://localhost:{settings.moto_port}",
        "AWS_S3_ENDPOINT_URL": f"http://localhost:{settings.moto_port}",
        **point_at_local(dict(function.environment_vars or {}), rds_backends[function.account_id][function.region]),
    }
    key = hashlib.sha256(
        json.dumps([function.function_arn, str(function.version), root, function.handler, function.run_time,
                    environment], sort_keys=True).encode()
    ).hexdigest()
    return key, environment


def invoke(function, event) -> tuple:
    """(payload, errored, log tail) as moto's own invoke answers."""
    root = _unpack(function.code_bytes)
    request_id = str(uuid.uuid4())
    started = time.time()
    seconds = float(function.timeout or 3)
    architecture = (getattr(function, "architectures", None) or ["x86_64"])[0]
    if _foreign_modules(root, architecture):
        answer, lines = {"ok": False, "result": {
            "errorMessage": f"the local AWS runs {platform.machine()}: this package's compiled modules are for "
                            f"{architecture} and cannot load here; deploy it with web.architecture: x86_64",
            "errorType": "Runtime.InvalidArchitecture"}}, []
    else:
        key, environment = _environment_of(function, root)
        with _lock:
            idle = _idle.setdefault(key, [])
            warm = idle.pop() if idle else None
        if warm is None or not warm.alive():
            warm = Environment(_runtime_python(function.run_time), root, function.handler, environment)
            with _lock:
                _alive.append(warm)
        answer, lines = warm.run(event if event is not None else {}, request_id, seconds)
        if isinstance(answer, dict) and warm.alive():
            _keep(key, warm)
        else:
            _end(warm)
    if answer == "timeout":
        result, errored = {"errorMessage": f"Task timed out after {seconds:.2f} seconds"}, True
    elif answer is None:
        result = {"errorMessage": "Runtime exited with error: exit status 1", "errorType": "Runtime.ExitError"}
        errored = True
    else:
        result, errored = answer["result"], not answer["ok"]
    lines = [f"START RequestId: {request_id} Version: {function.version}", *lines,
             f"END RequestId: {request_id}",
             f"REPORT RequestId: {request_id}\tDuration: {(time.time() - started) * 1000:.2f} ms\t"
             f"Billed Duration: {int((time.time() - started) * 1000) + 1} ms\tMemory Size: {function.memory_size} MB"]
    _write_logs(function, request_id, lines)
    return json.dumps(result), errored, "\n".join(lines)[-4096:]


def _keep(key: str, environment: Environment) -> None:
    with _lock:
        _idle.setdefault(key, []).append(environment)
        everyone = [(k, e) for k, es in _idle.items() for e in es]
        oldest = everyone[: max(len(everyone) - MAX_IDLE, 0)]
        for k, extra in oldest:
            _idle[k].remove(extra)
    for _, extra in oldest:
        _end(extra)


def _end(environment: Environment) -> None:
    with _lock:
        if environment in _alive:
            _alive.remove(environment)
    environment.stop()


def stop_all() -> None:
    """At reset and exit: every execution environment ends, and the unpacked packages (tens of MB each) go."""
    with _lock:
        everyone = list(_alive)
        _alive.clear()
        _idle.clear()
        folders = list(_unpacked.values())
        _unpacked.clear()
    for environment in everyone:
        environment.stop()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


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
