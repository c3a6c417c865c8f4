"""The harness's switches, read once from the environment of the local AWS.

LOCAL_AWS_IMAGES: JSON {"<image glob>": {"dir": "<project folder>", "python": "<virtualenv python>", "env": {...}}}
  (env: more ENV for the image, beside its Dockerfile's). An ECS
  task whose image matches a glob (fnmatch, first match wins) runs as a local process in that folder with that
  virtualenv's bin first on PATH; without a match it stops with CannotPullContainerError, as a missing image does.
  Unset: ECS runs nothing (moto's own behaviour and the staged modes LOCAL_AWS_TASK_EXIT_CODES and
  MOTO_ECS_SERVICE_RUNNING).
LOCAL_AWS_APPS=true: the same without any image (Lambda functions and HTTP APIs only, for a stack without ECS).
LOCAL_AWS_TIME_SCALE: a factor on AWS's own intervals (health-check interval, health-check grace period, stop
  timeout), e.g. 0.05 makes a 15 s health-check interval 0.75 s. Counts and thresholds are never scaled.
"""

import json
import os
from dataclasses import dataclass, field


@dataclass
class Settings:
    images: dict = field(default_factory=dict)
    apps: bool = False
    time_scale: float = 1.0
    # Set once the moto server listens: what tasks get as AWS_ENDPOINT_URL.
    moto_port: int = 0
    # The harness's own HTTP endpoint (load balancer ports, task metadata).
    api_port: int = 0

    @property
    def runs_apps(self) -> bool:
        return self.apps or bool(self.images)

    def seconds(self, aws_seconds: float, floor: float = 0.05) -> float:
        return max(aws_seconds * self.time_scale, floor)


settings = Settings(
    images=json.loads(os.environ.get("LOCAL_AWS_IMAGES") or "{}"),
    apps=os.environ.get("LOCAL_AWS_APPS") == "true",
    time_scale=float(os.environ.get("LOCAL_AWS_TIME_SCALE") or "1"),
)
