#!/usr/bin/python3
"""Validates tickctl export's Kubernetes manifests and checks fields.

    check-cronjob.py SCHEMA MANIFEST [NAME:PATH=JSON ...]

Every YAML document of MANIFEST is parsed back (PyYAML, safe loader) and
validated against SCHEMA (the batch/v1 CronJob JSON schema, made strict:
no field outside the schema). Each NAME:PATH=JSON asserts that the
document whose metadata.name is NAME has, at the dotted PATH (list
indices as numbers), the value JSON. Prints one line per document; exits
1 at the first failure, naming it."""
import json
import sys

import jsonschema
import yaml


def strict(node):
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            strict(value)
    elif isinstance(node, list):
        for value in node:
            strict(value)
    return node


def lookup(document, path):
    node = document
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def main(argv):
    with open(argv[1]) as f:
        schema = strict(json.load(f))
    validator = jsonschema.Draft7Validator(schema)
    with open(argv[2]) as f:
        documents = {}
        for document in yaml.safe_load_all(f):
            if document is None:
                continue
            name = document["metadata"]["name"]
            errors = sorted(validator.iter_errors(document), key=str)
            if errors:
                where = ".".join(str(p) for p in errors[0].absolute_path)
                print(f"{name}: invalid at {where}: {errors[0].message}")
                return 1
            documents[name] = document
            print(f"{name}: valid")
    for claim in argv[3:]:
        target, expected = claim.split("=", 1)
        name, path = target.split(":", 1)
        if name not in documents:
            print(f"{name}: no such document")
            return 1
        try:
            actual = lookup(documents[name], path)
        except (KeyError, IndexError):
            print(f"{name}: no {path}")
            return 1
        if actual != json.loads(expected):
            print(f"{name}: {path} is {json.dumps(actual)}, not {expected}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
