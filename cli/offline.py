"""Evaluate a stack offline: the real program under Pulumi's mock runtime, with the stack's own config.

No cloud account and no Pulumi CLI: resources are recorded as the engine would receive them (inputs
camelCased, options protect / retainOnDelete / dependencies / provider), secrets masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import gc
import hashlib
import json
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from cli import provider_functions as functions
from cli.stack_file import StackFileError, read_yaml_map
from components import naming
from components.messages import one_line
from components.settings.readers import show

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MASK = "[secret]"
UNKNOWN_MARK = "[unknown]"
MOCK_ACCOUNT = "123456789012"


def to_config_text(value: Any) -> str:
    """One config value as the Pulumi CLI hands it to a program: scalars as text, structures as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def _read_config_section(path: Path) -> tuple[dict, dict]:
    """The file's `config:` map, and each top-level scalar's text as written (see `read_yaml_map`)."""
    document, texts = read_yaml_map(path)
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise StackFileError(f"{path.name}: `config` must be a map of keys to values")
    return raw, texts


# --- the engine's project-config rules ------------------------------------------------------------
# What the Pulumi CLI does with `Pulumi.yaml`'s `config:` before a program runs, reproduced so that
# `make plan` fails where `pulumi up` would (pulumi/pulumi sdk/go/common/workspace: project.go
# RewriteShorthandConfigValues, Project.Validate and ValidateConfigValue; config.go mergeConfig and
# validateStackConfigValue).


def _namespaced_by_project(project: str, key: str) -> bool:
    return ":" not in key or key.startswith(f"{project}:")


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def project_config_entries(root: Path = PROJECT_ROOT) -> tuple[str, dict[str, dict]]:
    """`Pulumi.yaml`'s project name and config entries, shorthand values rewritten as the CLI does: a bare
    value of a project key is its `default`, of another namespace's key its `value`. A project file the
    CLI would refuse (Project.Validate) is a StackFileError."""
    document = _project_file(root / "Pulumi.yaml")
    project = str(document.get("name") or "")
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise StackFileError("Pulumi.yaml: `config` must be a map of keys to config types")
    entries: dict[str, dict] = {}
    problems = []
    for key, entry in raw.items():
        own = _namespaced_by_project(project, key)
        if not isinstance(entry, dict):
            entry = {"default": entry} if own else {"value": entry}
        entries[key] = entry
        declared = entry.get("type")
        if "default" in entry and "value" in entry:
            problems.append(f"project config '{key}' cannot have both a 'default' and 'value' attribute")
        elif own and declared == "array" and "items" not in entry:
            problems.append(f"the configuration key '{key}' declares an array but does not specify the "
                            "underlying type via the 'items' attribute")
        elif own and declared and "default" in entry and not config_value_has_type(
                entry["default"], declared, entry.get("items")):
            problems.append(f"the default value specified for configuration key '{key}' is not of the expected "
                            f"type '{_type_name(declared, entry.get('items'))}'")
        elif not own and (declared or "default" in entry or "value" not in entry):
            problems.append(f"configuration key '{key}' is not namespaced by the project: give it only a "
                            "'value' (no type, no default)")
    if problems:
        raise StackFileError("Pulumi.yaml: " + "; ".join(problems) + " (the Pulumi CLI refuses this project file)")
    return project, entries


def _project_file(path: Path) -> dict:
    """`Pulumi.yaml`, read once per content (a plan needs the project's name and its config entries)."""
    stat = path.stat() if path.exists() else None
    return copy.deepcopy(_read_project_file(path, stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0))


@functools.lru_cache(maxsize=8)
def _read_project_file(path: Path, _mtime_ns: int, _size: int) -> dict:
    return read_yaml_map(path)[0]


def config_value_has_type(value: Any, declared: str, items: dict | None = None) -> bool:
    """The CLI's ValidateConfigValue: stack scalars arrive as text, so "true"/"false" pass as booleans and
    decimal text as integers."""
    if declared == "string":
        return isinstance(value, str)
    if declared == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return True
        return isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value) is not None
    if declared == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if declared == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or not items:
        return False
    return all(config_value_has_type(item, items.get("type", ""), items.get("items")) for item in value)


def _type_name(declared: str, items: dict | None) -> str:
    return f"array<{_type_name(items.get('type', ''), items.get('items'))}>" if items else declared


def _as_engine_sees_it(value: Any) -> Any:
    """A stack file's value as the CLI validates it: structures stay structures, scalars become text."""
    return value if isinstance(value, (dict, list)) else to_config_text(value)


def apply_project_config(stack: str, project: str, entries: dict[str, dict], stack_values: dict,
                         secret_keys: list) -> dict:
    """The config `stack` runs with: its own values, then each project key's `value` or `default` where the
    stack sets none. A project key with neither and no stack value, or a stack value of another type than
    the project declares, stops the run as `pulumi up` would, naming every such key at once."""
    merged = dict(stack_values)
    missing = []
    for key, entry in sorted(entries.items()):
        full_key = _full_key(project, key)
        if full_key in stack_values:
            continue
        if "value" in entry or "default" in entry:
            merged[full_key] = entry["value"] if "value" in entry else entry["default"]
        elif _namespaced_by_project(project, key):
            missing.append(key)
    if missing:
        names = ", ".join(f"'{key}'" for key in missing)
        raise StackFileError(
            f"Stack '{stack}' is missing configuration value{'s' if len(missing) > 1 else ''} {names}: "
            f"`pulumi up` stops here too. Set {'them' if len(missing) > 1 else 'it'} in Pulumi.{stack}.yaml "
            f"(`pulumi config set {missing[0]} <value> -s {stack}`), or give Pulumi.yaml a default.")
    mismatched = []
    for key, entry in sorted(entries.items()):
        full_key = _full_key(project, key)
        if not entry.get("type") or full_key in secret_keys or full_key not in merged:
            continue
        if not config_value_has_type(_as_engine_sees_it(merged[full_key]), entry["type"], entry.get("items")):
            mismatched.append(f"Stack '{stack}' with configuration key '{key}' must be of type "
                              f"'{_type_name(entry['type'], entry.get('items'))}' (got {show(merged[full_key])})")
    if mismatched:
        raise StackFileError("; ".join(mismatched) + ": `pulumi up` stops here too. Fix the value in "
                             f"Pulumi.{stack}.yaml to the type Pulumi.yaml declares.")
    return merged


def stack_config_values(stack: str, root: Path = PROJECT_ROOT, project: str = "app-storage",
                        path: Path | None = None) -> tuple[dict, list]:
    """The config values `stack` runs with, before they become text: (values, secret keys).

    `Pulumi.<stack>.yaml` (or the file `path` names), then `Pulumi.yaml`'s values and defaults for the keys
    it leaves out, with the CLI's project-config rules applied (`apply_project_config`).
    """
    path = path or root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {path.name}; known stacks: {', '.join(known) or 'none'}")
    project_name, entries = project_config_entries(root)
    project = project_name or project
    values = {}
    spelled: dict[str, str] = {}
    secret_keys = []
    config, texts = _read_config_section(path)
    for key, value in config.items():
        full_key = _full_key(project, key)
        if full_key in spelled:
            raise StackFileError(one_line(
                f"{path.name}: '{spelled[full_key]}' and '{key}' both set {full_key}; the last would win "
                "silently. Keep one"))
        spelled[full_key] = key
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.append(full_key)
            value = MASK  # ciphertext needs the stack's secrets provider; offline it stays masked
        elif key in texts:
            value = texts[key]  # a scalar reaches the program as the text written (`no` stays "no")
        values[full_key] = value
    return apply_project_config(stack, project, entries, values, secret_keys), secret_keys


def load_stack_config(stack: str, root: Path = PROJECT_ROOT, project: str = "app-storage",
                      path: Path | None = None) -> tuple[dict, list]:
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


AWS_BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_TYPES = (*AWS_BUCKET_TYPES, "minio:index/s3Bucket:S3Bucket")
# Resources whose `secret` output is a secret key the provider generates.
SECRET_KEY_HOLDERS = ("aws:iam/accessKey:AccessKey", "minio:index/iamUser:IamUser")


def _mock_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


class PlanMocks(pulumi.runtime.Mocks):
    """Mock provider: echoes inputs and fills in the outputs AWS and MinIO would compute."""

    def __init__(self, region: str = "us-east-1"):
        self.region = region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        token = args.typ
        state = dict(inputs)
        region = inputs.get("region") or self.region  # pulumi-aws 7: a resource may name its own region
        resource_id = inputs.get("bucket") if token in BUCKET_TYPES else None
        resource_id = resource_id or inputs.get("name") or f"{args.name}-{_mock_id(args.name)}"
        if token in BUCKET_TYPES:
            state["arn"] = f"arn:aws:s3:::{resource_id}"
        if token in AWS_BUCKET_TYPES:  # what an origin reads (`bucket_regional_domain_name`), as S3 names them
            state.update(bucketDomainName=f"{resource_id}.s3.amazonaws.com",
                         bucketRegionalDomainName=naming.bucket_regional_domain(resource_id, region))
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
        elif token == "aws:wafv2/webAcl:WebAcl":  # a CloudFront-scope web ACL is "global", kept in us-east-1
            resource_id = _mock_id(args.name)
            scope = "global" if inputs.get("scope") == "CLOUDFRONT" else region
            state["arn"] = f"arn:aws:wafv2:us-east-1:{MOCK_ACCOUNT}:{scope}/webacl/{inputs.get('name')}/{resource_id}"
        elif token == "aws:sns/topic:Topic":
            state["arn"] = f"arn:aws:sns:{region}:{MOCK_ACCOUNT}:{inputs.get('name')}"
        elif token == "aws:cloudwatch/metricAlarm:MetricAlarm":
            state["arn"] = f"arn:aws:cloudwatch:{region}:{MOCK_ACCOUNT}:alarm:{inputs.get('name')}"
        elif token == "aws:budgets/budget:Budget":
            state["arn"] = f"arn:aws:budgets::{MOCK_ACCOUNT}:budget/{inputs.get('name')}"
        elif token in ("aws:cloudwatch/logDeliverySource:LogDeliverySource",
                       "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"):
            kind = "delivery-source" if token.endswith("Source") else "delivery-destination"
            state["arn"] = f"arn:aws:logs:{region}:{MOCK_ACCOUNT}:{kind}:{inputs.get('name')}"
        elif token == "aws:cloudfront/function:Function":
            state["arn"] = f"arn:aws:cloudfront::{MOCK_ACCOUNT}:function/{resource_id}"
        if token == "minio:index/iamServiceAccount:IamServiceAccount":  # MinIO caps these keys at 20 characters
            state.update(accessKey=("SA" + _mock_id(args.name).upper())[:20],
                         secretKey="mock-secret-" + hashlib.sha256(args.name.encode()).hexdigest())
            # Its id is the access key (terraform-provider-minio v1.20.1, resource_minio_service_account.go: SetId).
            resource_id = state["accessKey"]
        if token in SECRET_KEY_HOLDERS:
            state["secret"] = "mock-secret-" + hashlib.sha256(args.name.encode()).hexdigest()
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        """The functions the provider computes without a cloud (`cli.provider_functions.MODELLED_INVOKES`), for the
        provider's region; an error the provider would report comes back as the invoke's failure. The monitor
        answers every other token as unknown before it gets here; a direct caller gets `{}` for one."""
        if args.token == functions.CALLER_IDENTITY:
            return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/plan", "userId": "PLAN",
                    "id": MOCK_ACCOUNT}
        try:
            if args.token == functions.POLICY_DOCUMENT:
                return functions.policy_document(args.args)
            if args.token == functions.MINIO_POLICY_DOCUMENT:
                return functions.minio_policy_document(args.args)
            if args.token == functions.REGION:
                return functions.region(args.args, self.region)
            if args.token == functions.PARTITION:
                return functions.partition(self.region)
        except functions.ProviderFunctionError as error:
            return {}, [("", str(error))]
        return {}


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict
    options: dict
    id: str = ""
    """The physical id the mock provider gave it (a custom resource's; a component has none)."""
    registration: dict = field(default_factory=dict, repr=False)
    """What the engine received beyond the masked inputs, for the policy runner: `properties` (the inputs with
    secrets in the engine's secret envelope), `property_dependencies`, `version` and the remaining options."""

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "registration"}


def _holds_unknown(value: Any) -> bool:
    """Whether a value holds the unknown marker anywhere, inside lists too."""
    if isinstance(value, dict):
        return any(_holds_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_unknown(item) for item in value)
    return value == rpc.UNKNOWN


class RecordingMonitor(MockMonitor):
    """The mock monitor, plus a record of each registration as the engine receives it."""

    def __init__(self, mocks: pulumi.runtime.Mocks, show_secrets: bool = False,
                 project_and_stack: tuple[str, str] | None = None):
        """`project_and_stack`: whose URNs it makes when it serves another process (default: this program's)."""
        super().__init__(mocks)
        self.project_and_stack = project_and_stack
        self.recorded: list[RecordedResource] = []
        self.component_outputs: dict[str, dict] = {}
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
        """Functions the mocks model are answered by them (and the SDK's own `pulumi:pulumi:getResource` by the stock
        monitor). Any other, and a modelled one whose arguments hold an unknown value anywhere, comes back wholly
        unknown, as the engine answers an invoke it cannot serve yet: the output form resolves to an unknown output,
        so what is built from it is recorded as unknown, not null. (The SDK itself only notices an unknown at the top
        of the arguments or in an object: `rpc.struct_contains_unknowns` skips one directly inside a list, such as a
        statement's `resources`, and the stock monitor would hand the mocks None in its place.)"""
        try:
            if request.tok != "pulumi:pulumi:getResource" and (
                    request.tok not in functions.MODELLED_INVOKES
                    or _holds_unknown(json_format.MessageToDict(request.args))):
                return resource_pb2.ResourceInvokeResponse(unknown=True)
            return super().Invoke(request)
        finally:
            self._remember_thread_loop()

    def RegisterResourceOutputs(self, request):
        """A component's outputs, kept with its record (`registration["outputs"]`) for the bench's replay."""
        self.component_outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)

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
        project, stack = self.project_and_stack or (pulumi.get_project(), pulumi.get_stack())
        return "::".join([f"urn:pulumi:{stack}", project, type_, name])

    def _alias_urns(self, request) -> list[str]:
        """The URNs a resource's `aliases` name, resolved as the engine resolves alias specs: a missing name,
        type or parent is the resource's own."""
        urns = []
        for alias in request.aliases:
            if alias.urn:
                urns.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            urns.append(self.make_urn(parent, spec.type or request.type, spec.name or request.name))
        return sorted(set(urns))

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self._remember_thread_loop()
        if request.type != "pulumi:pulumi:Stack":
            inputs = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
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
                    **({"aliases": aliases} if (aliases := self._alias_urns(request)) else {}),
                    **_replacement_options(request),
                },
                id=response.id,
                registration={
                    "properties": inputs,
                    "property_dependencies": {key: sorted(deps.urns)
                                              for key, deps in request.propertyDependencies.items() if deps.urns},
                    "version": request.version,
                    "ignore_changes": list(request.ignoreChanges),
                    "additional_secret_outputs": list(request.additionalSecretOutputs),
                    "delete_before_replace": (request.deleteBeforeReplace
                                              if request.deleteBeforeReplaceDefined else None),
                    "custom_timeouts": {"create": request.customTimeouts.create,
                                        "update": request.customTimeouts.update,
                                        "delete": request.customTimeouts.delete},
                },
            ))
        return response


def _replacement_options(request) -> dict:
    """The options that decide how the engine replaces a resource, recorded only where the program sets them, so
    the change model (`cli.change`) can read them from a saved plan."""
    options: dict[str, Any] = {}
    if request.deleteBeforeReplaceDefined or request.deleteBeforeReplace:
        options["deleteBeforeReplace"] = bool(request.deleteBeforeReplace)
    if request.replaceOnChanges:
        options["replaceOnChanges"] = sorted(request.replaceOnChanges)
    if request.ignoreChanges:
        options["ignoreChanges"] = sorted(request.ignoreChanges)
    if request.importId:
        options["import"] = request.importId
    if request.HasField("replacement_trigger"):
        options["replacementTrigger"] = mask_secrets(json_format.MessageToDict(request.replacement_trigger))
    return options


@dataclass
class Plan:
    stack: str
    resources: list[RecordedResource]
    outputs: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """What the program logged as warnings (`pulumi.log.warn`), in order."""
    project: str = "app-storage"
    config: dict = field(default_factory=dict, repr=False)
    """The config the program ran with, as the CLI hands it over (text values; secrets masked)."""
    secret_keys: list = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        return {"stack": self.stack, "warnings": self.warnings, "resources": [r.as_dict() for r in self.resources],
                "outputs": self.outputs}

    def of_type(self, token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == token]

    def bucket_declarations(self, bucket: str) -> dict[str, dict]:
        """What the plan declares for `bucket`, by resource kind (`Bucket`, `BucketPolicy`, `IlmPolicy`, ...): the
        inputs of each resource whose `bucket` input names it."""
        return {r.type.rsplit(":", 1)[-1]: r.inputs for r in self.resources if r.inputs.get("bucket") == bucket}



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


@functools.cache
def _compiled_program(path: Path):
    return compile(path.read_text(), str(path), "exec")


def run_main(root: Path = PROJECT_ROOT) -> None:
    """Run the project's `__main__.py` as the language host would (compiled once per process)."""
    path = root / "__main__.py"
    exec(_compiled_program(path), {"__name__": "__main__", "__file__": str(path)})


@contextlib.contextmanager
def _collector_for_a_whole_stack() -> Iterator[None]:
    """CPython's cyclic collector is off while a program runs, and back as it was after. The plan keeps every
    registered resource, output and task alive until the end, so each pass rescans an ever larger heap to find
    little: at 1,000 apps (42,000 resources) the passes took a third of the CPU even with a raised threshold (160 s
    against 99 s without them), while the cycles left for after the run raise the peak by under a tenth
    (`make bench`)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    with _collector_for_a_whole_stack():
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
    for recorded in monitor.recorded:
        if recorded.urn in monitor.component_outputs:
            recorded.registration["outputs"] = monitor.component_outputs[recorded.urn]
    # Registration order depends on the event loop; the URN order does not.
    return Plan(stack=stack, resources=sorted(monitor.recorded, key=lambda r: r.urn), outputs=outputs,
                warnings=log.warnings, project=project, config=dict(config), secret_keys=list(secret_keys or []))


def project_name(root: Path = PROJECT_ROOT) -> str:
    return project_config_entries(root)[0] or "app-storage"


def evaluate_stack(stack: str, root: Path = PROJECT_ROOT, show_secrets: bool = False,
                   stack_file: Path | None = None) -> Plan:
    """`make plan`: the stack file's config, the real `__main__.py` (of this project, or of the program in `root`,
    importable from its own directory as the language host runs it)."""
    config, secret_keys = load_stack_config(stack, root, path=stack_file)
    root = root.resolve()
    added = str(root) not in sys.path
    if added:
        sys.path.insert(0, str(root))
    try:
        return evaluate(stack, config, lambda: run_main(root), secret_keys=secret_keys, show_secrets=show_secrets,
                        project=project_name(root))
    finally:
        if added:
            sys.path.remove(str(root))
