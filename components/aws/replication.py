"""Replication: a hardened replica of a bucket in a second region, and the S3 replication that fills it.

Defaults (behaviour):
- The replica is a SecureBucket (ownership, public access block, SSE with a KMS key of its own region,
  versioning, lifecycle, TLS-only policy), each resource declared in the replica region through
  pulumi-aws 7's per-resource `region`: the stack's own provider (profile, assume-role, default tags,
  allowed accounts) serves both regions. It is protected and retained wherever the source's data is.
- The role is assumable only by `s3.amazonaws.com` and may do exactly what replication needs:
  `documents.replication_policy` (read the source's versions, write replicas, decrypt with the source key
  and encrypt with the replica key, each only through S3 in its region).
- The rule replicates every object, SSE-KMS objects included, and delete markers, into `storage_class`
  (default STANDARD_IA); Replication Time Control with metrics (15 minutes) when asked; replication metrics
  alone when the stack has alerts (`replication_metrics`).
- The configuration waits for versioning on both buckets (S3 refuses it before).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import pulumi
import pulumi_aws as aws

from components import documents, naming
from components.aws.account import account_id
from components.aws.app_identity import IAM_PATH
from components.aws.secure_bucket import SecureBucket, SecureBucketArgs

REPLICATION_RULE_ID = "replicate-everything"
REPLICATION_TIME_MINUTES = 15


@dataclass(frozen=True)
class ReplicationArgs:
    source_bucket_name: str
    source_region: str
    source_versioning: pulumi.Resource | None
    """The source bucket's versioning resource: replication is declared after it (the gate requires it)."""
    replica: SecureBucketArgs
    """The replica bucket (its name and region included), hardened like the source."""
    source_kms_key_arn: pulumi.Input[str | None] = None
    """The source's SSE-KMS key; the role may decrypt with it. Default: SSE-S3 source, no KMS."""
    storage_class: str = "STANDARD_IA"
    """Storage class of the replicas. Default: STANDARD_IA."""
    replication_time_control: bool = False
    """S3 RTC (replication within 15 minutes) with its metrics. Default: off."""
    replication_metrics: bool = False
    """Publish the rule's replication metrics (ReplicationLatency, OperationsFailedReplication, ...) without RTC,
    for the alarms (AppAlarms). Default: off (RTC turns them on anyway)."""
    tags: Mapping[str, str] = field(default_factory=dict)


def replication_rule(args: ReplicationArgs, replica_bucket_arn: str,
                     replica_key_arn: pulumi.Input[str | None]) -> aws.s3.BucketReplicationConfigRuleArgsDict:
    """The one rule: everything, delete markers too; SSE-KMS objects re-encrypted with the replica's key."""
    encrypted_with_kms = args.replica.encryption == "kms"  # the source and replica share the stack's setting
    destination: aws.s3.BucketReplicationConfigRuleDestinationArgsDict = {
        "bucket": replica_bucket_arn, "storage_class": args.storage_class}
    if encrypted_with_kms:
        # With kms encryption the replica always has a key: the ARN is never None here.
        destination["encryption_configuration"] = {"replica_kms_key_id": cast(pulumi.Input[str], replica_key_arn)}
    if args.replication_time_control:
        destination["replication_time"] = {"status": "Enabled", "time": {"minutes": REPLICATION_TIME_MINUTES}}
        destination["metrics"] = {"status": "Enabled", "event_threshold": {"minutes": REPLICATION_TIME_MINUTES}}
    elif args.replication_metrics:
        # Replication metrics need no RTC ("Monitoring progress with replication metrics": metrics can be enabled
        # on any rule) and EventThreshold is optional (S3 API, Metrics: "Required: No"): it only sets when the
        # RTC event s3:Replication:OperationMissedThreshold fires, so without RTC it is left out.
        destination["metrics"] = {"status": "Enabled"}
    rule: aws.s3.BucketReplicationConfigRuleArgsDict = {
        "id": REPLICATION_RULE_ID,
        "status": "Enabled",
        "filter": {"prefix": ""},
        "delete_marker_replication": {"status": "Enabled"},
        "destination": destination,
    }
    if encrypted_with_kms:
        rule["source_selection_criteria"] = {"sse_kms_encrypted_objects": {"status": "Enabled"}}
    return rule


class Replication(pulumi.ComponentResource):
    replica_bucket_name: pulumi.Output[str]
    replica_bucket_arn: pulumi.Output[str]
    replica_region: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ReplicationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("app-storage:index:Replication", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        replica = SecureBucket(f"{name}-replica", args.replica, child)

        source_arn = naming.bucket_arn(args.source_bucket_name, args.source_region)
        replica_arn = naming.bucket_arn(args.replica.bucket_name, args.replica.region)
        account = account_id(self)
        role = aws.iam.Role(f"{name}-role", name=naming.replication_role_name(args.source_bucket_name), path=IAM_PATH,
                            assume_role_policy=account.apply(lambda account_id: json.dumps(
                                documents.service_trust_policy(documents.S3_SERVICE, account_id))),
                            tags=dict(args.tags), opts=child)
        keys = pulumi.Output.all(pulumi.Output.from_input(args.source_kms_key_arn), replica.kms_key_arn)
        aws.iam.RolePolicy(f"{name}-role-policy", role=role.name, opts=child, policy=keys.apply(
            lambda arns: json.dumps(documents.replication_policy(
                source_arn, replica_arn, arns[0], arns[1], args.source_region, args.replica.region))))

        versioned_both_sides = [v for v in (args.source_versioning, replica.versioning) if v is not None]
        aws.s3.BucketReplicationConfig(
            f"{name}-config", bucket=args.source_bucket_name, role=role.arn, region=args.source_region,
            rules=[replication_rule(args, replica_arn, replica.kms_key_arn)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=versioned_both_sides))

        self.replica_bucket_name = replica.bucket_name
        self.replica_bucket_arn = replica.bucket_arn
        self.replica_region = pulumi.Output.from_input(args.replica.region)
        self.role_arn = role.arn
        self.register_outputs({
            "replica_bucket_name": self.replica_bucket_name,
            "replica_bucket_arn": self.replica_bucket_arn,
            "replica_region": self.replica_region,
            "role_arn": self.role_arn,
        })
