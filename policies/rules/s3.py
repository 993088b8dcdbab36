"""S3 buckets on AWS (and the data-protection rule, which also covers MinIO buckets and KMS keys).

A bucket's settings live in sibling resources, so most rules here are stack rules: each looks at every bucket
with its siblings (see `stack.StackView`), reports on the sibling that is wrong or on the bucket that lacks one, and
honours exceptions recorded on either. The inline settings of the deprecated `aws.s3.Bucket` arguments count too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Finding,
    Rule,
    Statement,
    bucket_label,
    dependencies_of,
    described,
    is_list,
    is_map,
    is_true,
    items,
    object_prefix_of_arn,
    restricting_condition,
    statements,
    value,
)
from .stack import (
    AWS_BUCKET,
    AWS_BUCKETS,
    BUCKET_POLICY,
    BUCKET_TYPES,
    CORS,
    ENCRYPTION,
    LIFECYCLE,
    LOGGING,
    OWNERSHIP,
    PUBLIC_ACCESS_BLOCK,
    REPLICATION,
    VERSIONING,
    StackView,
)

PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_GRANTEE_URIS = frozenset({"http://acs.amazonaws.com/groups/global/AllUsers",
                                 "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"})
PUBLIC_READ_ACTIONS = frozenset({"s3:getobject"})
"""What a public area may grant to everyone."""
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
BUCKET_METRIC = "aws:s3/bucketMetric:BucketMetric"
STORAGE_METRIC = "BucketSizeBytes"
SERVER_ERRORS_METRIC = "5xxErrors"


def _finding(bucket: Any, sibling: Any | None, message: str) -> Finding:
    subjects = (sibling, bucket) if sibling is not None else (bucket,)
    return Finding((sibling or bucket).urn, f"{bucket_label(bucket)}: {message}", subjects)


def _aws_buckets(stack: StackView) -> list[Any]:
    return stack.of_type(*AWS_BUCKETS)


def _inline(bucket: Any, name: str) -> Any:
    """A bucket's inline setting: `aws.s3.Bucket`'s `name` block, or `aws.s3.BucketV2`'s one-item list `<name>s`
    (pulumi-aws 7.51: `versionings`, `loggings`, `serverSideEncryptionConfigurations`)."""
    single = value(bucket.props, name)
    return single if single is not None else value(bucket.props, f"{name}s", 0)


def _is_versioned(stack: StackView, bucket: Any) -> bool:
    sibling = stack.sibling(bucket, *VERSIONING)
    if sibling is not None:
        return value(sibling.props, "versioningConfiguration", "status") == "Enabled"
    return is_true(value(_inline(bucket, "versioning"), "enabled"))


def _bucket_policy_statements(stack: StackView, bucket: Any) -> tuple[Any, list[Statement]]:
    sibling = stack.sibling(bucket, BUCKET_POLICY)
    if sibling is not None:
        return sibling, statements(value(sibling.props, "policy"))
    return None, statements(value(bucket.props, "policy"))


def log_bucket_urns(stack: StackView) -> set[str]:
    """The buckets some server access logging writes to: a BucketLogging's `targetBucket` names them, or (a raw program
    passing `log_bucket.id`, unknown in a preview) its `targetBucket` input depends on them; or a bucket's inline
    `logging.targetBucket`. A log bucket needs no replica (S3 logs only within one region: each region has its own)
    and no access logging of its own, and takes SSE-S3 where KMS is required (S3 server access logging does not
    deliver to an SSE-KMS default-encrypted bucket)."""
    found: set[str] = set()
    names = {value(r.props, "targetBucket") for r in stack.of_type(*LOGGING)}
    names |= {value(_inline(b, "logging"), "targetBucket") for b in _aws_buckets(stack)}
    for name in names:
        bucket = stack.bucket_named(name) if isinstance(name, str) else None
        if bucket is not None:
            found.add(bucket.urn)
    for logging in stack.of_type(*LOGGING):
        for dependency in dependencies_of(logging, "targetBucket"):
            if stack.bucket_with_urn(dependency.urn) is not None:
                found.add(dependency.urn)
    return found


def owner_enforced(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for bucket in _aws_buckets(stack):
        sibling = stack.sibling(bucket, OWNERSHIP)
        ownership = value(sibling.props, "rule", "objectOwnership") if sibling else None
        if ownership not in ("BucketOwnerEnforced", UNKNOWN):
            yield _finding(bucket, sibling, "object ownership must be BucketOwnerEnforced (ACLs disabled); "
                                            f"it is {ownership or 'not declared'}")


def public_access_blocked(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in _aws_buckets(stack):
        sibling = stack.sibling(bucket, PUBLIC_ACCESS_BLOCK)
        if sibling is None:
            yield _finding(bucket, None, "a public access block with all four settings on must be declared")
            continue
        off = [flag for flag in flags if value(sibling.props, flag) is not UNKNOWN
               and not is_true(value(sibling.props, flag))]
        if off:
            yield _finding(bucket, sibling, f"every public access block setting must be on; off: {', '.join(off)}")


def no_public_acl(resource: Any, _config: Mapping) -> Iterator[str]:
    if resource.resource_type not in (AWS_BUCKET, *ACL_TYPES):
        return
    acl = value(resource.props, "acl")
    if acl in PUBLIC_ACLS:
        yield f"{described(resource)} must not grant a public canned ACL; it sets {acl!r}"
    grants = items(resource.props, "grants") + items(resource.props, "accessControlPolicy", "grants")
    for grant in grants:
        uri = value(grant, "grantee", "uri") or value(grant, "uri")
        if uri in PUBLIC_GRANTEE_URIS:
            yield f"{described(resource)} must not grant access to {uri.rsplit('/', 1)[-1]}"


def _denies_insecure_transport(statement: Statement) -> bool:
    if statement.effect != "Deny" or not statement.anonymous:
        return False
    for operator, keys in statement.conditions.items():
        if operator.lower() == "bool" and hasattr(keys, "get"):
            for key in keys:
                if key.lower() == "aws:securetransport" and str(keys[key]).lower() == "false":
                    return True
    return False


def deny_insecure_transport(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for bucket in _aws_buckets(stack):
        sibling, found = _bucket_policy_statements(stack, bucket)
        if sibling is not None and value(sibling.props, "policy") is UNKNOWN:
            continue
        if not any(_denies_insecure_transport(statement) for statement in found):
            yield _finding(bucket, sibling, "the bucket policy must deny every request made without TLS "
                                            "(Deny, Principal *, Condition Bool aws:SecureTransport false)")


def default_encryption(stack: StackView, config: Mapping) -> Iterator[Finding]:
    log_buckets = log_bucket_urns(stack)
    for bucket in _aws_buckets(stack):
        sibling = stack.sibling(bucket, *ENCRYPTION)
        rules = items(sibling.props, "rules") if sibling else _inline_encryption_rules(bucket)
        if not rules:
            yield _finding(bucket, sibling, "default encryption must be declared")
            continue
        if not config.get("requireKms"):
            continue
        sse_s3_allowed = bucket.urn in log_buckets
        for rule in rules:
            algorithm = value(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
            if algorithm is UNKNOWN:
                continue
            if sse_s3_allowed and algorithm == "AES256":
                continue  # server access logs are delivered only to SSE-S3 default-encrypted buckets
            if algorithm not in KMS_ALGORITHMS:
                yield _finding(bucket, sibling, f"default encryption must be SSE-KMS; it is {algorithm}")
            elif not is_true(value(rule, "bucketKeyEnabled")):
                yield _finding(bucket, sibling, "SSE-KMS must use an S3 bucket key (bucketKeyEnabled)")


def _inline_encryption_rules(bucket: Any) -> list[Any]:
    """Inline default encryption in the sibling's shape: Bucket's `serverSideEncryptionConfiguration.rule`, or
    BucketV2's `serverSideEncryptionConfigurations[0].rules[*].applyServerSideEncryptionByDefaults[0]`."""
    configuration = _inline(bucket, "serverSideEncryptionConfiguration")
    if value(configuration, "rule") is not None:
        return items(configuration, "rule")
    return [{"applyServerSideEncryptionByDefault": value(rule, "applyServerSideEncryptionByDefaults", 0),
             "bucketKeyEnabled": value(rule, "bucketKeyEnabled")} for rule in items(configuration, "rules")]


def versioning_enabled(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for bucket in _aws_buckets(stack):
        sibling = stack.sibling(bucket, *VERSIONING)
        if sibling is not None and value(sibling.props, "versioningConfiguration", "status") is UNKNOWN:
            continue
        if not _is_versioned(stack, bucket):
            status = value(sibling.props, "versioningConfiguration", "status") if sibling else "not declared"
            yield _finding(bucket, sibling, f"versioning must be Enabled; it is {status}")


def _lifecycle_rules(stack: StackView, bucket: Any) -> tuple[Any, list[Any]]:
    sibling = stack.sibling(bucket, *LIFECYCLE)
    if sibling is not None:
        return sibling, [rule for rule in items(sibling.props, "rules") if value(rule, "status") == "Enabled"]
    return None, [rule for rule in items(bucket.props, "lifecycleRules") if is_true(value(rule, "enabled"))]


def abort_incomplete_uploads(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for bucket in _aws_buckets(stack):
        sibling, rules = _lifecycle_rules(stack, bucket)
        if not any(value(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation")
                   or value(rule, "abortIncompleteMultipartUploadDays") for rule in rules):
            yield _finding(bucket, sibling, "an enabled lifecycle rule must abort incomplete multipart uploads")


def noncurrent_version_expiry(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for bucket in _aws_buckets(stack):
        if not _is_versioned(stack, bucket):
            continue
        sibling, rules = _lifecycle_rules(stack, bucket)
        if not any((items(rule, "noncurrentVersionExpiration") or items(rule, "noncurrentVersionExpirations"))
                   and _whole_bucket(rule) for rule in rules):
            yield _finding(bucket, sibling, "a versioned bucket must expire noncurrent versions in an enabled "
                                            "lifecycle rule over the whole bucket")


def _whole_bucket(rule: Any) -> bool:
    """A lifecycle rule without a narrowing filter: no prefix (or an empty one), no tag, no size bound. A filter a
    preview leaves unknown counts as whole: a rule skips what it cannot know."""
    narrowed = [value(rule, "filter", key) for key in ("prefix", "tag", "and", "objectSizeGreaterThan",
                                                        "objectSizeLessThan")]
    return not any(v and v is not UNKNOWN for v in (*narrowed, value(rule, "prefix")))


def access_logging(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    log_buckets = log_bucket_urns(stack)
    for bucket in _aws_buckets(stack):
        if bucket.urn in log_buckets:
            continue  # a log bucket does not log into itself
        if stack.sibling(bucket, *LOGGING) is None and not value(_inline(bucket, "logging"), "targetBucket"):
            yield _finding(bucket, None, "server access logging must be on (a BucketLogging to a log bucket)")


def replicated(stack: StackView, config: Mapping) -> Iterator[Finding]:
    if not config.get("required"):
        return
    exempt = stack.replica_urns() | log_bucket_urns(stack)
    for bucket in _aws_buckets(stack):
        if bucket.urn in exempt:
            continue  # a replica, or a log bucket (logs stay in their region; each region has its own)
        if stack.sibling(bucket, REPLICATION) is None and not value(bucket.props, "replicationConfiguration"):
            yield _finding(bucket, None, "must be replicated to another region (a BucketReplicationConfig)")


def protected_from_deletion(resource: Any, config: Mapping) -> Iterator[str]:
    kind = resource.resource_type
    if kind not in (*BUCKET_TYPES, "aws:kms/key:Key"):
        return
    protected = bool(getattr(resource.opts, "protect", False))
    if config.get("requireProtect") and not protected:
        yield f"{described(resource)} holds data and must be declared with `protect`"
    if kind in BUCKET_TYPES and is_true(value(resource.props, "forceDestroy")) and (
            protected or config.get("requireProtect")):
        yield f"{described(resource)} holds protected data and must not set forceDestroy"


def _anonymous_allows(found: list[Statement]) -> list[Statement]:
    return [s for s in found if s.allows and s.anonymous and not restricting_condition(s)]


def _is_public_area_read(statement: Statement) -> bool:
    """Anonymous GetObject on key prefixes: a declared public area, not the whole bucket."""
    prefixes = [object_prefix_of_arn(arn) for arn in statement.resources]
    return (bool(statement.actions) and {a.lower() for a in statement.actions} <= PUBLIC_READ_ACTIONS
            and not statement.not_actions and all(p and p != "*" for p in prefixes))


def no_public_allow(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for bucket in _aws_buckets(stack):
        sibling, found = _bucket_policy_statements(stack, bucket)
        for statement in _anonymous_allows(found):
            if not _is_public_area_read(statement):
                granted = ", ".join(statement.actions or statement.not_actions)
                yield _finding(bucket, sibling, f"{statement.label} must not allow everyone ({granted} on "
                                                f"{', '.join(statement.resources)}) without a restricting condition")


def public_area_behind_cdn(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for bucket in _aws_buckets(stack):
        sibling, found = _bucket_policy_statements(stack, bucket)
        for statement in _anonymous_allows(found):
            if _is_public_area_read(statement):
                areas = ", ".join(object_prefix_of_arn(arn) or arn for arn in statement.resources)
                yield _finding(bucket, sibling, f"public area {areas} must be served through a CloudFront "
                                                "distribution (Origin Access Control), not read anonymously from S3")


def cors_no_wildcard_origin(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for bucket in _aws_buckets(stack):
        if not getattr(bucket.opts, "protect", False):
            continue  # data not protected: a `*` origin is a development convenience
        sibling = stack.sibling(bucket, *CORS)
        rules = items(sibling.props, "corsRules") if sibling else items(bucket.props, "corsRules")
        for rule in rules:
            origins = value(rule, "allowedOrigins", default=[])
            if origins is not UNKNOWN and "*" in list(origins):
                yield _finding(bucket, sibling, "CORS must list the allowed origins; a protected bucket must not "
                                                "allow origin *")


def _alarm_metrics(alarm: Any) -> list[tuple[str, Any]]:
    """(the top-level input that holds it, the metric) for an alarm's own metric and each of its metric queries'."""
    found: list[tuple[str, Any]] = []
    if value(alarm.props, "metricName") is not None:
        found.append(("dimensions", {key: value(alarm.props, key) for key in ("namespace", "metricName",
                                                                              "dimensions")}))
    for query in items(alarm.props, "metricQueries"):
        metric = value(query, "metric")
        if is_map(metric):
            found.append(("metricQueries", metric))
    return found


def _dimension(metric: Any, key: str) -> Any:
    dimensions = value(metric, "dimensions")
    return UNKNOWN if dimensions is UNKNOWN else value(dimensions, key)


def _metric_bucket(stack: StackView, alarm: Any, held_by: str, metric: Any) -> Any | None:
    """The bucket a metric's `BucketName` dimension names, or else (a raw program passing `bucket.id`, unknown in a
    preview, or an auto-named bucket's id, which no input names) the only bucket the input holding the metric depends
    on, unless that bucket has a name and the dimension is known and names another."""
    name = _dimension(metric, "BucketName")
    if name is None:
        return None
    if isinstance(name, str) and (bucket := stack.bucket_named(name)) is not None:
        return bucket
    depended = [d for d in dependencies_of(alarm, held_by)
                if stack.bucket_with_urn(d.urn) is not None
                and (name is UNKNOWN or not isinstance(value(d.props, "bucket"), str))]
    return depended[0] if len(depended) == 1 else None


def _notifies(alarm: Any) -> bool:
    """Actions enabled, and an SNS topic (or a value a preview does not know yet) among the alarm actions."""
    if value(alarm.props, "actionsEnabled") is False:
        return False
    actions = value(alarm.props, "alarmActions")
    if actions is UNKNOWN:
        return True
    entries = [value(actions, index) for index in range(len(actions))] if is_list(actions) else []
    return any(entry is UNKNOWN or (isinstance(entry, str) and entry.split(":")[2:3] == ["sns"])
               for entry in entries)


def _alarm_label(alarm: Any) -> str:
    name = value(alarm.props, "name")
    return repr(name if isinstance(name, str) else alarm.name)


def protected_bucket_alarmed(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    """Every protected S3 bucket needs an alarm on its stored bytes (`BucketSizeBytes`) and one on its server errors
    (`5xxErrors`, read from the bucket's request metrics, a BucketMetric whose name is the metric's `FilterId`),
    each notifying an SNS topic. An alarm is matched to its bucket by the `BucketName` dimension, directly or in a
    metric query, or by the bucket its `dimensions` (or `metricQueries`) input depends on.

    Exempt: a replica, which holds what its source holds (its growth shows in the source's storage alarm) and
    serves requests only when a CDN fails over to it; what can go wrong with it is replication, which the source's
    ReplicationLatency and OperationsFailedReplication alarms watch (this rule does not require those). And a log
    bucket: only S3's log delivery writes to it and no app reads it, so no request of an app can fail on it, and
    its size follows the traffic of the buckets that log into it (which their own storage alarms watch) and its
    lifecycle expiry."""
    exempt = stack.replica_urns() | log_bucket_urns(stack)
    filter_ids: dict[str, list[Any]] = {}
    for metrics in stack.of_type(BUCKET_METRIC):
        owner = stack.bucket_of(metrics)
        if owner is not None:
            filter_ids.setdefault(owner.urn, []).append(value(metrics.props, "name"))
    storage: dict[str, list[Any]] = {}
    errors: dict[str, list[tuple[Any, Any]]] = {}
    for alarm in stack.of_type(METRIC_ALARM):
        for held_by, metric in _alarm_metrics(alarm):
            if value(metric, "namespace") not in ("AWS/S3", UNKNOWN):
                continue
            name = value(metric, "metricName")
            if name not in (STORAGE_METRIC, SERVER_ERRORS_METRIC):
                continue
            bucket = _metric_bucket(stack, alarm, held_by, metric)
            if bucket is None:
                continue
            if name == STORAGE_METRIC:
                storage.setdefault(bucket.urn, []).append(alarm)
            else:
                errors.setdefault(bucket.urn, []).append((alarm, _dimension(metric, "FilterId")))
    for bucket in _aws_buckets(stack):
        if not getattr(bucket.opts, "protect", False) or bucket.urn in exempt:
            continue
        watching = list({alarm.urn: alarm for alarm in storage.get(bucket.urn, [])}.values())
        if not watching:
            yield _finding(bucket, None, "a protected bucket must have a CloudWatch alarm on its stored bytes "
                                         f"(AWS/S3 {STORAGE_METRIC}, dimension BucketName) that notifies an SNS topic")
        elif not any(_notifies(alarm) for alarm in watching):
            yield _finding(bucket, watching[0], f"the alarm {_alarm_label(watching[0])} on its stored bytes must "
                                                "notify an SNS topic (alarmActions, with actions enabled)")
        known = filter_ids.get(bucket.urn, [])
        on_errors = errors.get(bucket.urn, [])
        if not on_errors:
            yield _finding(bucket, None, "a protected bucket must have a CloudWatch alarm on its server errors "
                                         f"(AWS/S3 {SERVER_ERRORS_METRIC}, dimensions BucketName and the FilterId of "
                                         "its request metrics) that notifies an SNS topic")
            continue
        read = [alarm for alarm, filter_id in on_errors if known and (
            filter_id is UNKNOWN or filter_id in known or UNKNOWN in known)]
        if not read:
            alarm, filter_id = on_errors[0]
            why = (f"FilterId {filter_id!r} names none of its request metrics" if known
                   else "the bucket declares no request metrics (aws.s3.BucketMetric)")
            yield _finding(bucket, alarm, f"the alarm {_alarm_label(alarm)} on its server errors must read the "
                                          f"bucket's request metrics: {why}")
        elif not any(_notifies(alarm) for alarm in read):
            yield _finding(bucket, read[0], f"the alarm {_alarm_label(read[0])} on its server errors must notify an "
                                            "SNS topic (alarmActions, with actions enabled)")


RULES = (
    Rule("s3-bucket-owner-enforced", "Checks whether each S3 bucket disables ACLs with BucketOwnerEnforced ownership",
         ("FSBP S3.12", "CKV2_AWS_65"),
         "Declare aws.s3.BucketOwnershipControls with rule.object_ownership = BucketOwnerEnforced.",
         Severity.HIGH, MANDATORY, owner_enforced, stack=True),
    Rule("s3-public-access-block", "Checks whether each S3 bucket has all four public access block settings on",
         ("FSBP S3.8", "CKV2_AWS_6"),
         "Declare aws.s3.BucketPublicAccessBlock with block_public_acls, block_public_policy, ignore_public_acls "
         "and restrict_public_buckets all true; serve public files through CloudFront.",
         Severity.CRITICAL, MANDATORY, public_access_blocked, stack=True),
    Rule("s3-no-public-acl", "Checks whether any S3 bucket or bucket ACL grants public read or write",
         ("FSBP S3.2", "FSBP S3.3"),
         "Remove the public canned ACL or AllUsers/AuthenticatedUsers grant; with BucketOwnerEnforced, ACLs are "
         "off altogether.",
         Severity.CRITICAL, MANDATORY, no_public_acl),
    Rule("s3-deny-insecure-transport", "Checks whether each S3 bucket policy denies requests made without TLS",
         ("FSBP S3.5", "CIS v3.0.0 2.1.1"),
         "Add a bucket policy statement: Effect Deny, Principal *, Action s3:*, the bucket and bucket/* as "
         "resources, Condition Bool aws:SecureTransport false.",
         Severity.HIGH, MANDATORY, deny_insecure_transport, stack=True),
    Rule("s3-default-encryption", "Checks whether each S3 bucket declares default encryption (SSE-KMS with a bucket "
         "key where required)", ("CKV_AWS_19", "CKV_AWS_145"),
         "Declare aws.s3.BucketServerSideEncryptionConfiguration; where requireKms is set, use aws:kms with "
         "bucket_key_enabled (a server access log bucket: AES256, the only default encryption S3 logging accepts).",
         Severity.HIGH, MANDATORY, default_encryption, stack=True,
         config={"requireKms": {"type": "boolean", "default": False,
                                "description": "Require SSE-KMS with a bucket key instead of any encryption."}}),
    Rule("s3-versioning-enabled", "Checks whether each S3 bucket keeps object versions", ("CKV_AWS_21",),
         "Declare aws.s3.BucketVersioning with status Enabled (app-storage: versioning true).",
         Severity.HIGH, MANDATORY, versioning_enabled, stack=True),
    Rule("s3-lifecycle-abort-multipart", "Checks whether each S3 bucket aborts incomplete multipart uploads",
         ("FSBP S3.13", "CKV_AWS_300"),
         "Add an enabled lifecycle rule with abort_incomplete_multipart_upload.days_after_initiation.",
         Severity.LOW, MANDATORY, abort_incomplete_uploads, stack=True),
    Rule("s3-noncurrent-version-expiry", "Checks whether each versioned S3 bucket expires noncurrent versions",
         ("FSBP S3.10", "CKV2_AWS_61"),
         "Add an enabled lifecycle rule with noncurrent_version_expiration.noncurrent_days.",
         Severity.LOW, MANDATORY, noncurrent_version_expiry, stack=True),
    Rule("s3-access-logging", "Checks whether each S3 bucket writes server access logs", ("FSBP S3.9", "CKV_AWS_18"),
         "Declare aws.s3.BucketLogging to a dedicated log bucket in the bucket's region (app-storage: the stack's "
         "LogBucket of that region, prefix <bucket>/).",
         Severity.LOW, ADVISORY, access_logging, stack=True),
    Rule("s3-cross-region-replication", "Checks whether each S3 bucket is replicated where replication is required",
         ("CKV_AWS_144",),
         "Declare aws.s3.BucketReplicationConfig to a bucket in another region (app-storage: replication.region).",
         Severity.MEDIUM, ADVISORY, replicated, stack=True,
         config={"required": {"type": "boolean", "default": False,
                              "description": "Require every bucket that is not itself a replica to replicate."}}),
    Rule("data-protected-from-deletion", "Checks whether data-bearing resources (buckets, KMS keys) are protected "
         "and protected buckets never force-destroy", (),
         "Declare buckets and keys with ResourceOptions(protect=True) and leave force_destroy off "
         "(app-storage: protectData true, forceDestroy false).",
         Severity.HIGH, MANDATORY, protected_from_deletion,
         config={"requireProtect": {"type": "boolean", "default": True,
                                    "description": "Every bucket and KMS key must be protected."}}),
    Rule("s3-bucket-policy-no-public-allow", "Checks whether any S3 bucket policy allows everyone anything beyond "
         "reading a declared public area", ("CKV_AWS_70",),
         "Grant to named principals, or add a restricting condition (aws:SourceArn, aws:SourceAccount, …).",
         Severity.CRITICAL, MANDATORY, no_public_allow, stack=True),
    Rule("s3-public-area-behind-cdn", "Checks whether every public area of an S3 bucket is served through a CDN "
         "or carries a recorded exception", ("FSBP S3.2",),
         "Serve the area through CloudFront with Origin Access Control (app-storage: cdn.enabled), or record an "
         "exception with the reason (tag policy-exception:s3-public-area-behind-cdn).",
         Severity.HIGH, MANDATORY, public_area_behind_cdn, stack=True),
    Rule("s3-cors-no-wildcard-origin", "Checks whether a protected S3 bucket's CORS rules allow any origin",
         (),
         "List the app's origins in CORS (app-storage: cors[].origins), or record an exception with the reason.",
         Severity.MEDIUM, MANDATORY, cors_no_wildcard_origin, stack=True),
    Rule("s3-protected-bucket-alarmed", "Checks whether each protected S3 bucket has CloudWatch alarms on its "
         "storage and errors that notify someone", (),
         "Declare aws.s3.BucketMetric (request metrics) for the bucket and aws.cloudwatch.MetricAlarm on AWS/S3 "
         "BucketSizeBytes and on 5xxErrors (dimensions BucketName and that FilterId), each with alarm_actions naming "
         "an SNS topic (app-storage: alerts.emails and alerts.storageBytes).",
         Severity.LOW, ADVISORY, protected_bucket_alarmed, stack=True),
)
