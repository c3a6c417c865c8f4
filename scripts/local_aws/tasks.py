"""ECS tasks as local processes, from their task definition: command (or the image's), environment, secrets
from Parameter Store or Secrets Manager, awslogs output in CloudWatch Logs, exit code and stop reason.

A task that has a port mapping gets its own loopback address (any 127/8 address binds on Linux without root) and
a free port, given to the process as PORT (the images' CMD binds ${PORT:-8000}; a runtime would map the port).
"""

import ctypes
import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone

from .data_stores import point_at_local
from .images import find_image
from .settings import settings

# Every task this local AWS runs, by task ARN.
runs: dict = {}
_lock = threading.Lock()
_addresses = itertools.count(2)


def _next_address() -> str:
    # Distinct per local AWS (its port: 127.<port's two bytes>.<task>) so that the servers of a test run, and
    # engineers' tests beside each other, never share an address; 127.0/16 (127.0.0.1's) is never one: ports
    # below 256 are not the emulator's.
    n = next(_addresses)
    port = settings.moto_port
    return f"127.{port >> 8}.{port & 255}.{n % 254 + 1}"


def _ephemeral_ports() -> range:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
        return range(low, high + 1)
    except (OSError, ValueError):
        return range(32768, 61000)  # Linux's default


def _free_port() -> int:
    """A port no socket holds on any address, outside the kernel's ephemeral range.

    An app binds 0.0.0.0:PORT (as in a container, where the address is the task's own), so the port must be free
    on every address; and a port the kernel hands out to outgoing connections (the test run makes thousands)
    can be taken between this check and the app's bind: a task failed on "Address already in use" that way.
    """
    ephemeral = _ephemeral_ports()
    candidates = [p for p in range(10000, 32768) if p not in ephemeral]
    for port in random.sample(candidates, 200):
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 10000 and 32767 for the task")


def _die_with_parent() -> None:
    # The app dies with the local AWS, even when the local AWS is killed.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class TaskRun:
    def __init__(self, backend, task, overrides: dict | None):
        self.backend, self.task = backend, task
        self.account, self.region = backend.account_id, backend.region_name
        definition = backend.describe_task_definition(task.task_definition_arn)
        self.definition = definition.container_definitions[0]
        name = self.definition.get("name")
        self.override = next(
            (o for o in (overrides or {}).get("containerOverrides", []) if o.get("name") in (None, name)), {}
        )
        self.ip = self.port = None
        self.process = None
        self.started_at = None
        self.stop_reason = None
        self.logs = None
        self.done = threading.Event()
        # The harness decides the task's status from here on, not moto's state manager.
        task._transitions = []
        task.last_status = "PROVISIONING"
        task.desired_status = "RUNNING"
        container = task.containers[0]
        container.exitCode = None
        container.last_status = "PENDING"
        if self.definition.get("portMappings"):
            self.ip = _next_address()
            self.port = _free_port()
            for attachment in task.attachments:
                for detail in attachment.get("details", []):
                    if detail["name"] == "privateIPv4Address":
                        detail["value"] = self.ip

    @property
    def task_id(self) -> str:
        return self.task.task_arn.split("/")[-1]

    # -- starting

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True, name=f"task-{self.task_id}").start()

    def _run(self) -> None:
        try:
            image = find_image(self.definition.get("image", ""))
            if image is None:
                return self._failed_to_start(
                    f"CannotPullContainerError: pull image manifest has been retried 7 time(s): "
                    f"failed to resolve ref {self.definition.get('image')}: not found"
                )
            try:
                secrets = self._secrets()
            except LookupError as missing:
                return self._failed_to_start(
                    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                    f"retrieval failed: unable to retrieve secret from asm/ssm: {missing}"
                )
            if not self._open_log_stream():
                return self._failed_to_start(
                    "ResourceInitializationError: failed to validate logger args: The specified log group does "
                    f"not exist: {self.logs[0]}"
                )
            self.home = tempfile.mkdtemp(prefix=f"task-{self.task_id[:8]}-")
            environment = self._environment(image, secrets)
            command = image.command(
                self.override.get("entryPoint") or self.definition.get("entryPoint"),
                self.override.get("command") or self.definition.get("command"),
            )
            self.process = subprocess.Popen(
                command,
                cwd=image.dir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except Exception as error:  # noqa: BLE001 - any failure to start is the task's, as on AWS
            return self._failed_to_start(f"CannotStartContainerError: {error}")
        self.started_at = time.monotonic()
        self.task.started_at = datetime.now(timezone.utc)
        self.task.last_status = "RUNNING"
        self.task.containers[0].last_status = "RUNNING"
        for raw in self.process.stdout:
            self._log(raw.decode("utf-8", "replace").rstrip("\n"))
        code = self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)
        self._stopped(128 - code if code < 0 else code)

    def _secrets(self) -> dict:
        from moto.secretsmanager.models import secretsmanager_backends
        from moto.ssm.models import ssm_backends

        values = {}
        for secret in self.definition.get("secrets") or []:
            source = secret["valueFrom"]
            if ":secretsmanager:" in source:
                # arn:aws:secretsmanager:region:account:secret:name[:json-key[:stage[:version]]]
                parts = source.split(":")
                arn, key = ":".join(parts[:7]), (parts[7] if len(parts) > 7 else "")
                try:
                    found = secretsmanager_backends[self.account][self.region].get_secret_value(arn, None, None)
                except Exception as error:
                    raise LookupError(f"{source}: {error}") from None
                value = found.get("SecretString") or ""
                if key:
                    import json

                    value = str(json.loads(value)[key])
            else:
                parameter = ssm_backends[self.account][self.region].get_parameter(source)
                if parameter is None:
                    raise LookupError(f"{source}: ParameterNotFound")
                # moto keeps a SecureString encrypted (its "kms:<key>:" prefix); ECS injects the plain value.
                value = parameter.decrypt(parameter.value)
            values[secret["name"]] = value
        return values

    def _environment(self, image, secrets: dict) -> dict:
        from moto.rds.models import rds_backends

        declared = {e["name"]: e["value"] for e in self.definition.get("environment") or []}
        declared.update({e["name"]: e["value"] for e in self.override.get("environment") or []})
        declared.update(secrets)
        endpoint = f"http://localhost:{settings.moto_port}"
        task = {
            # What Fargate gives every task; the role's credentials are fake ones for the local AWS.
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
            "ECS_CONTAINER_METADATA_URI_V4": f"http://127.0.0.1:{settings.api_port}/metadata/{self.task_id}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_ENDPOINT_URL": endpoint,
            # The buckets on the local AWS, path-style (its host is not a bucket's).
            "AWS_S3_ENDPOINT_URL": endpoint,
            "PATH": f"{image.bin}:/usr/local/bin:/usr/bin:/bin",
            "VIRTUAL_ENV": os.path.dirname(image.bin),
            # A container's own file system: apps keep sockets and caches in HOME (gunicorn's control socket).
            "HOME": self.home,
            "LANG": "C.UTF-8",
        }
        if self.port:
            task["PORT"] = str(self.port)
        local = point_at_local(declared, rds_backends[self.account][self.region])
        return {**image.env, **task, **local}

    # -- logs, as the awslogs driver writes them

    def _open_log_stream(self) -> bool:
        config = self.definition.get("logConfiguration") or {}
        options = config.get("options") or {}
        if config.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
            return True
        from moto.logs.models import logs_backends

        group = options["awslogs-group"]
        prefix = options.get("awslogs-stream-prefix")
        stream = f"{prefix}/{self.definition.get('name')}/{self.task_id}" if prefix else self.task_id
        self.logs = (group, stream)
        backend = logs_backends[self.account][self.region]
        if group not in backend.groups:
            return False
        if stream not in backend.groups[group].streams:
            backend.create_log_stream(group, stream)
        return True

    def _log(self, line: str) -> None:
        if not self.logs or not line:
            return
        from moto.logs.models import logs_backends

        try:
            logs_backends[self.account][self.region].put_log_events(
                self.logs[0], self.logs[1], [{"timestamp": int(time.time() * 1000), "message": line}]
            )
        except Exception:  # noqa: BLE001 - a deleted group loses lines, as on AWS
            pass

    # -- stopping

    def _failed_to_start(self, reason: str) -> None:
        container = self.task.containers[0]
        container.reason = reason
        container.exitCode = None
        self._finish(reason if not self.stop_reason else self.stop_reason, "TaskFailedToStart")

    def _stopped(self, code: int) -> None:
        self.task.containers[0].exitCode = code
        if self.stop_reason:
            self._finish(self.stop_reason, self.stop_code)
        else:
            self._finish("Essential container in task exited", "EssentialContainerExited")

    def _finish(self, reason: str, code: str) -> None:
        task = self.task
        task.containers[0].last_status = "STOPPED"
        task.stopped_reason = reason
        task.stop_code = code
        task.stopped_at = datetime.now(timezone.utc)
        task.desired_status = "STOPPED"
        task.last_status = "STOPPED"
        self.done.set()

    def stop(self, reason: str, code: str = "UserInitiated") -> None:
        """As StopTask: SIGTERM, then SIGKILL after the container's stop timeout (30 s on Fargate)."""
        if self.done.is_set() or self.stop_reason is not None:
            return  # already stopping, for its first reason
        self.stop_reason, self.stop_code = reason, code
        self.task.desired_status = "STOPPED"
        if self.process is None:
            return
        self.task.last_status = "DEACTIVATING"
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        timeout = settings.seconds(self.definition.get("stopTimeout") or 30, floor=1)

        def kill():
            if not self.done.wait(timeout):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

        threading.Thread(target=kill, daemon=True).start()


def launch(backend, task, overrides: dict | None = None) -> TaskRun:
    run = TaskRun(backend, task, overrides)
    with _lock:
        runs[task.task_arn] = run
    run.start()
    return run


def stop_all(wait: float = 5) -> None:
    with _lock:
        everything = list(runs.values())
        runs.clear()
    for run in everything:
        run.stop("the local AWS was reset")
    for run in everything:
        if run.process is not None and not run.done.wait(wait):
            try:
                os.killpg(run.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def run_tasks_as_processes() -> None:
    """RunTask and StopTask start and stop processes (only when LOCAL_AWS_IMAGES maps images)."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.ec2.utils import generate_dns_from_ip
    from moto.ecs.models import EC2ContainerServiceBackend

    # moto 5.2.5 gives an interface a private DNS name only in a VPC with DNS hostnames, and RunTask in awsvpc mode
    # then fails (HTTP 500) reading it; AWS names every interface (ip-10-0-1-5.ec2.internal).
    NetworkInterface.private_dns_name = property(
        lambda self: self.__dict__.get("_private_dns_name") or generate_dns_from_ip(self.private_ip_address),
        lambda self, value: self.__dict__.__setitem__("_private_dns_name", value),
    )

    run_task, stop_task = EC2ContainerServiceBackend.run_task, EC2ContainerServiceBackend.stop_task

    def run(self, *args, **kwargs):
        tasks = run_task(self, *args, **kwargs)
        overrides = kwargs.get("overrides") if "overrides" in kwargs else args[3] if len(args) > 3 else None
        for task in tasks:
            launch(self, task, overrides)
        return tasks

    def stop(self, cluster_str, task_str, reason):
        for arn, task_run in list(runs.items()):
            if arn.endswith(task_str.split("/")[-1]):
                task_run.stop(reason or "Task stopped by user")
                return task_run.task
        return stop_task(self, cluster_str, task_str, reason)

    EC2ContainerServiceBackend.run_task = run
    EC2ContainerServiceBackend.stop_task = stop
