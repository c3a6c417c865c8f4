"""An independent AWS client for tests: boto3, driven by JSON lines.

Each request is {"id", "service", "op", "params"} with the operation in AWS's spelling
(DescribeVpcs); each answer is {"id", "result"} or {"id", "error": {"code", "message"}}.

`boto_peer.py ENDPOINT [REGION]` serves one test file on stdin/stdout. `boto_peer.py --socket PATH` serves a
whole run (scripts/test.sh) on a Unix socket, a thread per connection, each request naming its "endpoint" and
"region": boto3's import costs half a CPU second, paid once instead of once a file.
"""

import base64
import datetime
import json
import os
import socketserver
import sys
import threading

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

CONFIG = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2})


def encode(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "read"):
        return value.read().decode("utf-8", "replace")
    return str(value)


class Clients:
    """boto3 clients by (endpoint, region, service): clients are thread-safe, sessions are not, hence the lock."""

    def __init__(self) -> None:
        self.session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        self.clients = {}
        self.lock = threading.Lock()

    def get(self, endpoint: str, region: str, service: str):
        key = (endpoint, region, service)
        client = self.clients.get(key)
        if client is None:
            with self.lock:
                client = self.clients.get(key) or self.clients.setdefault(
                    key, self.session.client(service, endpoint_url=endpoint, region_name=region, config=CONFIG)
                )
        return client


def answer(clients: Clients, request: dict, endpoint: str, region: str) -> str:
    try:
        client = clients.get(request.get("endpoint", endpoint), request.get("region", region), request["service"])
        result = getattr(client, xform_name(request["op"]))(**request.get("params", {}))
        result.pop("ResponseMetadata", None)
        reply = {"id": request["id"], "result": result}
    except ClientError as err:
        reply = {"id": request["id"], "error": {"code": err.response["Error"].get("Code", ""), "message": str(err)}}
    except Exception as err:  # noqa: BLE001 - every failure goes back to the test
        reply = {"id": request["id"], "error": {"code": type(err).__name__, "message": str(err)}}
    return json.dumps(reply, default=encode) + "\n"


def serve(path: str) -> None:
    clients = Clients()

    class Connection(socketserver.StreamRequestHandler):
        # One test file's Boto: its requests answered in order, as its own child process would.
        def handle(self) -> None:
            for line in self.rfile:
                self.wfile.write(answer(clients, json.loads(line), "", "us-east-1").encode())
                self.wfile.flush()

    # Bound under a temporary name and renamed once listening: a client that finds the socket can connect.
    server = socketserver.ThreadingUnixStreamServer(f"{path}.tmp", Connection)
    server.daemon_threads = True
    os.rename(f"{path}.tmp", path)
    server.serve_forever()


def main() -> None:
    if sys.argv[1] == "--socket":
        serve(sys.argv[2])
        return
    clients = Clients()
    endpoint, region = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "us-east-1"
    for line in sys.stdin:
        sys.stdout.write(answer(clients, json.loads(line), endpoint, region))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
