"""ECS services run their tasks here: a deployment per task definition, tasks registered in the service's target
groups once running, old tasks drained when the new deployment is healthy, and the deployment circuit breaker.

The circuit breaker fails a deployment after 0.5 x desired count failed tasks (at least 3, at most 200), a task
failing when it stops before the deployment completes or fails its ELB health checks after the grace period;
with rollback on, the service goes back to its last completed deployment.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
"""

import threading
import time
import uuid
from datetime import datetime, timezone

from . import http_apis, load_balancers, target_health, tasks
from .settings import settings

lock = threading.RLock()
# service ARN -> ServiceRun
services: dict = {}


class Deployment:
    def __init__(self, task_definition: str):
        self.id = f"ecs-svc/{uuid.uuid4().int % 10**19:019d}"
        self.task_definition = task_definition
        self.runs: list = []
        self.failed = 0
        self.state, self.reason = "IN_PROGRESS", f"ECS deployment {self.id} in progress."
        self.created = self.updated = datetime.now(timezone.utc)


class ServiceRun:
    def __init__(self):
        self.deployments: list = []
        self.circuit_breaker = {"enable": False, "rollback": False}
        self.grace_seconds = 0
        self.completed_task_definition = None


def event(service, message: str) -> None:
    service.events.insert(
        0, {"id": str(uuid.uuid4()), "createdAt": datetime.now(timezone.utc), "message": f"(service {service.name}) {message}"}
    )
    del service.events[100:]


def configure(service, deployment_configuration: dict | None, grace: int | None) -> None:
    with lock:
        run = services.setdefault(service.arn, ServiceRun())
        breaker = (deployment_configuration or {}).get("deploymentCircuitBreaker")
        if breaker is not None:
            run.circuit_breaker = {"enable": bool(breaker.get("enable")), "rollback": bool(breaker.get("rollback"))}
        if grace is not None:
            run.grace_seconds = int(grace)


def sync(backend, service, force: bool = False) -> None:
    """After CreateService or UpdateService: a new task definition (or a forced deployment) starts a deployment."""
    with lock:
        run = services.setdefault(service.arn, ServiceRun())
        primary = run.deployments[0] if run.deployments else None
        if primary is None or primary.task_definition != service.task_definition or force:
            run.deployments.insert(0, Deployment(service.task_definition))
        render(service, run)


def _threshold(desired: int) -> int:
    return min(max(int(0.5 * desired), 3), 200)


def _targets(service):
    return [lb["targetGroupArn"] for lb in service.load_balancers or [] if lb.get("targetGroupArn")]


def _elbv2(backend):
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[backend.account_id][backend.region_name]


def _register(backend, service, task_run) -> None:
    for arn in _targets(service):
        group = _elbv2(backend).target_groups.get(arn)
        if group is not None and task_run.ip not in group.targets:
            group.register([{"Id": task_run.ip, "Port": task_run.port}])


def _deregister(backend, service, task_run) -> None:
    for arn in _targets(service):
        group = _elbv2(backend).target_groups.get(arn)
        if group is not None and task_run.ip in group.targets:
            group.deregister([{"Id": task_run.ip}])


def _start_task(backend, service, deployment: Deployment) -> None:
    from moto.ecs.models import Task

    cluster = backend._get_cluster(service.cluster_name)
    definition = backend.describe_task_definition(deployment.task_definition)
    task = Task(
        cluster=cluster,
        task_definition=definition,
        container_instance_arn=None,
        resource_requirements=backend._calculate_task_resource_requirements(definition),
        backend=backend,
        group=f"service:{service.name}",
        launch_type=service.launch_type or "FARGATE",
        started_by=deployment.id,
        networking_configuration=service.network_configuration or None,
    )
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    deployment.runs.append(tasks.launch(backend, task))
    event(service, f"has started 1 tasks: (task {task.id}).")


def _healthy(service, task_run) -> bool:
    return all(target_health.state_of(arn, task_run.ip, task_run.port) == "healthy" for arn in _targets(service))


def _unhealthy(run: ServiceRun, service, task_run) -> str | None:
    # The grace period counts from the app's first HTTP answer: scaled intervals must not outrun an app's boot
    # here (on AWS the period covers the image pull and the boot), so it is never shorter than 3 s from then.
    # An app that never answers gets the whole period from its start.
    if task_run.started_at is None:
        return None
    for arn in _targets(service):
        answered = target_health.answered_at(arn, task_run.ip, task_run.port)
        if answered is None:
            if time.monotonic() - task_run.started_at < run.grace_seconds:
                continue
        elif time.monotonic() - answered < max(settings.seconds(run.grace_seconds), 3.0):
            continue
        if target_health.state_of(arn, task_run.ip, task_run.port) == "unhealthy":
            return arn
    return None


def tick(backend, service) -> None:
    with lock:
        run = services.get(service.arn)
        if run is None:
            return
        if service.status != "ACTIVE":
            for deployment in run.deployments:
                for task_run in deployment.runs:
                    _deregister(backend, service, task_run)
                    task_run.stop("Service deleted", "ServiceSchedulerInitiated")
            services.pop(service.arn, None)
            return
        primary = run.deployments[0]
        desired = service.desired_count or 0

        for deployment in run.deployments:
            for task_run in list(deployment.runs):
                if task_run.done.is_set():
                    deployment.runs.remove(task_run)
                    _deregister(backend, service, task_run)
                    if task_run.task.stop_code != "ServiceSchedulerInitiated":
                        event(service, f"has stopped 1 running tasks: (task {task_run.task.id}).")
                        if deployment is primary and deployment.state == "IN_PROGRESS":
                            deployment.failed += 1
                    continue
                if task_run.task.last_status == "RUNNING" and task_run.ip:
                    _register(backend, service, task_run)
                    group = _unhealthy(run, service, task_run)
                    if group and task_run.stop_reason is None:
                        event(service, f"(task {task_run.task.id}) failed ELB health checks in (target-group {group})")
                        _deregister(backend, service, task_run)
                        task_run.stop(f"Task failed ELB health checks in (target-group {group})", "ServiceSchedulerInitiated")
                        if deployment is primary and deployment.state == "IN_PROGRESS":
                            deployment.failed += 1

        if primary.state == "IN_PROGRESS" and run.circuit_breaker["enable"] and primary.failed >= _threshold(desired):
            _fail(backend, service, run, primary)
            primary = run.deployments[0]

        if primary.state != "FAILED":
            live = [r for r in primary.runs if r.stop_reason is None]
            for _ in range(desired - len(live)):
                _start_task(backend, service, primary)
            for extra in live[desired:]:
                _deregister(backend, service, extra)
                extra.stop(f"Scaling activity initiated by (deployment {primary.id})", "ServiceSchedulerInitiated")

        if primary.state == "IN_PROGRESS":
            running = [r for r in primary.runs if r.task.last_status == "RUNNING" and r.stop_reason is None]
            if len(running) >= desired and all(_healthy(service, r) for r in running):
                primary.state, primary.reason = "COMPLETED", f"ECS deployment {primary.id} completed."
                primary.updated = datetime.now(timezone.utc)
                run.completed_task_definition = primary.task_definition
                for old in run.deployments[1:]:
                    for task_run in old.runs:
                        _deregister(backend, service, task_run)
                        task_run.stop(f"Scaling activity initiated by (deployment {primary.id})", "ServiceSchedulerInitiated")
                event(service, f"(deployment {primary.id}) deployment completed.")
                event(service, "has reached a steady state.")

        # Older deployments leave once their tasks are gone.
        run.deployments = [primary] + [d for d in run.deployments[1:] if d.runs]
        render(service, run)


def _fail(backend, service, run: ServiceRun, primary: Deployment) -> None:
    primary.state = "FAILED"
    primary.reason = "ECS deployment circuit breaker: tasks failed to start."
    primary.updated = datetime.now(timezone.utc)
    event(service, f"(deployment {primary.id}) deployment failed: tasks failed to start.")
    for task_run in primary.runs:
        _deregister(backend, service, task_run)
        task_run.stop(f"Scaling activity initiated by (deployment {primary.id})", "ServiceSchedulerInitiated")
    if run.circuit_breaker["rollback"] and run.completed_task_definition:
        back = Deployment(run.completed_task_definition)
        event(service, f"rolling back to deployment {back.id}.")
        service.task_definition = run.completed_task_definition
        # The tasks still serving from the last completed deployment carry on into the rollback.
        for old in run.deployments[1:]:
            if old.task_definition == back.task_definition:
                back.runs.extend(r for r in old.runs if r.stop_reason is None)
                old.runs = []
        run.deployments = [back, primary] + [d for d in run.deployments[1:] if d is not primary and d.runs]


def render(service, run: ServiceRun) -> None:
    rows = []
    for index, d in enumerate(run.deployments):
        running = sum(1 for r in d.runs if r.task.last_status == "RUNNING")
        pending = sum(1 for r in d.runs if r.task.last_status in ("PROVISIONING", "PENDING"))
        rows.append(
            {
                "id": d.id,
                "status": "PRIMARY" if index == 0 else "ACTIVE",
                "taskDefinition": d.task_definition,
                "desiredCount": service.desired_count if index == 0 else len(d.runs),
                "pendingCount": pending,
                "runningCount": running,
                "failedTasks": d.failed,
                "createdAt": d.created,
                "updatedAt": d.updated,
                "launchType": service.launch_type,
                "networkConfiguration": service.network_configuration or None,
                "rolloutState": d.state,
                "rolloutStateReason": d.reason,
            }
        )
    service.deployments = rows
    service.running_count = sum(r["runningCount"] for r in rows)
    service.pending_count = sum(r["pendingCount"] for r in rows)


def run_services() -> None:
    """CreateService and UpdateService hand their services to the controller; a thread keeps them running."""
    from moto.ecs.models import ecs_backends
    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.apigatewayv2.models import apigatewayv2_backends
    from moto.elbv2.models import elbv2_backends

    create, update = EC2ContainerServiceResponse.create_service, EC2ContainerServiceResponse.update_service

    def handed_over(self, result):
        cluster = self._get_param("cluster") or "default"
        name = self._get_param("serviceName") or self._get_param("service")
        service = self.ecs_backend._get_service(cluster, name.split("/")[-1])
        configure(service, self._get_param("deploymentConfiguration"), self._get_param("healthCheckGracePeriodSeconds"))
        sync(self.ecs_backend, service, force=bool(self._get_param("forceNewDeployment")))
        return result

    EC2ContainerServiceResponse.create_service = lambda self: handed_over(self, create(self))
    EC2ContainerServiceResponse.update_service = lambda self: handed_over(self, update(self))

    def loop():
        while True:
            try:
                target_health.tick(elbv2_backends)
                load_balancers.tick(elbv2_backends)
                http_apis.tick(apigatewayv2_backends)
                for regions in list(ecs_backends.values()):
                    for backend in list(regions.values()):
                        for service in list(backend.services.values()):
                            tick(backend, service)
            except Exception as error:  # noqa: BLE001 - the controller outlives one bad tick
                print(f"local AWS: the ECS service controller failed a round: {error!r}", flush=True)
            time.sleep(0.05)

    threading.Thread(target=loop, daemon=True, name="ecs-services").start()


def reset() -> None:
    with lock:
        services.clear()
