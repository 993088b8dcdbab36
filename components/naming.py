"""Naming rules: what a name may look like, and how every physical resource name is derived.

Pure functions only, so the settings gate and the components agree on every name. Each derived name sits
beside the rule of its resource type (`NameRule`: charset and length, with the source of the rule), and is
valid by construction for any valid bucket name: characters a type refuses become '-', and a name over
its type's limit keeps its start and gets a stable hash (`shortened`). A name that already fits is used
as it is, so no existing name changes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

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


# AWS tags (S3, IAM, KMS, CloudFront alike): keys of 1-128 and values of 0-256 Unicode letters, digits,
# spaces and `_ . : / = + - @`; the `aws:` prefix is AWS's own (AWS Tagging Best Practices, "Tag naming").
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
_TAG_SYMBOLS = set("_.:/=+-@")


def _tag_text_ok(text: str) -> bool:
    return all(c in _TAG_SYMBOLS or unicodedata.category(c)[0] in "LNZ" for c in text)


def aws_tag_problems(key: str, value: str) -> list[str]:
    """Everything AWS refuses in one tag; empty when it is valid."""
    problems = []
    if not 1 <= len(key) <= TAG_KEY_MAX:
        problems.append(f"a tag key has 1 to {TAG_KEY_MAX} characters")
    if not len(value) <= TAG_VALUE_MAX:
        problems.append(f"a tag value has at most {TAG_VALUE_MAX} characters")
    if not (_tag_text_ok(key) and _tag_text_ok(value)):
        problems.append("tags hold only letters, digits, spaces and _ . : / = + - @")
    if key.lower().startswith("aws:"):
        problems.append("the 'aws:' prefix is reserved for AWS")
    return problems


def secret_output_name(app: str, key: str) -> str:
    """The stack output that holds one of an app's secret values on its own: `<app>_<key>`. App names are DNS
    labels, so the underscore never collides with another app's name."""
    return f"{app}_{key}"


def partition_for(region: str) -> str:
    """The AWS partition a region belongs to, for building ARNs without a lookup."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def bucket_arn(bucket: str, region: str) -> str:
    return f"arn:{partition_for(region)}:s3:::{bucket}"


@dataclass(frozen=True)
class NameRule:
    """What one resource type accepts as a name; `source` is where the rule is stated."""
    resource: str
    pattern: re.Pattern
    max_length: int
    source: str
    min_length: int = 1
    reserved_prefix: str = ""

    def problems(self, name: str) -> list[str]:
        found = []
        if not self.min_length <= len(name) <= self.max_length:
            found.append(f"{self.resource} names are {self.min_length} to {self.max_length} characters; "
                         f"{name!r} has {len(name)}")
        if not self.pattern.fullmatch(name):
            found.append(f"{self.resource} names must match {self.pattern.pattern}; {name!r} does not")
        if self.reserved_prefix and name.startswith(self.reserved_prefix):
            found.append(f"{self.resource} names must not start with {self.reserved_prefix!r}")
        return found


class _S3BucketRule(NameRule):
    def problems(self, name: str) -> list[str]:
        return [f"S3 bucket {name!r} {problem}" for problem in bucket_name_problems(name)]


S3_BUCKET = _S3BucketRule("S3 bucket", _BUCKET_CHARS, BUCKET_NAME_MAX,
                          "AWS S3 User Guide, general purpose bucket naming rules", BUCKET_NAME_MIN)
IAM_USER = NameRule("IAM user", re.compile(r"[\w+=,.@-]+"), 64, "AWS IAM API reference, CreateUser UserName")
IAM_GROUP = NameRule("IAM group", re.compile(r"[\w+=,.@-]+"), 128, "AWS IAM API reference, CreateGroup GroupName")
IAM_ROLE = NameRule("IAM role", re.compile(r"[\w+=,.@-]+"), 64, "AWS IAM API reference, CreateRole RoleName")
KMS_ALIAS = NameRule("KMS alias", re.compile(r"alias/[a-zA-Z0-9/_-]+"), 256,
                     "AWS KMS API reference, CreateAlias AliasName", reserved_prefix="alias/aws/")
CLOUDFRONT_FUNCTION = NameRule("CloudFront Function", re.compile(r"[a-zA-Z0-9_-]+"), 64,
                               "Amazon CloudFront API reference, CreateFunction Name")
# CloudFront states these two limits in its console and quotas rather than its API reference; the
# Function's charset and 64 characters are the strictest of the three, so all three follow them.
CLOUDFRONT_RESPONSE_HEADERS_POLICY = NameRule("CloudFront response headers policy", re.compile(r"[a-zA-Z0-9_-]+"),
                                              64, "Amazon CloudFront Developer Guide, quotas (policy names)")
CLOUDFRONT_ORIGIN_ACCESS_CONTROL = NameRule("CloudFront origin access control", re.compile(r"[a-zA-Z0-9_-]+"), 64,
                                            "Amazon CloudFront API reference, OriginAccessControlConfig Name")
LOG_DELIVERY = NameRule("CloudWatch Logs delivery source or destination", re.compile(r"[\w-]+"), 60,
                        "Amazon CloudWatch Logs API reference, PutDeliverySource and PutDeliveryDestination name; "
                        "terraform-provider-aws v6 logs/delivery_source.go, delivery_destination.go "
                        "LengthBetween(1, 60)")
WAF_WEB_ACL = NameRule("WAF web ACL", re.compile(r"[\w-]+"), 128, "AWS WAFv2 API reference, CreateWebACL Name")
MINIO_USER = NameRule("MinIO user", re.compile(r"[0-9A-Za-z=,.@\-_+]+"), 64,
                      "terraform-provider-minio v1.20.1 minio/resource_minio_iam_user.go StaticUserNamePattern; "
                      "MinIO access keys are at least 3 characters", min_length=3)
MINIO_POLICY = NameRule("MinIO policy", re.compile(r"[\w+=,.@:-]*"), 96,
                        "terraform-provider-minio v1.20.1 minio/resource_minio_iam_policy.go validateIAMNamePolicy")


def stable_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def shortened(base: str, suffix: str, max_length: int) -> str:
    """`base + suffix` if it fits; else as much of `base` as fits, a hash of the whole `base`, and `suffix`.
    The hash keeps two long names that share a start apart."""
    if len(base) + len(suffix) <= max_length:
        return base + suffix
    digest = stable_hash(base)
    keep = max_length - len(suffix) - len(digest) - 1
    return f"{base[:keep].rstrip('.-_')}-{digest}{suffix}"


def _dashed(name: str, allowed: str) -> str:
    """Every character outside `allowed` (a regex class body) as '-', plus a hash of `name` when that changed
    anything, so that `a.b` and `a-b` (two valid buckets) keep apart."""
    dashed = re.sub(f"[^{allowed}]", "-", name)
    return dashed if dashed == name else f"{dashed}-{stable_hash(name)}"


def replica_bucket_name(bucket: str) -> str:
    """The disaster-recovery copy of `bucket`, in the replica region: `<bucket>-replica`."""
    return shortened(bucket, "-replica", S3_BUCKET.max_length)


def iam_user_name(bucket: str) -> str:
    """The app's IAM user is named like its bucket (63 characters fit IAM's 64)."""
    return bucket


def iam_group_name(bucket: str) -> str:
    return shortened(bucket, "-access", IAM_GROUP.max_length)


def replication_role_name(bucket: str) -> str:
    return shortened(bucket, "-replication", IAM_ROLE.max_length)


def app_role_name(bucket: str) -> str:
    """The IAM role of an app whose identity is `kind: role`."""
    return shortened(bucket, "-app", IAM_ROLE.max_length)


def kms_alias_name(bucket: str) -> str:
    """`alias/<bucket>`, dots as dashes (aliases take none)."""
    return "alias/" + _dashed(bucket, "a-zA-Z0-9/_-")


def cloudfront_name(bucket: str, suffix: str = "") -> str:
    """A CloudFront Function, policy or origin access control name for `bucket`: dots as dashes, 64 at most."""
    return shortened(_dashed(bucket, "a-zA-Z0-9_-"), suffix, CLOUDFRONT_FUNCTION.max_length)


def cdn_origin_access_control_name(bucket: str) -> str:
    return cloudfront_name(bucket)


def cdn_security_headers_policy_name(bucket: str) -> str:
    return cloudfront_name(bucket, "-security-headers")


def cdn_cache_headers_policy_name(bucket: str, cache_control: str) -> str:
    """One response headers policy per distinct Cache-Control value of an app's public areas."""
    return cloudfront_name(bucket, f"-cache-{stable_hash(cache_control)}")


def cdn_deny_function_name(bucket: str) -> str:
    return cloudfront_name(bucket, "-deny")


def log_bucket_name(bucket_prefix: str, region: str) -> str:
    """The stack's access-log bucket in `region`: `<bucketPrefix>-logs-<region>`. S3 delivers server access logs only
    to a bucket in the source bucket's region and account, so a stack has one per region it uses. A valid bucket
    prefix and a region name give a valid bucket name (63 at most: a long prefix keeps its start and a hash)."""
    return shortened(bucket_prefix.rstrip(".-"), f"-logs-{region}", S3_BUCKET.max_length)


def cdn_log_delivery_name(bucket: str) -> str:
    """The CloudWatch Logs delivery source and destination of an app's distribution (standard logging v2)."""
    return shortened(_dashed(bucket, r"\w-"), "-cdn-logs", LOG_DELIVERY.max_length)


def access_log_prefix(bucket: str) -> str:
    """Where a bucket's server access logs land in its region's log bucket: `<bucket>/`."""
    return f"{bucket}/"


def web_acl_name(bucket_prefix: str) -> str:
    """The stack's one WAF web ACL, in front of every distribution: `<bucketPrefix>-edge`, dots as dashes."""
    return shortened(_dashed(bucket_prefix, r"\w-"), "-edge", WAF_WEB_ACL.max_length)


def minio_user_name(bucket: str) -> str:
    """The app's MinIO user (its access key) is named like its bucket."""
    return bucket


def minio_policy_name(bucket: str) -> str:
    return shortened(bucket, "-access", MINIO_POLICY.max_length)


def derived_names(bucket: str, backend: str, replicated: bool = True) -> list[tuple[str, NameRule]]:
    """Every physical name the stack derives from an app's `bucket` on `backend` (with replication, the
    replica's too), with the rule it must meet."""
    if backend == "minio":
        return [(minio_user_name(bucket), MINIO_USER), (minio_policy_name(bucket), MINIO_POLICY)]
    replica = replica_bucket_name(bucket)
    replica_names = [(replica, S3_BUCKET), (replication_role_name(bucket), IAM_ROLE),
                     (kms_alias_name(replica), KMS_ALIAS)] if replicated else []
    return [
        *replica_names,
        (iam_user_name(bucket), IAM_USER),
        (iam_group_name(bucket), IAM_GROUP),
        (app_role_name(bucket), IAM_ROLE),
        (kms_alias_name(bucket), KMS_ALIAS),
        (cdn_origin_access_control_name(bucket), CLOUDFRONT_ORIGIN_ACCESS_CONTROL),
        (cdn_security_headers_policy_name(bucket), CLOUDFRONT_RESPONSE_HEADERS_POLICY),
        (cdn_cache_headers_policy_name(bucket, "public, max-age=31536000, immutable"),
         CLOUDFRONT_RESPONSE_HEADERS_POLICY),
        (cdn_deny_function_name(bucket), CLOUDFRONT_FUNCTION),
        (cdn_log_delivery_name(bucket), LOG_DELIVERY),
    ]


def bucket_regional_domain(bucket: str, region: str) -> str:
    """The bucket's regional S3 endpoint: CloudFront's origin (known before the bucket exists)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{bucket}.s3.{region}.{suffix}"


def minio_bucket_arn(bucket: str) -> str:
    """MinIO policies name every bucket in the `aws` partition, whatever the server's region."""
    return f"arn:aws:s3:::{bucket}"


# Lifecycle rule ids: the same on every backend, so a rule reads alike in the S3 and MinIO consoles.
NONCURRENT_RULE_ID = "expire-noncurrent-versions"
ABORT_MULTIPART_RULE_ID = "abort-incomplete-multipart-uploads"
VERIFY_SCRATCH_PREFIX = "app-storage-verify/"
"""Inside each area: where `make verify` writes its scratch objects (deleted again by the run itself)."""
VERIFY_SCRATCH_DAYS = 1
"""Days a scratch object, or a version or delete marker it left, outlives an interrupted run."""


def verify_scratch_prefix(area_prefix: str) -> str:
    return f"{area_prefix}{VERIFY_SCRATCH_PREFIX}"


def verify_scratch_rule_id(area_prefix: str) -> str:
    """`expire-verify-scratch-<area prefix slug>`: the lifecycle rule that expires `make verify`'s leftovers."""
    return f"expire-verify-scratch-{_slug(area_prefix)}"


def lifecycle_rule_id(position: int, prefix: str) -> str:
    """`<1-based position>-<prefix slug>`, e.g. `2-uploads-temp`; `whole-bucket` for the empty prefix."""
    return f"{position}-{_slug(prefix)}"


def _slug(prefix: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-") or "whole-bucket"
