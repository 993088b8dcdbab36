"""App identities: the settings gate's rules, the resources each kind declares, and what the app's `.env` gets.

A user's keys rotate by generation (at most the current and the previous one live); a role (AWS only) has no key
and a trust policy that allows only what the stack configured."""

from __future__ import annotations

import copy
import json

import pytest

from cli.offline import evaluate, run_main
from cli.stack_outputs import app_connection
from components import dialects
from components.settings.types import SettingsError
from tests.helpers import as_config, run_cli, settings_for, stack_values

ECS_ROLE = {"kind": "role", "trust": {"service": "ecs-tasks.amazonaws.com"}}
OIDC_ROLE = {"kind": "role", "trust": {"oidc": {
    "providerArn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
    "audience": "sts.amazonaws.com", "subjects": ["system:serviceaccount:chat:chat-api"]}}}


def prod_with(**identities) -> dict:
    values = copy.deepcopy(stack_values("prod"))
    for app, identity in identities.items():
        values["app-storage:apps"][app]["identity"] = identity
    return values


def problems(values: dict) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        settings_for(values)
    return caught.value.problems


def plan_of(values: dict, stack: str = "prod"):
    return evaluate(stack, as_config(values), run_main, show_secrets=True)


# --- the gate ------------------------------------------------------------------------------------------------


def test_the_default_identity_is_a_user_with_one_key():
    app = settings_for(stack_values("prod")).apps[0]
    assert (app.identity.kind, app.identity.live_generations) == ("user", (1,))


@pytest.mark.parametrize("rotation, live", [({"generation": 2}, (2, 1)), ({"generation": 5}, (5, 4)),
                                            ({"generation": 3, "retirePrevious": True}, (3,)),
                                            ({"generation": 1}, (1,))])
def test_rotation_keeps_the_current_and_the_previous_generation(rotation, live):
    settings = settings_for(prod_with(chat={"rotation": rotation}))
    assert next(a for a in settings.apps if a.name == "chat").identity.live_generations == live


def test_the_stack_identity_is_every_apps_default_and_an_app_may_override_it():
    values = prod_with(chat={"kind": "user"})
    values["app-storage:identity"] = {"rotation": {"generation": 2}}
    by_name = {a.name: a.identity for a in settings_for(values).apps}
    assert by_name["vista"].live_generations == (2, 1) and by_name["chat"].live_generations == (1,)


@pytest.mark.parametrize("identity, fragment", [
    ({"kind": "role"}, "identity.trust: must say who may assume the role"),
    ({"kind": "role", "trust": {"service": "ecs-tasks.amazonaws.com", "principals": ["123456789012"]}},
     "names 2 kinds of trust"),
    ({"kind": "role", "trust": {"service": "s3.amazonaws.com"}}, "identity.trust.service"),
    ({"kind": "role", "trust": {"principals": ["*"]}}, "a `*` would trust anyone"),
    ({"kind": "role", "trust": {"oidc": {**OIDC_ROLE["trust"]["oidc"], "subjects": ["*"]}}},
     "matches every workload"),
    ({"kind": "role", "trust": {"oidc": {"audience": "sts.amazonaws.com", "subjects": ["x"]}}}, "has no providerArn"),
    ({"kind": "role", "trust": {"service": "lambda.amazonaws.com", "externalId": "x"}}, "applies only to `principals`"),
    ({**ECS_ROLE, "rotation": {"generation": 2}}, "a role has none"),
    ({"trust": {"service": "ecs-tasks.amazonaws.com"}}, "is only for `kind: role`"),
    ({"rotation": {"generation": 0}}, "identity.rotation.generation"),
    ({"kind": "group"}, "identity.kind"),
    ({"rotate": {"generation": 2}}, "identity.rotate"),
])
def test_fails_an_identity_the_gate_cannot_declare(identity, fragment):
    found = problems(prod_with(chat=identity))
    assert len(found) == 1 and fragment in found[0] and "app-storage:apps.chat.identity" in found[0], found


def test_fails_a_role_on_minio_and_for_a_client_that_needs_a_key():
    dev = copy.deepcopy(stack_values("dev"))
    dev["app-storage:apps"]["chat"]["identity"] = ECS_ROLE
    assert "needs AWS IAM, and this stack's backend is minio" in problems(dev)[0]
    assert "leaves the s3 dialect without the key" in problems(prod_with(vista=ECS_ROLE))[0]


# --- what each kind declares ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_plan():
    """The issue's stack: chat a role trusted by ECS tasks, vista a user at key generation 2."""
    return plan_of(prod_with(chat=ECS_ROLE, vista={"rotation": {"generation": 2}}))


def _of(plan, app: str, token: str) -> list:
    return [r for r in plan.resources if r.type == token and r.name.startswith(f"{app}-identity")]


def test_a_role_app_gets_a_role_with_its_policy_and_no_user_or_key(mixed_plan):
    assert _of(mixed_plan, "chat", "aws:iam/accessKey:AccessKey") == []
    assert _of(mixed_plan, "chat", "aws:iam/user:User") == []
    [role] = _of(mixed_plan, "chat", "aws:iam/role:Role")
    assert role.inputs["name"] == "app-storage-prod-chat-app"
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                      "Action": ["sts:AssumeRole"],
                      "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    [policy] = _of(mixed_plan, "chat", "aws:iam/rolePolicy:RolePolicy")
    sids = [s["Sid"] for s in json.loads(policy.inputs["policy"])["Statement"]]
    assert sids == ["ListAreaPrefixes", "LocateBucket", "ReadWriteAreaObjects", "UseBucketKey"]
    assert mixed_plan.outputs["chat"]["role_arn"].endswith(":role/app-storage/app-storage-prod-chat-app")


def test_a_rotated_user_holds_two_keys_and_the_env_gets_the_current_one(mixed_plan, tmp_path):
    keys = _of(mixed_plan, "vista", "aws:iam/accessKey:AccessKey")
    assert sorted(k.name for k in keys) == ["vista-identity-access-key", "vista-identity-access-key-second"]
    outputs = mixed_plan.outputs
    live = outputs["vista"]["access_keys"]
    assert [(k["generation"], k["current"]) for k in live] == [(2, True), (1, False)]
    assert outputs["vista"]["access_key_id"] == live[0]["access_key_id"]
    assert outputs["vista_previous_secret_access_key"] != outputs["vista_secret_access_key"]
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(mixed_plan.as_dict()))
    env_file = tmp_path / "vista.env"
    result = run_cli("env", "--stack", "prod", "--app", "vista", "--from", str(plan_file), "--out", str(env_file))
    assert result.returncode == 0, result.stderr
    text = env_file.read_text()
    assert f"S3_ACCESS_KEY='{live[0]['access_key_id']}'" in text
    assert f"S3_SECRET_KEY='{outputs['vista_secret_access_key']}'" in text


def test_a_role_apps_env_carries_no_key(mixed_plan):
    connection, dialect = app_connection(mixed_plan.outputs, "prod", "chat")
    values = dialects.render_env(dialect or "", connection)
    assert "OBJECT_STORAGE_ACCESS_KEY" not in values and "OBJECT_STORAGE_SECRET_KEY" not in values
    assert values["OBJECT_STORAGE_BUCKET"] == "app-storage-prod-chat" and "AWS_ROLE_ARN" not in values


def test_an_oidc_role_tells_the_sdk_which_role_to_assume_with_its_token():
    plan = plan_of(prod_with(chat=OIDC_ROLE))
    [role] = _of(plan, "chat", "aws:iam/role:Role")
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Condition"] == {"StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"},
                                      "StringLike": {f"{issuer}:sub": ["system:serviceaccount:chat:chat-api"]}}
    connection, dialect = app_connection(plan.outputs, "prod", "chat")
    assert dialects.render_env("aws-sdk", connection)["AWS_ROLE_ARN"] == plan.outputs["chat"]["role_arn"]


def test_principals_are_named_and_conditioned_on_their_accounts():
    plan = plan_of(prod_with(chat={"kind": "role", "trust": {
        "principals": ["210987654321", "arn:aws:iam::123456789012:role/deployer"], "externalId": "chat-x"}}))
    [role] = _of(plan, "chat", "aws:iam/role:Role")
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::123456789012:role/deployer",
                                              "arn:aws:iam::210987654321:root"]}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "chat-x"}}


def test_principals_without_an_external_id_are_warned_about():
    settings = settings_for(prod_with(chat={"kind": "role", "trust": {"principals": ["210987654321"]}}))
    assert any("without an external id" in warning for warning in settings.warnings)


def test_on_minio_later_generations_are_service_accounts_with_the_users_policy():
    dev = copy.deepcopy(stack_values("dev"))
    dev["app-storage:apps"]["chat"]["identity"] = {"rotation": {"generation": 3}}
    plan = plan_of(dev, "dev")
    accounts = [r for r in plan.resources if r.type == "minio:index/iamServiceAccount:IamServiceAccount"]
    assert sorted(a.name for a in accounts) == ["chat-identity-service-account-g2", "chat-identity-service-account-g3"]
    [user_policy] = [r for r in plan.resources if r.name == "chat-identity-policy"]
    assert all(a.inputs["policy"] == user_policy.inputs["policy"] for a in accounts)
    live = plan.outputs["chat"]["access_keys"]
    assert [k["generation"] for k in live] == [3, 2] and len(live[0]["access_key_id"]) <= 20
