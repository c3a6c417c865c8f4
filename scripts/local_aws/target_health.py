"""Target groups check their targets as the ALB does, and DescribeTargetHealth says what it found.

HTTP GET of the health-check path on the target's address and port, with `Host: <ip>:<port>`, no redirect
followed; every interval; `healthy` after HealthyThresholdCount successes in a row, `unhealthy` after
UnhealthyThresholdCount failures; success is a status code the Matcher names.
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
Intervals scale with LOCAL_AWS_TIME_SCALE; a check's timeout never drops below 2 s, as a loaded test machine
answers slower than AWS's network.
"""

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .settings import settings

# (target group ARN, "ip:port") -> Health
health: dict = {}
_lock = threading.Lock()
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health-check")


class Health:
    def __init__(self):
        self.state, self.reason = "initial", "Elb.RegistrationInProgress"
        self.description = "Target registration is in progress"
        self.successes = self.failures = 0
        self.next_at = 0.0
        self.checking = False
        # When the target first answered over HTTP, whatever the code: the app is up from then.
        self.answered_at = None


def matches(matcher: str, code: int) -> bool:
    for part in (matcher or "200").split(","):
        low, _, high = part.strip().partition("-")
        if int(low) <= code <= int(high or low):
            return True
    return False


def check_once(group, ip: str, port: int) -> tuple:
    """(ok, reason, description, answered) of one health check."""
    timeout = max(settings.seconds(int(group.health_check_timeout_seconds or 5)), 2.0)
    port_to_check = port if group.health_check_port in (None, "traffic-port") else int(group.health_check_port)
    connection = http.client.HTTPConnection(ip, port_to_check, timeout=timeout)
    try:
        connection.request(
            "GET",
            group.health_check_path or "/",
            headers={"Host": f"{ip}:{port_to_check}", "User-Agent": "ELB-HealthChecker/2.0", "Connection": "close"},
        )
        code = connection.getresponse().status
    except TimeoutError:
        return False, "Target.Timeout", "Request timed out", False
    except OSError:
        return False, "Target.FailedHealthChecks", "Health checks failed", False
    finally:
        connection.close()
    if matches((group.matcher or {}).get("HttpCode", "200"), code):
        return True, None, None, True
    return False, "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{code}]", True


def _check(key, group, ip, port, record: Health) -> None:
    ok, reason, description, answered = check_once(group, ip, port)
    with _lock:
        record.checking = False
        if answered and record.answered_at is None:
            record.answered_at = time.monotonic()
        if ok:
            record.successes, record.failures = record.successes + 1, 0
            if record.successes >= int(group.healthy_threshold_count):
                record.state, record.reason, record.description = "healthy", None, None
        else:
            record.failures, record.successes = record.failures + 1, 0
            if record.failures >= int(group.unhealthy_threshold_count):
                record.state, record.reason, record.description = "unhealthy", reason, description
            elif record.state == "initial":
                record.description = description or record.description


def tick(elbv2_backends) -> None:
    now = time.monotonic()
    seen = set()
    for regions in list(elbv2_backends.values()):
        for backend in list(regions.values()):
            for group in list(backend.target_groups.values()):
                if group.target_type != "ip" or group.protocol not in ("HTTP", "HTTPS"):
                    continue
                if not group.health_check_enabled:
                    continue
                for target in list(group.targets.values()):
                    ip, port = target["Id"], int(target["Port"])
                    key = (group.arn, f"{ip}:{port}")
                    seen.add(key)
                    with _lock:
                        record = health.setdefault(key, Health())
                        if record.checking or now < record.next_at:
                            continue
                        record.checking = True
                        record.next_at = now + settings.seconds(int(group.health_check_interval_seconds or 30))
                    _pool.submit(_check, key, group, ip, port, record)
    with _lock:
        for key in [k for k in health if k not in seen]:
            del health[key]


def state_of(group_arn: str, ip: str, port) -> str | None:
    record = health.get((group_arn, f"{ip}:{port}"))
    return record.state if record else None


def answered_at(group_arn: str, ip: str, port) -> float | None:
    record = health.get((group_arn, f"{ip}:{port}"))
    return record.answered_at if record else None


def report_health() -> None:
    """DescribeTargetHealth answers with what the checks found."""
    from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

    original = FakeTargetGroup.health_for

    def health_for(self, target, ec2_backend):
        registered = self.targets.get(target["Id"])
        record = health.get((self.arn, f"{target['Id']}:{registered['Port']}")) if registered else None
        if record is None:
            return original(self, target, ec2_backend)
        return FakeHealthStatus(
            target["Id"], registered["Port"], self.health_check_port, record.state, record.reason, record.description
        )

    FakeTargetGroup.health_for = health_for
