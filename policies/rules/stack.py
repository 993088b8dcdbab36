"""The whole stack as stack rules see it: buckets with the resources that configure them, and apps.

In pulumi-aws 7 a bucket's settings are sibling resources (versioning, encryption, …) that name the bucket. A
sibling is matched to its bucket by the bucket name it sets, or else by the bucket it depends on for its `bucket`
input (a raw program passes `bucket.id`, unknown during a preview of a new bucket), or else by its only bucket
dependency. A replication destination is recognised the same way: by the bucket its ARN names, or by the replication
config's dependency for its `rules` input (a raw program passes `replica.arn`). So the same rules hold for this
package's components and for any raw program.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .common import UNKNOWN, dependencies_of, is_list, items, value

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
        through_input = [d for d in dependencies_of(sibling, "bucket")
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

    def bucket_with_urn(self, urn: str) -> Any | None:
        return self._bucket_by_urn.get(urn)

    def replica_urns(self) -> set[str]:
        """The buckets some replication configuration writes to (replicas need no replica of their own)."""
        return {destination.urn for _, destination in self.replications()}

    def replicas_of(self) -> dict[str, list[Any]]:
        """Source bucket URN -> the buckets its replication configurations write to (sources the stack can tell)."""
        found: dict[str, list[Any]] = defaultdict(list)
        for source, destination in self.replications():
            if source is not None and destination.urn != source.urn and all(
                    destination.urn != known.urn for known in found[source.urn]):
                found[source.urn].append(destination)
        return dict(found)

    def replications(self) -> list[tuple[Any | None, Any]]:
        """(source bucket or None where it cannot be told, destination bucket) for each replication configuration.

        A destination is the bucket its ARN names (`rules[*].destination.bucket`), or else a bucket the configuration's
        `rules` input depends on, other than its source: raw programs pass `replica.arn`, which names nothing in an
        auto-named replica's inputs and is unknown in a preview. Property dependencies are keyed by top-level input, so
        a dependency of `rules` is taken for the destination's, unless that bucket has a name and every destination
        ARN is known and names another bucket."""
        found: list[tuple[Any | None, Any]] = []
        for config in self.of_type(REPLICATION):
            destinations: dict[str, Any] = {}
            rules = value(config.props, "rules")
            arns = [value(rule, "destination", "bucket") for rule in items(config.props, "rules")]
            named = {arn.rsplit(":", 1)[-1] for arn in arns if isinstance(arn, str)}
            destinations |= {self._bucket_by_name[name].urn: self._bucket_by_name[name]
                             for name in sorted(named) if name in self._bucket_by_name}
            all_known = is_list(rules) and len(arns) == len(rules) and all(isinstance(arn, str) for arn in arns)
            dependencies = getattr(config, "property_dependencies", None) or {}
            source = self.bucket_of(config)
            sources = {d.urn for d in dependencies.get("bucket", [])} | ({source.urn} if source is not None else set())
            for dependency in dependencies.get("rules", []):
                if dependency.urn not in self._bucket_by_urn or dependency.urn in sources:
                    continue
                name = _bucket_name(dependency)
                if name is None or name in named or not all_known:
                    destinations[dependency.urn] = dependency
            found += [(source, destination) for destination in destinations.values()]
        return found


def app_of(resource: Any) -> Any | None:
    """The top-level component a resource belongs to (this package: the app's AppStorage), or None when the resource
    sits directly under the stack."""
    top = None
    current = getattr(resource, "parent", None)
    while current is not None and current.resource_type != STACK_TYPE:
        top = current
        current = getattr(current, "parent", None)
    return top
