"""Shared test helpers: the shipped stacks' config, programs under Pulumi's mock runtime, the command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from cli.offline import Plan, evaluate, stack_config_values, to_config_text
from components.settings.gate import parse_settings
from components.settings.types import IdentitySettings, StackSettings

ROOT = Path(__file__).resolve().parent.parent

# The shapes of connection a shipped stack gives an app: (offline plan, app) they are taken from.
CONNECTION_SHAPES = {
    "aws-cdn": ("prod", "eventhorizon"),            # public areas behind CloudFront
    "aws-no-cdn": ("prod-without-cdn", "eventhorizon"),  # public areas served by S3 (publicWithoutCdn)
    "aws-private": ("prod", "chat"),                # only private areas
    "minio": ("dev", "eventhorizon"),
}


def stack_values(stack: str) -> dict:
    """The shipped stack's config values (project-level values merged under the stack file's)."""
    return stack_config_values(stack, ROOT)[0]


def as_config(values: dict) -> dict:
    """Stack-file style values -> the text config a program receives."""
    return {key: to_config_text(value) for key, value in values.items()}


def settings_for(values: dict, stack: str = "test") -> StackSettings:
    return parse_settings(as_config(values), "app-storage", stack)


def plan_program(program: Callable[[], None], values: dict | None = None, stack: str = "test") -> Plan:
    return evaluate(stack, as_config(values or {"aws:region": "us-east-1"}), program)


def generation_named_plan(generation: int, retire_previous: bool = False, user: str = "vista") -> dict:
    """The earlier design of key rotation, as a plan JSON: one AppIdentity's user with a key resource per live
    generation (`<app>-identity-access-key` for 1, `-access-key-g<N>` after), created and deleted as plain
    resources. Deployed stacks still hold it; the change model shows what it did wrong."""
    import pulumi
    import pulumi_aws as aws

    from components.aws.app_identity import generation_named_key

    generations = IdentitySettings(generation=generation, retire_previous=retire_previous).live_generations

    def program() -> None:
        component = pulumi.ComponentResource("app-storage:index:AppIdentity", "vista-identity")
        child = pulumi.ResourceOptions(parent=component)
        iam_user = aws.iam.User("vista-identity-user", name=user, opts=child)
        keys = [aws.iam.AccessKey(generation_named_key("vista-identity", g), user=iam_user.name, opts=child)
                for g in generations]
        pulumi.export("vista", {"access_keys": pulumi.Output.all(*(k.id for k in keys)).apply(lambda ids: [
            {"generation": g, "access_key_id": i, "current": n == 0}
            for n, (g, i) in enumerate(zip(generations, ids, strict=True))])})

    return plan_program(program).as_dict()


def by_kind(plan: Plan) -> dict:
    """A component's resources by the last part of their type (`Bucket`, `IamUser`, ...)."""
    return {r.type.rsplit(":", 1)[-1]: r for r in plan.resources}


def policy_document(resource) -> dict:
    return json.loads(resource.inputs["policy"])


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The command as a user runs it: a fresh process, output captured."""
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)


# --- the policy pack ---------------------------------------------------------------------------------------------


def analyzed_stack(plan: Plan) -> list:
    """What the engine would analyze for `plan` (stack, default providers, resources), as fresh copies a test may
    mutate."""
    import copy

    from cli.policy import analyzed_resources

    return copy.deepcopy(analyzed_resources(plan))


def pack_config(stack: str) -> dict[str, dict]:
    """policies/<stack>.json as the engine parses it: rule -> its config properties."""
    from cli.policy import PACK_DIR, parse_pack_config

    parsed = parse_pack_config((PACK_DIR / f"{stack}.json").read_text(), f"{stack}.json")
    return {name: entry["properties"] for name, entry in parsed.items()}


def rule_messages(rule_name: str, analyzed: list, config: dict | None = None) -> list[str]:
    """What one rule reports for these resources, in-process (exceptions applied)."""
    from cli.policy import policy_resources
    from policies.rules import BY_NAME
    from policies.rules.pack import resource_violations, stack_violations

    rule = BY_NAME[rule_name]
    resources = policy_resources(analyzed)
    if rule.stack:
        return [finding.message for finding in stack_violations(rule, resources, config)]
    return [message for resource in resources for message in resource_violations(rule, resource, config)]


def resource_named(analyzed: list, name: str):
    return next(entry for entry in analyzed if entry.name == name)


def set_path(properties: dict, path: str, new_value) -> None:
    """Set `a.b.0.c` in a nested dict/list, creating maps on the way."""
    steps = path.split(".")
    current = properties
    for step in steps[:-1]:
        current = current[int(step)] if isinstance(current, list) else current.setdefault(step, {})
    last = steps[-1]
    if isinstance(current, list):
        current[int(last)] = new_value
    else:
        current[last] = new_value


def _python_keys(value, hint):
    """Config-shaped `value` (camelCase keys) as AppStorageArgs holds it (snake_case keys of its TypedDicts; keys of
    maps, such as area names, as they are): the inverse of what the gate does to a component's inputs."""
    import typing

    from components.settings.component_inputs import camel_case

    if typing.is_typeddict(hint) and isinstance(value, dict):
        fields = typing.get_type_hints(hint)
        python_names = {camel_case(name): name for name in fields}
        return {python_names[key]: _python_keys(item, fields[python_names[key]]) for key, item in value.items()}
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin is dict and isinstance(value, dict):
        return {key: _python_keys(item, arguments[1]) for key, item in value.items()}
    if origin is list and isinstance(value, list):
        return [_python_keys(item, arguments[0]) for item in value]
    return value


def component_args(stack: str, app: str, plan: Plan) -> dict:
    """The AppStorage inputs that declare `app` of a shipped stack on its own, as another language's program would:
    the stack's keys a component takes, the app's own keys with the stack's alert thresholds, and, by reference,
    what the stack's `plan` shares (log buckets, the alert topic, the web ACL)."""
    from components.app_storage_args import AppStorageArgs
    from components.settings.schema import COMPONENT_STACK_KEYS

    values = stack_values(stack)
    config = {key: values[f"app-storage:{key}"] for key in COMPONENT_STACK_KEYS if f"app-storage:{key}" in values}
    config.update(values["app-storage:apps"][app])
    stack_alerts = values.get("app-storage:alerts") or {}
    alerts = {key: stack_alerts[key] for key in ("storageBytes", "requestsPer5Min") if key in stack_alerts}
    if "appMonthlyBudgetUsd" in stack_alerts:
        alerts["monthlyBudgetUsd"] = stack_alerts["appMonthlyBudgetUsd"]
    if alerts:
        config["alerts"] = {**alerts, **config.get("alerts", {})}
    if "aws:region" in values:
        config["region"] = values["aws:region"]
    if "minio:minioServer" in values:
        config["minio"] = {key[len("minio:"):]: value for key, value in values.items() if key.startswith("minio:")}
    if plan.outputs.get("log_buckets"):
        config["logBuckets"] = plan.outputs["log_buckets"]
    if plan.outputs.get("alerts_topic_arn"):
        config["alertTopicArn"] = plan.outputs["alerts_topic_arn"]
    web_acls = {r.inputs["webAclId"] for r in plan.resources if r.type == "aws:cloudfront/distribution:Distribution"
                and r.inputs.get("webAclId")}
    if web_acls and (config.get("cdn") or {}).get("waf"):
        config["cdn"] = {**{k: v for k, v in config["cdn"].items() if k != "waf"}, "webAclArn": web_acls.pop()}
    return _python_keys(config, AppStorageArgs)


def stack_plan_in_component_order(stack: str) -> Plan:
    """The shipped stack's plan with each app's areas in name order, the order an AppStorage called on its own
    gives them (`canonical_areas`): what the component's declarations are compared with."""
    from components.settings.component_inputs import canonical_areas

    values = stack_values(stack)
    apps = {name: {**app, **({"areas": canonical_areas(app["areas"])} if app.get("areas") else {})}
            for name, app in values["app-storage:apps"].items()}
    return evaluate(stack, as_config({**values, "app-storage:apps": apps}))
