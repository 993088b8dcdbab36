"""MinioBucket: what pulumi-minio receives, and the public-read policy that is the only anonymous access."""

from __future__ import annotations

import pytest

from components import documents, naming
from components.minio.minio_bucket import MINIO_SSE_TYPE, MinioBucket, MinioBucketArgs, ilm_rule_inputs
from components.settings.types import LifecycleRule, Transition
from tests.helpers import by_kind, plan_program, policy_document

BUCKET_ARN = "arn:aws:s3:::acme-media"


def declare(**overrides):
    args = MinioBucketArgs(bucket_name="acme-media", **overrides)
    plan = plan_program(lambda: MinioBucket("media", args))
    return by_kind(plan), plan


def test_defaults_give_a_private_versioned_protected_bucket_without_a_policy():
    by_kind, plan = declare()
    assert by_kind["MinioBucket"].type == "app-storage:index:MinioBucket"
    bucket = by_kind["S3Bucket"]
    assert bucket.inputs["bucket"] == "acme-media" and bucket.inputs["acl"] == "private"
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.options["protect"] and bucket.options["retainOnDelete"]
    assert by_kind["S3BucketVersioning"].inputs["versioningConfiguration"] == {"status": "Enabled"}
    assert "S3BucketPolicy" not in by_kind and "S3BucketServerSideEncryption" not in by_kind
    assert all(r.name.startswith("media-") and r.parent == by_kind["MinioBucket"].urn
               for r in plan.resources if r.custom)


def test_disposable_bucket_is_neither_protected_nor_kept():
    by_kind, _ = declare(protect_data=False, force_destroy=True)
    bucket = by_kind["S3Bucket"]
    assert bucket.inputs["forceDestroy"] is True
    assert not bucket.options["protect"] and not bucket.options["retainOnDelete"]


def test_public_prefixes_get_anonymous_get_object_and_nothing_else():
    by_kind, _ = declare(public_prefixes=("static/", "media/"))
    policy = by_kind["S3BucketPolicy"]
    assert policy.inputs["bucket"] == "acme-media"
    assert by_kind["S3Bucket"].urn in policy.options["dependsOn"]
    [statement] = policy_document(policy)["Statement"]
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"AWS": ["*"]}
    assert statement["Action"] == ["s3:GetObject"]
    assert statement["Resource"] == [f"{BUCKET_ARN}/media/*", f"{BUCKET_ARN}/static/*"]
    assert "Condition" not in statement


def test_public_read_refuses_the_whole_bucket():
    with pytest.raises(ValueError, match="whole bucket"):
        documents.public_read_policy(BUCKET_ARN, ["media/", ""])


def test_ilm_keeps_expiries_and_noncurrent_expiry_and_leaves_out_transitions_only_rules():
    args = MinioBucketArgs(bucket_name="b", noncurrent_version_expiration_days=30, lifecycle=(
        LifecycleRule(prefix="uploads/temp/", transitions=(), expire_days=7),
        LifecycleRule(prefix="uploads/archive/", transitions=(Transition(30, "STANDARD_IA"),), expire_days=None),
        LifecycleRule(prefix="", transitions=(), expire_days=400),
    ))
    assert ilm_rule_inputs(args) == [
        {"id": "1-uploads-temp", "expiration": "7d", "filter": "uploads/temp/"},
        {"id": "3-whole-bucket", "expiration": "400d"},
        {"id": naming.NONCURRENT_RULE_ID, "expiration": "DeleteMarker", "noncurrent_version_expiration_days": 30},
    ]


def test_ilm_rules_never_set_the_status_the_provider_computes():
    """terraform-provider-minio v1.20.1 (pulumi-minio 0.17.1), minio/resource_minio_ilm_policy.go: the rule's
    `status` is `Computed: true` only, so a value for it is refused; the provider enables every rule itself."""
    args = MinioBucketArgs(bucket_name="b", lifecycle=(LifecycleRule(prefix="", transitions=(), expire_days=9),))
    assert all("status" not in rule for rule in ilm_rule_inputs(args))


def test_ilm_policy_waits_for_versioning():
    by_kind, _ = declare()
    lifecycle = by_kind["IlmPolicy"]
    assert lifecycle.inputs["rules"] == [{"id": naming.NONCURRENT_RULE_ID, "expiration": "DeleteMarker",
                                          "noncurrentVersionExpirationDays": 90}]
    assert by_kind["S3BucketVersioning"].urn in lifecycle.options["dependsOn"]


def test_unversioned_bucket_without_expiries_declares_no_ilm_policy():
    by_kind, _ = declare(versioning=False)
    assert "S3BucketVersioning" not in by_kind and "IlmPolicy" not in by_kind


def test_a_minio_kms_key_turns_on_default_encryption():
    by_kind, _ = declare(kms_key_id="dev-key")
    sse = by_kind["S3BucketServerSideEncryption"].inputs
    assert sse == {"bucket": "acme-media", "encryptionType": MINIO_SSE_TYPE, "kmsKeyId": "dev-key"}
