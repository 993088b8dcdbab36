"""AppStorage as a multi-language component package (`plugin/`): the schema the SDK infers from it, its inputs held
to the settings gate's tables, and a component called on its own declaring what the stack program declares.

The inferred schema is a golden; regenerate it on purpose with

    UPDATE_GOLDEN=1 venv/bin/python -m pytest tests/unit/test_component_package.py
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import typing

import pulumi
import pytest
from pulumi.provider.experimental.component import ComponentProvider

from cli.offline import Plan, evaluate, evaluate_stack
from components import PACKAGE_NAME, VERSION, app_storage_args
from components.app_storage import AppStorage, Connection
from components.app_storage_args import AppStorageArgs
from components.connection import SECRET_FIELDS, StorageConnection
from components.settings import schema
from components.settings.component_inputs import camel_case
from tests.helpers import ROOT, component_args, stack_plan_in_component_order, stack_values

GOLDEN = ROOT / "tests" / "golden" / "app_storage_schema.json"
TYPE_NAMES = {"string": str, "boolean": bool, "integer": int, "map": dict, "list": list}


@functools.cache
def _inferred_schema_text() -> str:
    return ComponentProvider([AppStorage], PACKAGE_NAME, None, VERSION).schema


def inferred_schema() -> dict:
    return json.loads(_inferred_schema_text())


def test_the_inferred_schema_matches_its_golden():
    """What `pulumi package add` generates SDKs from: a change here changes every consumer's SDK."""
    schema_text = json.dumps(inferred_schema(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(schema_text)
    assert schema_text == GOLDEN.read_text(), f"see the docstring of {__name__} to regenerate on purpose"


def test_the_schema_names_the_package_and_its_version_once():
    schema_json = inferred_schema()
    assert (schema_json["name"], schema_json["version"]) == (PACKAGE_NAME, VERSION)
    assert list(schema_json["resources"]) == [f"{PACKAGE_NAME}:index:AppStorage"]


# (TypedDict, the gate's table it follows, the input path it is at: the table's keys a stack alone declares there
# are left out, `schema.STACK_PROGRAM_ONLY`)
NESTED = [
    (app_storage_args.AreaConfig, schema.AREA_KEYS, "areas"),
    (app_storage_args.CorsRuleConfig, schema.CORS_KEYS, "cors"),
    (app_storage_args.LifecycleRuleConfig, schema.LIFECYCLE_KEYS, "lifecycle"),
    (app_storage_args.KeptLifecycleRuleConfig, schema.KEPT_LIFECYCLE_KEYS, "keep.lifecycle"),
    (app_storage_args.TransitionConfig, schema.TRANSITION_KEYS, "lifecycle.transitions"),
    (app_storage_args.IdentityConfig, schema.IDENTITY_KEYS, "identity"),
    (app_storage_args.RotationConfig, schema.ROTATION_KEYS, "identity.rotation"),
    (app_storage_args.TrustConfig, schema.TRUST_KEYS, "identity.trust"),
    (app_storage_args.OidcConfig, schema.OIDC_KEYS, "identity.trust.oidc"),
    (app_storage_args.AppAlertsConfig, schema.APP_ALERT_KEYS, "alerts"),
    (app_storage_args.KeepConfig, schema.KEEP_KEYS, "keep"),
    (app_storage_args.ReplicationConfig, schema.REPLICATION_KEYS, "replication"),
    (app_storage_args.CdnConfig, schema.CDN_KEYS, "cdn"),
    (app_storage_args.MinioServerConfig, schema.MINIO_PROVIDER_SETTINGS, "minio"),
]


def _top_level_keys() -> tuple[schema.Key, ...]:
    stack_keys = {key.name: key for key in schema.STACK_KEYS}
    return (*schema.APP_KEYS, *(stack_keys[name] for name in schema.COMPONENT_STACK_KEYS), *schema.COMPONENT_KEYS)


@pytest.mark.parametrize("typed, keys, at", [(AppStorageArgs, _top_level_keys(), ""), *NESTED],
                         ids=lambda value: getattr(value, "__name__", None))
def test_inputs_follow_the_gate_tables_in_name_type_and_description(typed, keys, at):
    """The schema's inputs are the gate's keys: the same names (camelCase on the wire), the same kinds of value
    (a map may be a TypedDict of its own), the descriptions the tables give (the analyzer reads each field's
    docstring)."""
    hints = {camel_case(name): hint for name, hint in typing.get_type_hints(typed).items()}
    resource = inferred_schema()["resources"][f"{PACKAGE_NAME}:index:AppStorage"]
    properties = (resource["inputProperties"] if typed is AppStorageArgs
                  else inferred_schema()["types"][f"{PACKAGE_NAME}:index:{typed.__name__}"]["properties"])
    expected = [key for key in keys if f"{at}.{key.name}" not in schema.STACK_PROGRAM_ONLY]  # nested ones: cdn.waf
    assert sorted(hints) == sorted(key.name for key in expected)
    for key in expected:
        assert properties[key.name]["description"] == key.meaning, key.name
        hint = hints[key.name]
        kind = dict if typing.is_typeddict(hint) else typing.get_origin(hint) or hint
        assert kind is TYPE_NAMES[key.type], key.name


def test_what_the_component_does_not_take_is_what_only_a_stack_declares():
    """Every stack key is either an input or listed, with the reason, as the stack program's alone."""
    taken = set(schema.COMPONENT_STACK_KEYS)
    stack_keys = {key.name for key in schema.STACK_KEYS}
    assert stack_keys - taken == {key for key in schema.STACK_PROGRAM_ONLY if "." not in key}
    assert taken <= stack_keys


def test_the_connection_output_type_is_the_connection_without_its_secret():
    assert set(typing.get_type_hints(Connection)) == {
        f.name for f in dataclasses.fields(StorageConnection) if f.name not in SECRET_FIELDS}


def _app_subtree(plan: Plan, app: str) -> list:
    by_urn = {r.urn: r for r in plan.resources}
    [root] = [r.urn for r in plan.resources if r.type == "app-storage:index:AppStorage" and r.name == app]

    def under(resource) -> bool:
        while resource is not None:
            if resource.urn == root:
                return True
            resource = by_urn.get(resource.parent)
        return False
    return [r for r in plan.resources if under(r)]


def declared(resources: list) -> dict:
    """URN -> (type, inputs, options), with dependencies on what lies outside the app left out: a component called
    on its own gets the stack's shared resources by name (log buckets, topics, the web ACL), not as resources."""
    urns = {r.urn for r in resources}
    return {r.urn: (r.type, r.inputs, {**r.options, "dependsOn": [u for u in r.options["dependsOn"] if u in urns]})
            for r in resources}


def component_plan(stack: str, app: str, args: dict) -> Plan:
    return evaluate(stack, {}, lambda: AppStorage(app, typing.cast(AppStorageArgs, args)),
                    region=stack_values(stack).get("aws:region", "us-east-1"))


SHIPPED_APPS = [(stack, app) for stack in ("prod", "dev") for app in stack_values(stack)["app-storage:apps"]]


@pytest.fixture(scope="module")
def stack_plans() -> dict[str, Plan]:
    return {stack: stack_plan_in_component_order(stack) for stack in ("prod", "dev")}


@pytest.mark.parametrize("stack, app", SHIPPED_APPS)
def test_the_component_called_on_its_own_declares_what_the_stack_declares(stack_plans, stack, app):
    """Every shipped app: the same URNs, types, inputs and options (protection, aliases, replacement), and the
    same dependencies within the app, given its areas in the order a component gives them; its warnings name
    inputs, not config keys."""
    stack_plan = stack_plans[stack]
    own = component_plan(stack, app, component_args(stack, app, stack_plan))
    assert declared(own.resources) == declared(_app_subtree(stack_plan, app))
    assert not any("app-storage:" in warning.split(" ")[0] for warning in own.warnings), own.warnings


def _problems(stack: str, app: str, change) -> list[tuple[str, str]]:
    """The per-input errors of the app's component call with its inputs changed by `change` (inside the program:
    an Output needs its event loop); nothing may have been declared."""
    args = component_args(stack, app, evaluate_stack(stack))
    monitors = []

    def program() -> None:
        monitors.append(pulumi.runtime.settings.get_monitor())
        change(args)
        AppStorage(app, typing.cast(AppStorageArgs, args))
    with pytest.raises(pulumi.InputPropertiesError) as raised:
        evaluate(stack, {}, program, region="us-east-1")
    assert [resource.urn for resource in monitors[0].recorded] == []
    return [(error["property_path"], error["reason"]) for error in raised.value.errors or []]


def test_bad_inputs_are_reported_each_by_its_input_path_and_nothing_is_declared():
    def break_three(args):
        args["cors"][0]["origins"] = ["ftp://x"]
        args["areas"]["private"]["presign_seconds"] = 0
        args["replication"]["region"] = "us-east-1"
    problems = _problems("prod", "eventhorizon", break_three)
    paths = [path for path, _ in problems]
    assert {"cors[0].origins[0]", "areas.private.presignSeconds", "replication.region"} <= set(paths), problems
    assert all(not reason.startswith(("app-storage:", path)) for path, reason in problems), problems


def test_an_unknown_input_and_a_bad_reference_name_their_paths():
    def unknown(args):
        args["bucket_nmae"] = "x"
        args["alert_topic_arn"] = "not-an-arn"
    paths = {path for path, _ in _problems("prod", "chat", unknown)}
    assert {"bucket_nmae", "alertTopicArn"} <= paths


def test_alert_thresholds_without_a_topic_are_refused_not_dropped():
    paths = {path for path, _ in _problems("prod", "chat", lambda args: args.pop("alert_topic_arn"))}
    assert {"alerts.storageBytes", "alerts.requestsPer5Min", "alerts.monthlyBudgetUsd"} <= paths


def test_an_output_as_input_is_refused_by_path():
    def output(args):
        args["bucket_prefix"] = pulumi.Output.from_input("late")
    assert _problems("prod", "chat", output) == [
        ("bucketPrefix", "must be a plain value: the gate checks every input before anything is declared, so an "
                         "output of another resource cannot be one")]


def test_whole_numbers_sent_as_floats_are_read_back_exactly():
    """The engine carries numbers as floats (protobuf Struct); an integer input arrives as 90.0."""
    plan = evaluate_stack("prod")
    args = component_args("prod", "chat", plan)
    args["noncurrent_version_expiration_days"] = 30.0
    own = component_plan("prod", "chat", args)
    [lifecycle] = [r for r in own.resources if r.name == "chat-storage-lifecycle"]
    noncurrent_days = [rule["noncurrentVersionExpiration"]["noncurrentDays"] for rule in lifecycle.inputs["rules"]
                       if rule["id"] == "expire-noncurrent-versions"]
    assert noncurrent_days == [30] and isinstance(noncurrent_days[0], int)
    args["noncurrent_version_expiration_days"] = 30.5
    with pytest.raises(pulumi.InputPropertiesError) as raised:
        component_plan("prod", "chat", args)
    assert [e["property_path"] for e in raised.value.errors or []] == ["noncurrentVersionExpirationDays"]
    args["noncurrent_version_expiration_days"] = float(2**60)
    with pytest.raises(pulumi.InputPropertiesError, match="too large to arrive exactly"):
        component_plan("prod", "chat", args)


def test_the_callers_own_config_beyond_its_region_and_minio_server_is_not_judged():
    """Only `aws:region` and the MinIO provider's settings are read from the calling program's config; a MinIO
    password there (which a stack file may not hold) is the caller's business, not an error of the component."""
    from components.settings.component_inputs import read_component_inputs

    caller = {"minio:minioServer": "localhost:9000", "minio:minioPassword": "hunter2", "other:key": "x"}
    read = read_component_inputs("media", {"backend": "minio"}, caller, "app-storage", "dev")
    assert read.stack.minio is not None and read.stack.minio.server == "localhost:9000"


def test_the_account_is_looked_up_with_the_aws_provider_the_component_was_given(monkeypatch):
    """A caller may hand AppStorage a provider of another account: the key policy's and trust policies' account
    comes from that provider's caller identity, not the default provider's (one lookup per provider)."""
    import pulumi_aws as aws

    from cli import offline

    args = component_args("prod", "chat", evaluate_stack("prod"))
    providers_asked = []
    answer = offline.PlanMocks.call

    def recording(self, args):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            providers_asked.append(args.provider or "default")
        return answer(self, args)
    monkeypatch.setattr(offline.PlanMocks, "call", recording)

    def program() -> None:
        other = aws.Provider("other-account", region="us-east-1")
        AppStorage("chat", typing.cast(AppStorageArgs, args), pulumi.ResourceOptions(providers={"aws": other}))
    evaluate("prod", {}, program, region="us-east-1")
    assert len(providers_asked) == 1 and "other-account" in providers_asked[0], providers_asked
