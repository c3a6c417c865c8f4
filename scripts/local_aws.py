"""The local AWS: a moto server on 127.0.0.1, on the port given (0 picks a free one).

Prints one JSON line {"port": N} once it answers, then serves until stdin closes or it is signalled,
so a test harness that dies takes its server with it.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading

from local_aws.ci_gaps import fix_ci_gaps
from local_aws.dispatch import dispatch_once_per_host
from local_aws.lease_settings import serve_settings
from local_aws.managed_policies import answer_managed_policies_as_aws
from local_aws.settings import settings as local_settings
from local_aws.tag_lookup import look_up_ec2_tags_by_id
from moto.server import ThreadedMotoServer


def fix_emulator_gaps() -> None:
    """Where moto answers differently from AWS in a way that would make every plan show a change.

    Each fix makes moto return what AWS returns; none changes what Touchdown sends.
    """
    from moto.cloudfront import models as cloudfront

    # moto 5.2.5 drops an origin's OriginAccessControlId and S3OriginConfig from every answer.
    original = cloudfront.Origin.__init__

    def origin(self, config):
        original(self, config)
        self.origin_access_control_id = config.get("OriginAccessControlId") or ""
        if "S3OriginConfig" in config:
            self.s3_origin_config = config["S3OriginConfig"]

    cloudfront.Origin.__init__ = origin

    # moto 5.2.5 leaves ElastiCache replication groups and clusters "deleting" forever; AWS removes them
    # after some minutes. Here they are gone after one look at them in that state.
    from moto.elasticache.models import ElastiCacheBackend

    describe_groups = ElastiCacheBackend.describe_replication_groups
    describe_clusters = ElastiCacheBackend.describe_cache_clusters

    def replication_groups(self, replication_group_id=None):
        groups = describe_groups(self, replication_group_id)
        for group in groups:
            if group.status == "deleting":
                self.replication_groups.pop(group.replication_group_id, None)
                for member in group.member_clusters:
                    self.cache_clusters.pop(member, None)
        return groups

    def cache_clusters(self, cache_cluster_id=None):
        clusters = describe_clusters(self, cache_cluster_id)
        for cluster in clusters:
            if cluster.cache_cluster_status == "deleting":
                self.cache_clusters.pop(cluster.cache_cluster_id, None)
        return clusters

    ElastiCacheBackend.describe_replication_groups = replication_groups
    ElastiCacheBackend.describe_cache_clusters = cache_clusters

    # moto 5.2.5 lacks DeleteCacheSubnetGroup (HTTP 500). AWS deletes a group no cluster uses, refuses one in use
    # (CacheSubnetGroupInUse) and answers CacheSubnetGroupNotFoundFault for one that is not there:
    # https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DeleteCacheSubnetGroup.html
    from moto.core.responses import EmptyResult
    from moto.elasticache.exceptions import CacheSubnetGroupNotFound, ElastiCacheException
    from moto.elasticache.responses import ElastiCacheResponse

    class CacheSubnetGroupInUse(ElastiCacheException):
        code = "CacheSubnetGroupInUse"

    def delete_cache_subnet_group(self):
        name = self._get_param("CacheSubnetGroupName")
        backend = self.elasticache_backend
        if name not in backend.cache_subnet_groups:
            raise CacheSubnetGroupNotFound(name)
        if any(c.cache_subnet_group_name == name for c in backend.cache_clusters.values()):
            raise CacheSubnetGroupInUse(f"Cache subnet group {name} is currently in use by a cache cluster.")
        group = backend.cache_subnet_groups.pop(name)
        backend.tagging_service.delete_all_tags_for_resource(group.arn)
        return EmptyResult()

    ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group

    # moto 5.2.5 refuses every create whose CallerReference it has seen. AWS answers the same request sent
    # again (a retry whose first answer was lost) with the distribution it made, and refuses only a different one.
    from moto.cloudfront.models import CloudFrontBackend

    create_distribution = CloudFrontBackend.create_distribution_with_tags

    def distribution_once(self, distribution_config, tags):
        requests = self.__dict__.setdefault("_requests_by_caller_reference", {})
        reference = distribution_config.get("CallerReference")
        request = json.dumps([distribution_config, tags], sort_keys=True, default=str)
        earlier = self._distribution_with_caller_reference(reference)
        if earlier is not None and requests.get(reference) == request:
            return earlier, earlier.location, earlier.etag
        made = create_distribution(self, distribution_config, tags)
        requests[reference] = request
        return made

    CloudFrontBackend.create_distribution_with_tags = distribution_once

    # moto 5.2.5 answers a custom domain of an HTTP API without the name and hosted zone AWS gives it, which
    # a Route53 alias record points at.
    import hashlib

    from moto.apigatewayv2 import models as apigatewayv2

    # API Gateway's regional endpoints' hosted zones, as AWS publishes them.
    zones = {
        "us-east-1": "Z1UJRXOUMOOFQ8",
        "us-east-2": "ZOJJZC49E0EPZ",
        "us-west-2": "Z2OJLYMUO9EFXC",
        "eu-west-1": "ZLY8HYME6SFDD",
    }
    original_domain = apigatewayv2.DomainName.__init__

    def domain(self, **kwargs):
        original_domain(self, **kwargs)
        region = kwargs["backend"].region_name
        suffix = hashlib.sha256(f"{self.domain_name}/{region}".encode()).hexdigest()[:10]
        for configuration in self.domain_name_configurations:
            configuration.setdefault("apiGatewayDomainName", f"d-{suffix}.execute-api.{region}.amazonaws.com")
            configuration.setdefault("hostedZoneId", zones.get(region, "Z1UJRXOUMOOFQ8"))
            configuration.setdefault("domainNameStatus", "AVAILABLE")

    apigatewayv2.DomainName.__init__ = domain

    # moto 5.2.5 checks If-Match / If-None-Match and then writes, unlocked, on its server's threads: two
    # conditional writes of one key can both pass. S3 lets exactly one win (the other gets 412 or 409):
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
    from moto.s3.responses import S3Response

    object_writes = threading.Lock()

    def atomic(method):
        def write(self, *args, **kwargs):
            with object_writes:
                return method(self, *args, **kwargs)

        return write

    S3Response.put_object = atomic(S3Response.put_object)
    S3Response.delete_object = atomic(S3Response.delete_object)


    # moto adds a second metric filter on PutMetricFilter of a name the log group has; AWS replaces it
    # ("creates or updates", https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html).
    from moto.logs.metric_filters import MetricFilters

    add_filter = MetricFilters.add_filter

    def replace_filter(self, filter_name, filter_pattern, log_group_name, metric_transformations):
        self.metric_filters = [
            f
            for f in self.metric_filters
            if (f["filterName"], f["logGroupName"]) != (filter_name, log_group_name)
        ]
        add_filter(self, filter_name, filter_pattern, log_group_name, metric_transformations)

    MetricFilters.add_filter = replace_filter


# ---- zones as AWS answers them (issue 11: zones are asked of EC2, not guessed) ----


def answer_zones_as_aws() -> None:
    """moto 5.2.5 already knows each region's own zone names (ap-northeast-1 a, c, d; us-east-1 a-f; ca-central-1
    a, b, d) and their instance type offerings, but answers DescribeAvailabilityZones without OptInStatus,
    GroupName and NetworkBorderGroup, which AWS gives for every zone (opt-in-not-required for a region's own
    zones): https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AvailabilityZone.html
    """
    from moto.ec2.models.availability_zones_and_regions import Zone

    original = Zone.__init__

    def zone(self, *args, **kwargs):
        original(self, *args, **kwargs)
        # Local and Wavelength Zones are opted into; a region's own availability zones need no opt-in.
        self.opt_in_status = "opt-in-not-required" if self.zone_type == "availability-zone" else "not-opted-in"
        self.group_name = self.region_name
        self.network_border_group = self.region_name

    Zone.__init__ = zone
    # The zones are made when moto is imported: give the ones already made the same fields.
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    for zones in RegionsAndZonesBackend.zones.values():
        for made in zones:
            made.opt_in_status = "opt-in-not-required" if made.zone_type == "availability-zone" else "not-opted-in"
            made.group_name = made.region_name
            made.network_border_group = made.region_name


# ---- end of zones ----


# ---- SES's account, as AWS answers it (issue 11: status says when SES is still in the sandbox) ----


def answer_ses_account_as_aws() -> None:
    """moto 5.2.5 has no SESv2 GetAccount. AWS answers it for every account: a new one is in the sandbox
    (ProductionAccessEnabled false, 200 messages a day, 1 a second) until AWS grants production access:
    https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html
    LOCAL_AWS_SES_PRODUCTION_ACCESS=true: the account has been granted it (50,000 a day, 14 a second).
    """
    from moto.sesv2.responses import SESV2Response

    def get_account(self) -> str:
        production = os.environ.get("LOCAL_AWS_SES_PRODUCTION_ACCESS") == "true"
        return json.dumps(
            {
                "DedicatedIpAutoWarmupEnabled": False,
                "EnforcementStatus": "HEALTHY",
                "ProductionAccessEnabled": production,
                "SendingEnabled": True,
                "SendQuota": {
                    "Max24HourSend": 50000.0 if production else 200.0,
                    "MaxSendRate": 14.0 if production else 1.0,
                    "SentLast24Hours": 0.0,
                },
            }
        )

    SESV2Response.get_account = get_account
    # moto's catch-all "/v2/.*" rule is taken literally by its router: the account's path needs a rule of its own.
    from moto.sesv2 import urls

    urls.url_paths["{0}/v2/email/account$"] = urls.response.dispatch


# ---- end of SES's account ----


def stage_from_environment() -> None:
    """Staging a test may ask for, as moto's own MOTO_ECS_SERVICE_RUNNING does; each read from the environment at
    the call, so a leased server takes them for the lease (scripts/local_aws/lease_settings.py).

    LOCAL_AWS_TASK_EXIT_CODES: JSON {"word": exit code}; a one-off ECS task whose command override or
    image contains the word stops with that exit code (moto runs no containers: every task exits 0).
    Touchdown's release runner (python -c, its commands as JSON) runs its commands in order as the
    container would: each announced in the task's awslogs stream, stopping at the first with the word.
    LOCAL_AWS_ECS_SERVICES_START=true: every new service reports its own desired count running, as
    moto already does after an update (MOTO_ECS_SERVICE_RUNNING is one number for all services).
    LOCAL_AWS_ECS_AGENT=true: an instance whose user data names an ECS cluster (ECS_CLUSTER=...) joins it
    as a container instance when it starts and leaves when terminated, as the ECS-optimized image's agent
    does (moto runs no agent, so RunTask on a cluster's own instances would find none).
    """
    start_services()
    run_ecs_agents()
    from moto.ecs.models import Task

    original = Task.__init__

    def task(self, *args, **kwargs):
        original(self, *args, **kwargs)
        codes = json.loads(os.environ.get("LOCAL_AWS_TASK_EXIT_CODES") or "{}")
        if not codes:
            return
        for override in (self.overrides or {}).get("containerOverrides", []):
            steps = release_runner_steps(override.get("command") or [])
            if steps is not None:
                definition = kwargs.get("task_definition") or args[1]
                stage_release_runner(self, definition, steps, codes)
                continue
            command = " ".join(override.get("command") or [])
            for container in self.containers:
                for word, code in codes.items():
                    if word in f"{command} {container.image}":
                        container.exitCode = code

    Task.__init__ = task


def release_runner_steps(command: list) -> list | None:
    """The commands of Touchdown's release runner (src/django/one-off.ts), or None for any other command."""
    if len(command) == 4 and command[1] == "-c" and "[touchdown] release step" in command[2]:
        return json.loads(command[3])
    return None


def stage_release_runner(task, definition, steps: list, codes: dict) -> None:
    """What the runner writes and how it ends, its commands' exit codes staged by word."""
    import time

    from moto.logs.models import logs_backends

    container = task.containers[0]
    options = (definition.container_definitions[0].get("logConfiguration") or {}).get("options") or {}
    group, prefix = options.get("awslogs-group"), options.get("awslogs-stream-prefix")
    logs = logs_backends[task._account_id][task.region_name]
    stream = f"{prefix}/{definition.container_definitions[0].get('name')}/{task.id}"
    if group in logs.groups:
        logs.create_log_stream(group, stream)

    def log(line: str) -> None:
        if group in logs.groups:
            logs.put_log_events(group, stream, [{"timestamp": int(time.time() * 1000), "message": line}])

    for i, (name, words) in enumerate(steps, 1):
        log(f"[touchdown] release step {i} of {len(steps)}: {name}")
        code = next((c for w, c in codes.items() if w in f"manage.py {' '.join(words)} {container.image}"), 0)
        if code:
            log(f"[touchdown] release step {i} of {len(steps)} failed: {name} exited with code {code}")
            container.exitCode = code
            return
    container.exitCode = 0


def start_services() -> None:
    from moto.ecs.models import Service

    original = Service.__init__

    def service(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if os.environ.get("LOCAL_AWS_ECS_SERVICES_START") != "true":
            return
        self.running_count, self.pending_count = self.desired_count, 0
        for deployment in self.deployments:
            deployment.update(runningCount=self.desired_count, pendingCount=0, rolloutState="COMPLETED")

    Service.__init__ = service


def run_ecs_agents() -> None:
    import base64
    import re

    from moto.ec2.models.instances import InstanceBackend
    from moto.ecs.models import ecs_backends

    def cluster_of(user_data) -> str | None:
        # Launch templates hand moto's instances a Base64EncodedString, RunInstances base64 text.
        data = user_data[0] if isinstance(user_data, list) and user_data else user_data or ""
        text = data if isinstance(data, str) else str(getattr(data, "_encoded_string", data))
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8", "replace")
        except ValueError:
            pass
        found = re.search(r"\bECS_CLUSTER=([A-Za-z0-9_-]+)", text)
        return found.group(1) if found else None

    run, terminate = InstanceBackend.run_instances, InstanceBackend.terminate_instances

    def run_instances(self, *args, **kwargs):
        reservation = run(self, *args, **kwargs)
        if os.environ.get("LOCAL_AWS_ECS_AGENT") != "true":
            return reservation
        ecs = ecs_backends[self.account_id][self.region_name]
        for instance in reservation.instances:
            cluster = cluster_of(instance.user_data)
            if cluster in ecs.clusters:
                ecs.register_container_instance(cluster, instance.id)
        return reservation

    def terminate_instances(self, instance_ids):
        if os.environ.get("LOCAL_AWS_ECS_AGENT") != "true":
            return terminate(self, instance_ids)
        ecs = ecs_backends[self.account_id][self.region_name]
        for cluster, members in list(ecs.container_instances.items()):
            for arn_id, member in list(members.items()):
                if member.ec2_instance_id in instance_ids and cluster in ecs.clusters:
                    ecs.deregister_container_instance(cluster, arn_id, force=True)
        return terminate(self, instance_ids)

    InstanceBackend.run_instances = run_instances
    InstanceBackend.terminate_instances = terminate_instances


def run_apps() -> None:
    """LOCAL_AWS_IMAGES or LOCAL_AWS_APPS set: ECS and the load balancers run the app here (scripts/local_aws/settings.py).

    A test pool's server that runs apps starts with LOCAL_AWS_APPS=true: each lease gives it its images
    (scripts/local_aws/lease_settings.py).
    """
    from local_aws import api, data_stores, http_apis, lambda_run, load_balancers, services, tasks, target_health
    from moto.moto_api._internal.models import MotoAPIBackend

    tasks.run_tasks_as_processes()
    target_health.report_health()
    services.run_services()
    lambda_run.run_functions()
    original_reset = MotoAPIBackend.reset

    def reset(self):
        # What ran for the old state goes with it.
        with services.lock:
            services.reset()
            tasks.stop_all()
            load_balancers.stop_all()
            http_apis.stop_all()
            lambda_run.stop_all()
            target_health.health.clear()
        data_stores.drop_databases()
        original_reset(self)

    MotoAPIBackend.reset = reset
    local_settings.api_port = api.serve()


def stop_apps() -> None:
    from local_aws import data_stores, lambda_run, tasks

    tasks.stop_all()
    lambda_run.stop_all()
    data_stores.drop_databases()


def answer_restore_window_as_aws() -> None:
    """moto 5.2.5 describes automated backups without their RestoreWindow; AWS gives the earliest and latest
    time a point-in-time restore may ask for (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreWindow.html):
    from the first automated backup to the instance's LatestRestorableTime."""
    from moto.core.utils import utcnow
    from moto.rds.models import DBInstanceAutomatedBackup

    def restore_window(self):
        times = [s.created for s in self.automated_snapshots]
        if not times:
            return None
        database = self.backend.databases.get(self.db_instance_identifier)
        latest = database.latest_restorable_time if database is not None else max(times)
        return {"EarliestTime": min(times), "LatestTime": latest if latest else utcnow()}

    DBInstanceAutomatedBackup.restore_window = property(restore_window)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--detach", action="store_true", help="keep serving when stdin closes")
    args = parser.parse_args()
    apps = local_settings.runs_apps

    # The thousands of public AMIs moto would load on every reset are not used by Touchdown's tests.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    # One log line per request drowns the test output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    fix_emulator_gaps()
    fix_ci_gaps()
    answer_zones_as_aws()
    answer_ses_account_as_aws()
    answer_restore_window_as_aws()
    from local_aws.search_broker import answer_search_and_brokers_as_aws

    answer_search_and_brokers_as_aws()
    answer_managed_policies_as_aws()
    stage_from_environment()
    dispatch_once_per_host()
    look_up_ec2_tags_by_id()
    # After the defaults above: what a lease's settings fall back to.
    serve_settings(apps=apps)
    if apps:
        run_apps()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    local_settings.moto_port = port
    ready = {"port": port, "pid": os.getpid()}
    if apps:
        ready["harness"] = local_settings.api_port
    print(json.dumps(ready), flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if not args.detach:
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    if apps:
        stop_apps()
    server.stop()


if __name__ == "__main__":
    main()
