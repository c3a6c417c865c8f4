"""The harness's own HTTP endpoint, beside moto's: where each load balancer answers here, and the task metadata
endpoint (ECS_CONTAINER_METADATA_URI_V4) that ECS gives every task.

GET /load-balancers -> [{"dnsName", "arn", "listeners": {"<port>": "http://127.0.0.1:<local port>"}}]
GET /http-apis -> {"apis": [{"apiId", "endpoint", "region", "url"}], "domains": [{"domainName", "region", "url"}]}:
  where each API Gateway HTTP API (its execute-api endpoint) and each custom domain answers here.
GET /databases -> {"<RDS instance id>": "<its database on the local PostgreSQL>"} (once a task used it)
GET /metadata/<task id>[/task] -> the container's (or the task's) metadata, as ECS's v4 endpoint answers.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import data_stores, http_apis, load_balancers, tasks


def _container(run) -> dict:
    networks = [{"NetworkMode": "awsvpc", "IPv4Addresses": [run.ip]}] if run.ip else []
    return {
        "Name": run.definition.get("name"),
        "Image": run.definition.get("image"),
        "DesiredStatus": run.task.desired_status,
        "KnownStatus": run.task.last_status,
        "Networks": networks,
    }


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet, as the moto server is
        pass

    def _answer(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if parts == ["load-balancers"]:
            return self._answer(200, load_balancers.listing())
        if parts == ["http-apis"]:
            return self._answer(200, http_apis.listing())
        if parts == ["databases"]:
            return self._answer(200, data_stores.databases())
        if len(parts) in (2, 3) and parts[0] == "metadata":
            run = next((r for arn, r in list(tasks.runs.items()) if arn.endswith(parts[1])), None)
            if run is None:
                return self._answer(404, {"error": "no such task"})
            if len(parts) == 3 and parts[2] == "task":
                return self._answer(
                    200,
                    {
                        "Cluster": run.task.cluster_arn,
                        "TaskARN": run.task.task_arn,
                        "Family": run.task.task_definition_arn.split("/")[-1].split(":")[0],
                        "DesiredStatus": run.task.desired_status,
                        "KnownStatus": run.task.last_status,
                        "Containers": [_container(run)],
                    },
                )
            return self._answer(200, _container(run))
        return self._answer(404, {"error": f"no {self.path} here"})


def serve() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="harness-api").start()
    return server.server_address[1]
