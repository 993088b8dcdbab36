"""SecureBucket: defaults and options as recorded on the resources the engine would receive."""

from __future__ import annotations

import pulumi

from components.aws.secure_bucket import (
    ABORT_MULTIPART_RULE_ID,
    NONCURRENT_RULE_ID,
    SecureBucket,
    SecureBucketArgs,
    lifecycle_rule_inputs,
)
from components.settings.types import CorsRule, LifecycleRule, Transition
from tests.helpers import by_kind, plan_program, policy_document

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def declare(**overrides):
    args = SecureBucketArgs(bucket_name="acme-media", region="us-east-1", **overrides)
    plan = plan_program(lambda: SecureBucket("media", args))
    return by_kind(plan), plan


def test_defaults_harden_the_bucket():
    by_kind, plan = declare()
    assert by_kind["SecureBucket"].type == "app-storage:index:SecureBucket"
    bucket = by_kind["Bucket"]
    assert bucket.inputs["bucket"] == "acme-media" and bucket.inputs["forceDestroy"] is False
    assert bucket.options["protect"] and bucket.options["retainOnDelete"]
    assert by_kind["BucketOwnershipControls"].inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    block = by_kind["BucketPublicAccessBlock"].inputs
    assert all(block[flag] is True for flag in
               ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    sse = by_kind["BucketServerSideEncryptionConfiguration"].inputs["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert by_kind["BucketVersioning"].inputs["versioningConfiguration"] == {"status": "Enabled"}
    assert "Key" not in by_kind and "BucketCorsConfiguration" not in by_kind
    every_child_named_by_role = all(r.name.startswith("media-") for r in plan.resources if r.custom)
    assert every_child_named_by_role


def test_bucket_policy_denies_insecure_transport_after_the_public_access_block():
    by_kind, _ = declare()
    policy = by_kind["BucketPolicy"]
    statement = policy_document(policy)["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == ["arn:aws:s3:::acme-media", "arn:aws:s3:::acme-media/*"]
    assert by_kind["BucketPublicAccessBlock"].urn in policy.options["dependsOn"]


def test_lifecycle_aborts_multipart_uploads_and_expires_noncurrent_versions_after_versioning():
    by_kind, _ = declare(abort_incomplete_multipart_upload_days=3, noncurrent_version_expiration_days=45)
    lifecycle = by_kind["BucketLifecycleConfiguration"]
    rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
    assert rules[ABORT_MULTIPART_RULE_ID]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 3}
    assert rules[NONCURRENT_RULE_ID]["noncurrentVersionExpiration"] == {"noncurrentDays": 45}
    assert by_kind["BucketVersioning"].urn in lifecycle.options["dependsOn"]


def test_kms_creates_a_rotated_protected_key_and_uses_it_with_a_bucket_key():
    by_kind, _ = declare(encryption="kms")
    key = by_kind["Key"]
    assert key.inputs["enableKeyRotation"] is True
    assert key.options["protect"] and key.options["retainOnDelete"]
    sse = by_kind["BucketServerSideEncryptionConfiguration"].inputs["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert sse["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
    assert sse["bucketKeyEnabled"] is True
    assert by_kind["Alias"].inputs["name"] == "alias/acme-media"


def test_kms_with_a_given_key_creates_no_key():
    by_kind, _ = declare(encryption="kms", kms_key_arn=KEY_ARN)
    assert "Key" not in by_kind
    sse = by_kind["BucketServerSideEncryptionConfiguration"].inputs["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == KEY_ARN


def test_unversioned_bucket_has_no_versioning_or_noncurrent_rule():
    by_kind, _ = declare(versioning=False)
    assert "BucketVersioning" not in by_kind
    ids = [rule["id"] for rule in by_kind["BucketLifecycleConfiguration"].inputs["rules"]]
    assert ids == [ABORT_MULTIPART_RULE_ID]


def test_unprotected_bucket_can_be_force_destroyed_only_when_asked():
    by_kind, _ = declare(protect_data=False)
    assert not by_kind["Bucket"].options["protect"] and not by_kind["Bucket"].options["retainOnDelete"]
    assert by_kind["Bucket"].inputs["forceDestroy"] is False
    by_kind, _ = declare(protect_data=False, force_destroy=True)
    assert by_kind["Bucket"].inputs["forceDestroy"] is True


def test_cors_rules_become_a_cors_configuration():
    rule = CorsRule(origins=("https://a.example.com",), methods=("GET", "PUT"), headers=("*",),
                    expose_headers=("ETag",), max_age_seconds=600)
    by_kind, _ = declare(cors=(rule,))
    assert by_kind["BucketCorsConfiguration"].inputs["corsRules"] == [{
        "allowedOrigins": ["https://a.example.com"], "allowedMethods": ["GET", "PUT"], "allowedHeaders": ["*"],
        "exposeHeaders": ["ETag"], "maxAgeSeconds": 600}]


def test_component_outputs_match_its_attributes():
    outputs = {}

    def program():
        storage = SecureBucket("media", SecureBucketArgs(bucket_name="acme-media", region="eu-west-1",
                                                         encryption="kms"))
        pulumi.export("out", {"bucket_name": storage.bucket_name, "bucket_arn": storage.bucket_arn,
                              "kms_key_arn": storage.kms_key_arn})
    outputs = plan_program(program).outputs["out"]
    assert outputs["bucket_name"] == "acme-media"
    assert outputs["bucket_arn"] == "arn:aws:s3:::acme-media"
    assert outputs["kms_key_arn"].startswith("arn:aws:kms:")


def test_app_lifecycle_rules_come_first_with_transitions_and_expiry():
    args = SecureBucketArgs(bucket_name="b", region="us-east-1", lifecycle=(
        LifecycleRule(prefix="uploads/archive/", transitions=(Transition(30, "STANDARD_IA"),
                                                              Transition(90, "GLACIER")), expire_days=400),))
    first = lifecycle_rule_inputs(args)[0]
    assert first["filter"] == {"prefix": "uploads/archive/"} and first["id"] == "1-uploads-archive"
    assert first["transitions"] == [{"days": 30, "storage_class": "STANDARD_IA"},
                                    {"days": 90, "storage_class": "GLACIER"}]
    assert first["expiration"] == {"days": 400}
