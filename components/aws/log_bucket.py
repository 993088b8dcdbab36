"""LogBucket: the stack's access-log bucket in one region, hardened with what log delivery accepts.

One per region the stack uses (the stack region, and the replica region with replication): S3 delivers server access
logs only to a bucket in the same region and account as the source bucket (Amazon S3 User Guide, "Logging requests
with server access logging" and "Enabling Amazon S3 server access logging": the destination bucket "must be in the
same AWS Region and AWS account as the source bucket").

Defaults (behaviour):
- Ownership BucketOwnerEnforced (ACLs off): S3 log delivery is granted by the bucket policy to the logging service
  principal `logging.s3.amazonaws.com`, never by the legacy log-delivery group ACL. One statement per source bucket:
  `s3:PutObject` on `<source bucket>/*` only, with `aws:SourceArn` (that bucket) and `aws:SourceAccount` conditions
  ("Enabling Amazon S3 server access logging", "Grant permissions to the logging service principal by using a
  bucket policy").
- Default encryption SSE-S3 (AES256): the S3 user guide's server access logging pages document SSE-S3 for the
  destination bucket and have called SSE-KMS unsupported; AWS CDK found SSE-KMS delivers only with a key policy
  that lets the logging service in (aws/aws-cdk#25350). SSE-S3 needs no grant, so delivery cannot fail on one.
  The policy pack accepts SSE-S3 on a log bucket where it requires KMS.
- With CloudFront logs (`cloudfront_logs`): CloudFront standard logging v2 delivers through CloudWatch Logs vended
  log delivery, whose S3 destination needs `s3:PutObject` for `delivery.logs.amazonaws.com` with `aws:SourceAccount`
  and `aws:SourceArn` (the account's delivery sources in us-east-1) conditions and the
  `s3:x-amz-acl: bucket-owner-full-control` header (Amazon CloudWatch Logs User Guide, "Enable logging from AWS
  services", "Logs sent to Amazon S3"); with BucketOwnerEnforced S3 accepts that header and ACLs stay off.
- All four Block Public Access flags on; a bucket policy refusing non-TLS requests, declared after the block.
- Versioning as data buckets (`versioning`), noncurrent versions expired after `noncurrent_version_expiration_days`.
- Retention: every log object expires after `retention_days` (default 365), incomplete uploads are aborted.
- Protected and retained like data (`protect_data`): logs are evidence. It does not log into itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import documents, naming
from components.aws.account import account_id
from components.aws.cdn import CLOUDFRONT_LOG_PREFIX, CLOUDFRONT_REGION
from components.aws.secure_bucket import SecureBucketArgs, lifecycle_rule_inputs, private_bucket
from components.settings.types import LifecycleRule, StackSettings

S3_LOGGING_SERVICE = "logging.s3.amazonaws.com"
"""The service principal S3 server access logging writes as."""
LOG_DELIVERY_SERVICE = "delivery.logs.amazonaws.com"
"""The service principal CloudWatch Logs vended log delivery (CloudFront standard logging v2) writes to S3 as."""
DEFAULT_RETENTION_DAYS = 365


@dataclass(frozen=True)
class LogBucketArgs:
    bucket_name: str
    """`naming.log_bucket_name(bucketPrefix, region)`."""
    region: str
    """Every resource is declared there; the source buckets are in the same region."""
    source_buckets: Sequence[str] = ()
    """The buckets logging here, each under its own prefix `<bucket>/`."""
    cloudfront_logs: bool = False
    """Let CloudWatch Logs vended delivery write CloudFront standard logs (v2) under `cloudfront/`. Default: no."""
    retention_days: int = DEFAULT_RETENTION_DAYS
    """Days a log object is kept. Default: 365."""
    versioning: bool = True
    noncurrent_version_expiration_days: int = 90
    abort_incomplete_multipart_upload_days: int = 7
    protect_data: bool = True
    """Protect and retain the bucket; retain its siblings. Default: protected."""
    force_destroy: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)


def log_bucket_policy_document(args: LogBucketArgs, account_id: str) -> dict:
    """TLS only; S3 logging may write each source's prefix, for that source only; CloudFront v2 delivery, when on."""
    bucket_arn = naming.bucket_arn(args.bucket_name, args.region)
    partition = naming.partition_for(args.region)
    grants = [{
        "Sid": f"S3ServerAccessLogs{index}",
        "Effect": "Allow",
        "Principal": {"Service": S3_LOGGING_SERVICE},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/{naming.access_log_prefix(source)}*",
        "Condition": {"ArnLike": {"aws:SourceArn": naming.bucket_arn(source, args.region)},
                      "StringEquals": {"aws:SourceAccount": account_id}},
    } for index, source in enumerate(sorted(args.source_buckets))]
    if args.cloudfront_logs:
        grants.append({
            "Sid": "CloudFrontStandardLogsV2",
            "Effect": "Allow",
            "Principal": {"Service": LOG_DELIVERY_SERVICE},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{CLOUDFRONT_LOG_PREFIX}*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id, "s3:x-amz-acl": "bucket-owner-full-control"},
                "ArnLike": {"aws:SourceArn":
                            f"arn:{partition}:logs:{CLOUDFRONT_REGION}:{account_id}:delivery-source:*"},
            },
        })
    return documents.bucket_policy(bucket_arn, grants)


def log_lifecycle_rules(args: LogBucketArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgsDict]:
    """Expire every log after the retention, plus the data buckets' housekeeping rules."""
    return lifecycle_rule_inputs(SecureBucketArgs(
        bucket_name=args.bucket_name, region=args.region, versioning=args.versioning,
        noncurrent_version_expiration_days=args.noncurrent_version_expiration_days,
        abort_incomplete_multipart_upload_days=args.abort_incomplete_multipart_upload_days,
        lifecycle=(LifecycleRule(prefix="", transitions=(), expire_days=args.retention_days),)))


class LogBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    region: str

    def __init__(self, name: str, args: LogBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("app-storage:index:LogBucket", name, None, opts)
        region = args.region
        tags = {**args.tags, "app-storage:role": "access-logs"}
        bucket, after, public_access_block = private_bucket(
            self, name, args.bucket_name, region, tags, force_destroy=args.force_destroy,
            protect_data=args.protect_data)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=args.bucket_name, region=region, opts=after(),
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                    "bucket_key_enabled": False}])
        lifecycle_opts = after()
        if args.versioning:
            versioning = aws.s3.BucketVersioning(f"{name}-versioning", bucket=args.bucket_name, region=region,
                                                 versioning_configuration={"status": "Enabled"}, opts=after())
            lifecycle_opts = after(versioning)
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=args.bucket_name, region=region,
                                            rules=log_lifecycle_rules(args), opts=lifecycle_opts)
        account = account_id(self)
        aws.s3.BucketPolicy(f"{name}-policy", bucket=args.bucket_name, region=region,
                            policy=account.apply(lambda account_id: json.dumps(
                                log_bucket_policy_document(args, account_id))),
                            opts=after(public_access_block))

        self.target_bucket = args.bucket_name
        """The bucket's name, known before it exists: what a BucketLogging or a log delivery targets."""
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.region = region
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn, "region": region})


def log_bucket_args_by_region(settings: StackSettings) -> dict[str, LogBucketArgs]:
    """The stack's log buckets (aws): one in `aws:region`, one in the replica region with replication, each listing
    the buckets of its region; the stack region's also takes the CDN's logs when the CDN has no `logBucket` of its
    own. No log bucket on minio."""
    if settings.backend != "aws":
        return {}
    sources = {settings.region: [app.bucket_name for app in settings.apps]}
    if settings.replication:
        sources[settings.replication.region] = [naming.replica_bucket_name(app.bucket_name) for app in settings.apps]
    cdn_logs = settings.cdn is not None and not settings.cdn.log_bucket and any(
        area.is_public for app in settings.apps for area in app.areas)
    return {region: LogBucketArgs(
        bucket_name=naming.log_bucket_name(settings.bucket_prefix, region), region=region,
        source_buckets=tuple(buckets), cloudfront_logs=cdn_logs and region == settings.region,
        retention_days=settings.log_retention_days, versioning=settings.versioning,
        noncurrent_version_expiration_days=settings.noncurrent_version_expiration_days,
        abort_incomplete_multipart_upload_days=settings.abort_incomplete_multipart_upload_days,
        protect_data=settings.protect_data, force_destroy=settings.force_destroy,
        tags={"app-storage:stack": settings.stack, **settings.tags}) for region, buckets in sources.items()}
