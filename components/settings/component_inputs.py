"""AppStorage called on its own (from another language): its inputs through the same gate as a stack file's.

The inputs become the config of a one-app stack (the app named by the component's name) and `parse_settings` reads
them; each problem comes back as the input path it is about (`cors[0].origins`, `region`, `minio.minioServer`), so
the engine can show it against the input. Nothing here declares anything.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components import naming
from components.app_storage_args import AppStorageArgs
from components.settings.gate import parse_settings
from components.settings.readers import Problems, key_path
from components.settings.schema import COMPONENT_KEYS, COMPONENT_STACK_KEYS, MINIO_PROVIDER_KEYS, NAMESPACE, REGION
from components.settings.types import AppSettings, SettingsError, StackSettings

EXACT_INTEGER_LIMIT = 2**53
"""The engine carries numbers as 64-bit floats: a whole number above this may not arrive as it was written."""
SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
CALLER_CONFIG_KEYS = ("aws:region", *(f"minio:{key}" for key in MINIO_PROVIDER_KEYS))
"""The calling program's config the component reads as a stack would: its region and its MinIO provider's settings.
Nothing else of the caller's is the gate's to judge (a MinIO password in its config is the caller's business)."""
COMPONENT_ONLY_INPUTS = tuple(key.name for key in COMPONENT_KEYS)


@dataclass(frozen=True)
class ComponentSettings:
    """The app and its one-app stack, as the gate read them, and what a stack would have shared with it."""
    app: AppSettings
    stack: StackSettings
    log_buckets: Mapping[str, str]
    alert_topic_arn: str | None
    edge_alert_topic_arn: str | None
    warnings: tuple[str, ...]


class InputProblems(Exception):
    """The component's inputs have problems: (input path, reason) each; nothing was declared."""

    def __init__(self, name: str, problems: list[tuple[str, str]]):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"app-storage: AppStorage {name!r} has {count} in its inputs; nothing was declared:\n"
                         + "\n".join(f"  - {path or '(the component)'}: {reason}" for path, reason in problems))


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _config_value(value: Any, hint: Any, path: str, problems: list[tuple[str, str]]) -> Any:
    """`value` as a config file would hold it: the TypedDicts' snake_case keys in camelCase (keys of maps, such as
    area names, tags and policy statements, as they are), whole numbers sent as floats read back as integers, and
    anything not known before deployment (an Output) refused."""
    if hasattr(value, "apply") or hasattr(value, "__await__"):
        problems.append((path, "must be a plain value: the gate checks every input before anything is declared, "
                               "so an output of another resource cannot be one"))
        return None
    if typing.is_typeddict(hint) and isinstance(value, Mapping):
        fields = typing.get_type_hints(hint)
        return {(camel_case(key) if key in fields else key):
                _config_value(item, fields.get(key, Any), key_path(path, camel_case(key)) if path else camel_case(key),
                              problems)
                for key, item in value.items()}
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin is dict and isinstance(value, Mapping):
        return {key: _config_value(item, arguments[1], key_path(path, str(key)), problems)
                for key, item in value.items()}
    if origin is list and isinstance(value, list):
        return [_config_value(item, arguments[0], key_path(path, index), problems)
                for index, item in enumerate(value)]
    if hint is int and isinstance(value, float) and value.is_integer():
        if abs(value) > EXACT_INTEGER_LIMIT:
            problems.append((path, f"is too large to arrive exactly (got {value:.0f}): numbers travel as 64-bit "
                                   f"floats, exact up to {EXACT_INTEGER_LIMIT:,}. Use a smaller number"))
            return None
        return int(value)
    return value


def canonical_areas(areas: Mapping[str, Any]) -> dict[str, Any]:
    """Areas in name order. Their order decides the order of rules and statements, and a map's order does not survive
    the engine's wire (a protobuf Struct's fields are a map; the Go engine writes them in random order): a
    component orders them by name, so every call declares the same thing."""
    return dict(sorted(areas.items()))


def wire_inputs(typed: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    """`args` (snake_case keys of `typed`'s TypedDicts) as the engine sends them: camelCase keys."""
    problems: list[tuple[str, str]] = []
    value = _config_value(dict(args), typed, "", problems)
    if problems:
        raise ValueError(problems)
    return value


def unknown_input_paths(wire: Mapping[str, Any], typed: Any = AppStorageArgs, path: str = "") -> list[str]:
    """Inputs in the engine's (camelCase) form that no field of `typed` names: the SDK's provider drops them before
    the component sees them, so they are found here (a typo must not fall silently to a default)."""
    if typing.is_typeddict(typed) and isinstance(wire, Mapping):
        fields = {camel_case(name): hint for name, hint in typing.get_type_hints(typed).items()}
        unknown = []
        for key, value in wire.items():
            where = key_path(path, key) if path else key
            unknown += unknown_input_paths(value, fields[key], where) if key in fields else [where]
        return unknown
    origin, arguments = typing.get_origin(typed), typing.get_args(typed)
    if origin is dict and isinstance(wire, Mapping):
        return [found for key, value in wire.items()
                for found in unknown_input_paths(value, arguments[1], key_path(path, str(key)))]
    if origin is list and isinstance(wire, list):
        return [found for index, value in enumerate(wire)
                for found in unknown_input_paths(value, arguments[0], key_path(path, index))]
    return []


def input_path(key: str, app: str) -> str:
    """The input a gate key path is about: `app-storage:apps.<app>.cors[0]` -> `cors[0]`, `aws:region` -> `region`,
    `minio:minioServer` -> `minio.minioServer`."""
    for prefix, replacement in ((f"{NAMESPACE}:apps.{app}", ""), (f"{NAMESPACE}:", ""), ("aws:region", "region"),
                                ("minio:", "minio.")):
        if key.startswith(prefix):
            return (replacement + key[len(prefix):]).lstrip(".")
    return key


def as_inputs(text: str, app: str) -> str:
    """A gate message or warning in the component's terms: its config key paths named as inputs."""
    return text.replace(f"{NAMESPACE}:apps.{app}.", "").replace(f"{NAMESPACE}:", "")


def _config(name: str, args: dict[str, Any], caller_config: Mapping[str, Any]) -> dict[str, Any]:
    config = {key: value for key, value in caller_config.items() if key in CALLER_CONFIG_KEYS}
    if "region" in args:
        config["aws:region"] = args["region"]
    for key, value in (args.get("minio") or {}).items():
        config[f"minio:{key}"] = value
    app_keys = {}
    for key, value in args.items():
        if key in COMPONENT_STACK_KEYS:
            config[f"{NAMESPACE}:{key}"] = value
        elif key not in COMPONENT_ONLY_INPUTS:
            app_keys[key] = value  # the app's keys, and anything unknown: the gate names it
    config[f"{NAMESPACE}:apps"] = {name: app_keys}
    return config


def _shared(p: Problems, args: dict[str, Any], stack: StackSettings | None) -> None:
    """The references a stack would have given the app: log buckets by region, alert topics."""
    log_buckets = args.get("logBuckets") or {}
    for region, bucket in log_buckets.items():
        where = key_path("logBuckets", region)
        if not REGION.match(str(region)):
            p.add(where, region, "is not an AWS region name", "Key each log bucket by its region, like us-east-1.")
        elif not isinstance(bucket, str) or naming.bucket_name_problems(bucket):
            p.add(where, bucket, "is not an S3 bucket name", "Name the existing bucket that receives the logs.")
    for key in ("alertTopicArn", "edgeAlertTopicArn"):
        value = args.get(key)
        if value is not None and not SNS_TOPIC_ARN.match(str(value)):
            p.add(key, value, "is not an SNS topic ARN", "Use arn:aws:sns:<region>:<account>:<topic>.")
    if stack is None:
        return
    if stack.backend == "minio":
        for key in ("logBuckets", "alertTopicArn", "edgeAlertTopicArn"):
            if args.get(key):
                p.add(key, args[key], "applies only to the aws backend", "Remove it on minio.")
    elif not args.get("alertTopicArn"):
        alerts = stack.apps[0].alerts
        for threshold, value in (("storageBytes", alerts.storage_bytes), ("requestsPer5Min", alerts.requests_per_5min),
                                 ("monthlyBudgetUsd", alerts.monthly_budget_usd)):
            if value is not None:
                p.add(f"alerts.{threshold}", value, "needs a topic to notify",
                      "Pass alertTopicArn (the SNS topic the alarm and budget notify), or remove the threshold.")


def read_component_inputs(name: str, args: AppStorageArgs | Mapping[str, Any], caller_config: Mapping[str, Any],
                          project: str, stack: str) -> ComponentSettings:
    """The component's inputs as settings, read by the gate a stack file goes through. Raises InputProblems naming
    each input that is wrong (every one at once)."""
    problems: list[tuple[str, str]] = []
    values = _config_value(dict(args), AppStorageArgs, "", problems)
    if problems:
        raise InputProblems(name, problems)
    if isinstance(values.get("areas"), dict):
        values["areas"] = canonical_areas(values["areas"])
    p = Problems()
    settings = None
    try:
        settings = parse_settings(_config(name, values, caller_config), project, stack)
    except SettingsError as error:
        for key, message in zip(error.keys, error.problems, strict=True):
            problems.append((input_path(key, name), as_inputs(message[len(key) + 2:], name)))
    _shared(p, values, settings)
    problems.extend((key, message[len(key) + 2:]) for key, message in zip(p.keys, p.messages, strict=True))
    if problems or settings is None:
        raise InputProblems(name, problems)
    return ComponentSettings(
        app=settings.apps[0], stack=settings, log_buckets=dict(values.get("logBuckets") or {}),
        alert_topic_arn=values.get("alertTopicArn"), edge_alert_topic_arn=values.get("edgeAlertTopicArn"),
        warnings=tuple(as_inputs(warning, name) for warning in settings.warnings))
