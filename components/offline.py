"""Evaluate a stack offline: the real program under Pulumi's mock runtime, with the stack's own config.

No cloud account and no Pulumi CLI: resources are recorded as the engine would receive them (inputs
camelCased, options protect / retainOnDelete / dependencies / provider), secrets masked.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import yaml
from google.protobuf import json_format

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MASK = "[secret]"
UNKNOWN_MARK = "[unknown]"
MOCK_ACCOUNT = "123456789012"


class StackFileError(Exception):
    """The stack file is missing or not valid YAML config; exit code 2, like a settings problem."""


class _NoDuplicateKeysLoader(yaml.SafeLoader):
    """YAML keeps the last of two equal keys silently; a stack file must not (two apps named alike)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise StackFileError(
                    f"line {key_node.start_mark.line + 1}: key {key!r} appears twice; keep one (YAML would "
                    f"silently drop the first)")
            seen.add(key)
        return super().construct_mapping(node, deep)


def to_config_text(value: Any) -> str:
    """One config value as the Pulumi CLI hands it to a program: scalars as text, structures as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def _read_config_section(path: Path) -> dict:
    try:
        document = yaml.load(path.read_text(), Loader=_NoDuplicateKeysLoader) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name} is not valid YAML: {error}") from None
    except StackFileError as error:
        raise StackFileError(f"{path.name}: {error}") from None
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise StackFileError(f"{path.name}: `config` must be a map of keys to values")
    return raw


def project_config_values(root: Path = PROJECT_ROOT, project: str = "app-storage") -> dict:
    """The values every stack inherits from `Pulumi.yaml` (its `value:` entries), as the CLI merges them.

    Schema entries (`type`/`default`) are not values: their defaults live in the settings tables.
    """
    values = {}
    for key, entry in _read_config_section(root / "Pulumi.yaml").items():
        full_key = key if ":" in key else f"{project}:{key}"
        if isinstance(entry, dict) and "value" in entry:
            values[full_key] = entry["value"]
        elif not isinstance(entry, dict):
            values[full_key] = entry
    return values


def stack_config_values(stack: str, root: Path = PROJECT_ROOT, project: str = "app-storage",
                        path: Optional[Path] = None) -> tuple[dict, list]:
    """The config values `stack` runs with, before they become text: (values, secret keys).

    Project-level values from `Pulumi.yaml` first, then `Pulumi.<stack>.yaml` (or the file `path` names)
    over them, key by key, as the Pulumi CLI merges them.
    """
    path = path or root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {path.name}; known stacks: {', '.join(known) or 'none'}")
    merged = project_config_values(root, project)
    secret_keys = []
    for key, value in _read_config_section(path).items():
        full_key = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.append(full_key)
            value = MASK  # ciphertext needs the stack's secrets provider; offline it stays masked
        merged[full_key] = value
    return merged, secret_keys


def load_stack_config(stack: str, root: Path = PROJECT_ROOT, project: str = "app-storage",
                      path: Optional[Path] = None) -> tuple[dict, list]:
    """The config as the program receives it (text values): (config, secret keys)."""
    values, secret_keys = stack_config_values(stack, root, project, path)
    return {key: to_config_text(value) for key, value in values.items()}, secret_keys


def mask_secrets(value: Any, show_secrets: bool = False) -> Any:
    """Replace the engine's secret envelopes with a mask (or their value), resource refs with their URN."""
    if isinstance(value, dict):
        signature = value.get(rpc._special_sig_key)
        if signature == rpc._special_secret_sig:
            return mask_secrets(value.get("value"), show_secrets) if show_secrets else MASK
        if signature == rpc._special_resource_sig:
            return value.get("urn")
        if signature == rpc._special_output_value_sig:
            if value.get("secret") and not show_secrets:
                return MASK
            return mask_secrets(value.get("value", UNKNOWN_MARK), show_secrets)
        return {k: mask_secrets(v, show_secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v, show_secrets) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN_MARK
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double
    return value


BUCKET_TYPES = ("aws:s3/bucket:Bucket", "minio:index/s3Bucket:S3Bucket")
# Resources whose `secret` output is a secret key the provider generates.
SECRET_KEY_HOLDERS = ("aws:iam/accessKey:AccessKey", "minio:index/iamUser:IamUser")


def _mock_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


class PlanMocks(pulumi.runtime.Mocks):
    """Mock provider: echoes inputs and fills in the outputs AWS and MinIO would compute."""

    def __init__(self, region: str = "us-east-1"):
        self.region = region
        self.provider_regions: dict[str, str] = {}  # "<urn>::<id>" of an explicit aws provider -> its region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        token = args.typ
        state = dict(inputs)
        region = self.provider_regions.get(args.provider or "", self.region)
        resource_id = inputs.get("bucket") if token in BUCKET_TYPES else None
        resource_id = resource_id or inputs.get("name") or f"{args.name}-{_mock_id(args.name)}"
        if token in BUCKET_TYPES:
            state["arn"] = f"arn:aws:s3:::{resource_id}"
        elif token == "aws:kms/key:Key":
            resource_id = _mock_id(args.name)
            state.update(keyId=resource_id, arn=f"arn:aws:kms:{region}:{MOCK_ACCOUNT}:key/{resource_id}")
        elif token.startswith("aws:iam/"):
            kind = token.rsplit(":", 1)[-1].lower()
            state["arn"] = f"arn:aws:iam::{MOCK_ACCOUNT}:{kind}{inputs.get('path', '/')}{resource_id}"
        if token == "aws:iam/accessKey:AccessKey":
            resource_id = "AKIA" + _mock_id(args.name).upper()
        if token == "aws:cloudfront/distribution:Distribution":
            state.update(arn=f"arn:aws:cloudfront::{MOCK_ACCOUNT}:distribution/{resource_id}",
                         domainName=f"{_mock_id(args.name)}.cloudfront.net")
        elif token == "aws:acm/certificate:Certificate":
            domain = inputs.get("domainName", "example.com")
            state.update(arn=f"arn:aws:acm:us-east-1:{MOCK_ACCOUNT}:certificate/{_mock_id(args.name)}",
                         domainValidationOptions=[{
                             "domainName": domain, "resourceRecordName": f"_{_mock_id(domain)}.{domain}.",
                             "resourceRecordType": "CNAME",
                             "resourceRecordValue": f"_{_mock_id(args.name)}.acm-validations.aws."}])
        elif token == "aws:route53/record:Record":
            state["fqdn"] = inputs.get("name")
        elif token == "aws:cloudfront/function:Function":
            state["arn"] = f"arn:aws:cloudfront::{MOCK_ACCOUNT}:function/{resource_id}"
        if token in SECRET_KEY_HOLDERS:
            state["secret"] = "mock-secret-" + hashlib.sha256(args.name.encode()).hexdigest()
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/plan", "userId": "PLAN",
                    "id": MOCK_ACCOUNT}
        return {}


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: Optional[str]
    custom: bool
    inputs: dict
    options: dict

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class RecordingMonitor(MockMonitor):
    """The mock monitor, plus a record of each registration as the engine receives it."""

    def __init__(self, mocks: pulumi.runtime.Mocks, show_secrets: bool = False):
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self.show_secrets = show_secrets
        self._thread_loops: set[asyncio.AbstractEventLoop] = set()

    def _remember_thread_loop(self) -> None:
        # The stock monitor runs in the SDK's executor threads and gives each one an event loop that it
        # never closes; one left to the collector at exit prints a traceback from its destructor.
        if threading.current_thread() is threading.main_thread():
            return
        try:
            self._thread_loops.add(asyncio.get_event_loop())
        except RuntimeError:
            pass  # this call made no loop (the stack's own registration returns before making one)

    def close_thread_loops(self) -> None:
        for loop in self._thread_loops:
            loop.close()
        self._thread_loops.clear()

    def Invoke(self, request):
        try:
            return super().Invoke(request)
        finally:
            self._remember_thread_loop()

    def ReadResource(self, request):
        try:
            return super().ReadResource(request)
        finally:
            self._remember_thread_loop()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine builds it: the parent's whole type chain, without the root stack's type.
        # (The stock mock keeps only the parent's last type and includes the stack's.)
        if parent:
            parent_chain = parent.split("::")[2]
            if parent_chain != "pulumi:pulumi:Stack":
                type_ = f"{parent_chain}${type_}"
        return "::".join([f"urn:pulumi:{pulumi.get_stack()}", pulumi.get_project(), type_, name])

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self._remember_thread_loop()
        if request.type != "pulumi:pulumi:Stack":
            inputs = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
            if request.type == "pulumi:providers:aws" and isinstance(self.mocks, PlanMocks):
                # Resources name their provider as "<urn>::<id>"; ARNs they get carry its region.
                self.mocks.provider_regions[f"{response.urn}::{response.id}"] = inputs.get("region", "")
            self.recorded.append(RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=request.custom,
                inputs=mask_secrets(inputs, self.show_secrets),
                options={
                    "protect": bool(request.protect),
                    "retainOnDelete": bool(request.retainOnDelete),
                    "dependsOn": sorted(request.dependencies),
                    "provider": request.provider or None,
                },
            ))
        return response


@dataclass
class Plan:
    stack: str
    resources: list[RecordedResource]
    outputs: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """What the program logged as warnings (`pulumi.log.warn`), in order."""

    def as_dict(self) -> dict:
        return {"stack": self.stack, "warnings": self.warnings, "resources": [r.as_dict() for r in self.resources],
                "outputs": self.outputs}

    def of_type(self, token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == token]

    def children(self, parent_urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == parent_urn]


class _LogRecorder(logging.Handler):
    """Keeps the program's warnings for the plan instead of letting the root logger print them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []
        # Not registered: one per evaluation. At WARNING, the SDK's many debug messages cost no record each.
        self.logger = logging.Logger("app-storage.plan", logging.WARNING)
        self.logger.addHandler(self)
        self.logger.propagate = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.warnings.append(record.getMessage())
        else:
            print(f"{record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)


@functools.lru_cache(maxsize=None)
def _compiled_program(path: Path):
    return compile(path.read_text(), str(path), "exec")


def run_main(root: Path = PROJECT_ROOT) -> None:
    """Run the project's `__main__.py` as the language host would (compiled once per process)."""
    path = root / "__main__.py"
    exec(_compiled_program(path), {"__name__": "__main__", "__file__": str(path)})


def evaluate(stack: str, config: dict, program: Callable[[], None] = run_main, *, secret_keys: list | None = None,
             project: str = "app-storage", show_secrets: bool = False, region: str | None = None) -> Plan:
    """Run `program` under the mock runtime with `config`, and return what it declared and exported."""
    # Loops of its own, closed when done: a loop left to the garbage collector at exit prints a
    # traceback from its destructor.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = PlanMocks(region or config.get("aws:region", "us-east-1"))
    monitor = RecordingMonitor(mocks, show_secrets)
    log = _LogRecorder()
    try:
        runtime_settings.ROOT.set(None)
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor,
                                 logger=log.logger)
        pulumi.runtime.set_all_config(dict(config), list(secret_keys or []))
        _sync_await(run_pulumi_func(program))
        outputs = {}
        for name, value in getattr(runtime_settings.get_root_resource(), "outputs", {}).items():
            serialized = _sync_await(rpc.serialize_property(value, [], name))
            outputs[name] = mask_secrets(serialized, show_secrets)
    finally:
        loop.close()  # also shuts down its executor, so the threads' loops are never used again
        monitor.close_thread_loops()
        asyncio.set_event_loop(None)
    # Registration order depends on the event loop; the URN order does not.
    return Plan(stack=stack, resources=sorted(monitor.recorded, key=lambda r: r.urn), outputs=outputs,
                warnings=log.warnings)


def evaluate_stack(stack: str, root: Path = PROJECT_ROOT, show_secrets: bool = False,
                   stack_file: Optional[Path] = None) -> Plan:
    """`make plan`: the stack file's config, the real `__main__.py`."""
    config, secret_keys = load_stack_config(stack, root, path=stack_file)
    return evaluate(stack, config, lambda: run_main(root), secret_keys=secret_keys, show_secrets=show_secrets)
