"""A stack's outputs as `make env` reads them: from the Pulumi CLI, or from a JSON file.

The file may be `pulumi stack output --json --show-secrets` or a whole offline plan
(`make -s plan FORMAT=json SHOW_SECRETS=1`), whose `outputs` have the same shape.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from cli.offline import MASK, Plan
from components.connection import StorageConnection
from components.naming import secret_output_name

PLAN_KEYS = set(Plan(stack="", resources=[]).as_dict())
"""The keys of a plan written as JSON (`make -s plan FORMAT=json`)."""
# The connection fields without a default; outputs of an older app-storage may lack some (`backend`).
REQUIRED_CONNECTION_FIELDS = tuple(f.name for f in fields(StorageConnection) if f.default is MISSING)
# The JSON shape of each connection field that the dialects read.
CONNECTION_FIELD_TYPES = {"backend": str, "region": str, "bucket": str, "access_key_id": str,
                          "secret_access_key": str, "area_prefixes": dict, "public_areas": list,
                          "presign_seconds": dict, "endpoint": str, "path_style": bool, "use_tls": bool,
                          "public_base_url": str, "cdn_domain": str}
OFFLINE_HINT = "FROM=o.json, after `make -s plan STACK={stack} FORMAT=json SHOW_SECRETS=1 > o.json`"


class OutputsError(Exception):
    """The outputs cannot give an app's connection; the message says why and what to run instead."""


def read_outputs(stack: str, from_file: Path | None = None) -> dict:
    """`stack`'s outputs, each app's secret values shown."""
    if from_file is not None:
        return _outputs_of_document(_read_json(from_file), stack, str(from_file))
    return _outputs_of_document(_pulumi_stack_output(stack), stack, "pulumi stack output")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise OutputsError(f"FROM={path}: no such file") from None
    except (OSError, ValueError) as error:
        raise OutputsError(f"FROM={path}: not a JSON document of stack outputs ({error})") from None


def _pulumi_stack_output(stack: str) -> Any:
    if shutil.which("pulumi") is None:
        raise OutputsError(f"the Pulumi CLI is not installed here, so the outputs of stack {stack} cannot be "
                           f"read; give them as a file: {OFFLINE_HINT.format(stack=stack)}")
    command = ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        # Only stderr: stdout was asked for secrets shown.
        raise OutputsError(f"`{' '.join(command)}` failed: {result.stderr.strip() or f'exit {result.returncode}'}")
    try:
        return json.loads(result.stdout)
    except ValueError as error:
        raise OutputsError(f"`{' '.join(command)}` printed no JSON ({error})") from None


def _outputs_of_document(document: Any, stack: str, source: str) -> dict:
    if not isinstance(document, dict):
        raise OutputsError(f"{source}: expected a JSON object of stack outputs, got {type(document).__name__}")
    if PLAN_KEYS <= set(document) <= PLAN_KEYS | {"policy"} and isinstance(document.get("resources"), list):
        if stack and document["stack"] != stack:  # no stack named (make verify FROM=): the plan's own
            raise OutputsError(f"{source} is the plan of stack {document['stack']!r}, not {stack!r}; "
                               f"set STACK={document['stack']} or plan stack {stack}")
        document = document["outputs"]
        if not isinstance(document, dict):
            raise OutputsError(f"{source}: the plan's `outputs` is a {type(document).__name__}, not a JSON object "
                               "of stack outputs; write the plan again with `make -s plan FORMAT=json SHOW_SECRETS=1`")
    return document


def app_names(outputs: dict) -> list[str]:
    """The apps a stack's outputs describe (an older app-storage exported each app as one secret value)."""
    return sorted(name for name, value in outputs.items() if isinstance(value, dict) and "connection" in value
                  or (value == MASK and "_" not in name))


def connection_of(outputs: dict, app: str) -> dict | None:
    """The app's neutral connection with its secret key: from the app's own output, the key from
    `<app>_secret_access_key` (or, as an older app-storage exported it, from inside the connection)."""
    value = outputs.get(app)
    connection = value.get("connection") if isinstance(value, dict) else None
    if not isinstance(connection, dict):
        return None
    if isinstance(value, dict) and value.get("identity_kind") == "role":  # no key: the SDK's chain finds the role
        return {**connection, "access_key_id": None, "secret_access_key": None}
    secret_name = secret_output_name(app, "secret_access_key")
    if isinstance(outputs.get(secret_name), str):
        return {**connection, "secret_access_key": outputs[secret_name]}
    return dict(connection)


def app_connection(outputs: dict, stack: str, app: str | None) -> tuple[dict, str | None]:
    """The app's neutral connection and its configured dialect, with every secret present."""
    apps = app_names(outputs)
    if not app:
        raise OutputsError(f"no app given: set APP=<app>; stack {stack} has: {', '.join(apps) or 'no apps'}")
    if app not in outputs:
        raise OutputsError(f"no app {app!r} in the outputs of stack {stack}; it has: {', '.join(apps) or 'no apps'}")
    value = outputs[app]
    connection = connection_of(outputs, app)
    if not isinstance(value, dict) and value != MASK:
        raise OutputsError(f"output {app!r} of stack {stack} is a {type(value).__name__}, not an app's outputs")
    if value == MASK or (connection is not None and MASK in json.dumps(connection)):
        raise OutputsError(f"the outputs of app {app!r} are masked ({MASK}): read them with --show-secrets, or "
                           f"plan with SHOW_SECRETS=1")
    missing = [key for key in REQUIRED_CONNECTION_FIELDS if not (isinstance(connection, dict) and key in connection)]
    if missing or connection is None:
        raise OutputsError(f"output {app!r} of stack {stack} has no connection {', '.join(missing)}; run "
                           f"`pulumi up -s {stack}` with this version of app-storage first")
    wrong = [key for key, kind in CONNECTION_FIELD_TYPES.items()
             if connection.get(key) is not None and not isinstance(connection[key], kind)]
    if wrong:
        raise OutputsError(f"output {app!r} of stack {stack}: connection {', '.join(wrong)} "
                           f"{'is' if len(wrong) == 1 else 'are'} not of the shape app-storage writes; read the "
                           "outputs again (`pulumi stack output --json --show-secrets`)")
    dialect = value.get("dialect")
    return connection, dialect if isinstance(dialect, str) else None
