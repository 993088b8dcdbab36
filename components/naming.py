"""Naming rules: what a name may look like, and how resource names are derived.

Pure functions only, so the settings gate and the components agree on every name.
"""

from __future__ import annotations

import re

BUCKET_NAME_MIN = 3
BUCKET_NAME_MAX = 63

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_AREA_NAME = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")
_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_IP_LIKE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
# Prefixes and suffixes S3 reserves for its own bucket types.
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def is_dns_label(name: str) -> bool:
    """An app name: lowercase letters, digits and inner hyphens, at most 63 characters."""
    return len(name) <= 63 and bool(_DNS_LABEL.match(name))


def is_area_name(name: str) -> bool:
    """An area name: like a DNS label, but underscores are allowed (`ml_outputs`)."""
    return len(name) <= 63 and bool(_AREA_NAME.match(name))


def bucket_name_problems(name: str) -> list[str]:
    """Everything that makes `name` an invalid S3 bucket name; empty when it is valid."""
    problems = []
    if not BUCKET_NAME_MIN <= len(name) <= BUCKET_NAME_MAX:
        problems.append(
            f"is {len(name)} characters long; S3 allows {BUCKET_NAME_MIN} to {BUCKET_NAME_MAX}"
        )
    if name != name.lower():
        problems.append("has uppercase letters; S3 allows only lowercase")
    if not _BUCKET_CHARS.match(name.lower()):
        problems.append(
            "may hold only lowercase letters, digits, '.' and '-', and must start and end with a letter or digit"
        )
    if ".." in name:
        problems.append("has '..'; S3 forbids adjacent periods")
    if _IP_LIKE.match(name):
        problems.append("looks like an IP address, which S3 forbids")
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        problems.append("uses a prefix or suffix that S3 reserves")
    return problems


def default_bucket_prefix(project: str, stack: str) -> str:
    """`<project>-<stack>`, lowercased: the prefix of every derived bucket name."""
    return f"{project}-{stack}".lower()


def derived_bucket_name(bucket_prefix: str, app: str) -> str:
    """The bucket an app gets unless it names one: `<bucketPrefix>-<app>`."""
    if not bucket_prefix:
        raise ValueError("a derived bucket name needs a prefix; the settings gate supplies <project>-<stack>")
    return f"{bucket_prefix}-{app}"


def partition_for(region: str) -> str:
    """The AWS partition a region belongs to, for building ARNs without a lookup."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def bucket_arn(bucket: str, region: str) -> str:
    return f"arn:{partition_for(region)}:s3:::{bucket}"


def replica_bucket_name(bucket: str) -> str:
    """The disaster-recovery copy of `bucket`, in the replica region."""
    return f"{bucket}-replica"


def bucket_regional_domain(bucket: str, region: str) -> str:
    """The bucket's regional S3 endpoint: CloudFront's origin (known before the bucket exists)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{bucket}.s3.{region}.{suffix}"


def minio_bucket_arn(bucket: str) -> str:
    """MinIO policies name every bucket in the `aws` partition, whatever the server's region."""
    return f"arn:aws:s3:::{bucket}"


# Lifecycle rule ids: the same on every backend, so a rule reads alike in the S3 and MinIO consoles.
NONCURRENT_RULE_ID = "expire-noncurrent-versions"


def lifecycle_rule_id(position: int, prefix: str) -> str:
    """`<1-based position>-<prefix slug>`, e.g. `2-uploads-temp`; `whole-bucket` for the empty prefix."""
    slug = re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-") or "whole-bucket"
    return f"{position}-{slug}"
