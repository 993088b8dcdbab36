"""MinioIdentity: a MinIO user whose attached policy is the app's own bucket and prefixes, secret kept secret."""

from __future__ import annotations

import pulumi

from cli.offline import MASK
from components import documents
from components.minio.minio_identity import MinioIdentity, MinioIdentityArgs
from tests.helpers import by_kind, plan_program, policy_document

ARGS = MinioIdentityArgs(user_name="acme-chat", policy_name="acme-chat-access", bucket_arn="arn:aws:s3:::acme-chat",
                         prefixes=("uploads/",))


def declare():
    def program():
        identity = MinioIdentity("chat", ARGS)
        pulumi.export("access_key_id", identity.access_key_id)
        pulumi.export("secret_access_key", identity.secret_access_key)

    plan = plan_program(program)
    return by_kind(plan), plan.outputs


def test_user_policy_and_attachment_are_named_after_the_user():
    by_kind, _ = declare()
    assert by_kind["MinioIdentity"].type == "app-storage:index:MinioIdentity"
    assert by_kind["IamUser"].inputs == {"name": "acme-chat"}
    assert by_kind["IamPolicy"].inputs["name"] == "acme-chat-access"
    attachment = by_kind["IamUserPolicyAttachment"].inputs
    assert attachment == {"userName": "acme-chat", "policyName": "acme-chat-access"}


def test_policy_is_the_same_scoped_document_as_on_aws_without_kms():
    by_kind, _ = declare()
    document = policy_document(by_kind["IamPolicy"])
    assert document == documents.app_access_policy("arn:aws:s3:::acme-chat", ["uploads/"])
    resources = [r for s in document["Statement"] for r in s["Resource"]]
    assert resources and all(r == "arn:aws:s3:::acme-chat" or r.startswith("arn:aws:s3:::acme-chat/uploads/")
                             for r in resources)
    assert not any(a.startswith("kms:") or a.endswith("*") for s in document["Statement"] for a in s["Action"])


def test_access_key_is_the_user_and_the_secret_key_stays_a_pulumi_secret():
    _, outputs = declare()
    assert outputs == {"access_key_id": "acme-chat", "secret_access_key": MASK}


def test_user_has_no_force_destroy_and_no_tags():
    """terraform-provider-minio v1.20.1, minio/resource_minio_iam_user.go: with `force_destroy` set,
    minioUpdateUser deletes the user on every in-place update (aminueza/terraform-provider-minio#582, fixed in
    v3), and IAMUserConfig never sends `tags` to MinIO. Neither is declared."""
    by_kind, _ = declare()
    assert "forceDestroy" not in by_kind["IamUser"].inputs and "tags" not in by_kind["IamUser"].inputs
