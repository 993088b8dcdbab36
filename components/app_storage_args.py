"""AppStorage's inputs, as other languages see them: the app's config keys and the stack keys one app needs.

The Pulumi SDK's component analyzer infers the package schema from these TypedDicts (their field docstrings are
the descriptions); it reads annotations as objects, so this module must not postpone them. Every field follows a
key of the settings gate's tables (`components/settings/schema.py`), named as there in camelCase on the wire and in
snake_case here; a test holds the names and descriptions to the tables. Values go through the same gate as a stack
file's before anything is declared.
"""

from typing import Any, Required, TypedDict


class TransitionConfig(TypedDict, total=False):
    """A move to a colder storage class (`lifecycle[].transitions`)."""

    days: Required[int]
    """Required: days after creation."""
    storage_class: Required[str]
    """Required: the class to move objects to."""


class LifecycleRuleConfig(TypedDict, total=False):
    """A lifecycle rule of the app's own (`lifecycle`)."""

    area: str
    """The area the rule applies to (or prefix)."""
    prefix: str
    """The prefix the rule applies to, inside an area; '' is the whole bucket."""
    transitions: list[TransitionConfig]
    """Tier transitions, warm to cold."""
    expire_days: int
    """Days after which objects expire."""


class KeptLifecycleRuleConfig(TypedDict, total=False):
    """A lifecycle rule an adopted bucket had and keeps, under its own id (`keep.lifecycle`)."""

    id: Required[str]
    """Required: the rule's id in the bucket (not one the stack uses)."""
    area: str
    """The area the rule applies to (or prefix)."""
    prefix: str
    """The prefix the rule applies to, inside an area; '' is the whole bucket."""
    transitions: list[TransitionConfig]
    """Tier transitions, warm to cold."""
    expire_days: int
    """Days after which objects expire."""


class AreaConfig(TypedDict, total=False):
    """A part of the bucket under one key prefix, public or private (`areas`)."""

    access: str
    """public or private."""
    prefix: str
    """Key prefix of the area; by default <area>/, and '' is the whole bucket."""
    cache_control: str
    """Cache-Control the CDN sends for the area's objects that carry none."""
    presign_seconds: int
    """Lifetime of presigned URLs, 1..604800."""


class CorsRuleConfig(TypedDict, total=False):
    """A CORS rule (`cors`)."""

    origins: Required[list[str]]
    """Required: http(s) origins, or '*'."""
    methods: Required[list[str]]
    """Required: GET, PUT, POST, DELETE, HEAD."""
    headers: list[str]
    """Allowed request headers."""
    expose_headers: list[str]
    """Response headers the browser may read."""
    max_age_seconds: int
    """How long browsers cache a preflight answer."""
    allow_any_origin: bool
    """Accept a '*' origin where data is protected."""


class RotationConfig(TypedDict, total=False):
    """Which access key generation is current (`identity.rotation`)."""

    generation: int
    ("The current key's generation; raise it one at a time: the new key takes the slot of the one before the "
     "previous, which is deleted first, and the previous stays live.")
    retire_previous: bool
    """Delete the previous generation's key now (not in the update that raises the generation)."""


class OidcConfig(TypedDict, total=False):
    """An OIDC provider the role trusts (`identity.trust.oidc`)."""

    provider_arn: Required[str]
    """Required: arn:aws:iam::<account>:oidc-provider/<host>."""
    audience: Required[str]
    """Required: the token audience (aud), e.g. sts.amazonaws.com."""
    subjects: Required[list[str]]
    """Required: subject (sub) patterns, e.g. system:serviceaccount:ns:sa."""


class TrustConfig(TypedDict, total=False):
    """Who may assume the app's role (`identity.trust`): exactly one of service, oidc, principals."""

    service: str
    """A platform's service principal."""
    oidc: OidcConfig
    """An OIDC provider (EKS IRSA, GitHub Actions): providerArn, audience, subjects."""
    principals: list[str]
    """Account or role ARNs that may assume the role."""
    external_id: str
    """With principals: the external id they must present."""


class IdentityConfig(TypedDict, total=False):
    """The app's identity (`identity`): an IAM or MinIO user with access keys, or an IAM role."""

    kind: str
    """user: an IAM/MinIO user with access keys; role: an IAM role, no key (aws only)."""
    rotation: RotationConfig
    """kind user: which key generation is current."""
    trust: TrustConfig
    """Required with kind role: exactly one of service, oidc, principals."""


class AppAlertsConfig(TypedDict, total=False):
    """The app's alert thresholds (`alerts`)."""

    storage_bytes: int
    ("Alert when the bucket holds more bytes (all storage classes); on MinIO also the bucket's hard quota, which "
     "refuses writes beyond it. Default: no storage alert.")
    requests_per_5_min: int
    """Alert when the bucket serves more requests in five minutes. Default: no request-rate alert."""
    monthly_budget_usd: int
    ("A monthly cost budget that alerts at 80 % and 100 % (per app: through the app-storage:app cost allocation "
     "tag). Default: no budget.")


class KeepConfig(TypedDict, total=False):
    """With adopt: what the adopted bucket had that others need (`keep`)."""

    policy_statements: list[dict[str, Any]]
    ("Bucket policy statements kept beside the stack's own (Sid, Effect, Principal, Action or NotAction, Resource "
     "in this bucket, Condition); none may be public.")
    lifecycle: list[KeptLifecycleRuleConfig]
    """Lifecycle rules kept under their own id, on any prefix: id, prefix, transitions, expireDays."""
    kms_key_arns: list[str]
    """KMS keys (aws) the app's identity may decrypt with: objects written under them before the adoption."""


class ReplicationConfig(TypedDict, total=False):
    """A cross-region replica of the bucket (`replication`, aws only)."""

    region: Required[str]
    """Required: the replica region, not aws:region."""
    storage_class: str
    """Storage class of the replicas."""
    replication_time_control: bool
    """S3 RTC (15 minutes) with metrics."""


class CdnConfig(TypedDict, total=False):
    """A CloudFront distribution for the app's public areas (`cdn`, aws only)."""

    enabled: bool
    """Declare the distributions."""
    price_class: str
    """CloudFront price class."""
    domains: dict[str, str]
    """App name -> custom domain of its distribution."""
    certificate_arn: str
    """ACM certificate in us-east-1 covering the domains."""
    hosted_zone_id: str
    """Route53 zone: creates DNS-validated certificates and alias records."""
    log_bucket: str
    """An existing bucket for CloudFront standard logs (v2); by default the stack's log bucket in aws:region."""
    web_acl_arn: str
    """An existing WAFv2 web ACL (CloudFront scope) for every distribution."""
    hsts_preload: bool
    ("HSTS carries preload (with two years and includeSubDomains); false to opt out of what the browsers' preload "
     "list commits a domain to.")


class MinioServerConfig(TypedDict, total=False):
    """The MinIO server apps connect to (`minio`), as the MinIO provider's config names it."""

    minio_server: str
    """Required with backend minio: host:port, e.g. localhost:9000."""
    minio_ssl: bool
    """TLS to the server."""
    minio_region: str
    """The region MinIO reports and signs with."""




class AppStorageArgs(TypedDict, total=False):
    """What AppStorage declares: one app's keys and the stack keys a component needs."""

    dialect: str
    """The .env naming the app reads."""
    bucket_name: str
    """Exact bucket name; by default <bucketPrefix>-<app>."""
    areas: dict[str, AreaConfig]
    """Area name -> area; by default one private area over the whole bucket."""
    cors: list[CorsRuleConfig]
    """CORS rules."""
    lifecycle: list[LifecycleRuleConfig]
    """Lifecycle rules."""
    identity: IdentityConfig
    """This app's identity; by default the stack's identity."""
    alerts: AppAlertsConfig
    """This app's thresholds (storageBytes, requestsPer5Min, monthlyBudgetUsd); by default the stack's."""
    adopt: bool
    ("The bucket bucketName names exists already: the stack imports it instead of creating it, and keeps it "
     "protected and retained whatever protectData says. Check it first with make adopt.")
    keep: KeepConfig
    ("With adopt: what the bucket had that others need (policyStatements, lifecycle, kmsKeyArns), kept instead of "
     "replaced. Default: nothing kept.")
    backend: str
    """Where the storage lives, aws or minio."""
    encryption: str
    """Default bucket encryption, aes256 (SSE-S3) or kms (SSE-KMS with a bucket key and a rotated customer key)."""
    kms_key_arn: str
    """With encryption kms, an existing KMS key ARN to use instead of creating one key per bucket."""
    versioning: bool
    """Keep object versions; noncurrent versions expire after noncurrentVersionExpirationDays."""
    noncurrent_version_expiration_days: int
    """Days a replaced or deleted object version is kept when versioning is on."""
    abort_incomplete_multipart_upload_days: int
    """Days after which unfinished multipart uploads are aborted (and stop costing storage)."""
    protect_data: bool
    """Protect buckets and keys from deletion and retain them if removed from the program."""
    force_destroy: bool
    """Let destroy delete buckets that still hold objects. Refused while protectData is true."""
    minio_kms_key_id: str
    ("With backend minio, a key of MinIO's KMS (KES) to encrypt buckets with; without one MinIO stores objects "
     "unencrypted.")
    public_without_cdn: bool
    ("On aws without a CDN, serve public areas anonymously from S3 (turns off BlockPublicPolicy and "
     "RestrictPublicBuckets on those buckets; reported as a warning).")
    bucket_prefix: str
    """Prefix of derived bucket names, <bucketPrefix>-<app>; empty (the default) means <project>-<stack>."""
    tags: dict[str, str]
    """Tags on every taggable resource, besides app-storage:app and app-storage:stack."""
    replication: ReplicationConfig
    """Off by default (aws only): a cross-region replica of every bucket."""
    cdn: CdnConfig
    """Off by default (aws only): one CloudFront distribution per app with public areas."""
    region: str
    """The AWS region of the bucket (aws:region on a stack); default: the calling program's aws:region."""
    minio: MinioServerConfig
    """With backend minio: the server apps connect to; default: the calling program's minio config."""
    log_buckets: dict[str, str]
    ("Region -> an existing bucket that receives the server access logs of this app's buckets in that region (a "
     "stack's log buckets); default: no access logs.")
    alert_topic_arn: str
    ("An SNS topic the app's alarms and budget notify (a stack's alert topic); required with alerts on aws; "
     "default: no alarms.")
    edge_alert_topic_arn: str
    """The us-east-1 topic the CDN alarm notifies; default: alertTopicArn."""
