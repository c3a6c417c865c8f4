"""Validates documents against a JSON Schema (draft 7) with the jsonschema package.

Reads JSON on stdin, {"schema": "<path>", "documents": [<document>, ...]}, and prints JSON
{"errors": [["<where>: <message>", ...], ...]}, one list per document, empty when it is valid.
"""

import json
import sys

from jsonschema import Draft7Validator


def main() -> None:
    request = json.load(sys.stdin)
    with open(request["schema"], encoding="utf-8") as f:
        schema = json.load(f)
    Draft7Validator.check_schema(schema)
    validator = Draft7Validator(schema)
    errors = []
    for document in request["documents"]:
        found = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        errors.append([f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in found])
    print(json.dumps({"errors": errors}))


if __name__ == "__main__":
    main()
