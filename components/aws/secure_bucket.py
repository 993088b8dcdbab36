"""SecureBucket: one S3 bucket with every hardening sibling it needs.

Defaults (each is behaviour, not just a value):
- Object ownership `BucketOwnerEnforced`: ACLs are off. Always.
- All four Block Public Access flags on. Always.
- Default encryption: SSE-S3 (AES256). With `encryption="kms"`: SSE-KMS with a bucket key, using a new
  customer key with yearly rotation on, or the key named by `kms_key_arn`.
- Versioning on, with noncurrent versions expired after `noncurrent_version_expiration_days` (90).
- Lifecycle: the app's rules, plus aborting incomplete multipart uploads after 7 days.
- Bucket policy: refuses non-TLS requests; declared after the public access block (they race otherwise).
  With a CDN (`cloudfront_distribution_arn`): that distribution may GET the public prefixes, and the
  bucket's own key lets it decrypt. With `public_without_cdn`: anyone may GET the public prefixes, and
  exactly the two Block Public Access flags that forbid a public policy are off.
- Lifecycle expires `make verify`'s scratch objects under each area (`<area>app-storage-verify/`) and their
  noncurrent versions after a day: an interrupted run leaves nothing for long, and the app's identity needs no
  right to delete versions.
- Lifecycle also removes expired object delete markers when versioned (they pile up otherwise and slow
  listings; aws-cdk#14752).
- Every resource is declared in `region` (pulumi-aws 7's per-resource region): the replica needs no
  provider of its own, so it inherits the stack's provider config (profile, assume-role, default tags).
- The customer key always has an explicit key policy (CKV2_AWS_64): the account administers it through
  IAM, and with a CDN the distribution may decrypt.
- Server access logs (`log_bucket`): an `aws.s3.BucketLogging` into the stack's log bucket of the same region
  (S3 delivers only within one region and account), under the prefix `<bucket>/`. Default: no logging.
- Protected data: the bucket and its key are `protect`ed and retained on delete, and every sibling
  (ownership, public access block, encryption, versioning, lifecycle, CORS, policy, key alias) is retained
  with them: removing an app from the config never leaves a kept bucket un-hardened. Never force-destroyed
  unless `force_destroy` is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import documents, naming
from components.aws.account import account_id
from components.settings.types import CorsRule, LifecycleRule

ABORT_MULTIPART_RULE_ID = naming.ABORT_MULTIPART_RULE_ID
NONCURRENT_RULE_ID = naming.NONCURRENT_RULE_ID
KMS_KEY_DELETION_WINDOW_DAYS = 30
PUBLIC_WITHOUT_CDN_WAIVES = ("s3-public-access-block", "s3-public-area-behind-cdn")
"""The storage-guard rules a bucket serving public areas straight from S3 breaks by the stack's own choice."""
PUBLIC_WITHOUT_CDN_REASON = "publicWithoutCdn: the stack serves its public areas anonymously from S3"
"""Recorded on the bucket as `policy-exception:<rule>` tags (the reason is the tag's value; AWS tag characters)."""


@dataclass(frozen=True)
class SecureBucketArgs:
    bucket_name: str
    """The bucket's exact name (no random suffix, so apps can be told it)."""
    region: str
    """Region of the bucket: every resource is declared there, and ARNs are built with it."""
    encryption: str = "aes256"
    """`aes256` (SSE-S3) or `kms` (SSE-KMS with a bucket key). Default: aes256."""
    kms_key_arn: str | None = None
    """With `kms`: an existing key to use. Default: a new key with rotation on."""
    versioning: bool = True
    """Default: versioning enabled."""
    noncurrent_version_expiration_days: int = 90
    """Days a replaced or deleted version is kept when versioned. Default: 90."""
    abort_incomplete_multipart_upload_days: int = 7
    """Days before an unfinished multipart upload is aborted. Default: 7."""
    lifecycle: tuple[LifecycleRule, ...] = ()
    """The app's own expiry and tiering rules. Default: none."""
    cors: tuple[CorsRule, ...] = ()
    """CORS rules; no CORS configuration is declared when empty. Default: none."""
    protect_data: bool = True
    """Protect and retain the bucket and key. Default: protected, retained on delete."""
    force_destroy: bool = False
    """Let a destroy delete all objects. Default: false."""
    public_prefixes: tuple[str, ...] = ()
    """Prefixes of the public areas, read through the CDN (or, opted in, straight from S3). Default: none."""
    cloudfront_distribution_arn: pulumi.Input[str | None] = None
    """The distribution serving the public prefixes. Default: none, no CloudFront access."""
    public_without_cdn: bool = False
    """Serve the public prefixes anonymously from S3 (relaxes Block Public Access). Default: false."""
    log_bucket: str | None = None
    """The log bucket (same region and account) receiving this bucket's server access logs under `<bucket>/`.
    Default: none, no access logging."""
    log_bucket_resource: pulumi.Resource | None = None
    """The stack's LogBucket behind `log_bucket`: waited for, so its bucket and policy exist before S3 is told to
    deliver there (S3 refuses a target bucket that does not exist: InvalidTargetBucketForLogging). Default: none
    (the target exists already)."""
    area_prefixes: tuple[str, ...] = ()
    """The app's area prefixes: under each, what `make verify` leaves behind when interrupted (its scratch objects,
    their noncurrent versions) expires after `naming.VERIFY_SCRATCH_DAYS`. Default: none."""
    adopt: bool = False
    """The bucket exists already: declared with the `import` option (adopted on the first `pulumi up`, then
    updated to these inputs in the same deployment), and protected and retained whatever `protect_data` says.
    Default: the stack creates the bucket."""
    kept_statements: tuple[Mapping, ...] = ()
    """Statements an adopted bucket's policy had that its other consumers need, kept after the stack's own.
    Default: none."""
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def protected(self) -> bool:
        """Protected and retained: the stack's data, or data the stack adopted."""
        return self.protect_data or self.adopt


def bucket_policy_document(args: SecureBucketArgs, distribution_arn: str | None) -> dict:
    bucket_arn = naming.bucket_arn(args.bucket_name, args.region)
    grants = []
    if args.public_prefixes and distribution_arn:
        grants.append(documents.cloudfront_read_statement(bucket_arn, args.public_prefixes, distribution_arn))
    if args.public_prefixes and args.public_without_cdn:
        grants.append(documents.public_read_statement(bucket_arn, args.public_prefixes))
    return documents.bucket_policy(bucket_arn, [*grants, *map(dict, args.kept_statements)])


def lifecycle_rule_inputs(args: SecureBucketArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgsDict]:
    """The bucket's lifecycle rules: the app's, then the always-on housekeeping rules."""
    rules: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = []
    for index, rule in enumerate(args.lifecycle):
        entry: aws.s3.BucketLifecycleConfigurationRuleArgsDict = {
            "id": rule.id_at(index + 1),
            "status": "Enabled",
            "filter": {"prefix": rule.prefix},
        }
        if rule.transitions:
            entry["transitions"] = [{"days": t.days, "storage_class": t.storage_class} for t in rule.transitions]
        if rule.expire_days is not None:
            entry["expiration"] = {"days": rule.expire_days}
        rules.append(entry)
    for prefix in args.area_prefixes:
        rules.append({
            "id": naming.verify_scratch_rule_id(prefix),
            "status": "Enabled",
            "filter": {"prefix": naming.verify_scratch_prefix(prefix)},
            "expiration": {"days": naming.VERIFY_SCRATCH_DAYS},
            "noncurrent_version_expiration": {"noncurrent_days": naming.VERIFY_SCRATCH_DAYS},
        })
    rules.append({
        "id": ABORT_MULTIPART_RULE_ID,
        "status": "Enabled",
        "filter": {"prefix": ""},
        "abort_incomplete_multipart_upload": {"days_after_initiation": args.abort_incomplete_multipart_upload_days},
    })
    if args.versioning:
        rules.append({
            "id": NONCURRENT_RULE_ID,
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrent_version_expiration": {"noncurrent_days": args.noncurrent_version_expiration_days},
            # A delete marker whose versions have all expired is left behind otherwise (aws-cdk#14752).
            "expiration": {"expired_object_delete_marker": True},
        })
    return rules


def cors_rule_inputs(rules: tuple[CorsRule, ...]) -> list[aws.s3.BucketCorsConfigurationCorsRuleArgsDict]:
    return [
        {
            "allowed_origins": list(rule.origins),
            "allowed_methods": list(rule.methods),
            "allowed_headers": list(rule.headers),
            "expose_headers": list(rule.expose_headers),
            "max_age_seconds": rule.max_age_seconds,
        }
        for rule in rules
    ]


def private_bucket(component: pulumi.Resource, name: str, bucket_name: str, region: str, tags: dict[str, str], *,
                   force_destroy: bool, protect_data: bool, public_policy_allowed: bool = False, adopt: bool = False,
                   ) -> tuple[aws.s3.Bucket, Callable[..., pulumi.ResourceOptions], aws.s3.BucketPublicAccessBlock]:
    """What every bucket here starts from, as `component`'s children: the bucket (protected and retained with its
    data; `adopt`: imported by its name, not created), ACLs off (BucketOwnerEnforced) and all four Block Public
    Access flags (two relaxed only where a bucket serves the public itself). Returns the bucket, the options its
    other siblings take (`after(*dependencies)`), and the public access block, which a bucket policy must wait
    for."""
    # pulumi/pulumi#19339 (v3.174.0, below Pulumi.yaml's requiredPulumiVersion): an `import` whose inputs differ
    # from what the provider reads is imported and then updated in the same deployment; once in the state under
    # that id, the option is a no-op (step_generator.go `isImport`), and a replacement is refused while it is set.
    data = pulumi.ResourceOptions(parent=component, protect=protect_data, retain_on_delete=protect_data,
                                  import_=bucket_name if adopt else None)
    bucket = aws.s3.Bucket(f"{name}-bucket", bucket=bucket_name, force_destroy=force_destroy, tags=tags,
                           region=region, opts=data)

    def after(*resources: pulumi.Resource) -> pulumi.ResourceOptions:
        # Siblings name the bucket by its known name and wait for it explicitly: the same graph as
        # passing `bucket.id`, without awaiting an output per sibling.
        # Retained with a protected bucket: removing the app keeps the bucket hardened.
        return pulumi.ResourceOptions(parent=component, depends_on=[bucket, *resources], retain_on_delete=protect_data)

    aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=bucket_name, region=region,
                                   rule={"object_ownership": "BucketOwnerEnforced"}, opts=after())
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block", bucket=bucket_name, block_public_acls=True, ignore_public_acls=True,
        block_public_policy=not public_policy_allowed, restrict_public_buckets=not public_policy_allowed,
        region=region, opts=after())
    return bucket, after, public_access_block


class SecureBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str | None]

    def __init__(self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("app-storage:index:SecureBucket", name, None, opts)
        data = pulumi.ResourceOptions(parent=self, protect=args.protected, retain_on_delete=args.protected)
        public_policy_allowed = args.public_without_cdn and bool(args.public_prefixes)
        tags = dict(args.tags)
        bucket_tags = dict(tags)
        if public_policy_allowed:
            bucket_tags.update({f"policy-exception:{rule}": PUBLIC_WITHOUT_CDN_REASON
                                for rule in PUBLIC_WITHOUT_CDN_WAIVES})
        region = args.region

        bucket, after, public_access_block = private_bucket(
            self, name, args.bucket_name, region, bucket_tags, force_destroy=args.force_destroy,
            protect_data=args.protected, public_policy_allowed=public_policy_allowed, adopt=args.adopt)

        kms_key_arn: pulumi.Input[str | None] = None
        if args.encryption == "kms":
            kms_key_arn = args.kms_key_arn or self._customer_key(name, args, tags, data, after())
        by_default: aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgsDict = {
            "sse_algorithm": "AES256"}
        if kms_key_arn:
            by_default = {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn}
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=args.bucket_name, region=region, opts=after(),
            rules=[{"apply_server_side_encryption_by_default": by_default, "bucket_key_enabled": bool(kms_key_arn)}])

        lifecycle_opts = after()
        self.versioning: aws.s3.BucketVersioning | None = None
        if args.versioning:
            self.versioning = aws.s3.BucketVersioning(f"{name}-versioning", bucket=args.bucket_name, region=region,
                                                      versioning_configuration={"status": "Enabled"}, opts=after())
            # S3 evaluates noncurrent-version rules against the versioning state: declare it first.
            lifecycle_opts = after(self.versioning)
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=args.bucket_name, region=region,
                                            rules=lifecycle_rule_inputs(args), opts=lifecycle_opts)
        if args.cors:
            aws.s3.BucketCorsConfiguration(f"{name}-cors", bucket=args.bucket_name, region=region,
                                           cors_rules=cors_rule_inputs(args.cors), opts=after())
        if args.log_bucket:
            aws.s3.BucketLogging(f"{name}-logging", bucket=args.bucket_name, target_bucket=args.log_bucket,
                                 target_prefix=naming.access_log_prefix(args.bucket_name), region=region,
                                 opts=after(*([args.log_bucket_resource] if args.log_bucket_resource else [])))
        policy = pulumi.Output.from_input(args.cloudfront_distribution_arn).apply(
            lambda distribution_arn: json.dumps(bucket_policy_document(args, distribution_arn)))
        aws.s3.BucketPolicy(f"{name}-policy", bucket=args.bucket_name, policy=policy, region=region,
                            opts=after(public_access_block))

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.kms_key_arn = pulumi.Output.from_input(kms_key_arn)
        self.register_outputs({
            "bucket_name": self.bucket_name,
            "bucket_arn": self.bucket_arn,
            "kms_key_arn": self.kms_key_arn,
        })

    def _customer_key(self, name: str, args: SecureBucketArgs, tags: dict, data: pulumi.ResourceOptions,
                      sibling: pulumi.ResourceOptions) -> pulumi.Output[str]:
        # Always an explicit key policy (CKV2_AWS_64): the account administers the key through IAM, as the
        # default policy would let it; with a CDN, that distribution may also decrypt what it serves.
        account_root = account_id(self).apply(
            lambda account: f"arn:{naming.partition_for(args.region)}:iam::{account}:root")
        key_policy = pulumi.Output.all(account_root, args.cloudfront_distribution_arn).apply(
            lambda values: json.dumps(documents.key_policy(
                values[0], [documents.cloudfront_decrypt_statement(values[1])] if values[1] else [])))
        key = aws.kms.Key(f"{name}-key", description=f"Default encryption of s3://{args.bucket_name}",
                          enable_key_rotation=True, deletion_window_in_days=KMS_KEY_DELETION_WINDOW_DAYS,
                          policy=key_policy, tags=tags, region=args.region, opts=data)
        aws.kms.Alias(f"{name}-key-alias", name=naming.kms_alias_name(args.bucket_name), target_key_id=key.key_id,
                      region=args.region, opts=pulumi.ResourceOptions.merge(
                          sibling, pulumi.ResourceOptions(depends_on=[key])))
        return key.arn
