"""Prints, as one JSON line, the payloads the Python SDK's default converter produces for a
fixed set of values, so the Rust tests can compare their own encodings byte for byte."""

import base64
import json
import os
import sys

import temporalio.api.common.v1
from temporalio.converter import DataConverter

from worker import GreetingInput


def encode(payload) -> dict:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


def main() -> None:
    converter = DataConverter.default.payload_converter
    cases = {
        "none": [None],
        "string": ["héllo wörld ✓ \"quoted\" \n"],
        "int": [42],
        "negative": [-7],
        "float": [1.5],
        "bool": [True],
        "list": [[1, "two", None, 3.25]],
        "dict": [{"b": 1, "a": [True, False], "c": {"z": None, "y": "x"}}],
        "bytes": [b"\x00\x01binary\xff"],
        "dataclass": [GreetingInput(name="Ada", greeting="Hello", times=2)],
        "proto": [temporalio.api.common.v1.WorkflowType(name="GreetingWorkflow")],
        "multi": ["a", 2, None],
    }
    out = {name: [encode(p) for p in converter.to_payloads(values)] for name, values in cases.items()}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.stdout.flush()
        os._exit(0)
