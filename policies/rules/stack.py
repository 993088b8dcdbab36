"""The whole stack as stack rules see it: buckets with the resources that configure them, and apps.

In pulumi-aws 7 a bucket's settings are sibling resources (versioning, encryption, …) that name the bucket. A
sibling is matched to its bucket by the bucket name it sets, or else by the bucket it depends on for its `bucket`
input (a raw program passes `bucket.id`, unknown during a preview of a new bucket), or else by its only bucket
dependency. So the same rules hold for this package's components and for any raw program.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .common import UNKNOWN, value

STACK_TYPE = "pulumi:pulumi:Stack"

AWS_BUCKET = "aws:s3/bucket:Bucket"
AWS_BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
MINIO_BUCKET = "minio:index/s3Bucket:S3Bucket"
AWS_BUCKETS = (AWS_BUCKET, AWS_BUCKET_V2)
BUCKET_TYPES = (*AWS_BUCKETS, MINIO_BUCKET)

OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
             "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
CORS = ("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
        "aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2")
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
MINIO_BUCKET_POLICY = "minio:index/s3BucketPolicy:S3BucketPolicy"
MINIO_VERSIONING = "minio:index/s3BucketVersioning:S3BucketVersioning"

SIBLING_TYPES = frozenset({OWNERSHIP, PUBLIC_ACCESS_BLOCK, *ENCRYPTION, *VERSIONING, *LIFECYCLE, *CORS, *LOGGING,
                           REPLICATION, BUCKET_POLICY, MINIO_BUCKET_POLICY, MINIO_VERSIONING,
                           "aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2",
                           "minio:index/ilmPolicy:IlmPolicy",
                           "minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption"})


def _bucket_name(resource: Any) -> str | None:
    name = value(resource.props, "bucket")
    return name if isinstance(name, str) and name else None


class StackView:
    """Indexes over the stack's resources (pulumi_policy PolicyResource objects or anything shaped like them)."""

    def __init__(self, resources: Iterable[Any]):
        self.resources = list(resources)
        self.by_type: dict[str, list[Any]] = defaultdict(list)
        for resource in self.resources:
            self.by_type[resource.resource_type].append(resource)
        self.buckets = [r for r in self.resources if r.resource_type in BUCKET_TYPES]
        self._bucket_by_name = {name: bucket for bucket in self.buckets if (name := _bucket_name(bucket))}
        self._bucket_by_urn = {bucket.urn: bucket for bucket in self.buckets}
        self.siblings: dict[str, list[Any]] = defaultdict(list)
        """bucket URN -> the resources that configure it."""
        for resource in self.resources:
            if resource.resource_type in SIBLING_TYPES:
                bucket = self.bucket_of(resource)
                if bucket is not None:
                    self.siblings[bucket.urn].append(resource)

    def of_type(self, *types: str) -> list[Any]:
        return [resource for token in types for resource in self.by_type.get(token, [])]

    def bucket_named(self, name: str) -> Any | None:
        return self._bucket_by_name.get(name)

    def bucket_of(self, sibling: Any) -> Any | None:
        name = value(sibling.props, "bucket")
        if isinstance(name, str) and name in self._bucket_by_name:
            return self._bucket_by_name[name]
        through_input = [d for d in (getattr(sibling, "property_dependencies", None) or {}).get("bucket", [])
                         if d.urn in self._bucket_by_urn]
        if len(through_input) == 1:
            return through_input[0]
        if name is UNKNOWN or name is None or isinstance(name, str):
            depended = [d for d in (getattr(sibling, "dependencies", None) or []) if d.urn in self._bucket_by_urn]
            if len(depended) == 1:
                return depended[0]
        return None

    def sibling(self, bucket: Any, *types: str) -> Any | None:
        """The bucket's sibling of one of `types` (the first declared, if a program declares several)."""
        for resource in self.siblings.get(bucket.urn, []):
            if resource.resource_type in types:
                return resource
        return None

    def replica_bucket_names(self) -> set[str]:
        """Buckets that some replication configuration writes to: replicas need no replica of their own."""
        names = set()
        for config in self.of_type(REPLICATION):
            for rule in value(config.props, "rules", default=[]) or []:
                arn = value(rule, "destination", "bucket")
                if isinstance(arn, str):
                    names.add(arn.rsplit(":", 1)[-1])
        return names


def app_of(resource: Any) -> Any | None:
    """The top-level component a resource belongs to (this package: the app's AppStorage), or None when the resource
    sits directly under the stack."""
    top = None
    current = getattr(resource, "parent", None)
    while current is not None and current.resource_type != STACK_TYPE:
        top = current
        current = getattr(current, "parent", None)
    return top
