"""Replication: the role's exact permissions (KMS included), the rule, and what it waits for."""

from __future__ import annotations

import json

from components import documents
from components.aws.replication import REPLICATION_RULE_ID, Replication, ReplicationArgs
from components.aws.secure_bucket import SecureBucket, SecureBucketArgs
from tests.helpers import plan_program, policy_document

SOURCE, REPLICA = "arn:aws:s3:::acme-chat", "arn:aws:s3:::acme-chat-replica"


def declare(encryption: str = "kms", **overrides):
    def program():
        source = SecureBucket("chat", SecureBucketArgs(bucket_name="acme-chat", region="us-east-1",
                                                       encryption=encryption))
        Replication("chat-replication", ReplicationArgs(
            source_bucket_name="acme-chat", source_region="us-east-1", source_versioning=source.versioning,
            source_kms_key_arn=source.kms_key_arn,
            replica=SecureBucketArgs(bucket_name="acme-chat-replica", region="us-west-2", encryption=encryption),
            **overrides))
    plan = plan_program(program)
    return {r.name: r for r in plan.resources}


def test_role_is_trusted_only_by_s3():
    """The trust policy AWS documents for the replication role, without a condition S3 is not documented to meet
    (Amazon S3 User Guide, "Setting up permissions for live replication"; see documents.SERVICE_TRUST)."""
    role = declare()["chat-replication-role"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                   "Action": ["sts:AssumeRole"]}]


def test_role_policy_has_exactly_the_replication_actions_and_both_keys():
    resources = declare()
    document = policy_document(resources["chat-replication-role-policy"])
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert set(by_sid) == {"ReadReplicationConfiguration", "ReadSourceVersions", "WriteReplicas",
                           "DecryptWithSourceKey", "EncryptWithReplicaKey"}
    assert by_sid["ReadReplicationConfiguration"]["Resource"] == [SOURCE]
    assert by_sid["ReadSourceVersions"]["Action"] == list(documents.REPLICATION_SOURCE_OBJECT_ACTIONS)
    assert by_sid["ReadSourceVersions"]["Resource"] == [f"{SOURCE}/*"]
    assert by_sid["WriteReplicas"]["Action"] == ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    assert by_sid["WriteReplicas"]["Resource"] == [f"{REPLICA}/*"]
    source_key = encryption_key_arn(resources, "chat-encryption")
    replica_key = encryption_key_arn(resources, "chat-replication-replica-encryption")
    assert by_sid["DecryptWithSourceKey"]["Action"] == ["kms:Decrypt"]
    assert by_sid["DecryptWithSourceKey"]["Resource"] == [source_key]
    assert ":us-east-1:" in by_sid["DecryptWithSourceKey"]["Resource"][0]
    assert by_sid["EncryptWithReplicaKey"]["Action"] == ["kms:Encrypt", "kms:GenerateDataKey"]
    assert by_sid["EncryptWithReplicaKey"]["Resource"] == [replica_key]
    assert ":us-west-2:" in by_sid["EncryptWithReplicaKey"]["Resource"][0]
    assert by_sid["EncryptWithReplicaKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}
    assert not any(a == "*" or a.endswith(":*") for s in document["Statement"] for a in s["Action"])


def encryption_key_arn(resources: dict, encryption: str) -> str:
    """The key a bucket encrypts with, as its default-encryption resource names it."""
    return resources[encryption].inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]


def test_rule_replicates_kms_objects_and_delete_markers_into_standard_ia_after_versioning():
    resources = declare()
    config = resources["chat-replication-config"]
    [rule] = config.inputs["rules"]
    assert rule["id"] == REPLICATION_RULE_ID and rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"]["storageClass"] == "STANDARD_IA"
    assert rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"] == encryption_key_arn(
        resources, "chat-replication-replica-encryption")
    assert "replicationTime" not in rule["destination"]
    assert {resources["chat-versioning"].urn, resources["chat-replication-replica-versioning"].urn} <= set(
        config.options["dependsOn"])


def test_replication_time_control_adds_its_metrics():
    resources = declare(replication_time_control=True, storage_class="GLACIER_IR")
    [rule] = resources["chat-replication-config"].inputs["rules"]
    destination = rule["destination"]
    assert destination["storageClass"] == "GLACIER_IR"
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15}}


def test_sse_s3_buckets_replicate_without_kms():
    resources = declare(encryption="aes256")
    [rule] = resources["chat-replication-config"].inputs["rules"]
    assert "sourceSelectionCriteria" not in rule and "encryptionConfiguration" not in rule["destination"]
    document = policy_document(resources["chat-replication-role-policy"])
    assert not any(a.startswith("kms:") for s in document["Statement"] for a in s["Action"])


def test_replica_is_hardened_in_its_own_region_through_the_stacks_provider():
    """pulumi-aws 7 takes a per-resource `region`: no provider of its own, so the stack's provider config
    (profile, assume-role, default tags, allowed accounts) applies to the replica too."""
    resources = declare()
    assert not any(r.type.startswith("pulumi:providers:") for r in resources.values())
    for role in ("bucket", "ownership", "public-access-block", "encryption", "versioning", "lifecycle", "policy",
                 "key", "key-alias"):
        replica_resource = resources[f"chat-replication-replica-{role}"]
        assert replica_resource.inputs["region"] == "us-west-2", role
        assert replica_resource.options["provider"] is None, role
    assert resources["chat-replication-config"].inputs["region"] == "us-east-1"
