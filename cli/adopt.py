"""`make adopt`: what adopting an existing bucket will change, read from the live bucket before `pulumi up`.

Read-only: every call is a Get/Head/List with the admin credentials of the environment (boto3's default chain on
AWS, `MINIO_USER`/`MINIO_PASSWORD` on MinIO), at the endpoint `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` names
when set. What the stack will set comes from its offline plan, so it is exactly what `pulumi up` declares.

Each finding is one line: the setting, what is there, what the stack sets, the consequence and, for a hazard, the
fix. `lost`, `fails` and `exposed` are hazards (exit 1); `note`, `ok`, `skipped` and `not applicable` are not.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import boto3
import botocore.exceptions

from cli.offline import PROJECT_ROOT, Plan, evaluate, load_stack_config, project_name, run_main
from cli.verify import NETWORK_ERRORS, answer_or, client_config, error_code, shown_endpoint, without_credentials
from components import documents
from components.messages import one_line
from components.settings.gate import parse_settings
from components.settings.types import AppSettings, StackSettings

HAZARDS = ("lost", "fails", "exposed")
SAMPLED_OBJECTS = 100
"""Objects whose encryption is read (HeadObject), from the first listing page: enough to find another key."""
LISTED_OBJECTS = 10_000
"""Objects counted at most (ten ListObjectsV2 pages); past that the count says "at least"."""
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
PUBLIC_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers",
                 "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


class AdoptError(Exception):
    """Bad input or an unreachable bucket: exit 2, one line."""


@dataclass(frozen=True)
class Finding:
    setting: str
    status: str
    """lost | fails | exposed (hazards), note | ok | skipped | not applicable."""
    now: str
    stack: str
    consequence: str
    fix: str = ""

    @property
    def hazard(self) -> bool:
        return self.status in HAZARDS


@dataclass
class AdoptReport:
    stack: str
    app: str
    bucket: str
    backend: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def hazards(self) -> list[Finding]:
        return [f for f in self.findings if f.hazard]

    def as_dict(self) -> dict:
        return {"stack": self.stack, "app": self.app, "bucket": self.bucket, "backend": self.backend,
                "hazards": len(self.hazards), "findings": [asdict(f) for f in self.findings]}


@dataclass
class LiveBucket:
    """What the bucket holds now, as S3 answers (None: absent, or not asked on this backend)."""
    exists: bool = True
    region: str | None = None
    policy: dict | None = None
    lifecycle: list[dict] | None = None
    cors: list[dict] | None = None
    replication: dict | None = None
    acl: dict | None = None
    ownership: str | None = None
    public_access_block: dict | None = None
    website: dict | None = None
    object_lock: dict | None = None
    payer: str | None = None
    encryption: dict | None = None
    versioning: str = "off"
    tags: dict[str, str] = field(default_factory=dict)
    object_count: int = 0
    object_bytes: int = 0
    listing_truncated: bool = False
    object_keys: dict[str, int] = field(default_factory=dict)
    """KMS key id -> sampled objects under it."""
    key_managers: dict[str, str] = field(default_factory=dict)
    """KMS key id -> AWS | CUSTOMER, where KMS answered."""
    sampled: int = 0


@dataclass(frozen=True)
class Declared:
    """What the stack's plan declares for the bucket (None: the stack declares no such resource)."""
    policy: dict | None
    lifecycle: list[dict] | None
    cors: list[dict] | None
    replicates: bool
    encryption: dict | None
    versioning: bool
    tags: dict[str, str]
    quota: int | None = None


# --- reading ------------------------------------------------------------------------------------------------------


def endpoint_from_environment() -> str | None:
    return next((os.environ[name] for name in ENDPOINT_VARIABLES if os.environ.get(name)), None)


def admin_client(settings: StackSettings):
    """The admin's S3 client for the stack's backend."""
    config = client_config("path" if settings.backend == "minio" else "auto")
    if settings.backend == "minio" and settings.minio:
        user, password = os.environ.get("MINIO_USER"), os.environ.get("MINIO_PASSWORD")
        if not user or not password:
            raise AdoptError("the MinIO admin is read from MINIO_USER and MINIO_PASSWORD: set both (as for "
                             "`pulumi up`)")
        return boto3.client("s3", endpoint_url=endpoint_from_environment() or settings.minio.url,
                            region_name=settings.region, aws_access_key_id=user, aws_secret_access_key=password,
                            config=config)
    # boto3 reads AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL itself when no endpoint is passed.
    return boto3.client("s3", region_name=settings.region, config=config)


def read_live(s3, bucket: str, backend: str, kms=None) -> LiveBucket:
    """Everything the preflight compares, read-only."""
    live = LiveBucket()
    try:
        head = s3.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return LiveBucket(exists=False)
        raise
    live.region = head.get("BucketRegion") or head.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(
        "x-amz-bucket-region")
    if backend == "aws" and not live.region:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        live.region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
    policy = answer_or(lambda: s3.get_bucket_policy(Bucket=bucket)["Policy"], ("NoSuchBucketPolicy",))
    live.policy = json.loads(policy) if policy else None
    live.lifecycle = answer_or(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
                          ("NoSuchLifecycleConfiguration",))
    live.replication = answer_or(lambda: s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"],
                            ("ReplicationConfigurationNotFoundError",))
    live.object_lock = answer_or(lambda: s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"],
                            ("ObjectLockConfigurationNotFoundError",))
    live.encryption = answer_or(lambda: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"],
                           ("ServerSideEncryptionConfigurationNotFoundError",))
    live.versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status") or "off"
    tags = answer_or(lambda: s3.get_bucket_tagging(Bucket=bucket)["TagSet"], ("NoSuchTagSet", "NoSuchTagSetError"), [])
    live.tags = {tag["Key"]: tag["Value"] for tag in tags or []}
    if backend == "aws":  # bucket settings MinIO does not have
        live.cors = answer_or(lambda: s3.get_bucket_cors(Bucket=bucket)["CORSRules"], ("NoSuchCORSConfiguration",))
        live.acl = s3.get_bucket_acl(Bucket=bucket)
        rules = answer_or(lambda: s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"],
                     ("OwnershipControlsNotFoundError",))
        live.ownership = rules[0]["ObjectOwnership"] if rules else None
        live.public_access_block = answer_or(
            lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
            ("NoSuchPublicAccessBlockConfiguration",))
        website = answer_or(lambda: s3.get_bucket_website(Bucket=bucket), ("NoSuchWebsiteConfiguration",))
        live.website = {k: v for k, v in website.items() if k != "ResponseMetadata"} if website else None
        live.payer = s3.get_bucket_request_payment(Bucket=bucket).get("Payer")
    _read_objects(s3, bucket, live, kms)
    return live


def _read_objects(s3, bucket: str, live: LiveBucket, kms) -> None:
    """Count objects (bounded) and sample the first page's encryption."""
    sample: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1000}):
        contents = page.get("Contents", [])
        if not sample:
            sample = [item["Key"] for item in contents[:SAMPLED_OBJECTS]]
        live.object_count += len(contents)
        live.object_bytes += sum(item.get("Size", 0) for item in contents)
        if live.object_count >= LISTED_OBJECTS and page.get("IsTruncated"):
            live.listing_truncated = True
            break
    for key in sample:
        head = answer_or(functools.partial(s3.head_object, Bucket=bucket, Key=key), ("404", "NoSuchKey", "403"))
        live.sampled += 1
        key_id = (head or {}).get("SSEKMSKeyId")
        if key_id:
            live.object_keys[key_id] = live.object_keys.get(key_id, 0) + 1
    default_key = _default_key(live.encryption)
    for key_id in {*live.object_keys, *([default_key] if default_key else [])}:
        if kms is None:
            continue
        try:
            live.key_managers[key_id] = kms.describe_key(KeyId=key_id)["KeyMetadata"].get("KeyManager", "")
        except botocore.exceptions.ClientError:
            pass  # not told: judged as a key the identity may not use


def _default_key(encryption: dict | None) -> str | None:
    for rule in (encryption or {}).get("Rules", []):
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        if default.get("SSEAlgorithm", "").startswith("aws:kms"):
            return default.get("KMSMasterKeyID") or "aws/s3"
    return None


def declared_for(plan: Plan, bucket: str) -> Declared:
    """The bucket's declaration in the stack's offline plan."""
    mine = plan.bucket_declarations(bucket)
    policy = mine.get("BucketPolicy") or mine.get("S3BucketPolicy")
    lifecycle = mine.get("BucketLifecycleConfiguration") or mine.get("IlmPolicy")
    cors = mine.get("BucketCorsConfiguration")
    encryption = mine.get("BucketServerSideEncryptionConfiguration") or mine.get("S3BucketServerSideEncryption")
    resource = mine.get("Bucket") or mine.get("S3Bucket") or {}
    return Declared(
        policy=json.loads(policy["policy"]) if policy else None,
        lifecycle=lifecycle.get("rules", []) if lifecycle else None,
        cors=cors.get("corsRules", []) if cors else None,
        replicates="BucketReplicationConfig" in mine,
        encryption=encryption,
        versioning="BucketVersioning" in mine or "S3BucketVersioning" in mine,
        tags=dict(resource.get("tags") or {}),
        quota=resource.get("quota"),
    )


# --- comparing ----------------------------------------------------------------------------------------------------


def canonical(value: Any) -> Any:
    """A policy value as its meaning: a one-item list is its item, lists are unordered, a Sid says nothing."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in sorted(value.items()) if k != "Sid"}
    if isinstance(value, list):
        items = sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return items[0] if len(items) == 1 else items
    return value


def principals_of(statement: Mapping) -> str:
    principal = statement.get("Principal")
    if principal == "*" or not isinstance(principal, dict):
        return "anyone"
    names = [name for values in principal.values() for name in (values if isinstance(values, list) else [values])]
    return ", ".join(sorted(map(str, names)))


def actions_of(statement: Mapping) -> str:
    actions = statement.get("Action", statement.get("NotAction", []))
    text = ", ".join(actions if isinstance(actions, list) else [actions])
    return f"all but {text}" if "NotAction" in statement else text


def _is_tls_deny(statement: Mapping) -> bool:
    return statement.get("Effect") == "Deny" and canonical(statement.get("Condition")) == {
        "Bool": {"aws:SecureTransport": "false"}}


def _yaml_flow(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


def assess_policy(live: LiveBucket, declared: Declared, app: AppSettings, backend: str) -> list[Finding]:
    statements = (live.policy or {}).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    keep = f"apps.{app.name}.keep.policyStatements"
    if declared.policy is None:
        public = [s for s in statements if documents.is_public_statement(s)]
        if public:
            return [Finding("bucket policy", "exposed", f"{len(statements)} statements",
                            "no policy (it stays as it is)",
                            f"anonymous access stays open: {', '.join(actions_of(s) for s in public)}",
                            "Serve those objects from a public area (areas.<name>.access: public), or remove the "
                            "policy's anonymous statements (mc anonymous set none) before adopting.")]
        return [Finding("bucket policy", "ok", f"{len(statements)} statements" if statements else "none",
                        "no policy", "what is there stays as it is")]
    ours = [canonical(s) for s in declared.policy.get("Statement", [])]
    findings = []
    for statement in statements:
        label = f"statement {statement.get('Sid') or '(no Sid)'} ({statement.get('Effect')} {actions_of(statement)} "
        label += f"to {principals_of(statement)})"
        if canonical(statement) in ours:
            findings.append(Finding("bucket policy", "ok", label, "the same statement", "kept"))
        elif _is_tls_deny(statement) and any(_is_tls_deny(s) for s in declared.policy.get("Statement", [])):
            findings.append(Finding("bucket policy", "ok", label, "its own TLS-only statement", "the same protection"))
        elif documents.is_public_statement(statement):
            findings.append(Finding(
                "bucket policy", "lost", label, "a policy without it, and Block Public Access on",
                "anonymous reads stop: public URLs of these objects answer 403",
                "Serve them from a public area (areas.<name>.access: public with cdn.enabled, or publicWithoutCdn)."))
        else:
            loses = ("loses " + actions_of(statement)) if statement.get("Effect") == "Allow" else \
                "is no longer denied " + actions_of(statement)
            findings.append(Finding("bucket policy", "lost", label, "a policy without it",
                                    f"{principals_of(statement)} {loses}",
                                    f"Keep it: add to {keep}: {_yaml_flow(statement)}"))
    if not statements:
        findings.append(Finding("bucket policy", "ok", "none", f"{len(ours)} statements", "nothing is dropped"))
    return findings


def _rule_effect(rule: Mapping) -> tuple:
    """A lifecycle rule's effect in one shape, from S3's answer (PascalCase) or a plan's inputs (camelCase)."""
    def get(*names: str) -> Any:
        return next((rule[n] for n in names if n in rule), None)
    status = get("Status", "status") or "Enabled"
    flt = get("Filter", "filter")
    if isinstance(flt, str):  # MinIO's ILM input: the filter is the prefix
        prefix = flt
    else:
        prefix = (flt or {}).get("Prefix", (flt or {}).get("prefix", get("Prefix", "prefix") or "")) or ""
    other_filters = sorted(k for k in (flt or {}) if k not in ("Prefix", "prefix")) if isinstance(flt, dict) else []
    expiration = get("Expiration", "expiration")
    if isinstance(expiration, str):  # MinIO: "30d" or DeleteMarker
        expire = int(expiration[:-1]) if expiration.endswith("d") else None
        markers = expiration == "DeleteMarker"
    else:
        expire = (expiration or {}).get("Days", (expiration or {}).get("days"))
        markers = bool((expiration or {}).get("ExpiredObjectDeleteMarker",
                                              (expiration or {}).get("expiredObjectDeleteMarker")))
    transitions = tuple((t.get("Days", t.get("days")), t.get("StorageClass", t.get("storageClass")))
                        for t in get("Transitions", "transitions") or [])
    noncurrent = get("NoncurrentVersionExpiration", "noncurrentVersionExpiration")
    noncurrent_days = (noncurrent or {}).get("NoncurrentDays", (noncurrent or {}).get("noncurrentDays")) \
        if noncurrent else get("noncurrentVersionExpirationDays")
    abort = get("AbortIncompleteMultipartUpload", "abortIncompleteMultipartUpload")
    abort_days = (abort or {}).get("DaysAfterInitiation", (abort or {}).get("daysAfterInitiation"))
    extra = sorted(k for k in rule if k in ("NoncurrentVersionTransitions", "noncurrentVersionTransitions"))
    return (status, prefix, tuple(other_filters), expire, markers, transitions, noncurrent_days, abort_days,
            tuple(extra))


def _housekeeping(effect: tuple, ours: set[tuple]) -> bool:
    """A whole-bucket rule that only aborts uploads or only expires noncurrent versions and delete markers: the
    stack's own rule of that kind does the same (on its own schedule)."""
    status, prefix, filters, expire, markers, transitions, noncurrent, abort, extra = effect
    if prefix or filters or expire or transitions or extra:
        return False
    if abort is not None and not (markers or noncurrent):
        return any(our[7] is not None for our in ours)
    if abort is None and (markers or noncurrent):
        return any(our[6] is not None for our in ours)
    return False


def kept_rule_config(rule: Mapping) -> dict | None:
    """The `keep.lifecycle` entry that declares the same rule, or None where the config cannot say it."""
    status, prefix, filters, expire, markers, transitions, noncurrent, abort, extra = _rule_effect(rule)
    if status != "Enabled" or filters or markers or noncurrent or abort or extra or not (expire or transitions):
        return None
    entry: dict[str, Any] = {"id": rule.get("ID", ""), "prefix": prefix}
    if transitions:
        entry["transitions"] = [{"days": days, "storageClass": cls} for days, cls in transitions]
    if expire:
        entry["expireDays"] = expire
    return entry


def assess_lifecycle(live: LiveBucket, declared: Declared, app: AppSettings) -> list[Finding]:
    rules = live.lifecycle or []
    if declared.lifecycle is None:
        return [Finding("lifecycle", "ok", f"{len(rules)} rules" if rules else "none", "no lifecycle",
                        "what is there stays as it is")]
    ours = {_rule_effect(rule)[:-1] for rule in declared.lifecycle}
    findings = []
    for rule in rules:
        label = f"rule {rule.get('ID') or '(no id)'}"
        effect = _rule_effect(rule)
        if effect[0] != "Enabled":
            findings.append(Finding("lifecycle", "note", label + " (disabled)", f"{len(ours)} rules",
                                    "a disabled rule is dropped; it did nothing"))
        elif effect[:-1] in ours:
            findings.append(Finding("lifecycle", "ok", label, "the same rule", "kept"))
        elif _housekeeping(effect, ours):
            findings.append(Finding("lifecycle", "ok", label, "its own rule for the same housekeeping",
                                    "the same action, on the stack's schedule"))
        else:
            config = kept_rule_config(rule)
            fix = (f"Keep it: add to apps.{app.name}.keep.lifecycle: {_yaml_flow(config)}" if config else
                   "The config cannot declare it (tag or size filters, noncurrent or delete-marker actions): "
                   "express it by prefix in keep.lifecycle, or accept its loss.")
            findings.append(Finding("lifecycle", "lost", label, "a lifecycle configuration without it",
                                    "S3 replaces the whole configuration: the rule stops applying", fix))
    if not rules:
        findings.append(Finding("lifecycle", "ok", "none", f"{len(ours)} rules", "nothing is dropped"))
    return findings


def _cors_shape(rule: Mapping) -> tuple:
    def get(*names: str) -> Any:
        return next((rule[n] for n in names if n in rule), None)
    return (tuple(sorted(get("AllowedOrigins", "allowedOrigins") or [])),
            tuple(sorted(get("AllowedMethods", "allowedMethods") or [])),
            tuple(sorted(get("AllowedHeaders", "allowedHeaders") or [])),
            tuple(sorted(get("ExposeHeaders", "exposeHeaders") or [])),
            get("MaxAgeSeconds", "maxAgeSeconds"))


def assess_cors(live: LiveBucket, declared: Declared, app: AppSettings) -> list[Finding]:
    rules = live.cors or []
    if declared.cors is None:
        return [Finding("CORS", "ok", f"{len(rules)} rules" if rules else "none", "no CORS configuration",
                        "what is there stays as it is")]
    ours = {_cors_shape(rule) for rule in declared.cors}
    findings = []
    for rule in rules:
        origins, methods, headers, expose, max_age = _cors_shape(rule)
        label = f"rule for {', '.join(origins)} ({', '.join(methods)})"
        if _cors_shape(rule) in ours:
            findings.append(Finding("CORS", "ok", label, "the same rule", "kept"))
            continue
        config = {"origins": list(origins), "methods": list(methods), "headers": list(headers),
                  "exposeHeaders": list(expose), **({"maxAgeSeconds": max_age} if max_age is not None else {})}
        findings.append(Finding("CORS", "lost", label, "a CORS configuration without it",
                                "browsers on those origins are refused", f"Keep it: add to apps.{app.name}.cors: "
                                f"{_yaml_flow(config)}"))
    return findings


def assess_acl(live: LiveBucket) -> list[Finding]:
    if live.acl is None:
        return []
    owner = (live.acl.get("Owner") or {}).get("ID")
    others = [g for g in live.acl.get("Grants", []) if (g.get("Grantee") or {}).get("ID") != owner]
    ownership = live.ownership or "ObjectWriter (no ownership controls)"
    if not others:
        return [Finding("ACL and ownership", "ok", f"{ownership}, the owner's grant only", "BucketOwnerEnforced",
                        "ACLs turn off; nothing else was granted")]
    who = ", ".join(sorted({(g["Grantee"].get("URI") or g["Grantee"].get("ID") or g["Grantee"].get(
        "EmailAddress") or "?") + f" {g.get('Permission')}" for g in others}))
    public = any((g.get("Grantee") or {}).get("URI") in PUBLIC_GROUPS for g in others)
    return [Finding("ACL and ownership", "fails", f"{ownership}; the ACL grants {who}", "BucketOwnerEnforced",
                    "S3 refuses the ownership change while the ACL grants others "
                    "(InvalidBucketAclWithObjectOwnership)" + ("; public reads through the ACL stop" if public else ""),
                    "Grant what those grantees need in keep.policyStatements, then reset the ACL: aws s3api "
                    "put-bucket-acl --bucket <bucket> --acl private.")]


def assess_public_access(live: LiveBucket) -> list[Finding]:
    if live.acl is None:
        return []
    block = live.public_access_block or {}
    flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    off = [flag for flag in flags if not block.get(flag)]
    now = "all four flags on" if not off else f"off: {', '.join(off)}"
    return [Finding("block public access", "ok" if not off else "note", now, "all four flags on",
                    "nothing public is served" if not off else
                    "anything public through a policy or an ACL stops (listed with those settings)")]


def assess_website(live: LiveBucket, region: str) -> list[Finding]:
    if live.acl is None:
        return []
    if not live.website:
        return [Finding("website hosting", "ok", "off", "not managed", "nothing served")]
    return [Finding("website hosting", "fails", f"on ({_yaml_flow(live.website)[:80]})", "Block Public Access on",
                    f"the website endpoint (http://<bucket>.s3-website-{region}.amazonaws.com) answers 403",
                    "Serve the site from a public area through the CDN (cdn.enabled), then delete the website "
                    "configuration (aws s3api delete-bucket-website).")]


def assess_object_lock(live: LiveBucket) -> list[Finding]:
    lock = live.object_lock
    if not lock or lock.get("ObjectLockEnabled") != "Enabled":
        return [Finding("object lock", "ok", "off", "not managed", "nothing is held back")]
    retention = (lock.get("Rule") or {}).get("DefaultRetention")
    if not retention:
        return [Finding("object lock", "note", "on, no default retention", "not managed",
                        "Object Lock cannot be turned off; nothing is locked by default")]
    period = f"{retention.get('Days') or retention.get('Years')} {'days' if retention.get('Days') else 'years'}"
    return [Finding("object lock", "fails", f"on, default retention {retention.get('Mode')} {period}",
                    "lifecycle expiry of noncurrent versions; make verify's scratch objects removed",
                    "every new version is locked: the stack's expiry and make verify's cleanup cannot delete it "
                    "before the retention ends", "Remove the default retention (aws s3api "
                    "put-object-lock-configuration with ObjectLockEnabled only) if the app does not need it; "
                    "COMPLIANCE retention cannot be shortened.")]


def assess_requester_pays(live: LiveBucket) -> list[Finding]:
    if live.acl is None:
        return []
    if live.payer != "Requester":
        return [Finding("requester pays", "ok", live.payer or "BucketOwner", "not managed", "the owner pays")]
    return [Finding("requester pays", "fails", "Requester", "not managed",
                    "the app's requests, which do not say they pay, are refused (403), and make verify fails",
                    "Turn it off: aws s3api put-bucket-request-payment --bucket <bucket> "
                    "--request-payment-configuration Payer=BucketOwner.")]


def _usable_keys(settings: StackSettings, app: AppSettings) -> set[str]:
    return {*app.keep.kms_key_arns, *([settings.kms_key_arn] if settings.kms_key_arn else [])}


def _key_usable(key_id: str, usable: set[str], live: LiveBucket) -> bool:
    """An AWS managed key (aws/s3) serves any principal of the account through S3; a customer key only as
    granted."""
    return key_id in usable or live.key_managers.get(key_id) == "AWS" or key_id == "aws/s3"


def assess_encryption(live: LiveBucket, declared: Declared, settings: StackSettings, app: AppSettings
                      ) -> list[Finding]:
    usable = _usable_keys(settings, app)
    declared_default = (declared.encryption or {}).get("rules", [{}])[0].get(
        "applyServerSideEncryptionByDefault", {}) if declared.encryption else {}
    ours = declared_default.get("sseAlgorithm") or (declared.encryption or {}).get("encryptionType") or "none"
    default_key = _default_key(live.encryption)
    algorithm = ((live.encryption or {}).get("Rules") or [{}])[0].get("ApplyServerSideEncryptionByDefault", {}).get(
        "SSEAlgorithm", "none")
    findings = []
    fix = f"Keep the key: add it to apps.{app.name}.keep.kmsKeyArns (its key policy must let the account's IAM use it)."
    if default_key and not _key_usable(default_key, usable, live):
        findings.append(Finding("default encryption", "lost", f"{algorithm} with {default_key}", ours,
                                "objects written before the adoption stay under that key, which the app's new "
                                "identity cannot decrypt", fix))
    else:
        findings.append(Finding("default encryption", "ok", f"{algorithm}" + (f" with {default_key}" if default_key
                                                                              else ""), ours,
                                "new objects get the stack's encryption; older ones stay readable"))
    for key_id, count in sorted(live.object_keys.items()):
        if key_id != default_key and not _key_usable(key_id, usable, live):
            findings.append(Finding("object encryption", "lost", f"{count} of {live.sampled} sampled objects under "
                                    f"{key_id}", ours, "the app's new identity cannot read them", fix))
    return findings


def assess_versioning(live: LiveBucket, declared: Declared) -> list[Finding]:
    ours = "Enabled" if declared.versioning else "not managed"
    if declared.versioning:
        consequence = "versions kept from now on" if live.versioning != "Enabled" else "unchanged"
        return [Finding("versioning", "ok", live.versioning, ours, consequence)]
    if live.versioning == "off":
        return [Finding("versioning", "ok", "off", ours, "unchanged")]
    return [Finding("versioning", "note", live.versioning, ours,
                    "S3 never turns versioning off (it can only be suspended); the stack expires no noncurrent "
                    "versions, so they stay until deleted", "Set app-storage:versioning: true to expire them.")]


def assess_replication(live: LiveBucket, declared: Declared) -> list[Finding]:
    if not live.replication:
        return [Finding("replication", "ok", "none", "replica" if declared.replicates else "none", "nothing replaced")]
    targets = sorted({(rule.get("Destination") or {}).get("Bucket", "?") for rule in live.replication.get("Rules",
                                                                                                         [])})
    if not declared.replicates:
        return [Finding("replication", "note", f"to {', '.join(targets)}", "not managed",
                        "stays as it is, outside the stack")]
    return [Finding("replication", "lost", f"to {', '.join(targets)}", "its own replica",
                    f"S3 replaces the whole configuration: {', '.join(targets)} receive no more copies",
                    "Leave replication off for this stack, or move those consumers to the stack's replica.")]


def assess_tags(live: LiveBucket, declared: Declared) -> list[Finding]:
    dropped = {k: v for k, v in live.tags.items() if declared.tags.get(k) != v and not k.startswith("aws:")}
    if not dropped:
        return [Finding("tags", "ok", f"{len(live.tags)} tags", f"{len(declared.tags)} tags", "nothing dropped")]
    return [Finding("tags", "lost", ", ".join(f"{k}={v}" for k, v in sorted(dropped.items())),
                    ", ".join(sorted(declared.tags)), "the bucket's tags are replaced (cost allocation and access "
                    "conditions on them change)", "Keep them: add them to app-storage:tags.")]


def assess(live: LiveBucket, declared: Declared, settings: StackSettings, app: AppSettings) -> list[Finding]:
    """Every finding, in a fixed order: pure, from what was read and what is declared."""
    if not live.exists:
        return [Finding("bucket", "fails", "does not exist", f"import of {app.bucket_name}",
                        "the import fails: there is nothing to adopt",
                        f"Check apps.{app.name}.bucketName, or drop adopt to create a new bucket.")]
    findings = []
    if settings.backend == "aws" and live.region and live.region != settings.region:
        findings.append(Finding("region", "fails", live.region, settings.region,
                                "the import reads the bucket in the stack's region and fails; a bucket never moves",
                                f"Adopt it from a stack whose aws:region is {live.region}."))
    findings += assess_policy(live, declared, app, settings.backend)
    findings += assess_lifecycle(live, declared, app)
    if settings.backend == "aws":
        findings += assess_cors(live, declared, app)
    findings += assess_replication(live, declared)
    findings += assess_acl(live)
    findings += assess_public_access(live)
    findings += assess_website(live, settings.region)
    findings += assess_object_lock(live)
    findings += assess_requester_pays(live)
    findings += assess_encryption(live, declared, settings, app)
    findings += assess_versioning(live, declared)
    if settings.backend == "aws":
        findings += assess_tags(live, declared)
    else:
        findings += minio_only(declared)
    size = f"{'at least ' if live.listing_truncated else ''}{live.object_count:,} objects, {live.object_bytes:,} bytes"
    findings.append(Finding("objects", "note", size, "kept, never touched",
                            f"listing stopped at {LISTED_OBJECTS:,}" if live.listing_truncated else "counted"))
    return findings


def minio_only(declared: Declared) -> list[Finding]:
    """What only MinIO's admin API shows; not read here (the S3 API does not carry it)."""
    findings = [Finding(setting, "not applicable", "not on MinIO", "not managed", "MinIO has no such setting")
                for setting in ("ACL and ownership", "website hosting", "requester pays")]
    findings += [Finding(setting, "ok", "not read", "not managed on MinIO", "what is there stays as it is")
                 for setting in ("CORS", "tags")]
    if declared.quota is not None:
        findings.append(Finding("quota", "skipped", "not read: MinIO's admin API (mc quota info <alias>/<bucket>)",
                                f"hard quota {declared.quota:,} bytes",
                                "writes beyond it are refused; a bucket already larger refuses every write"))
    return findings


# --- the verb -----------------------------------------------------------------------------------------------------


def preflight(stack: str, app_name: str, stack_file=None, client_factory=admin_client, kms_factory=None
              ) -> AdoptReport:
    config, secret_keys = load_stack_config(stack, PROJECT_ROOT, path=stack_file)
    project = project_name(PROJECT_ROOT)
    settings = parse_settings(config, project, stack)
    apps = {app.name: app for app in settings.apps}
    if app_name not in apps:
        raise AdoptError(f"APP={app_name}: stack {stack} has no such app (it has {', '.join(apps)})")
    app = apps[app_name]
    if not app.adopt:
        raise AdoptError(f"apps.{app_name} does not adopt a bucket: set adopt: true and bucketName to the existing "
                         "bucket, then run make adopt again")
    plan = evaluate(stack, config, run_main, secret_keys=secret_keys, project=project)  # the stack file read once
    declared = declared_for(plan, app.bucket_name)
    endpoint = endpoint_from_environment() or "the S3 endpoint"
    try:
        s3 = client_factory(settings)
        endpoint = getattr(getattr(s3, "meta", None), "endpoint_url", "") or endpoint
        kms = None
        if settings.backend == "aws":
            kms = kms_factory(settings) if kms_factory else boto3.client("kms", region_name=settings.region)
        live = read_live(s3, app.bucket_name, settings.backend, kms)
    except NETWORK_ERRORS as error:
        raise AdoptError(f"{shown_endpoint(endpoint)} cannot be reached: {type(error).__name__}") from None
    except ValueError as error:  # botocore refuses an endpoint URL it cannot use
        raise AdoptError(f"the endpoint cannot be used ({one_line(without_credentials(str(error)))}): check "
                         "AWS_ENDPOINT_URL_S3 and "
                         "AWS_ENDPOINT_URL") from None
    except botocore.exceptions.NoCredentialsError:
        raise AdoptError("no credentials: make adopt reads the bucket with the admin credentials of the environment "
                         "(AWS_PROFILE, AWS_ACCESS_KEY_ID, ...)") from None
    except botocore.exceptions.ClientError as error:
        raise AdoptError(f"s3://{app.bucket_name} cannot be read with these credentials "
                         f"({error_code(error) or 'error'}): make adopt needs an admin who may read its "
                         "configuration") from None
    except botocore.exceptions.BotoCoreError as error:  # e.g. a profile that does not exist
        raise AdoptError(f"the admin client cannot be set up: {one_line(without_credentials(str(error)))}") from None
    return AdoptReport(stack=stack, app=app_name, bucket=app.bucket_name, backend=settings.backend,
                       findings=assess(live, declared, settings, app))


def render(report: AdoptReport) -> str:
    lines = [f"make adopt: app {report.app} of stack {report.stack} adopts s3://{report.bucket} ({report.backend})"]
    width = max(len(f.status) for f in report.findings)
    for finding in report.findings:
        line = (f"  {finding.status:<{width}}  {finding.setting}: now {finding.now}; the stack: {finding.stack}; "
                f"{finding.consequence}")
        lines.append(line + (f". Fix: {finding.fix}" if finding.fix and finding.hazard else ""))
    hazards = report.hazards
    lines.append(f"{len(hazards)} hazard{'s' if len(hazards) != 1 else ''}: " + (
        "the first pulumi up would lose or fail on the lines above marked lost or fails" if hazards else
        "nothing is lost; adopt with pulumi up"))
    return "\n".join(lines)

