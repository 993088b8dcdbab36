"""`make policy`: check a stack offline with the policy pack, driven exactly as `pulumi preview --policy-pack` does.

The program is evaluated offline (the same evaluation as `make plan`). The pack is then launched the way the
Python language host launches a policy pack (`python -u -m pulumi.policy <engine address> <pack dir>`, working
directory the pack, PULUMI_PROJECT / PULUMI_STACK / PULUMI_DRY_RUN / PULUMI_CONFIG set), and driven over the
Analyzer gRPC protocol as the engine drives it: Handshake, ConfigureStack, GetAnalyzerInfo, the pack config
reconciled and validated against each policy's schema, Configure, Analyze for every resource, AnalyzeStack.
Engine side: pulumi/pulumi pkg/resource/plugin/analyzer_plugin.go, pkg/resource/analyzer/config.go,
pkg/engine/update.go (LoadLocalPolicyPackAnalyzers), pkg/resource/deploy/step_generator.go (analyzeAll,
AnalyzeResources), sdk/python/cmd/pulumi-language-python/main.go (RunPlugin).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc

from cli.offline import PROJECT_ROOT, Plan
from cli.stack_file import StackFileError, read_yaml_map
from policies.rules.exceptions import WAIVED_NOTES  # storage-guard's notes of waived violations: no fix, counted apart

PACK_DIR = PROJECT_ROOT / "policies"
EXIT_VIOLATIONS = 1
EXIT_CONFIG = 2
STARTUP_SECONDS = 60.0
CALL_SECONDS = 60.0
ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
MAX_MESSAGE_BYTES = 400 * 1024 * 1024
"""The engine's own limit for analyzer messages (analyzerPluginDialOptions)."""
GRPC_OPTIONS = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
ANALYZE_CONCURRENCY = 4
"""Requests in flight at once; the pack's server answers with four worker threads."""


class PolicyError(Exception):
    """The pack could not be started, configured or run (exit 2)."""


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    severity: str
    urn: str
    message: str
    remediation: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class PolicyReport:
    pack: str
    version: str
    config_file: str | None
    resources: int
    policies: int
    violations: list[Violation] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    """What the pack logged through the engine."""

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.level != "mandatory"]

    @property
    def waived(self) -> list[Violation]:
        return [v for v in self.violations if v.policy in WAIVED_NOTES]

    def summary(self) -> str:
        config = f", config {self.config_file}" if self.config_file else ""
        return (f"policy {self.pack} {self.version}{config}: {len(self.mandatory)} mandatory, "
                f"{len(self.advisory) - len(self.waived)} advisory, {len(self.waived)} waived "
                f"({self.resources} resources, {self.policies} policies)")

    def as_dict(self) -> dict:
        return {"pack": self.pack, "version": self.version, "config": self.config_file,
                "resources": self.resources, "policies": self.policies, "summary": self.summary(),
                "violations": [v.as_dict() for v in self.violations]}


# --- the pack's config, as the engine reads and reconciles it (pkg/resource/analyzer/config.go) ------------------


def parse_pack_config(text: str, source: str) -> dict[str, dict]:
    """A `--policy-pack-config` file: policy name (or "all") -> {enforcementLevel?, properties}."""
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise PolicyError(f"{source}: not JSON ({error})") from None
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: must be a JSON object of policy name -> enforcement level or config")
    environments = raw.pop("environments", [])
    if not isinstance(environments, list) or not all(isinstance(e, str) for e in environments):
        raise PolicyError(f'{source}: "environments" must be an array of strings')
    config: dict[str, dict] = {}
    for name, given in raw.items():
        if isinstance(given, str):
            level, properties = given, {}
        elif isinstance(given, dict):
            properties = dict(given)
            level = properties.pop("enforcementLevel", "")
            if not isinstance(level, str):
                raise PolicyError(f"{source}: parsing enforcement level for {name!r}: {level!r} is not a valid "
                                  "enforcement level; must be a string")
        else:
            raise PolicyError(f"{source}: parsing {name!r}: {given!r} is not a valid value; must be a string or "
                              "object")
        if level and level not in ENFORCEMENT_LEVELS:
            raise PolicyError(f"{source}: parsing enforcement level for {name!r}: {level!r} is not a valid "
                              f"enforcement level (one of {', '.join(ENFORCEMENT_LEVELS)})")
        if level or properties:
            config[name] = {"level": level, "properties": properties}
    return config


def _level_name(level: int) -> str:
    return analyzer_pb2.EnforcementLevel.Name(level).lower()


def reconcile_pack_config(info: analyzer_pb2.AnalyzerInfo, given: dict[str, dict]) -> dict[str, dict]:
    """Schema defaults, then the pack's initial config, then the file ("all" first); each policy's result validated
    against its config schema, every problem named at once (ReconcilePolicyPackConfig)."""
    result: dict[str, dict] = {}
    schemas: dict[str, dict] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema, preserving_proto_field_name=True)
        schemas[policy.name] = schema
        defaults = {key: prop["default"] for key, prop in schema.get("properties", {}).items() if "default" in prop}
        result[policy.name] = {"level": _level_name(policy.enforcementLevel), "properties": defaults}
    initial = {name: {"level": _level_name(config.enforcementLevel),
                      "properties": json_format.MessageToDict(config.properties)}
               for name, config in info.initialConfig.items()}
    for layer in (initial, given):
        if "all" in layer and layer["all"]["level"]:
            for entry in result.values():
                entry["level"] = layer["all"]["level"]
        for name, entry in layer.items():
            target = result.setdefault(name, {"level": "", "properties": {}})
            if entry["level"]:
                target["level"] = entry["level"]
            target["properties"] = {**target["properties"], **entry["properties"]}
    problems = []
    for name, schema in schemas.items():
        document = {"type": "object", **{k: v for k, v in schema.items() if k in ("properties", "required") and v}}
        for error in jsonschema.Draft7Validator(document).iter_errors(result[name]["properties"]):
            where = "/".join(str(step) for step in error.absolute_path)
            problems.append(f"{name}: {where + ': ' if where else ''}{error.message}")
    if problems:
        raise PolicyError(f"validating policy config for {info.name!r}: " + "; ".join(sorted(problems)))
    return result


# --- resources as the engine sends them ---------------------------------------------------------------------------


def _secret(value: Any) -> dict:
    """The engine's secret envelope."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def _engine_value(value: Any) -> Any:
    """A registered input as MarshalProperties(KeepUnknowns, KeepSecrets, SkipInternalKeys) hands it to an
    analyzer: secrets keep their envelope, unknowns stay unknown, resource references and output values are
    downgraded (no KeepResources, no KeepOutputValues)."""
    if isinstance(value, dict):
        signature = value.get(rpc._special_sig_key)
        if signature == rpc._special_resource_sig:
            return value.get("id") or value.get("urn")
        if signature == rpc._special_output_value_sig:
            inner = _engine_value(value["value"]) if "value" in value else rpc.UNKNOWN
            return _secret(inner) if value.get("secret") else inner
        if signature == rpc._special_secret_sig:
            return _secret(_engine_value(value.get("value")))
        return {k: _engine_value(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_engine_value(v) for v in value]
    return value


def _struct(properties: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(properties)
    return struct


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def _seconds(duration: str) -> float:
    """A Go duration string ("5m", "1h30m") in seconds, as the engine converts custom timeouts."""
    return sum(float(amount) * _SECONDS[unit] for amount, unit in _DURATION.findall(duration or ""))


@dataclass
class AnalyzedResource:
    urn: str
    type: str
    name: str
    custom: bool
    properties: dict
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    provider: str = ""
    protect: bool = False
    aliases: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    delete_before_replace: bool | None = None
    custom_timeouts: dict[str, str] = field(default_factory=dict)

    def options(self) -> analyzer_pb2.AnalyzerResourceOptions:
        timeouts = self.custom_timeouts
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=self.protect, ignoreChanges=self.ignore_changes,
            deleteBeforeReplace=bool(self.delete_before_replace),
            deleteBeforeReplaceDefined=self.delete_before_replace is not None,
            additionalSecretOutputs=self.additional_secret_outputs, aliases=self.aliases,
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
                create=_seconds(timeouts.get("create", "")), update=_seconds(timeouts.get("update", "")),
                delete=_seconds(timeouts.get("delete", ""))),
            parent=self.parent)


def _default_provider_name(version: str) -> str:
    """providers.ProviderRequest.DefaultName: `default` plus the version's parts."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?", version or "")
    if not match:
        return "default"
    major, minor, patch, pre, build = match.groups()
    name = f"default_{major}_{minor}_{patch}"
    for part in (pre.split(".") if pre else []) + (build.split(".") if build else []):
        name += f"_{part}"
    return name


def analyzed_resources(plan: Plan) -> list[AnalyzedResource]:
    """Every resource the engine would analyze for this plan: the root stack, the default provider of each package
    the program uses without an explicit provider (its inputs are the package's stack config, GetPackageConfig),
    and each registered resource."""
    project = plan.project
    stack_urn = f"urn:pulumi:{plan.stack}::{project}::pulumi:pulumi:Stack::{project}-{plan.stack}"
    stack = AnalyzedResource(stack_urn, "pulumi:pulumi:Stack", f"{project}-{plan.stack}", False, {})
    providers: dict[tuple[str, str], AnalyzedResource] = {}
    registered: list[AnalyzedResource] = []
    for resource in plan.resources:
        registration = resource.registration
        analyzed = AnalyzedResource(
            urn=resource.urn, type=resource.type, name=resource.name, custom=resource.custom,
            properties=_engine_value(registration.get("properties", {})),
            parent=resource.parent or stack_urn,
            dependencies=list(resource.options.get("dependsOn", [])),
            property_dependencies=registration.get("property_dependencies", {}),
            provider=(resource.options.get("provider") or "").rsplit("::", 1)[0],  # a reference is "<urn>::<id>"
            protect=resource.options.get("protect", False), aliases=list(resource.options.get("aliases", [])),
            ignore_changes=registration.get("ignore_changes", []),
            additional_secret_outputs=registration.get("additional_secret_outputs", []),
            delete_before_replace=registration.get("delete_before_replace"),
            custom_timeouts=registration.get("custom_timeouts", {}))
        registered.append(analyzed)
        package = resource.type.split(":", 1)[0]
        if resource.custom and not analyzed.provider and package != "pulumi":
            key = (package, registration.get("version", ""))
            if key not in providers:
                inputs: dict[str, Any] = {}
                for full_key, text in sorted(plan.config.items()):
                    namespace, _, name = full_key.partition(":")
                    if namespace == package:
                        inputs[name] = _secret(text) if full_key in plan.secret_keys else text
                if key[1]:
                    inputs["version"] = key[1]
                name = _default_provider_name(key[1])
                providers[key] = AnalyzedResource(
                    f"urn:pulumi:{plan.stack}::{project}::pulumi:providers:{package}::{name}",
                    f"pulumi:providers:{package}", name, True, inputs)
            analyzed.provider = providers[key].urn
    return [stack, *providers.values(), *registered]


def policy_resources(analyzed: list[AnalyzedResource]) -> list:
    """The analyzed resources as the pack's SDK hands them to a stack rule (its own deserialization, parents and
    dependencies linked): for calling rules in-process, without the protocol."""
    from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions
    from pulumi_policy.deserialize import deserialize_properties
    from pulumi_policy.proxy import unknown_checking_proxy

    resources = {}
    for entry in analyzed:
        options = PolicyResourceOptions(entry.protect, entry.ignore_changes, entry.delete_before_replace,
                                        entry.aliases, PolicyCustomTimeouts(0, 0, 0), entry.additional_secret_outputs,
                                        entry.parent or None)
        resources[entry.urn] = PolicyResource(entry.type, unknown_checking_proxy(deserialize_properties(
            entry.properties)), entry.urn, entry.name, options, None, None, [], {})
    for entry in analyzed:
        resource = resources[entry.urn]
        resource.parent = resources.get(entry.parent) if entry.type != "pulumi:pulumi:Stack" else None
        resource.dependencies = [resources[d] for d in entry.dependencies if d in resources]
        resource.property_dependencies = {key: [resources[d] for d in urns if d in resources]
                                          for key, urns in entry.property_dependencies.items()}
    return list(resources.values())


# --- the pack's process and the protocol ----------------------------------------------------------------------------


class _EngineLog(engine_pb2_grpc.EngineServicer):
    """The engine's side that a pack may log to; everything else it asks is unimplemented, as in a preview."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def Log(self, request, context):  # noqa: N802 - the gRPC method name
        self.messages.append(request.message)
        return empty_pb2.Empty()


@contextmanager
def _engine_server() -> Iterator[tuple[str, _EngineLog]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=GRPC_OPTIONS)
    log = _EngineLog()
    engine_pb2_grpc.add_EngineServicer_to_server(log, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", log
    finally:
        server.stop(0)


def _drain(stream, sink: list[str]) -> None:
    for line in iter(stream.readline, b""):
        sink.append(line.decode(errors="replace").rstrip())


@contextmanager
def launched_pack(pack_dir: Path, engine_address: str, project: str, stack: str,
                  config: dict[str, str]) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack's process, started as the Python language host starts one, and a client connected to it."""
    env = {**os.environ, "PULUMI_PROJECT": project, "PULUMI_STACK": stack, "PULUMI_DRY_RUN": "true"}
    if config:
        env["PULUMI_CONFIG"] = json.dumps(config)
    env.pop("PYTHONPATH", None)  # the pack runs from its own directory, with nothing of this project importable
    try:
        process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", engine_address, str(pack_dir)],
                                   cwd=pack_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
    except OSError as error:
        raise PolicyError(f"the policy pack in {pack_dir} failed to start: {error}") from None
    errors: list[str] = []
    threading.Thread(target=_drain, args=(process.stderr, errors), daemon=True).start()
    channel = None
    try:
        port = _read_port(process, errors, pack_dir)
        threading.Thread(target=_drain, args=(process.stdout, []), daemon=True).start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=GRPC_OPTIONS)
        grpc.channel_ready_future(channel).result(timeout=STARTUP_SECONDS)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        if channel is not None:
            channel.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_port(process: subprocess.Popen, errors: list[str], pack_dir: Path) -> int:
    """The first line the pack prints is its port; a pack that exits or stays silent failed to start."""
    found: list[bytes] = []
    stdout = process.stdout
    assert stdout is not None  # opened with PIPE
    reader = threading.Thread(target=lambda: found.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(STARTUP_SECONDS)
    line = found[0].strip() if found else b""
    if line.isdigit():
        return int(line)
    process.terminate()
    process.wait(timeout=10)
    time.sleep(0.05)  # let the stderr reader take the last lines
    detail = next((e for e in reversed(errors) if e.strip()), "") or (
        f"no port printed within {STARTUP_SECONDS:.0f} s" if not found else f"printed {line!r} instead of its port")
    raise PolicyError(f"the policy pack in {pack_dir} failed to start: {detail}")


def _call(method, request, what: str):
    try:
        return method(request, timeout=CALL_SECONDS)
    except grpc.RpcError as error:
        raise PolicyError(f"the policy pack failed in {what}: {error.details() or error.code().name}") from None


def _configure_request(config: dict[str, dict]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, entry in config.items():
        level = entry["level"] or "advisory"
        request.policyConfig[name].CopyFrom(analyzer_pb2.PolicyConfig(
            enforcementLevel=analyzer_pb2.EnforcementLevel.Value(level.upper()),
            properties=_struct(entry["properties"])))
    return request


def _provider_message(resource: AnalyzedResource, by_urn: dict[str, AnalyzedResource]):
    provider = by_urn.get(resource.provider) if resource.provider else None
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(type=provider.type, properties=_struct(provider.properties),
                                                 urn=provider.urn, name=provider.name)


def analyze(stub: analyzer_pb2_grpc.AnalyzerStub, resources: list[AnalyzedResource]) -> list:
    """Analyze for every resource, then AnalyzeStack: the diagnostics, each with the URN it concerns."""
    by_urn = {r.urn: r for r in resources}
    requests = [analyzer_pb2.AnalyzeRequest(type=r.type, properties=_struct(r.properties), urn=r.urn, name=r.name,
                                            options=r.options(), provider=_provider_message(r, by_urn))
                for r in resources]
    diagnostics = []
    with futures.ThreadPoolExecutor(max_workers=ANALYZE_CONCURRENCY) as pool:
        for request, response in zip(requests, pool.map(
                lambda req: _call(stub.Analyze, req, f"Analyze({req.urn})"), requests), strict=True):
            diagnostics += [(d.urn or request.urn, d) for d in response.diagnostics]
    stack_request = analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(
            type=r.type, properties=_struct(r.properties), urn=r.urn, name=r.name, options=r.options(),
            provider=_provider_message(r, by_urn), parent=r.parent if r.type != "pulumi:pulumi:Stack" else "",
            dependencies=r.dependencies,
            propertyDependencies={key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                                  for key, urns in r.property_dependencies.items()})
        for r in resources])
    response = _call(stub.AnalyzeStack, stack_request, "AnalyzeStack")
    diagnostics += [(d.urn, d) for d in response.diagnostics]
    return diagnostics


def _violation_text(diagnostic) -> str:
    """The SDK sends the policy's description, a newline, then the violation; the description is in the report
    once per policy, so a violation shows its own text."""
    message = diagnostic.message
    return message.split("\n", 1)[1] if "\n" in message else message


class PackSession:
    """A running pack, handshaken, stack-configured and configured as the engine does before the first resource;
    `analyze` then sends resources as a preview would. Open with `open_pack`."""

    def __init__(self, stub: analyzer_pb2_grpc.AnalyzerStub, info: analyzer_pb2.AnalyzerInfo, version: str,
                 config_file: Path | None, log: _EngineLog):
        self.stub = stub
        self.info = info
        self.version = version
        self.config_file = config_file
        self.log = log

    def analyze(self, resources: list[AnalyzedResource]) -> list[Violation]:
        remediation = {policy.name: policy.remediation_steps for policy in self.info.policies}
        violations = [Violation(policy=d.policyName, level=_level_name(d.enforcementLevel),
                                severity=analyzer_pb2.PolicySeverity.Name(d.severity).removeprefix(
                                    "POLICY_SEVERITY_").lower(),
                                urn=urn, message=_violation_text(d), remediation=remediation.get(d.policyName, ""))
                      for urn, d in analyze(self.stub, resources)]
        return sorted(violations, key=lambda v: (v.level != "mandatory", v.urn, v.policy, v.message))

    def report(self, resources: list[AnalyzedResource]) -> PolicyReport:
        violations = self.analyze(resources)
        return PolicyReport(pack=self.info.name, version=self.version or self.info.version, resources=len(resources),
                            policies=len(self.info.policies), config_file=_shown_path(self.config_file),
                            violations=violations, log=list(self.log.messages))


def _given_config(config_file: Path | None) -> dict[str, dict]:
    """The pack config a run is given (none: every rule at its defaults); unreadable is a PolicyError."""
    if config_file is None:
        return {}
    try:
        return parse_pack_config(config_file.read_text(), str(config_file))
    except OSError as error:
        raise PolicyError(f"cannot read the policy pack config {config_file}: {error.strerror}") from None


@contextmanager
def open_pack(plan: Plan, pack_dir: Path = PACK_DIR, config_file: Path | None = None) -> Iterator[PackSession]:
    """Start the pack the CLI's way for `plan`'s project, stack and config, and take it through the engine's steps
    up to the first Analyze."""
    given = _given_config(config_file)
    version = pack_version(pack_dir)
    project, stack = plan.project, plan.stack
    with _engine_server() as (engine_address, engine_log), \
            launched_pack(pack_dir, engine_address, project, stack, plan.config) as stub:
        try:
            stub.Handshake(analyzer_pb2.AnalyzerHandshakeRequest(
                engine_address=engine_address, root_directory=str(pack_dir), program_directory=str(pack_dir)),
                timeout=CALL_SECONDS)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:  # the Python SDK has no Handshake: the engine goes on
                raise PolicyError(f"the policy pack failed in Handshake: {error.details()}") from None
        _call(stub.ConfigureStack, analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, dry_run=True, config=plan.config,
            config_secret_keys=plan.secret_keys), "ConfigureStack")
        info = _call(stub.GetAnalyzerInfo, empty_pb2.Empty(), "GetAnalyzerInfo")
        _call(stub.GetPluginInfo, empty_pb2.Empty(), "GetPluginInfo")
        config = reconcile_pack_config(info, given) if info.supportsConfig else {}
        if config:
            _call(stub.Configure, _configure_request(config), "Configure")
        yield PackSession(stub, info, version, config_file, engine_log)


def analyzer_info() -> analyzer_pb2.AnalyzerInfo:
    """What the pack answers to GetAnalyzerInfo, built from the same Rule records the pack assembles (pulumi_policy's
    `_PolicyAnalyzerServicer.GetAnalyzerInfo`: each policy's level, its own or the pack's mandatory, and its config
    schema); tests hold it equal to the running pack's answer."""
    from policies.rules import PACK_NAME, RULES
    from policies.rules.pack import config_properties

    info = analyzer_pb2.AnalyzerInfo(name=PACK_NAME, supportsConfig=True)
    for rule in RULES:
        policy = analyzer_pb2.PolicyInfo(name=rule.name, enforcementLevel=analyzer_pb2.EnforcementLevel.Value(
            rule.level.value.upper()))
        properties = config_properties(rule)
        if properties:
            policy.configSchema.properties.update({key: dict(schema) for key, schema in properties.items()})
        info.policies.append(policy)
    return info


def check_in_process(plan: Plan, config_file: Path | None = None, pack_dir: Path = PACK_DIR) -> PolicyReport:
    """The pack's verdicts without its process: the same rule functions, the same config reconciliation
    (`reconcile_pack_config` of the same policy infos) and the same exceptions, run in the engine's order - every
    resource policy for each resource as Analyze does, with the arguments the SDK builds (no dependencies), then every
    stack policy as AnalyzeStack does. `make plan`'s summary; `make policy` and CI keep the protocol."""
    from pulumi_policy import ResourceValidationArgs

    from policies.rules import RULES
    from policies.rules.pack import resource_violations, stack_violations
    from policies.rules.stack import StackView

    config_file = config_file or default_config_file(plan.stack, pack_dir)
    given = _given_config(config_file)
    info = analyzer_info()
    config = reconcile_pack_config(info, given)
    analyzed = analyzed_resources(plan)
    viewed = policy_resources(analyzed)
    found: list[Violation] = []

    def reported(rule, urn: str, message: str) -> None:
        found.append(Violation(policy=rule.name, level=config[rule.name]["level"], severity=rule.severity.value,
                               urn=urn, message=message, remediation=rule.remediation))
    active = [rule for rule in RULES if config[rule.name]["level"] != "disabled"]
    resource_rules = [rule for rule in active if not rule.stack]
    for resource in viewed:
        for rule in resource_rules:
            properties = config[rule.name]["properties"]
            args = ResourceValidationArgs(resource.resource_type, resource.props, resource.urn, resource.name,
                                          resource.opts, None, properties)
            for message in resource_violations(rule, args, properties):
                reported(rule, resource.urn, message)
    stack = StackView(viewed)
    for rule in (rule for rule in active if rule.stack):
        for finding in stack_violations(rule, stack, config[rule.name]["properties"]):
            reported(rule, finding.urn or "", finding.message)
    return PolicyReport(pack=info.name, version=pack_version(pack_dir), config_file=_shown_path(config_file),
                        resources=len(analyzed), policies=len(info.policies),
                        violations=sorted(found, key=lambda v: (v.level != "mandatory", v.urn, v.policy, v.message)))


def check_stack(plan: Plan, config_file: Path | None = None, pack_dir: Path = PACK_DIR) -> PolicyReport:
    """Drive the pack over the Analyzer protocol for `plan`, as `pulumi preview --policy-pack` would; the pack
    config is `config_file`, or the pack's own for the stack."""
    with open_pack(plan, pack_dir, config_file or default_config_file(plan.stack, pack_dir)) as session:
        return session.report(analyzed_resources(plan))


def _shown_path(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def pack_version(pack_dir: Path) -> str:
    """PulumiPolicy.yaml's `version`: the engine reports it over the SDK's own ("0.0.1" for Python packs)."""
    try:
        project, _ = read_yaml_map(pack_dir / "PulumiPolicy.yaml")
    except StackFileError as error:
        raise PolicyError(f"{pack_dir} is not a usable policy pack: {error}") from None
    if not project.get("runtime"):
        raise PolicyError(f"{pack_dir}/PulumiPolicy.yaml: project is missing a 'runtime' attribute")
    return str(project.get("version") or "")


def default_config_file(stack: str, pack_dir: Path = PACK_DIR) -> Path | None:
    """The pack's shipped config for `stack` (policies/<stack>.json), if there is one."""
    path = pack_dir / f"{stack}.json"
    return path if path.is_file() else None


def render_report(report: PolicyReport) -> str:
    lines = [report.summary()]
    by_resource: dict[str, list[Violation]] = defaultdict(list)
    for violation in report.violations:
        by_resource[violation.urn or "(stack)"].append(violation)
    for urn, found in by_resource.items():
        lines.append(f"  {urn}")
        for violation in found:
            lines.append(f"    [{violation.level}] {violation.policy} ({violation.severity}): {violation.message}")
            if violation.remediation and violation.policy not in WAIVED_NOTES:
                lines.append(f"      fix: {violation.remediation}")
    lines += [f"  pack log: {message}" for message in report.log]
    return "\n".join(lines)
