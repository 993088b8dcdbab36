"""AppIdentity and its policy document: own bucket, own prefixes, own key; nothing is a wildcard."""

from __future__ import annotations

import json

from components import documents
from components.aws.app_identity import AppIdentity, AppIdentityArgs
from tests.helpers import by_kind, plan_program, policy_document

BUCKET_ARN = "arn:aws:s3:::acme-chat"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/abcd"


def all_actions_and_resources(document: dict) -> tuple[list[str], list[str]]:
    actions, resources = [], []
    for statement in document["Statement"]:
        actions += statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources += statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return actions, resources


def test_policy_is_limited_to_the_app_prefixes_and_bucket():
    document = documents.app_access_policy(BUCKET_ARN, ["uploads/", "avatars/"])
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["ListAreaPrefixes"]["Condition"] == {"StringLike": {"s3:prefix": ["avatars/*", "uploads/*"]}}
    assert by_sid["ReadWriteAreaObjects"]["Resource"] == [f"{BUCKET_ARN}/avatars/*", f"{BUCKET_ARN}/uploads/*"]
    assert by_sid["ReadWriteAreaObjects"]["Action"] == list(documents.OBJECT_READ_WRITE_ACTIONS)
    actions, resources = all_actions_and_resources(document)
    assert "*" not in actions and not any(a.endswith(":*") for a in actions)
    assert all(r == BUCKET_ARN or r.startswith(f"{BUCKET_ARN}/") for r in resources)
    assert not any(a.startswith("kms:") for a in actions)


def test_whole_bucket_area_lists_without_a_prefix_condition():
    document = documents.app_access_policy(BUCKET_ARN, [""])
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert "Condition" not in by_sid["ListAreaPrefixes"]
    assert by_sid["ReadWriteAreaObjects"]["Resource"] == [f"{BUCKET_ARN}/*"]


def test_kms_statement_names_only_the_bucket_key():
    document = documents.app_access_policy(BUCKET_ARN, ["uploads/"], KEY_ARN)
    kms = [s for s in document["Statement"] if s["Sid"] == "UseBucketKey"][0]
    assert kms["Resource"] == [KEY_ARN] and kms["Action"] == list(documents.KMS_DATA_KEY_ACTIONS)


def declare_identity():
    def program():
        AppIdentity("chat-identity", AppIdentityArgs(user_name="acme-chat", group_name="acme-chat-access",
                                                     bucket_arn=BUCKET_ARN, prefixes=("uploads/",),
                                                     kms_key_arn=KEY_ARN))
    plan = plan_program(program)
    return by_kind(plan), plan


def test_permissions_come_through_a_group_not_the_user():
    by_kind, plan = declare_identity()
    assert {"User", "Group", "GroupPolicy", "UserGroupMembership", "AccessKey"} <= set(by_kind)
    assert not [r for r in plan.resources if r.type in ("aws:iam/userPolicy:UserPolicy",
                                                        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
                                                        "aws:iam/userLoginProfile:UserLoginProfile")]
    assert by_kind["UserGroupMembership"].inputs == {"user": "acme-chat", "groups": ["acme-chat-access"]}
    assert by_kind["GroupPolicy"].inputs["group"] == "acme-chat-access"
    document = policy_document(by_kind["GroupPolicy"])
    _, resources = all_actions_and_resources(document)
    assert KEY_ARN in resources


def test_secret_access_key_is_a_secret_output():
    def program():
        import pulumi
        identity = AppIdentity("i", AppIdentityArgs(user_name="acme-chat", group_name="acme-chat-access",
                                                    bucket_arn=BUCKET_ARN, prefixes=("uploads/",)))
        pulumi.export("secret", identity.secret_access_key)
        pulumi.export("key_id", identity.access_key_id)
    outputs = plan_program(program).outputs
    assert outputs["secret"] == "[secret]"
    assert outputs["key_id"].startswith("AKIA")
    assert "mock-secret" not in json.dumps(outputs)
