"""MinioBucket: one MinIO bucket shaped like its AWS twin, with what pulumi-minio 0.17 can declare.

Defaults (each is behaviour, not just a value):
- ACL `private`; the only anonymous access is the public-read policy below.
- Versioning on, with noncurrent versions expired after `noncurrent_version_expiration_days` (90) and
  expired delete markers removed by the ILM policy.
- ILM policy: the app's expiry rules, `make verify`'s scratch objects under each area expired after a day, plus
  noncurrent-version expiry. Tier transitions and the
  abort-multipart rule cannot be declared here; the settings gate warns about them by name.
- Default encryption only with a key of MinIO's KMS (`kms_key_id`); MinIO has no SSE without one.
- Bucket policy only when the app has public areas: anonymous `s3:GetObject` on those prefixes. Never
  the whole bucket, never listing, never writing.
- Protected data: the bucket is `protect`ed and retained on delete. Never force-destroyed unless
  `force_destroy` is asked for.
- No quota unless `quota_bytes` is given. A quota is a MinIO *hard* quota: terraform-provider-minio v1.20.1
  (minio/resource_minio_s3_bucket.go, bridged by pulumi-minio 0.17.1) always calls `SetBucketQuota` with
  `madmin.HardQuota`, so MinIO refuses writes once the bucket holds that many bytes (HTTP 400
  `XMinioAdminBucketQuotaExceeded`). The provider sets it on create and on change but never reads it back:
  a quota changed with `mc quota` is not seen as drift.
Ownership controls and a public access block have no MinIO counterpart: ACLs are not in play and
nothing is public unless this policy says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_minio as minio

from components import documents, naming
from components.settings.types import LifecycleRule

# MinIO supports only SSE-KMS as a bucket default (SSE-S3 in MinIO is backed by the same KMS).
MINIO_SSE_TYPE = "aws:kms"


@dataclass(frozen=True)
class MinioBucketArgs:
    bucket_name: str
    """The bucket's exact name (apps are told it)."""
    public_prefixes: tuple[str, ...] = ()
    """Prefixes of the public areas; anonymous GetObject there only. Default: none, no bucket policy."""
    kms_key_id: str | None = None
    """A key of MinIO's KMS; the bucket's default encryption when set. Default: not encrypted by MinIO."""
    versioning: bool = True
    """Default: versioning enabled."""
    noncurrent_version_expiration_days: int = 90
    """Days a replaced or deleted version is kept when versioned. Default: 90."""
    lifecycle: tuple[LifecycleRule, ...] = ()
    """The app's rules; their expiry is declared, their transitions are not. Default: none."""
    protect_data: bool = True
    """Protect and retain the bucket. Default: protected, retained on delete."""
    force_destroy: bool = False
    """Let a destroy delete all objects. Default: false."""
    quota_bytes: int | None = None
    """The bucket's hard quota in bytes (the app's `alerts.storageBytes`): MinIO refuses writes beyond it. Default:
    none, no quota."""
    area_prefixes: tuple[str, ...] = ()
    """The app's area prefixes: `make verify`'s scratch objects under each expire after a day (see SecureBucketArgs).
    Default: none."""
    adopt: bool = False
    """The bucket exists already: imported (see SecureBucketArgs.adopt), protected and retained. Default: created."""


# terraform-provider-minio v1.20.1 (bridged by pulumi-minio 0.17.1) computes a rule's `status` and refuses
# it as an input (settable only from v3, aminueza/terraform-provider-minio#609): every rule is Enabled.
# Its `expiration` takes a duration ("7d"), a date, or this word, which removes expired delete markers.
EXPIRE_DELETE_MARKERS = "DeleteMarker"


def ilm_rule_inputs(args: MinioBucketArgs) -> list[minio.IlmPolicyRuleArgsDict]:
    """The ILM rules: the app's expiries (ids as on AWS), then noncurrent-version and delete-marker expiry."""
    rules: list[minio.IlmPolicyRuleArgsDict] = []
    for index, rule in enumerate(args.lifecycle):
        if rule.expire_days is None:
            continue  # a transitions-only rule: nothing MinIO can declare (the gate has warned)
        entry: minio.IlmPolicyRuleArgsDict = {"id": rule.id_at(index + 1),
                                              "expiration": f"{rule.expire_days}d"}
        if rule.prefix:
            entry["filter"] = rule.prefix
        rules.append(entry)
    for prefix in args.area_prefixes:
        rules.append({"id": naming.verify_scratch_rule_id(prefix), "filter": naming.verify_scratch_prefix(prefix),
                      "expiration": f"{naming.VERIFY_SCRATCH_DAYS}d",
                      "noncurrent_version_expiration_days": naming.VERIFY_SCRATCH_DAYS})
    if args.versioning:
        rules.append({
            "id": naming.NONCURRENT_RULE_ID,
            "expiration": EXPIRE_DELETE_MARKERS,
            "noncurrent_version_expiration_days": args.noncurrent_version_expiration_days,
        })
    return rules


class MinioBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]

    def __init__(self, name: str, args: MinioBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("app-storage:index:MinioBucket", name, None, opts)
        protected = args.protect_data or args.adopt
        # terraform-provider-minio v1.20.1 imports a bucket by its name (import_minio_s3_buckets.go), reading `acl`
        # back as private unless the bucket policy is one of its canned ones; setting `private` writes no policy.
        data = pulumi.ResourceOptions(parent=self, protect=protected, retain_on_delete=protected,
                                      import_=args.bucket_name if args.adopt else None)
        if args.quota_bytes is not None and args.quota_bytes < 1:
            raise ValueError(f"quota_bytes must be at least 1 byte (got {args.quota_bytes}); leave it None for none")
        bucket = minio.S3Bucket(f"{name}-bucket", bucket=args.bucket_name, acl="private",
                                force_destroy=args.force_destroy, quota=args.quota_bytes, opts=data)

        def after(*resources: pulumi.Resource) -> pulumi.ResourceOptions:
            # As in SecureBucket: siblings name the bucket and wait for it explicitly.
            return pulumi.ResourceOptions(parent=self, depends_on=[bucket, *resources])

        lifecycle_opts = after()
        if args.versioning:
            versioning = minio.S3BucketVersioning(f"{name}-versioning", bucket=args.bucket_name,
                                                  versioning_configuration={"status": "Enabled"}, opts=after())
            # Noncurrent-version expiry means something only once versioning is on.
            lifecycle_opts = after(versioning)
        if args.kms_key_id:
            minio.S3BucketServerSideEncryption(f"{name}-encryption", bucket=args.bucket_name,
                                               encryption_type=MINIO_SSE_TYPE, kms_key_id=args.kms_key_id,
                                               opts=after())
        rules = ilm_rule_inputs(args)
        if rules:
            minio.IlmPolicy(f"{name}-lifecycle", bucket=args.bucket_name, rules=rules, opts=lifecycle_opts)
        if args.public_prefixes:
            public_read = documents.public_read_policy(naming.minio_bucket_arn(args.bucket_name), args.public_prefixes)
            minio.S3BucketPolicy(f"{name}-policy", bucket=args.bucket_name, policy=json.dumps(public_read),
                                 opts=after())

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn})
