"""The settings schema: every key the gate reads, its default, its allowed values and patterns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components.aws.cdn import CdnArgs
from components.aws.log_bucket import LogBucketArgs
from components.aws.replication import ReplicationArgs
from components.aws.secure_bucket import SecureBucketArgs
from components.dialects import DIALECTS

NAMESPACE = "app-storage"

BACKENDS = ("aws", "minio")
ACCESS_LEVELS = ("public", "private")
ENCRYPTION_KINDS = ("aes256", "kms")
CORS_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
# Colder classes rank higher: a lifecycle may only move objects to a colder class (S3's waterfall).
STORAGE_CLASS_RANK = {
    "STANDARD_IA": 1,
    "INTELLIGENT_TIERING": 1,
    "ONEZONE_IA": 2,
    "GLACIER_IR": 3,
    "GLACIER": 4,
    "DEEP_ARCHIVE": 5,
}
INFREQUENT_ACCESS_CLASSES = ("STANDARD_IA", "ONEZONE_IA")
INFREQUENT_ACCESS_MIN_DAYS = 30
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs live at most 7 days.
REPLICA_STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER",
                           "DEEP_ARCHIVE")
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
WAF_KINDS = ("managed",)
IDENTITY_KINDS = ("user", "role")
TRUSTED_SERVICES = ("ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com")
"""The platforms an app role may trust by service principal."""
MAX_KEY_GENERATION = 1_000_000

# --- the keys --------------------------------------------------------------------------------------
# One table: every key with its type (as the README and Pulumi.yaml name it), its default, its allowed
# values and its meaning. A default a component uses is the component's own (its Args class documents and
# owns it); the gate reads it from there. Tests hold `Pulumi.yaml`'s schema and the README's configuration
# reference to this table.


@dataclass(frozen=True)
class Key:
    name: str
    type: str
    """string | boolean | integer | map | list"""
    default: Any
    """None: no value by default (required, computed or off: `meaning` says which)."""
    meaning: str
    choices: tuple[str, ...] = ()


def defaults(keys: tuple[Key, ...]) -> dict[str, Any]:
    return {key.name: key.default for key in keys}


STACK_KEYS = (
    Key("backend", "string", "aws", "Where the storage lives, aws or minio.", BACKENDS),
    Key("encryption", "string", SecureBucketArgs.encryption, "Default bucket encryption, aes256 (SSE-S3) or kms "
        "(SSE-KMS with a bucket key and a rotated customer key).", ENCRYPTION_KINDS),
    Key("kmsKeyArn", "string", "", "With encryption kms, an existing KMS key ARN to use instead of creating one key "
        "per bucket."),
    Key("versioning", "boolean", SecureBucketArgs.versioning, "Keep object versions; noncurrent versions expire "
        "after noncurrentVersionExpirationDays."),
    Key("noncurrentVersionExpirationDays", "integer", SecureBucketArgs.noncurrent_version_expiration_days,
        "Days a replaced or deleted object version is kept when versioning is on."),
    Key("abortIncompleteMultipartUploadDays", "integer", SecureBucketArgs.abort_incomplete_multipart_upload_days,
        "Days after which unfinished multipart uploads are aborted (and stop costing storage)."),
    Key("logRetentionDays", "integer", LogBucketArgs.retention_days, "Days the stack's log buckets keep server "
        "access logs and CDN logs (aws), 1..36500."),
    Key("protectData", "boolean", SecureBucketArgs.protect_data, "Protect buckets and keys from deletion and retain "
        "them if removed from the program."),
    Key("forceDestroy", "boolean", SecureBucketArgs.force_destroy, "Let destroy delete buckets that still hold "
        "objects. Refused while protectData is true."),
    Key("minioKmsKeyId", "string", "", "With backend minio, a key of MinIO's KMS (KES) to encrypt buckets with; "
        "without one MinIO stores objects unencrypted."),
    Key("publicWithoutCdn", "boolean", SecureBucketArgs.public_without_cdn, "On aws without a CDN, serve public areas "
        "anonymously from S3 (turns off BlockPublicPolicy and RestrictPublicBuckets on those buckets; reported as a "
        "warning)."),
    Key("bucketPrefix", "string", "", "Prefix of derived bucket names, <bucketPrefix>-<app>; empty (the default) "
        "means <project>-<stack>."),
    Key("tags", "map", {}, "Tags on every taggable resource, besides app-storage:app and app-storage:stack."),
    Key("replication", "map", None, "Off by default (aws only): a cross-region replica of every bucket."),
    Key("cdn", "map", None, "Off by default (aws only): one CloudFront distribution per app with public areas."),
    Key("identity", "map", {"kind": "user"}, "The identity every app gets unless it sets its own: kind user "
        "(access keys, rotated by generation) or role (AWS only, no key)."),
    Key("alerts", "map", {}, "Who is told and when, for every app unless it sets its own thresholds: emails, "
        "monthlyBudgetUsd, storageBytes, requestsPer5Min. Default: no alerts."),
    Key("apps", "map", None, "Required: app name -> app, shared by every stack from Pulumi.yaml."),
)
REPLICATION_KEYS = (
    Key("region", "string", None, "Required: the replica region, not aws:region."),
    Key("storageClass", "string", ReplicationArgs.storage_class, "Storage class of the replicas.",
        REPLICA_STORAGE_CLASSES),
    Key("replicationTimeControl", "boolean", ReplicationArgs.replication_time_control,
        "S3 RTC (15 minutes) with metrics."),
)
CDN_KEYS = (
    Key("enabled", "boolean", False, "Declare the distributions."),
    Key("priceClass", "string", CdnArgs.price_class, "CloudFront price class.", PRICE_CLASSES),
    Key("domains", "map", {}, "App name -> custom domain of its distribution."),
    Key("certificateArn", "string", None, "ACM certificate in us-east-1 covering the domains."),
    Key("hostedZoneId", "string", None, "Route53 zone: creates DNS-validated certificates and alias records."),
    Key("logBucket", "string", None, "An existing bucket for CloudFront standard logs (v2); by default the stack's "
        "log bucket in aws:region."),
    Key("webAclArn", "string", None, "An existing WAFv2 web ACL (CloudFront scope) for every distribution."),
    Key("waf", "string", None, "managed: one WAFv2 web ACL for the stack's distributions (AWS managed rule groups "
        "and a per-IP rate limit), instead of webAclArn.", WAF_KINDS),
    Key("hstsPreload", "boolean", CdnArgs.hsts_preload, "HSTS carries preload (with two years and "
        "includeSubDomains); false to opt out of what the browsers' preload list commits a domain to."),
)
# The MinIO provider's own config (namespace `minio`), read for the endpoint apps connect to.
MINIO_PROVIDER_SETTINGS = (
    Key("minioServer", "string", None, "Required with backend minio: host:port, e.g. localhost:9000."),
    Key("minioSsl", "boolean", False, "TLS to the server."),
    Key("minioRegion", "string", "us-east-1", "The region MinIO reports and signs with."),
)
APP_KEYS = (
    Key("dialect", "string", "aws-sdk", "The .env naming the app reads.", tuple(DIALECTS)),
    Key("bucketName", "string", None, "Exact bucket name; by default <bucketPrefix>-<app>."),
    Key("areas", "map", None, "Area name -> area; by default one private area over the whole bucket."),
    Key("cors", "list", [], "CORS rules."),
    Key("lifecycle", "list", [], "Lifecycle rules."),
    Key("identity", "map", None, "This app's identity; by default the stack's identity."),
    Key("alerts", "map", None, "This app's thresholds (storageBytes, requestsPer5Min, monthlyBudgetUsd); by "
        "default the stack's."),
    Key("adopt", "boolean", False, "The bucket bucketName names exists already: the stack imports it instead of "
        "creating it, and keeps it protected and retained whatever protectData says. Check it first with make adopt."),
    Key("keep", "map", None, "With adopt: what the bucket had that others need (policyStatements, lifecycle, "
        "kmsKeyArns), kept instead of replaced. Default: nothing kept."),
)
KEEP_KEYS = (
    Key("policyStatements", "list", [], "Bucket policy statements kept beside the stack's own (Sid, Effect, "
        "Principal, Action or NotAction, Resource in this bucket, Condition); none may be public."),
    Key("lifecycle", "list", [], "Lifecycle rules kept under their own id, on any prefix: id, prefix, "
        "transitions, expireDays."),
    Key("kmsKeyArns", "list", [], "KMS keys (aws) the app's identity may decrypt with: objects written under "
        "them before the adoption."),
)
APP_ALERT_KEYS = (
    Key("storageBytes", "integer", None, "Alert when the bucket holds more bytes (all storage classes); on MinIO "
        "also the bucket's hard quota, which refuses writes beyond it. Default: no storage alert."),
    Key("requestsPer5Min", "integer", None, "Alert when the bucket serves more requests in five minutes. Default: no "
        "request-rate alert."),
    Key("monthlyBudgetUsd", "integer", None, "A monthly cost budget that alerts at 80 % and 100 % (per app: through "
        "the app-storage:app cost allocation tag). Default: no budget."),
)
ALERT_KEYS = (
    Key("emails", "list", [], "Addresses the stack's alert topic mails; each confirms its subscription."),
    *APP_ALERT_KEYS,
    Key("appMonthlyBudgetUsd", "integer", None, "Every app's own monthly budget (on its app-storage:app cost "
        "allocation tag) unless the app sets monthlyBudgetUsd. Default: none."),
)
IDENTITY_KEYS = (
    Key("kind", "string", "user", "user: an IAM/MinIO user with access keys; role: an IAM role, no key (aws only).",
        IDENTITY_KINDS),
    Key("rotation", "map", None, "kind user: which key generation is current."),
    Key("trust", "map", None, "Required with kind role: exactly one of service, oidc, principals."),
)
ROTATION_KEYS = (
    Key("generation", "integer", 1, "The current key's generation; raise it one at a time: the new key takes the "
        "slot of the one before the previous, which is deleted first, and the previous stays live."),
    Key("retirePrevious", "boolean", False, "Delete the previous generation's key now (not in the update that "
        "raises the generation)."),
)
TRUST_KEYS = (
    Key("service", "string", None, "A platform's service principal.", TRUSTED_SERVICES),
    Key("oidc", "map", None, "An OIDC provider (EKS IRSA, GitHub Actions): providerArn, audience, subjects."),
    Key("principals", "list", None, "Account or role ARNs that may assume the role."),
    Key("externalId", "string", None, "With principals: the external id they must present."),
)
OIDC_KEYS = (
    Key("providerArn", "string", None, "Required: arn:aws:iam::<account>:oidc-provider/<host>."),
    Key("audience", "string", None, "Required: the token audience (aud), e.g. sts.amazonaws.com."),
    Key("subjects", "list", None, "Required: subject (sub) patterns, e.g. system:serviceaccount:ns:sa."),
)
AREA_KEYS = (
    Key("access", "string", "private", "public or private.", ACCESS_LEVELS),
    Key("prefix", "string", None, "Key prefix of the area; by default <area>/, and '' is the whole bucket."),
    Key("cacheControl", "string", None, "Cache-Control the CDN sends for the area's objects that carry none."),
    Key("presignSeconds", "integer", 3600, "Lifetime of presigned URLs, 1..604800."),
)
CORS_KEYS = (
    Key("origins", "list", None, "Required: http(s) origins, or '*'."),
    Key("methods", "list", None, "Required: GET, PUT, POST, DELETE, HEAD."),
    Key("headers", "list", ["*"], "Allowed request headers."),
    Key("exposeHeaders", "list", ["ETag"], "Response headers the browser may read."),
    Key("maxAgeSeconds", "integer", 3000, "How long browsers cache a preflight answer."),
    Key("allowAnyOrigin", "boolean", False, "Accept a '*' origin where data is protected."),
)
LIFECYCLE_KEYS = (
    Key("area", "string", None, "The area the rule applies to (or prefix)."),
    Key("prefix", "string", None, "The prefix the rule applies to, inside an area; '' is the whole bucket."),
    Key("transitions", "list", [], "Tier transitions, warm to cold."),
    Key("expireDays", "integer", None, "Days after which objects expire."),
)
KEPT_LIFECYCLE_KEYS = (
    Key("id", "string", None, "Required: the rule's id in the bucket (not one the stack uses)."),
    *LIFECYCLE_KEYS,
)
# AppStorage called on its own (another language's program, `components/app_storage_args.py`) takes the app's
# keys and these stack keys; what a stack's program declares once for all its apps it takes by reference.
COMPONENT_STACK_KEYS = ("backend", "encryption", "kmsKeyArn", "versioning", "noncurrentVersionExpirationDays",
                        "abortIncompleteMultipartUploadDays", "protectData", "forceDestroy", "minioKmsKeyId",
                        "publicWithoutCdn", "bucketPrefix", "tags", "replication", "cdn")
COMPONENT_KEYS = (
    Key("region", "string", None, "The AWS region of the bucket (aws:region on a stack); default: the calling "
        "program's aws:region."),
    Key("minio", "map", None, "With backend minio: the server apps connect to; default: the calling program's minio "
        "config."),
    Key("logBuckets", "map", {}, "Region -> an existing bucket that receives the server access logs of this app's "
        "buckets in that region (a stack's log buckets); default: no access logs."),
    Key("alertTopicArn", "string", None, "An SNS topic the app's alarms and budget notify (a stack's alert topic); "
        "required with alerts on aws; default: no alarms."),
    Key("edgeAlertTopicArn", "string", None, "The us-east-1 topic the CDN alarm notifies; default: alertTopicArn."),
)
STACK_PROGRAM_ONLY = {
    "apps": "a component is one app, named by the component's name",
    "identity": "a component has one identity, the app's own (`identity`)",
    "alerts": "the stack's emails and budget belong to the topic a stack declares; pass `alertTopicArn` and the "
              "app's own `alerts`",
    "logRetentionDays": "the log buckets are a stack's; pass their names in `logBuckets`",
    "cdn.waf": "a stack declares one web ACL for all its apps; pass its ARN as `cdn.webAclArn`",
}
"""Keys of the stack's tables an AppStorage called on its own does not take, and why."""
TRANSITION_KEYS = (
    Key("days", "integer", None, "Required: days after creation."),
    Key("storageClass", "string", None, "Required: the class to move objects to.", tuple(STORAGE_CLASS_RANK)),
)

STACK_DEFAULTS = defaults(STACK_KEYS)
ALERT_DEFAULTS = defaults(ALERT_KEYS)
APP_ALERT_DEFAULTS = defaults(APP_ALERT_KEYS)
REPLICATION_DEFAULTS = defaults(REPLICATION_KEYS)
CDN_DEFAULTS = defaults(CDN_KEYS)
MINIO_PROVIDER_DEFAULTS = defaults(MINIO_PROVIDER_SETTINGS)
APP_DEFAULTS = defaults(APP_KEYS)
AREA_DEFAULTS = defaults(AREA_KEYS)
CORS_DEFAULTS = defaults(CORS_KEYS)
LIFECYCLE_DEFAULTS = defaults(LIFECYCLE_KEYS)
KEEP_DEFAULTS = defaults(KEEP_KEYS)
KEPT_LIFECYCLE_DEFAULTS = defaults(KEPT_LIFECYCLE_KEYS)
TRANSITION_DEFAULTS = defaults(TRANSITION_KEYS)
IDENTITY_DEFAULTS = defaults(IDENTITY_KEYS)
ROTATION_DEFAULTS = defaults(ROTATION_KEYS)
TRUST_DEFAULTS = defaults(TRUST_KEYS)
OIDC_DEFAULTS = defaults(OIDC_KEYS)
# An app that declares no areas gets one private area spanning the whole bucket.
DEFAULT_AREAS = {"files": {"access": "private", "prefix": ""}}
# Provider credentials come from the environment (MINIO_USER / MINIO_PASSWORD), never from the stack file.
MINIO_CREDENTIAL_KEYS = ("minioUser", "minioPassword", "minioAccessKey", "minioSecretKey", "minioSessionToken")
# Every setting of the pulumi-minio 0.17 provider (pulumi_minio.config) that is not a credential.
MINIO_PROVIDER_KEYS = (*MINIO_PROVIDER_DEFAULTS, "minioInsecure", "minioCacertFile", "minioCertFile", "minioKeyFile",
                       "minioApiVersion")
# The config namespaces this program or its providers read; a near miss of one is a typo that would be ignored.
KNOWN_NAMESPACES = ("app-storage", "aws", "minio", "pulumi")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "host.docker.internal")

ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$")
ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[A-Za-z0-9-]+$")
WAF_WEB_ACL_ARN = re.compile(r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[A-Za-z0-9_-]+/[A-Za-z0-9-]+$")
OIDC_PROVIDER_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/[A-Za-z0-9._/-]+$")
TRUSTED_PRINCIPAL = re.compile(r"^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+))$")
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(:(?P<port>\d{1,5}))?$")
# A header value CloudFront can send: visible ASCII and inner spaces, at most 1,783 characters (CloudFront
# quotas, "maximum length of a custom header value").
HEADER_VALUE = re.compile(r"^[\x21-\x7e]([\x20-\x7e]{0,1781}[\x21-\x7e])?$")
