"""Each load balancer listener answers on a local port, as its DNS name answers on AWS: the listener's rules in
priority order (host-header, path-pattern and http-request-method conditions), then its default action; forward
goes to the target group's healthy targets (all of them when none is healthy, as the ALB fails open), redirect
and fixed-response answer as the ALB does. An HTTPS listener is served as plain HTTP on its own port.
A request whose Host is the local port's (a browser opening the listing's URL) is sent on with the load
balancer's DNS name as its Host, as it would arrive on AWS.
"""

import fnmatch
import http.client
import itertools
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import target_health

# listener ARN -> (server, load balancer ARN, port, dns name)
servers: dict = {}
_lock = threading.Lock()
_turns = itertools.count()
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"}


def _backend_of(arn: str):
    from moto.elbv2.models import elbv2_backends

    region, account = arn.split(":")[3], arn.split(":")[4]
    return elbv2_backends[account][region]


def _condition_matches(condition: dict, host: str, path: str, method: str) -> bool:
    field = condition.get("Field")
    if field == "host-header":
        values = (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get("Values") or []
        return any(fnmatch.fnmatch(host.split(":")[0].lower(), v.lower()) for v in values)
    if field == "path-pattern":
        values = (condition.get("PathPatternConfig") or {}).get("Values") or condition.get("Values") or []
        return any(fnmatch.fnmatchcase(path, v) for v in values)
    if field == "http-request-method":
        return method in ((condition.get("HttpRequestMethodConfig") or {}).get("Values") or [])
    return False


def _actions(listener, host: str, path: str, method: str) -> list:
    rules = [r for r in listener.rules.values() if not getattr(r, "is_default", False)]
    rules.sort(key=lambda r: int(r.priority))
    for rule in rules:
        if all(_condition_matches(c, host, path, method) for c in rule.conditions):
            return rule.actions
    return listener.default_actions


def _target_groups(action) -> list:
    data = action.data
    if data.get("ForwardConfig", {}).get("TargetGroups"):
        groups = data["ForwardConfig"]["TargetGroups"]
        weights = [int(g.get("Weight", 1)) for g in groups]
        if sum(weights) == 0:
            return []
        return [random.choices(groups, weights)[0]["TargetGroupArn"]]
    return [data["TargetGroupArn"]] if data.get("TargetGroupArn") else []


def _pick_target(group):
    targets = list(group.targets.values())
    healthy = [t for t in targets if target_health.state_of(group.arn, t["Id"], t["Port"]) == "healthy"]
    choices = healthy or targets
    return choices[next(_turns) % len(choices)] if choices else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    listener_arn = ""
    listener_port = 0
    listener_protocol = "HTTP"
    dns_name = ""

    def log_message(self, *args):
        pass

    def _plain(self, status: int, body: str = "", headers: dict | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _serve(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        host = self.headers.get("Host") or self.dns_name
        if host.split(":")[0] in ("127.0.0.1", "localhost"):
            host = self.dns_name
        backend = _backend_of(self.listener_arn)
        listener = backend.listeners.get(self.listener_arn) if hasattr(backend, "listeners") else None
        if listener is None:
            for lb in backend.load_balancers.values():
                listener = lb.listeners.get(self.listener_arn) or listener
        if listener is None:
            return self._plain(503, "the listener is gone")
        path = urlsplit(self.path).path
        for action in _actions(listener, host, path, self.command):
            kind = action.type
            if kind == "redirect":
                return self._redirect(action.data.get("RedirectConfig") or {}, host)
            if kind == "fixed-response":
                config = action.data.get("FixedResponseConfig") or {}
                return self._plain(
                    int(config.get("StatusCode", 200)),
                    config.get("MessageBody", ""),
                    {"Content-Type": config.get("ContentType", "text/plain")},
                )
            if kind == "forward":
                return self._forward(backend, _target_groups(action), host, body)
        return self._plain(503)

    def _redirect(self, config: dict, host: str) -> None:
        parts = urlsplit(self.path)
        values = {
            "protocol": self.listener_protocol.lower(),
            "host": host.split(":")[0],
            "port": str(self.listener_port),
            "path": parts.path,
            "query": parts.query,
        }

        def fill(template: str) -> str:
            for key, value in values.items():
                template = template.replace("#{" + key + "}", value)
            return template

        protocol = fill(config.get("Protocol", "#{protocol}")).lower()
        port = fill(config.get("Port", "#{port}"))
        default_port = {"http": "80", "https": "443"}.get(protocol)
        location = f"{protocol}://{fill(config.get('Host', '#{host}'))}{'' if port == default_port else ':' + port}"
        location += fill(config.get("Path", "/#{path}")).replace("//", "/", 1)
        query = fill(config.get("Query", "#{query}"))
        location += f"?{query}" if query else ""
        code = 301 if config.get("StatusCode") == "HTTP_301" else 302
        self._plain(code, "", {"Location": location})

    def _forward(self, backend, group_arns: list, host: str, body: bytes) -> None:
        group = backend.target_groups.get(group_arns[0]) if group_arns else None
        target = _pick_target(group) if group else None
        if target is None:
            return self._plain(503, "no registered targets")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        headers.update(
            {
                "Host": host,
                "X-Forwarded-For": self.client_address[0],
                "X-Forwarded-Proto": self.listener_protocol.lower(),
                "X-Forwarded-Port": str(self.listener_port),
                "Connection": "close",
            }
        )
        connection = http.client.HTTPConnection(target["Id"], int(target["Port"]), timeout=60)
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except OSError:
            return self._plain(502, "502 Bad Gateway")
        finally:
            connection.close()
        self.send_response(answer.status, answer.reason)
        for key, value in answer.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


def tick(elbv2_backends) -> None:
    """A local server for every listener there is; none for those gone."""
    present = {}
    for regions in list(elbv2_backends.values()):
        for backend in list(regions.values()):
            for lb in list(backend.load_balancers.values()):
                for listener in list(lb.listeners.values()):
                    if listener.protocol in ("HTTP", "HTTPS"):
                        present[listener.arn] = (lb, listener)
    with _lock:
        for arn in [a for a in servers if a not in present]:
            servers.pop(arn)[0].shutdown()
        for arn, (lb, listener) in present.items():
            if arn in servers:
                continue
            handler = type(
                "ListenerHandler",
                (Handler,),
                {
                    "listener_arn": arn,
                    "listener_port": int(listener.port),
                    "listener_protocol": listener.protocol,
                    "dns_name": lb.dns_name,
                },
            )
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True, name=f"listener-{listener.port}").start()
            servers[arn] = (server, lb.arn, int(listener.port), lb.dns_name)


def listing() -> list:
    with _lock:
        by_lb: dict = {}
        for server, lb_arn, port, dns in servers.values():
            entry = by_lb.setdefault(lb_arn, {"arn": lb_arn, "dnsName": dns, "listeners": {}})
            entry["listeners"][str(port)] = f"http://127.0.0.1:{server.server_address[1]}"
        return list(by_lb.values())


def stop_all() -> None:
    with _lock:
        for server, *_ in servers.values():
            server.shutdown()
        servers.clear()
