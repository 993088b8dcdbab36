"""MinIO buckets and their anonymous access."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .common import MANDATORY, Rule, described, object_prefix_of_arn, statements, value
from .stack import MINIO_BUCKET, MINIO_BUCKET_POLICY

ANONYMOUS_READ = frozenset({"s3:getobject"})
WRITABLE_ACLS = frozenset({"public-read-write", "public-write", "public"})
"""The pulumi-minio bucket ACLs that let anyone write or list (terraform-provider-minio v1.20.1 `acl`)."""
READABLE_ACLS = frozenset({"public-read"})


def _anonymous_allows(resource: Any) -> list:
    return [s for s in statements(value(resource.props, "policy")) if s.allows and s.anonymous]


def no_anonymous_write_or_list(resource: Any, _config: Mapping) -> Iterator[str]:
    if resource.resource_type == MINIO_BUCKET and value(resource.props, "acl") in WRITABLE_ACLS:
        yield f"{described(resource)} must not let anyone write or list (acl {value(resource.props, 'acl')!r})"
    if resource.resource_type != MINIO_BUCKET_POLICY:
        return
    for statement in _anonymous_allows(resource):
        extra = [a for a in statement.actions if a.lower() not in ANONYMOUS_READ] + list(statement.not_actions)
        if extra:
            yield f"{described(resource)}: {statement.label} must not let anyone {', '.join(extra)}"


def anonymous_read_prefixes_only(resource: Any, _config: Mapping) -> Iterator[str]:
    if resource.resource_type == MINIO_BUCKET and value(resource.props, "acl") in READABLE_ACLS:
        yield f"{described(resource)} must not publish the whole bucket (acl 'public-read'); grant read on prefixes"
    if resource.resource_type != MINIO_BUCKET_POLICY:
        return
    for statement in _anonymous_allows(resource):
        whole = [arn for arn in statement.resources if object_prefix_of_arn(arn) in (None, "*")]
        if whole:
            yield (f"{described(resource)}: {statement.label} must grant anonymous read on area prefixes only, "
                   f"not {', '.join(whole)}")


RULES = (
    Rule("minio-no-anonymous-write-or-list", "Checks whether a MinIO bucket lets anonymous users write or list",
         ("FSBP S3.3 (MinIO)",), "Grant anonymous users s3:GetObject on public prefixes only (app-storage: "
         "areas with access public).", Severity.CRITICAL, MANDATORY, no_anonymous_write_or_list),
    Rule("minio-anonymous-read-prefixes-only", "Checks whether anonymous read on a MinIO bucket is limited to "
         "area prefixes", ("FSBP S3.2 (MinIO)",), "Grant s3:GetObject on arn:aws:s3:::bucket/<prefix>/* only.",
         Severity.HIGH, MANDATORY, anonymous_read_prefixes_only),
)
