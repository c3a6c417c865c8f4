"""Each API Gateway HTTP API answers on a local port, as https://{api-id}.execute-api.{region}.amazonaws.com
answers on AWS: its $default stage at /, a named stage at /{stage}; and each custom domain on a port of its own,
through its API mappings. A request takes the route its method and path match (exact, then {param}, then the
longest {greedy+}, then $default) and its Lambda proxy integration (payload format 2.0) runs the function or
alias through lambda_run, with the event API Gateway sends; the answer is read back as API Gateway reads it:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
A request whose Host is the local port's is given the API's (or domain's) host name, as it arrives on AWS.
"""

import base64
import fnmatch
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import lambda_run

# ("api", region, account, api id) or ("domain", region, account, name) -> (server, listing entry)
servers: dict = {}
_lock = threading.Lock()
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"}
# Bodies API Gateway passes as text; anything else reaches the function base64-encoded (isBase64Encoded).
TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|javascript|[\w.+-]*\+(json|xml))\b)", re.IGNORECASE)
LAMBDA_ARN = re.compile(r"arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(?::[\w$-]+)?")


def _message(status: int, text: str) -> tuple:
    # API Gateway's own errors: {"message": ...} as JSON.
    return status, {"Content-Type": "application/json"}, [], json.dumps({"message": text}).encode()


def _route_for(api, method: str, path: str):
    """The route API Gateway picks, and the path parameters it fills in."""
    exact, variable, greedy, default = None, [], [], None
    for route in api.routes.values():
        key = route.route_key
        if key == "$default":
            default = route
            continue
        route_method, _, pattern = key.partition(" ")
        if route_method not in ("ANY", method):
            continue
        if pattern == path:
            # "GET /x" before "ANY /x".
            exact = route if exact is None or route_method == method else exact
            continue
        regex, names = "^", []
        for part in pattern.strip("/").split("/"):
            found = re.fullmatch(r"\{(\w+)(\+?)\}", part)
            if found and found[2]:
                regex += r"/(.*)"
                names.append(found[1])
            elif found:
                regex += r"/([^/]+)"
                names.append(found[1])
            else:
                regex += "/" + re.escape(part)
        matched = re.fullmatch(regex.rstrip("/") or "/", path) if pattern != "/" else None
        if matched:
            entry = (len(pattern), route, dict(zip(names, matched.groups())))
            (greedy if "+}" in pattern else variable).append(entry)
    if exact:
        return exact, {}
    for candidates in (variable, greedy):
        if candidates:
            _, route, params = max(candidates, key=lambda c: c[0])
            return route, params
    return default, {}


def _permitted(fn, invoked_arn: str, source_arn: str) -> bool:
    """Whether the function's resource policy lets API Gateway invoke it from this route (AWS answers 500 if not)."""
    try:
        statements = json.loads(fn.policy.wire_format()).get("Policy")
        statements = json.loads(statements).get("Statement", []) if statements else []
    except Exception:  # noqa: BLE001 - no policy at all
        return False
    for s in statements:
        principal = (s.get("Principal") or {}).get("Service")
        actions = s.get("Action") if isinstance(s.get("Action"), list) else [s.get("Action")]
        if principal != "apigateway.amazonaws.com" or not {"lambda:InvokeFunction", "lambda:*"} & set(actions):
            continue
        if s.get("Resource") not in (invoked_arn, invoked_arn + ":*"):
            continue
        condition = s.get("Condition") or {}
        wanted = [v for op in ("ArnLike", "ArnEquals", "StringLike", "StringEquals")
                  for v in [(condition.get(op) or {}).get("AWS:SourceArn")] if v]
        if all(fnmatch.fnmatchcase(source_arn, w) for w in wanted):
            return True
    return False


def _invoke(api, integration, event: dict, source_arn: str) -> tuple:
    from moto.awslambda.models import lambda_backends

    target = LAMBDA_ARN.search(integration.integration_uri or "")
    if integration.integration_type != "AWS_PROXY" or target is None:
        return _message(500, "Internal Server Error")
    arn = target[0]
    region, account = arn.split(":")[3], arn.split(":")[4]
    name, _, qualifier = arn.split(":function:")[1].partition(":")
    try:
        fn = lambda_backends[account][region].get_function(name, qualifier or None)
    except Exception:  # noqa: BLE001 - the function or alias is gone
        return _message(500, "Internal Server Error")
    if not _permitted(fn, arn, source_arn):
        return _message(500, "Internal Server Error")
    payload, errored, _ = lambda_run.invoke(fn, event)
    if errored:
        return _message(500, "Internal Server Error")
    return _answer(payload, integration.payload_format_version or "2.0")


def _answer(payload: str, version: str) -> tuple:
    """The function's answer read back as API Gateway reads a 2.0 response."""
    try:
        result = json.loads(payload)
    except ValueError:
        return _message(500, "Internal Server Error")
    if version == "2.0" and not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: the answer is the body, as JSON, with status 200.
        return 200, {"Content-Type": "application/json"}, [], payload.encode()
    if not isinstance(result, dict) or "statusCode" not in result:
        return _message(500, "Internal Server Error")
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for k, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(k)] = ",".join(str(v) for v in values)
    cookies = [str(c) for c in result.get("cookies") or []]
    return int(result["statusCode"]), headers, cookies, data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    host_name = ""
    # "api": the execute-api endpoint of (region, account, api id); "domain": a custom domain's mappings.
    kind = "api"
    region = account = api_id = domain = ""

    def log_message(self, *args):
        pass

    def _stage_and_path(self, path: str):
        """(api, stage, the path routes see, rawPath) for this request, or None when nothing is mapped."""
        from moto.apigatewayv2.models import apigatewayv2_backends

        backend = apigatewayv2_backends[self.account][self.region]
        if self.kind == "api":
            api = backend.apis.get(self.api_id)
            if api is None:
                return None
            first = path.split("/")[1] if path.count("/") >= 1 else ""
            if first and first != "$default" and first in api.stages:
                return api, api.stages[first], "/" + path.split("/", 2)[2] if path.count("/") > 1 else "/", path
            return (api, api.stages["$default"], path, path) if "$default" in api.stages else None
        mappings = [m for m in backend.api_mappings.values() if m.domain_name == self.domain]
        # The longest mapping key that begins the path; rawPath leaves it out.
        for mapping in sorted(mappings, key=lambda m: len(m.api_mapping_key or ""), reverse=True):
            key = (mapping.api_mapping_key or "").strip("/")
            if key and not (path == f"/{key}" or path.startswith(f"/{key}/")):
                continue
            api = backend.apis.get(mapping.api_id)
            if api is None or mapping.stage not in api.stages:
                continue
            rest = path[len(key) + 1:] if key else path
            return api, api.stages[mapping.stage], rest or "/", rest or "/"
        return None

    def _serve(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        found = self._stage_and_path(parts.path or "/")
        if found is None:
            return self._send(*_message(404, "Not Found"))
        api, stage, route_path, raw_path = found
        route, params = _route_for(api, self.command, route_path)
        target = (route.target or "") if route else ""
        integration = api.integrations.get(target.split("/", 1)[1]) if target.startswith("integrations/") else None
        if route is None or integration is None:
            return self._send(*_message(404, "Not Found"))
        event = self._event(api, stage, route, params, raw_path, parts.query, body)
        method_path = f"{self.command}{route_path}"
        source_arn = f"arn:aws:execute-api:{self.region}:{self.account}:{api.api_id}/{stage.name}/{method_path}"
        self._send(*_invoke(api, integration, event, source_arn))

    def _event(self, api, stage, route, params: dict, raw_path: str, query: str, body: bytes) -> dict:
        host = self.headers.get("Host") or self.host_name
        if host.split(":")[0] in ("127.0.0.1", "localhost"):
            host = self.host_name
        headers: dict = {}
        cookies: list = []
        for key, value in self.headers.items():
            key = key.lower()
            if key in HOP_BY_HOP:
                continue
            if key == "cookie":
                cookies += [c.strip() for c in value.split(";") if c.strip()]
                continue
            # Duplicate headers are combined with commas.
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        request_id = uuid.uuid4().hex[:16]
        headers.update(
            {
                "host": host,
                "x-forwarded-for": self.client_address[0],
                "x-forwarded-port": "443",
                "x-forwarded-proto": "https",
                "x-amzn-trace-id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
            }
        )
        now = time.time()
        event = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": raw_path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": self.account,
                "apiId": api.api_id,
                "domainName": host,
                "domainPrefix": host.split(".")[0],
                "http": {
                    "method": self.command,
                    "path": raw_path,
                    "protocol": self.request_version,
                    "sourceIp": self.client_address[0],
                    "userAgent": self.headers.get("User-Agent", ""),
                },
                "requestId": request_id,
                "routeKey": route.route_key,
                "stage": stage.name,
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
            "isBase64Encoded": False,
        }
        if cookies:
            event["cookies"] = cookies
        if query:
            values: dict = {}
            for key, value in parse_qsl(query, keep_blank_values=True):
                values[key] = f"{values[key]},{value}" if key in values else value
            event["queryStringParameters"] = values
        if params:
            event["pathParameters"] = params
        if stage.stage_variables:
            event["stageVariables"] = stage.stage_variables
        if body:
            text = TEXT_TYPES.match(self.headers.get("Content-Type") or "")
            try:
                event["body"] = body.decode("utf-8") if text else base64.b64encode(body).decode()
                event["isBase64Encoded"] = not text
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        return event

    def _send(self, status: int, headers: dict, cookies: list, data: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        # Each of the answer's cookies becomes a Set-Cookie header.
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


def _start(key: tuple, attributes: dict, entry: dict) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("HttpApiHandler", (Handler,), attributes))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name=f"http-api-{key[3]}").start()
    servers[key] = (server, {**entry, "url": f"http://127.0.0.1:{server.server_address[1]}"})


def tick(apigatewayv2_backends) -> None:
    """A local server for every HTTP API and every custom domain there is; none for those gone."""
    present: dict = {}
    for account, regions in list(apigatewayv2_backends.items()):
        for region, backend in list(regions.items()):
            for api in list(backend.apis.values()):
                if api.protocol_type == "HTTP" and not api.disable_execute_api_endpoint:
                    present[("api", region, account, api.api_id)] = api
            for name in list(backend.domain_names):
                present[("domain", region, account, name)] = name
    with _lock:
        for key in [k for k in servers if k not in present]:
            servers.pop(key)[0].shutdown()
        for key, what in present.items():
            if key in servers:
                continue
            kind, region, account, name = key
            if kind == "api":
                host = f"{name}.execute-api.{region}.amazonaws.com"
                entry = {"apiId": name, "endpoint": what.api_endpoint, "region": region}
            else:
                host = name
                entry = {"domainName": name, "region": region}
            attributes = {"kind": kind, "region": region, "account": account, "host_name": host,
                          "api_id": name if kind == "api" else "", "domain": name if kind == "domain" else ""}
            _start(key, attributes, entry)


def listing() -> dict:
    with _lock:
        entries = [entry for _, entry in servers.values()]
    return {
        "apis": [e for e in entries if "apiId" in e],
        "domains": [e for e in entries if "domainName" in e],
    }


def stop_all() -> None:
    with _lock:
        for server, _ in servers.values():
            server.shutdown()
        servers.clear()
