"""An image, without a container runtime: a project folder and its virtualenv (LOCAL_AWS_IMAGES), with the
default command and environment its Dockerfile gives the image (CMD, ENTRYPOINT, ENV)."""

import fnmatch
import json
import os
import shlex
from dataclasses import dataclass, field

from .settings import settings


@dataclass
class Image:
    uri: str
    dir: str
    bin: str
    entrypoint: list = field(default_factory=list)
    cmd: list = field(default_factory=list)
    env: dict = field(default_factory=dict)

    def command(self, container_entrypoint=None, container_command=None) -> list:
        """As Docker does: the container's entryPoint replaces ENTRYPOINT, its command replaces CMD."""
        return list(container_entrypoint or self.entrypoint) + list(container_command or self.cmd)


def find_image(uri: str) -> Image | None:
    for pattern, where in settings.images.items():
        if fnmatch.fnmatchcase(uri, pattern):
            folder = os.path.abspath(where["dir"])
            python = where.get("python", ".venv/bin/python")
            python = python if os.path.isabs(python) else os.path.join(folder, python)
            image = Image(uri=uri, dir=folder, bin=os.path.dirname(python))
            read_dockerfile(image, os.path.join(folder, where.get("dockerfile", "Dockerfile")))
            # More ENV for the image, e.g. WEB_CONCURRENCY=1 so that a test runs one gunicorn worker.
            image.env.update(where.get("env") or {})
            return image
    return None


def _words(rest: str) -> list:
    # The exec form is JSON; the shell form runs under /bin/sh -c, as Docker runs it.
    rest = rest.strip()
    if rest.startswith("["):
        return json.loads(rest)
    return ["/bin/sh", "-c", rest]


def read_dockerfile(image: Image, path: str) -> None:
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        # Continuation lines join as Docker joins them.
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            # A new stage starts afresh: only the last stage is the image.
            image.entrypoint, image.cmd, image.env = [], [], {}
        elif instruction == "CMD":
            image.cmd = _words(rest)
        elif instruction == "ENTRYPOINT":
            image.entrypoint = _words(rest)
        elif instruction == "ENV":
            for word in shlex.split(rest):
                if "=" in word:
                    key, _, value = word.partition("=")
                    image.env[key] = value
