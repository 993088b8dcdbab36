"""What the providers do with a changed input, for the resource types this package declares.

`FORCE_NEW`: the inputs whose change makes the provider replace the resource (Terraform's `ForceNew`, or a
framework resource's `RequiresReplace`); any other changed input is an update in place. Read from:
- hashicorp/terraform-provider-aws v6 (pulumi-aws 7.51.1 bridges v6.54 or later), `internal/service/<service>/
  <resource>.go`, each resource's schema. pulumi-aws adds no ForceNew of its own for these types
  (`provider/resource_overrides.go`). `region` (pulumi-aws 7's per-resource region) is not ForceNew in the schema,
  but every regional resource replaces when it changes: `internal/provider/sdkv2/region.go`
  `forceNewIfRegionChanges`, `internal/provider/framework/region.go` for framework resources.
- aminueza/terraform-provider-minio v1.20.1 (pulumi-minio 0.17.1), `minio/resource_minio_<resource>.go`.
`PHYSICAL_NAMES`: the input that names the resource where no two live resources of the type may share it (an S3
bucket name, an IAM name in the account), or, for a bucket's configuration resources, the one bucket they
configure (one live configuration per bucket: deleting a replaced original removes what its replacement set).
"""

from __future__ import annotations

_ON_A_BUCKET = ("bucket", "region")
_ON_A_BUCKET_WITH_OWNER = ("bucket", "expectedBucketOwner", "region")

FORCE_NEW: dict[str, tuple[str, ...]] = {
    # s3/bucket.go: bucket, bucket_prefix, object_lock_enabled ForceNew; force_destroy lives in the state only.
    # bucket_namespace: "Forces new resource" (website/docs/r/s3_bucket.html.markdown).
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix", "objectLockEnabled", "bucketNamespace", "region"),
    # s3/bucket_ownership_controls.go, bucket_public_access_block.go, bucket_policy.go,
    # bucket_replication_configuration.go: bucket ForceNew (no expected_bucket_owner on these).
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _ON_A_BUCKET,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _ON_A_BUCKET,
    "aws:s3/bucketPolicy:BucketPolicy": _ON_A_BUCKET,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _ON_A_BUCKET,
    # s3/bucket_server_side_encryption_configuration.go, bucket_versioning.go, bucket_cors_configuration.go,
    # bucket_logging.go: bucket and expected_bucket_owner ForceNew; bucket_lifecycle_configuration.go (framework):
    # the same two with RequiresReplace.
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        _ON_A_BUCKET_WITH_OWNER,
    "aws:s3/bucketVersioning:BucketVersioning": _ON_A_BUCKET_WITH_OWNER,
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": _ON_A_BUCKET_WITH_OWNER,
    "aws:s3/bucketLogging:BucketLogging": _ON_A_BUCKET_WITH_OWNER,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _ON_A_BUCKET_WITH_OWNER,
    # kms/key.go: key spec, custom key store, usage, multi-region, XKS key; policy, rotation and deletion window
    # update in place. kms/alias.go: name, name_prefix ForceNew (target_key_id through UpdateAlias).
    "aws:kms/key:Key": ("customerMasterKeySpec", "customKeyStoreId", "keyUsage", "multiRegion", "xksKeyId",
                        "region"),
    "aws:kms/alias:Alias": ("name", "namePrefix", "region"),
    # iam/user.go and iam/group.go: no ForceNew; a new name or path is UpdateUser / UpdateGroup in place.
    "aws:iam/user:User": (),
    "aws:iam/group:Group": (),
    # iam/group_policy.go: group, name, name_prefix; iam/user_group_membership.go: user;
    # iam/access_key.go: user, pgp_key (status through UpdateAccessKey).
    "aws:iam/groupPolicy:GroupPolicy": ("group", "name", "namePrefix"),
    "aws:iam/userGroupMembership:UserGroupMembership": ("user",),
    "aws:iam/accessKey:AccessKey": ("user", "pgpKey"),
    # iam/role.go: name, name_prefix and path ForceNew; iam/role_policy.go: name, name_prefix, role.
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    # cloudfront/distribution.go: staging; origin_access_control.go and response_headers_policy.go: none (their
    # update sends the whole configuration, name included); function.go: name.
    "aws:cloudfront/distribution:Distribution": ("staging",),
    "aws:cloudfront/originAccessControl:OriginAccessControl": (),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": (),
    "aws:cloudfront/function:Function": ("name",),
    # acm/certificate.go and certificate_validation.go; route53/record.go: name, zone_id (type and set_identifier
    # change in place by a DELETE+CREATE batch).
    "aws:acm/certificate:Certificate": ("domainName", "subjectAlternativeNames", "validationMethod", "keyAlgorithm",
                                        "certificateAuthorityArn", "validationOptions", "region"),
    "aws:acm/certificateValidation:CertificateValidation": ("certificateArn", "validationRecordFqdns", "region"),
    "aws:route53/record:Record": ("name", "zoneId"),
    # logs/delivery_source.go: log_type, name, resource_arn RequiresReplace; delivery_destination.go: name,
    # output_format RequiresReplace, delivery_destination_configuration.destination_resource_arn only when its ARN's
    # service changes (RequiresReplaceIf; a new S3 path updates in place); delivery.go: delivery_destination_arn,
    # delivery_source_name RequiresReplace (record_fields, field_delimiter, s3_delivery_configuration update in place).
    # Framework resources with v6's per-resource region, which replaces like the ACM resources' above.
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": ("logType", "name", "resourceArn", "region"),
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": ("name", "outputFormat", "region"),
    "aws:cloudwatch/logDelivery:LogDelivery": ("deliveryDestinationArn", "deliverySourceName", "region"),
    # wafv2/web_acl.go (v6): name, name_prefix and scope ForceNew, and the per-resource region.
    "aws:wafv2/webAcl:WebAcl": ("name", "namePrefix", "scope", "region"),
    # Alerts (AppAlarms, StackAlerts). sns/topic.go: name, name_prefix, fifo_topic ForceNew; topic_policy.go: arn;
    # topic_subscription.go: endpoint, protocol, topic_arn (Pulumi: topic) ForceNew, the rest through
    # SetSubscriptionAttributes; cloudwatch/metric_alarm.go: alarm_name (Pulumi: name) ForceNew;
    # s3/bucket_metric.go: bucket and name ForceNew; budgets/budget.go: account_id, name, name_prefix ForceNew
    # (the rest through UpdateBudget; no region: Budgets is global); ce/cost_allocation_tag.go: none - tag_key is
    # Required without ForceNew, create and update both call UpdateCostAllocationTagsStatus, so a new key is an
    # update that leaves the old key active (no region: Cost Explorer is global, names_data.hcl is_global).
    # Read at terraform-provider-aws v6 copies: topic.go and topic_policy.go at v6.36.0; metric_alarm.go,
    # bucket_metric.go, budget.go and cost_allocation_tag.go at v6 commits of 2025-2026; topic_subscription.go,
    # bucket_logging.go and logs/delivery*.go only at late v5 copies, whose ForceNew sets no v6 changelog entry
    # changes (delivery_destination.go's delivery_destination_type, settable since v6.21, was not read).
    # `region` (v6): not ForceNew in the schema; the plan-time check replaces on a change, except between unset and
    # the provider's own region - every regional resource here sets it explicitly.
    "aws:sns/topic:Topic": ("name", "namePrefix", "fifoTopic", "region"),
    "aws:sns/topicPolicy:TopicPolicy": ("arn", "region"),
    "aws:sns/topicSubscription:TopicSubscription": ("endpoint", "protocol", "topic", "region"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", "region"),
    "aws:s3/bucketMetric:BucketMetric": ("bucket", "name", "region"),
    "aws:budgets/budget:Budget": ("accountId", "name", "namePrefix"),
    "aws:costexplorer/costAllocationTag:CostAllocationTag": (),
    # terraform-provider-minio v1.20.1: resource_minio_s3_bucket.go L41, L48 (bucket, bucket_prefix); versioning
    # L27, server-side encryption L28, ilm_policy L30, s3_bucket_policy L27 (bucket); iam_policy L39, L46 (name,
    # name_prefix); iam_user L37 (name); iam_user_policy_attachment L30, L36; service_account L28 (target_user).
    "minio:index/s3Bucket:S3Bucket": ("bucket", "bucketPrefix"),
    "minio:index/s3BucketVersioning:S3BucketVersioning": ("bucket",),
    "minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption": ("bucket",),
    "minio:index/ilmPolicy:IlmPolicy": ("bucket",),
    "minio:index/s3BucketPolicy:S3BucketPolicy": ("bucket",),
    "minio:index/iamPolicy:IamPolicy": ("name", "namePrefix"),
    "minio:index/iamUser:IamUser": ("name",),
    "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment": ("policyName", "userName"),
    "minio:index/iamServiceAccount:IamServiceAccount": ("targetUser",),
}
"""Pulumi type token -> camelCase inputs that force a replacement."""

BUCKET_CONFIGURATIONS = frozenset(token for token, forced in FORCE_NEW.items()
                                  if token not in ("aws:s3/bucket:Bucket", "minio:index/s3Bucket:S3Bucket",
                                                   # up to 1,000 metrics configurations per bucket, each by its id
                                                   "aws:s3/bucketMetric:BucketMetric")
                                  and forced and forced[0] == "bucket")
"""The types that configure one bucket, one live resource per bucket."""

PHYSICAL_NAMES: dict[str, str] = {
    "aws:s3/bucket:Bucket": "bucket",  # global across all accounts (in the default bucket namespace)
    "aws:kms/alias:Alias": "name",  # per account and region
    "aws:iam/user:User": "name",  # IAM names: per account, case-insensitive
    "aws:iam/group:Group": "name",
    "aws:iam/role:Role": "name",
    "aws:cloudfront/originAccessControl:OriginAccessControl": "name",  # per account
    "aws:cloudfront/function:Function": "name",
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": "name",
    "aws:wafv2/webAcl:WebAcl": "name",  # per account, scope and region
    "aws:sns/topic:Topic": "name",  # per account and region
    "aws:cloudwatch/metricAlarm:MetricAlarm": "name",  # per account and region
    "aws:budgets/budget:Budget": "name",  # per account
    "minio:index/s3Bucket:S3Bucket": "bucket",  # per MinIO deployment ("bucket already exists!")
    "minio:index/iamPolicy:IamPolicy": "name",  # MinIO overwrites a policy of the same name
    "minio:index/iamUser:IamUser": "name",  # MinIO resets an existing user's secret
    **dict.fromkeys(BUCKET_CONFIGURATIONS, "bucket"),
}
"""Pulumi type token -> the input holding the name two live resources of the type may not share."""

CASE_INSENSITIVE_NAMES = frozenset(token for token in PHYSICAL_NAMES if token.startswith("aws:iam/"))
"""IAM names are unique regardless of case (IAM user guide, "IAM identifiers": names are not distinguished by
case)."""

REGIONAL_NAMES = frozenset({"aws:kms/alias:Alias", "aws:wafv2/webAcl:WebAcl", "aws:sns/topic:Topic",
                            "aws:cloudwatch/metricAlarm:MetricAlarm"})
"""Names unique per account and region rather than per account (a KMS alias), or globally."""
