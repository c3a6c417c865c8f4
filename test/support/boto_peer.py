"""An independent AWS client for tests: boto3, driven by JSON lines on stdin.

Each request is {"id", "service", "op", "params"} with the operation in AWS's spelling
(DescribeVpcs); each answer is {"id", "result"} or {"id", "error": {"code", "message"}}.
"""

import base64
import datetime
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore import xform_name


def encode(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "read"):
        return value.read().decode("utf-8", "replace")
    return str(value)


def main() -> None:
    endpoint = sys.argv[1]
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=sys.argv[2] if len(sys.argv) > 2 else "us-east-1"
    )
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2})
    clients = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            service = request["service"]
            client = clients.get(service) or clients.setdefault(
                service, session.client(service, endpoint_url=endpoint, config=config)
            )
            result = getattr(client, xform_name(request["op"]))(**request.get("params", {}))
            result.pop("ResponseMetadata", None)
            answer = {"id": request["id"], "result": result}
        except ClientError as err:
            answer = {"id": request["id"], "error": {"code": err.response["Error"].get("Code", ""), "message": str(err)}}
        except Exception as err:  # noqa: BLE001 - every failure goes back to the test
            answer = {"id": request["id"], "error": {"code": type(err).__name__, "message": str(err)}}
        sys.stdout.write(json.dumps(answer, default=encode) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
