"""IAM and bucket policy documents, as plain dicts. No Pulumi here: every function is pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

POLICY_VERSION = "2012-10-17"

# What an app may do with objects under its own area prefixes.
OBJECT_READ_WRITE_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
# Listing is a bucket-level action, narrowed to the area prefixes by the s3:prefix condition.
BUCKET_LIST_ACTIONS = ("s3:ListBucket",)
# SDKs (minio-py, older boto3) ask where the bucket lives before the first request.
BUCKET_LOCATION_ACTIONS = ("s3:GetBucketLocation",)
# What anyone may do in a public area: fetch an object by its key. Never list, never write.
PUBLIC_READ_ACTIONS = ("s3:GetObject",)
# CloudFront (Origin Access Control) reads public-area objects, and decrypts them when the bucket uses SSE-KMS.
CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"
CLOUDFRONT_READ_ACTIONS = ("s3:GetObject",)
CLOUDFRONT_DECRYPT_ACTIONS = ("kms:Decrypt",)
# S3 replication, acting as its role: read the source's versions, write replicas, and the KMS both need.
S3_SERVICE = "s3.amazonaws.com"
REPLICATION_SOURCE_BUCKET_ACTIONS = ("s3:GetReplicationConfiguration", "s3:ListBucket")
REPLICATION_SOURCE_OBJECT_ACTIONS = (
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
)
REPLICATION_DESTINATION_ACTIONS = ("s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags")
REPLICATION_DECRYPT_ACTIONS = ("kms:Decrypt",)
REPLICATION_ENCRYPT_ACTIONS = ("kms:Encrypt", "kms:GenerateDataKey")
# SSE-KMS: uploads need a data key, downloads and multipart completion need to decrypt it.
KMS_DATA_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
# Objects written under another key before an adoption are read, never written, with it.
KEPT_KEY_ACTIONS = ("kms:Decrypt",)


def policy(statements: Iterable[dict]) -> dict:
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def object_arns(bucket_arn: str, prefixes: Iterable[str]) -> list[str]:
    """`<bucket>/<prefix>*` for each prefix; the whole bucket's objects for an empty prefix."""
    return [f"{bucket_arn}/{prefix}*" for prefix in prefixes]


def deny_insecure_transport_statement(bucket_arn: str) -> dict:
    """Refuse every request to the bucket that does not arrive over TLS (FSBP S3.5)."""
    return deny_without_tls("s3:*", [bucket_arn, f"{bucket_arn}/*"])


def deny_without_tls(action: str, resources: str | list[str]) -> dict:
    """Refuse every `action` on `resources` that does not arrive over TLS (aws:SecureTransport false)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": resources,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


BUCKET_POLICY_SIDS = ("DenyInsecureTransport", "PublicReadAreas", "CloudFrontReadsPublicAreas")
"""The statement ids the stack's own bucket policies use."""


def is_public_statement(statement: Mapping[str, Any]) -> bool:
    """Whether a policy statement grants anyone at all, unconditionally: an Allow to the principal `*`
    (or `{"AWS": "*"}`) without a Condition. S3 treats a narrower set as public still (User Guide, "The meaning
    of public"); this is the shape that is public whatever else holds."""
    principal = statement.get("Principal")
    values = principal.get("AWS") if isinstance(principal, dict) else principal
    wildcard = "*" in (values if isinstance(values, list) else [values])
    return statement.get("Effect") == "Allow" and wildcard and not statement.get("Condition")


def bucket_policy(bucket_arn: str, extra_statements: Iterable[dict] = ()) -> dict:
    """The bucket's resource policy: TLS only, plus whatever grants the caller adds."""
    return policy([deny_insecure_transport_statement(bucket_arn), *extra_statements])


def app_access_policy(bucket_arn: str, prefixes: Iterable[str], kms_key_arn: str | None = None,
                      kept_key_arns: Iterable[str] = ()) -> dict:
    """What one app's identity may do: its own bucket, its own prefixes, its own bucket's key, and decrypt with
    the keys an adopted bucket's older objects are under (`kept_key_arns`).

    No action and no resource is a wildcard; an empty prefix stands for the whole (own) bucket.
    """
    prefixes = sorted(set(prefixes))
    list_statement: dict = {
        "Sid": "ListAreaPrefixes",
        "Effect": "Allow",
        "Action": list(BUCKET_LIST_ACTIONS),
        "Resource": [bucket_arn],
    }
    if "" not in prefixes:
        list_statement["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}}
    statements = [
        list_statement,
        {
            "Sid": "LocateBucket",
            "Effect": "Allow",
            "Action": list(BUCKET_LOCATION_ACTIONS),
            "Resource": [bucket_arn],
        },
        {
            "Sid": "ReadWriteAreaObjects",
            "Effect": "Allow",
            "Action": list(OBJECT_READ_WRITE_ACTIONS),
            "Resource": object_arns(bucket_arn, [""] if "" in prefixes else prefixes),
        },
    ]
    if kms_key_arn:
        statements.append({
            "Sid": "UseBucketKey",
            "Effect": "Allow",
            "Action": list(KMS_DATA_KEY_ACTIONS),
            "Resource": [kms_key_arn],
        })
    if kept_key_arns:
        statements.append({
            "Sid": "DecryptWithKeptKeys",
            "Effect": "Allow",
            "Action": list(KEPT_KEY_ACTIONS),
            "Resource": sorted(set(kept_key_arns)),
        })
    return policy(statements)


def public_read_statement(bucket_arn: str, public_prefixes: Iterable[str]) -> dict:
    """Anonymous GetObject under each public area prefix, and nothing else of the bucket.

    Refuses an empty prefix: that would publish the whole bucket, private areas included.
    """
    prefixes = sorted(set(public_prefixes))
    if not prefixes or "" in prefixes:
        raise ValueError("public read needs at least one non-empty area prefix; '' would publish the whole bucket")
    return {
        "Sid": "PublicReadAreas",
        "Effect": "Allow",
        "Principal": {"AWS": ["*"]},
        "Action": list(PUBLIC_READ_ACTIONS),
        "Resource": object_arns(bucket_arn, prefixes),
    }


def public_read_policy(bucket_arn: str, public_prefixes: Iterable[str]) -> dict:
    return policy([public_read_statement(bucket_arn, public_prefixes)])


def cloudfront_read_statement(bucket_arn: str, public_prefixes: Iterable[str], distribution_arn: str) -> dict:
    """The one distribution may GET objects under the public prefixes (Origin Access Control)."""
    return {
        "Sid": "CloudFrontReadsPublicAreas",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDFRONT_SERVICE},
        "Action": list(CLOUDFRONT_READ_ACTIONS),
        "Resource": object_arns(bucket_arn, sorted(set(public_prefixes))),
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def key_policy(account_root_arn: str, extra_statements: Iterable[dict] = ()) -> dict:
    """A customer key's policy: the account administers it through IAM (the AWS default), plus grants."""
    return policy([{
        "Sid": "AccountAdministersThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": account_root_arn},
        "Action": "kms:*",
        "Resource": "*",
    }, *extra_statements])


def cloudfront_decrypt_statement(distribution_arn: str) -> dict:
    return {
        "Sid": "CloudFrontDecryptsForItsDistribution",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDFRONT_SERVICE},
        "Action": list(CLOUDFRONT_DECRYPT_ACTIONS),
        "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


ASSUME_ROLE_ACTIONS = ("sts:AssumeRole",)
ASSUME_ROLE_WITH_WEB_IDENTITY_ACTIONS = ("sts:AssumeRoleWithWebIdentity",)

ECS_TASKS_SERVICE = "ecs-tasks.amazonaws.com"
LAMBDA_SERVICE = "lambda.amazonaws.com"
EC2_SERVICE = "ec2.amazonaws.com"


@dataclass(frozen=True)
class ServiceTrust:
    """What AWS documents of the trust policy of a role a service assumes: the condition keys the service supplies
    when it calls sts:AssumeRole, and the page that shows it. A condition on a key the service does not send
    locks the service out, and nothing fails until the service first tries to assume the role."""

    condition_keys: tuple[str, ...]
    source: str


SERVICE_TRUST: dict[str, ServiceTrust] = {
    # Conditioned: the task role's trust policy AWS shows carries aws:SourceAccount and aws:SourceArn
    # (arn:aws:ecs:<region>:<account>:*) against the confused deputy; the role keeps the account, which needs no region.
    ECS_TASKS_SERVICE: ServiceTrust(("aws:SourceAccount",),
                                    'Amazon ECS Developer Guide, "Amazon ECS task IAM role" (https://docs.aws.amazon'
                                    ".com/AmazonECS/latest/developerguide/task-iam-roles.html)"),
    # Unconditioned: the execution role's trust policy AWS shows names only the service, and the guide says
    # aws:SourceArn "applies only to policies where your Lambda function is the target resource".
    LAMBDA_SERVICE: ServiceTrust((), 'AWS Lambda Developer Guide, "Defining Lambda function permissions with an '
                                 'execution role" (https://docs.aws.amazon.com/lambda/latest/dg/'
                                 "lambda-intro-execution-role.html)"),
    # Unconditioned: the instance role's trust policy AWS shows ("ec2-role-trust-policy.json") names only the
    # service; no EC2 page documents aws:SourceAccount on the instance profile's AssumeRole.
    EC2_SERVICE: ServiceTrust((), 'Amazon EC2 User Guide, "IAM roles for Amazon EC2" '
                              "(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html)"),
    # Unconditioned: the replication role's trust policy AWS shows names only s3.amazonaws.com; the IAM guide's
    # aws:SourceAccount entry documents no S3-replication AssumeRole that carries it.
    S3_SERVICE: ServiceTrust((), 'Amazon S3 User Guide, "Setting up permissions for live replication" '
                             "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
                             "setting-repl-config-perm-overview.html)"),
}
"""Every service principal a role here may trust, with the conditions AWS documents the service supplies. Only a
documented key is kept (the IAM User Guide, "AWS global condition context keys": aws:SourceAccount is in the
request only where the calling service passes it). The policy pack's iam-role-trust-restricted asks no condition
of exactly the services listed here without one (policies/rules/identity.py); a unit test keeps the two equal."""


def service_trust_policy(service: str, source_account: str) -> dict:
    """A role's trust policy: only `service` may assume it, conditioned on this account (aws:SourceAccount, the
    guard against the confused deputy) where AWS documents that the service sends it (SERVICE_TRUST)."""
    trust = SERVICE_TRUST.get(service)
    if trust is None:
        raise ValueError(f"no documented trust policy for the service {service!r}; add it to SERVICE_TRUST with the "
                         "AWS page that shows the conditions it supplies")
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service},
                                 "Action": list(ASSUME_ROLE_ACTIONS)}
    if "aws:SourceAccount" in trust.condition_keys:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return policy([statement])


def oidc_trust_policy(provider_arn: str, audience: str, subjects: Iterable[str]) -> dict:
    """Tokens of one OIDC provider may assume the role, and only with this audience and a listed subject (EKS IRSA,
    GitHub Actions): the provider's `aud` and `sub` claims as condition keys."""
    issuer = provider_arn.split(":oidc-provider/", 1)[1]
    return policy([{
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": list(ASSUME_ROLE_WITH_WEB_IDENTITY_ACTIONS),
        "Condition": {"StringEquals": {f"{issuer}:aud": audience},
                      "StringLike": {f"{issuer}:sub": sorted(subjects)}},
    }])


def principals_trust_policy(principals: Iterable[str], external_id: str | None = None) -> dict:
    """Named accounts or roles may assume the role; with `external_id` only when they present it (sts:ExternalId,
    the guard against a confused deputy in another account)."""
    arns = sorted(f"arn:aws:iam::{p}:root" if p.isdigit() else p for p in principals)
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": arns}, "Action": list(ASSUME_ROLE_ACTIONS)}
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return policy([statement])


def replication_policy(source_bucket_arn: str, replica_bucket_arn: str, source_key_arn: str | None = None,
                       replica_key_arn: str | None = None, source_region: str = "",
                       replica_region: str = "") -> dict:
    """Exactly what S3 replication needs: read the source's versions, write to the replica, and with SSE-KMS
    decrypt with the source's key and encrypt with the replica's (each only through S3 in its region)."""
    statements: list[dict[str, Any]] = [
        {"Sid": "ReadReplicationConfiguration", "Effect": "Allow",
         "Action": list(REPLICATION_SOURCE_BUCKET_ACTIONS), "Resource": [source_bucket_arn]},
        {"Sid": "ReadSourceVersions", "Effect": "Allow",
         "Action": list(REPLICATION_SOURCE_OBJECT_ACTIONS), "Resource": [f"{source_bucket_arn}/*"]},
        {"Sid": "WriteReplicas", "Effect": "Allow",
         "Action": list(REPLICATION_DESTINATION_ACTIONS), "Resource": [f"{replica_bucket_arn}/*"]},
    ]
    if source_key_arn:
        statements.append({
            "Sid": "DecryptWithSourceKey", "Effect": "Allow", "Action": list(REPLICATION_DECRYPT_ACTIONS),
            "Resource": [source_key_arn],
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"}},
        })
    if replica_key_arn:
        statements.append({
            "Sid": "EncryptWithReplicaKey", "Effect": "Allow", "Action": list(REPLICATION_ENCRYPT_ACTIONS),
            "Resource": [replica_key_arn],
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{replica_region}.amazonaws.com"}},
        })
    return policy(statements)
