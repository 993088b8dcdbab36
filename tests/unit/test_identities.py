"""App identities: the settings gate's rules, the resources each kind declares, and what the app's `.env` gets.

A user's keys rotate by generation (at most the current and the previous one live); a role (AWS only) has no key
and a trust policy that allows only what the stack configured."""

from __future__ import annotations

import copy
import json

import pytest

from cli.offline import evaluate, run_main
from cli.stack_outputs import app_connection
from components import dialects, documents
from components.settings.schema import TRUSTED_SERVICES
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


GITHUB_OIDC = {"providerArn": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
               "audience": "sts.amazonaws.com"}
# Subject formats: GitHub Docs, "OpenID Connect reference" (https://docs.github.com/en/actions/reference/security/oidc),
# repo:<owner>/<repo>:<context>; Amazon EKS User Guide, "Assign IAM roles to Kubernetes service accounts"
# (https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html),
# system:serviceaccount:<namespace>:<service account>.


def subject_problems(subject: str, oidc: dict | None = None) -> list[str]:
    """The gate's problems for an OIDC role whose only subject is `subject`."""
    trust = {"oidc": {**(oidc or OIDC_ROLE["trust"]["oidc"]), "subjects": [subject]}}
    return problems(prod_with(chat={"kind": "role", "trust": trust}))


def assert_one_subject_problem(found: list[str], subject: str, *fragments: str) -> None:
    """One problem, naming the key path, the bad subject and the fix."""
    assert len(found) == 1, found
    assert found[0].startswith("app-storage:apps.chat.identity.trust.oidc.subjects[0]: "), found
    assert f"(got {subject!r})" in found[0], found
    assert all(fragment in found[0] for fragment in fragments), found


def test_fails_a_github_subject_of_every_repository():
    """`repo:*` matches a workflow of any repository of any owner. GitHub Docs, "OpenID Connect reference":
    the subject is repo:<owner>/<repo>:<context>, so the owner is what confines the role to one organization."""
    assert_one_subject_problem(subject_problems("repo:*", GITHUB_OIDC), "repo:*", "every GitHub owner",
                               "Name the owner (organization or user) without a wildcard")


def test_fails_a_github_subject_of_every_owner():
    """`repo:*/*:*` names an owner, but a wildcard one (GitHub Docs, "OpenID Connect reference": the subject is
    repo:<owner>/<repo>:<context>)."""
    assert_one_subject_problem(subject_problems("repo:*/*:*", GITHUB_OIDC), "repo:*/*:*", "every GitHub owner",
                               "repo:<owner>/<repo>:ref:refs/heads/main")


def test_fails_a_github_subject_whose_owner_has_a_wildcard():
    """`repo:octo-*/app:*` also matches `repo:octo-evil/app:...`: a partial owner is no owner (GitHub Docs,
    "OpenID Connect reference"; StringLike's `*` and `?` match any characters)."""
    assert_one_subject_problem(subject_problems("repo:octo-*/app:*", GITHUB_OIDC), "repo:octo-*/app:*",
                               "every GitHub owner")
    assert_one_subject_problem(subject_problems("repo:octo-or?/app:*", GITHUB_OIDC), "repo:octo-or?/app:*",
                               "every GitHub owner")


def test_fails_a_github_shaped_subject_whose_wildcard_comes_before_the_owner():
    """`repo*` and a leading `*` reach every repo:<owner>/... subject too (GitHub Docs, "OpenID Connect
    reference"), though they do not start with `repo:`."""
    assert_one_subject_problem(subject_problems("repo*", GITHUB_OIDC), "repo*", "every GitHub owner")
    assert_one_subject_problem(subject_problems("*:ref:refs/heads/main", GITHUB_OIDC), "*:ref:refs/heads/main",
                               "starts with a wildcard")


def test_fails_a_github_subject_that_no_token_carries():
    """`repo:octo-org` has no repository: GitHub never signs such a subject (GitHub Docs, "OpenID Connect
    reference"), so the role could never be assumed."""
    assert_one_subject_problem(subject_problems("repo:octo-org", GITHUB_OIDC), "repo:octo-org",
                               "is not a GitHub subject", "repo:<owner>/<repo>:environment:<name>")


def test_fails_an_eks_subject_of_every_namespace():
    """`system:serviceaccount:*:*` matches every service account of every namespace of the cluster. Amazon EKS User
    Guide, "Assign IAM roles to Kubernetes service accounts": the subject is
    system:serviceaccount:<namespace>:<service account>."""
    assert_one_subject_problem(subject_problems("system:serviceaccount:*:*"), "system:serviceaccount:*:*",
                               "every namespace", "Name the namespace without a wildcard")


def test_fails_an_eks_subject_whose_namespace_has_a_wildcard():
    """`system:serviceaccount:team-*:api` also matches a namespace another team creates (Amazon EKS User Guide,
    "Assign IAM roles to Kubernetes service accounts")."""
    assert_one_subject_problem(subject_problems("system:serviceaccount:team-*:api"),
                               "system:serviceaccount:team-*:api", "every namespace")
    assert_one_subject_problem(subject_problems("system:*"), "system:*", "every namespace")


def test_fails_an_eks_subject_that_no_token_carries():
    """`system:serviceaccount:chat` has no service account: EKS never signs such a subject (Amazon EKS User Guide,
    "Assign IAM roles to Kubernetes service accounts")."""
    assert_one_subject_problem(subject_problems("system:serviceaccount:chat"), "system:serviceaccount:chat",
                               "is not an EKS subject", "system:serviceaccount:chat:chat-api")


def test_fails_a_bare_star_subject_of_any_provider():
    """Any shape but GitHub's and EKS's keeps the earlier rule: not only wildcards (IAM User Guide, "IAM JSON
    policy elements: Condition operators", StringLike)."""
    assert_one_subject_problem(subject_problems("**"), "**", "matches every workload")


@pytest.mark.parametrize("subject", [
    "repo:octo-org/octo-repo:ref:refs/heads/main", "repo:octo-org/*:environment:prod", "repo:octo-org/*",
    "system:serviceaccount:chat:chat-api", "system:serviceaccount:chat:*", "project_path:acme/app:ref_type:branch:*",
])
def test_a_subject_with_a_concrete_owner_or_namespace_passes(subject):
    """What the providers sign (GitHub Docs, "OpenID Connect reference": repo:<owner>/<repo>:<context>; Amazon EKS
    User Guide, "Assign IAM roles to Kubernetes service accounts": system:serviceaccount:<namespace>:<service
    account>). A wildcard after the owner or namespace stays within it; other providers' shapes keep the earlier
    rule."""
    settings = settings_for(prod_with(chat={"kind": "role", "trust": {"oidc": {
        **(GITHUB_OIDC if subject.startswith("repo:") else OIDC_ROLE["trust"]["oidc"]), "subjects": [subject]}}}))
    assert next(a for a in settings.apps if a.name == "chat").identity.trust.oidc_subjects == (subject,)


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


def service_trust(service: str) -> list:
    """The trust statements of chat's role when it trusts `service`, as the plan declares them."""
    plan = plan_of(prod_with(chat={"kind": "role", "trust": {"service": service}}))
    [role] = _of(plan, "chat", "aws:iam/role:Role")
    return json.loads(role.inputs["assumeRolePolicy"])["Statement"]


def test_an_ecs_task_role_is_conditioned_on_the_account_ecs_supplies():
    """Amazon ECS Developer Guide, "Amazon ECS task IAM role"
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html): the task role's trust policy
    conditions ecs-tasks.amazonaws.com on aws:SourceAccount (and aws:SourceArn), which ECS supplies."""
    assert service_trust("ecs-tasks.amazonaws.com") == [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": ["sts:AssumeRole"],
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]


def test_a_lambda_execution_role_has_no_condition_lambda_would_not_meet():
    """AWS Lambda Developer Guide, "Defining Lambda function permissions with an execution role"
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html): the trust policy names only
    lambda.amazonaws.com, and aws:SourceArn "applies only to policies where your Lambda function is the target
    resource". A condition on a key Lambda does not send would keep every invocation from assuming the role."""
    assert service_trust("lambda.amazonaws.com") == [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": ["sts:AssumeRole"]}]


def test_an_ec2_instance_role_has_no_condition_ec2_would_not_meet():
    """Amazon EC2 User Guide, "IAM roles for Amazon EC2"
    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html): the instance role's trust
    policy (ec2-role-trust-policy.json) names only ec2.amazonaws.com; no EC2 page documents aws:SourceAccount on the
    instance profile's AssumeRole, so a condition could leave the instance without credentials."""
    assert service_trust("ec2.amazonaws.com") == [{
        "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": ["sts:AssumeRole"]}]


def test_the_s3_replication_role_has_no_condition_s3_would_not_meet(prod_plan):
    """Amazon S3 User Guide, "Setting up permissions for live replication"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html): the replication
    role's trust policy names only s3.amazonaws.com. With a condition S3 does not meet, replication stops at its
    first object, and nothing says so until then."""
    [role] = [r for r in prod_plan.resources if r.name == "chat-replication-role"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": ["sts:AssumeRole"]}]


def test_every_trusted_service_has_its_aws_page_and_the_pack_agrees():
    """Each service a role may trust (and S3, which replication trusts) cites the AWS page its trust policy follows;
    the pack's iam-role-trust-restricted exempts exactly the services documented without a condition, so it never
    asks for the condition that would lock them out (IAM User Guide, "AWS global condition context keys":
    aws:SourceAccount is in the request only where the calling service passes it)."""
    from policies.rules.identity import SERVICES_WITHOUT_TRUST_CONDITION

    assert set(TRUSTED_SERVICES) | {documents.S3_SERVICE} == set(documents.SERVICE_TRUST)
    assert all("(https://docs.aws.amazon.com/" in trust.source for trust in documents.SERVICE_TRUST.values())
    unconditioned = {service for service, trust in documents.SERVICE_TRUST.items() if not trust.condition_keys}
    assert unconditioned == set(SERVICES_WITHOUT_TRUST_CONDITION) == {
        "s3.amazonaws.com", "ec2.amazonaws.com", "lambda.amazonaws.com"}
    with pytest.raises(ValueError, match="no documented trust policy"):
        documents.service_trust_policy("codebuild.amazonaws.com", "123456789012")


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
