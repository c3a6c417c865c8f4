"""A web app as small as can be, for the local AWS's own tests: it answers as its environment says."""

import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Answer(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        print(f"{self.command} {self.path} Host={self.headers.get('Host')}", flush=True)

    def do_GET(self):
        code = int(os.environ.get("HEALTH_CODE", "200")) if self.path == "/health" else 200
        body = f"{os.environ.get('GREETING', 'hello')} Host={self.headers.get('Host')}\n".encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    # The secret arrives as ECS injects it; only whether it did is printed.
    print(f"secret {'matches' if os.environ.get('SECRET') == 'sesame' else 'missing'}", flush=True)
    if os.environ.get("EXIT_CODE"):
        sys.exit(int(os.environ["EXIT_CODE"]))
    ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Answer).serve_forever()
