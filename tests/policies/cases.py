"""Every rule's failing cases: a compliant fixture (a shipped stack's own resources, made compliant first where the
shipped stack leaves an advisory rule unmet) and one mutation per requirement, each with the words its violation
must contain."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass

from cli.policy import AnalyzedResource
from tests.helpers import resource_named, set_path

Mutation = Callable[[list], None]


@dataclass(frozen=True)
class Case:
    rule: str
    mutation: str
    mutate: Mutation
    expect: str
    stack: str = "prod"
    prepare: Mutation | None = None

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.mutation}"


def props(analyzed: list, name: str) -> dict:
    return resource_named(analyzed, name).properties


def setting(name: str, path: str, new_value) -> Mutation:
    return lambda analyzed: set_path(props(analyzed, name), path, new_value)


def removed(name: str) -> Mutation:
    return lambda analyzed: analyzed.remove(resource_named(analyzed, name))


def without_input(name: str, key: str) -> Mutation:
    """The input gone, and with it what the engine records of it (its property dependencies)."""
    def mutate(analyzed: list) -> None:
        resource = resource_named(analyzed, name)
        resource.properties.pop(key, None)
        resource.property_dependencies.pop(key, None)
    return mutate


def option(name: str, **changes) -> Mutation:
    def mutate(analyzed: list) -> None:
        for key, new_value in changes.items():
            setattr(resource_named(analyzed, name), key, new_value)
    return mutate


def added(type_: str, name: str, properties: dict, stack: str = "prod") -> Mutation:
    def mutate(analyzed: list) -> None:
        analyzed.append(AnalyzedResource(
            f"urn:pulumi:{stack}::app-storage::{type_}::{name}", type_, name, True, properties,
            parent=f"urn:pulumi:{stack}::app-storage::pulumi:pulumi:Stack::app-storage-{stack}"))
    return mutate


def policy_edit(name: str, edit: Callable[[dict], None], key: str = "policy") -> Mutation:
    def mutate(analyzed: list) -> None:
        document = json.loads(props(analyzed, name)[key])
        edit(document)
        props(analyzed, name)[key] = json.dumps(document)
    return mutate


def statement_added(name: str, statement: dict) -> Mutation:
    return policy_edit(name, lambda document: document["Statement"].append(statement))


def statement_changed(name: str, sid: str, **changes) -> Mutation:
    def edit(document: dict) -> None:
        next(s for s in document["Statement"] if s.get("Sid") == sid).update(changes)
    return policy_edit(name, edit)


def lifecycle_without(rule_id: str) -> Mutation:
    def mutate(analyzed: list) -> None:
        rules = props(analyzed, "chat-storage-lifecycle")["rules"]
        rules[:] = [rule for rule in rules if rule["id"] != rule_id]
    return mutate


def on_distributions(path: str, new_value) -> Mutation:
    def mutate(analyzed: list) -> None:
        for distribution in [r for r in analyzed if r.type == "aws:cloudfront/distribution:Distribution"]:
            set_path(distribution.properties, path, copy.deepcopy(new_value))
    return mutate


def hsts(name: str, key: str, new_value) -> Mutation:
    return setting(name, f"securityHeadersConfig.strictTransportSecurity.{key}", new_value)


def failover_edit(edit: Callable[[dict, dict], None], name: str = "vista-cdn-distribution") -> Mutation:
    """Edit the distribution (and its first origin group, the one that fails over to the replica), whatever the
    component calls its origins and group."""
    def mutate(analyzed: list) -> None:
        distribution = props(analyzed, name)
        edit(distribution, distribution["originGroups"][0])
    return mutate


def without_replica_origin(distribution: dict, group: dict) -> None:
    secondary = group["members"][1]["originId"]
    distribution["origins"] = [o for o in distribution["origins"] if o["originId"] != secondary]


def without_503(_distribution: dict, group: dict) -> None:
    codes = group["failoverCriteria"]["statusCodes"]
    codes[:] = [code for code in codes if code != 503]


def behaviour_reads_the_bucket(distribution: dict, group: dict) -> None:
    distribution["orderedCacheBehaviors"][0]["targetOriginId"] = group["members"][0]["originId"]


CUSTOM_CERTIFICATE = {"acmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/c",
                      "minimumProtocolVersion": "TLSv1.2_2021", "sslSupportMethod": "sni-only"}
CHAT_BUCKET = "arn:aws:s3:::app-storage-prod-chat"
EVERYONE_READS_MEDIA = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                        "Resource": f"{CHAT_BUCKET}/media/*"}
DEV_POLICY = "eventhorizon-storage-policy"

CASES = (
    Case("s3-bucket-owner-enforced", "object-writer",
         setting("chat-storage-ownership", "rule.objectOwnership", "ObjectWriter"), "must be BucketOwnerEnforced"),
    Case("s3-bucket-owner-enforced", "missing", removed("chat-storage-ownership"), "it is not declared"),
    Case("s3-public-access-block", "policy-allowed",
         setting("chat-storage-public-access-block", "blockPublicPolicy", False), "off: blockPublicPolicy"),
    Case("s3-public-access-block", "missing", removed("chat-storage-public-access-block"), "must be declared"),
    Case("s3-no-public-acl", "canned-acl", setting("chat-storage-bucket", "acl", "public-read"),
         "must not grant a public canned ACL"),
    Case("s3-no-public-acl", "grant", added("aws:s3/bucketAcl:BucketAcl", "chat-acl", {
        "bucket": "app-storage-prod-chat", "accessControlPolicy": {"grants": [{"permission": "READ", "grantee": {
            "type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}}]}}), "AllUsers"),
    Case("s3-deny-insecure-transport", "allows-http",
         statement_changed("chat-storage-policy", "DenyInsecureTransport", Condition={}), "without TLS"),
    Case("s3-deny-insecure-transport", "missing", removed("chat-storage-policy"), "without TLS"),
    Case("s3-default-encryption", "sse-s3", setting(
        "chat-storage-encryption", "rules.0.applyServerSideEncryptionByDefault", {"sseAlgorithm": "AES256"}),
         "must be SSE-KMS"),
    Case("s3-default-encryption", "no-bucket-key", setting("chat-storage-encryption", "rules.0.bucketKeyEnabled",
                                                           False), "bucket key"),
    Case("s3-default-encryption", "missing", removed("chat-storage-encryption"), "must be declared"),
    Case("s3-versioning-enabled", "suspended",
         setting("chat-storage-versioning", "versioningConfiguration.status", "Suspended"), "it is Suspended"),
    Case("s3-versioning-enabled", "missing", removed("chat-storage-versioning"), "it is not declared"),
    Case("s3-lifecycle-abort-multipart", "rule-removed", lifecycle_without("abort-incomplete-multipart-uploads"),
         "abort incomplete multipart"),
    Case("s3-lifecycle-abort-multipart", "lifecycle-missing", removed("chat-storage-lifecycle"),
         "abort incomplete multipart"),
    Case("s3-noncurrent-version-expiry", "rule-removed", lifecycle_without("expire-noncurrent-versions"),
         "expire noncurrent versions"),
    # The shipped stack logs every bucket into its region's LogBucket (which is itself exempt: a BucketLogging target).
    Case("s3-access-logging", "missing", removed("chat-storage-logging"), "access logging must be on"),
    Case("s3-cross-region-replication", "missing", removed("chat-replication-config"), "must be replicated"),
    Case("data-protected-from-deletion", "unprotected-bucket", option("chat-storage-bucket", protect=False),
         "must be declared with `protect`"),
    Case("data-protected-from-deletion", "unprotected-key", option("chat-storage-key", protect=False),
         "must be declared with `protect`"),
    Case("data-protected-from-deletion", "force-destroy", setting("chat-storage-bucket", "forceDestroy", True),
         "must not set forceDestroy"),
    Case("s3-bucket-policy-no-public-allow", "anonymous-write", statement_added("chat-storage-policy", {
        "Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:PutObject",
        "Resource": f"{CHAT_BUCKET}/*"}), "must not allow everyone"),
    Case("s3-bucket-policy-no-public-allow", "whole-bucket-read", statement_added("chat-storage-policy", {
        **EVERYONE_READS_MEDIA, "Resource": f"{CHAT_BUCKET}/*"}), "must not allow everyone"),
    Case("s3-public-area-behind-cdn", "anonymous-area", statement_added("chat-storage-policy", EVERYONE_READS_MEDIA),
         "must be served through a CloudFront distribution"),
    Case("s3-cors-no-wildcard-origin", "any-origin",
         setting("eventhorizon-storage-cors", "corsRules.0.allowedOrigins", ["*"]), "must not allow origin *"),
    # Each app's AppAlarms watch its bucket (replicas and log buckets are exempt: see the rule's docstring).
    Case("s3-protected-bucket-alarmed", "storage-alarm-missing", removed("chat-alarms-storage-bytes"),
         "must have a CloudWatch alarm on its stored bytes"),
    Case("s3-protected-bucket-alarmed", "storage-alarm-silent", setting("chat-alarms-storage-bytes", "alarmActions",
                                                                        []), "on its stored bytes must notify"),
    Case("s3-protected-bucket-alarmed", "storage-alarm-other-bucket", lambda a: [set_path(
        query["metric"], "dimensions.BucketName", "app-storage-prod-vista")
        for query in props(a, "chat-alarms-storage-bytes")["metricQueries"] if "metric" in query],
         "must have a CloudWatch alarm on its stored bytes"),
    Case("s3-protected-bucket-alarmed", "errors-alarm-missing", removed("chat-alarms-5xx-rate"),
         "must have a CloudWatch alarm on its server errors"),
    Case("s3-protected-bucket-alarmed", "errors-alarm-silent", setting("chat-alarms-5xx-rate", "actionsEnabled",
                                                                       False), "on its server errors must notify"),
    Case("s3-protected-bucket-alarmed", "errors-alarm-not-sns", setting(
        "chat-alarms-5xx-rate", "alarmActions", ["arn:aws:automate:us-east-1:ec2:stop"]),
         "on its server errors must notify an SNS topic"),
    Case("s3-protected-bucket-alarmed", "request-metrics-missing", removed("chat-alarms-request-metrics"),
         "declares no request metrics"),
    Case("s3-protected-bucket-alarmed", "errors-alarm-other-filter", setting(
        "chat-alarms-5xx-rate", "metricQueries.0.metric.dimensions.FilterId", "Uploads"),
         "FilterId 'Uploads' names none of its request metrics"),
    Case("iam-no-wildcard-actions", "star", statement_changed("chat-identity-group-policy", "ReadWriteAreaObjects",
                                                              Action="*"), "it allows *"),
    Case("iam-no-wildcard-actions", "service-star", statement_changed(
        "chat-identity-group-policy", "UseBucketKey", Action=["kms:*"]), "it allows kms:*"),
    Case("iam-no-wildcard-actions", "not-action", statement_added("chat-identity-group-policy", {
        "Effect": "Allow", "NotAction": "iam:*", "Resource": CHAT_BUCKET}), "NotAction"),
    Case("iam-no-wildcard-resources", "any-bucket", statement_changed(
        "chat-identity-group-policy", "ReadWriteAreaObjects", Resource="*"), "not *"),
    Case("iam-no-console-login", "login-profile", added("aws:iam/userLoginProfile:UserLoginProfile", "chat-login", {
        "user": "app-storage-prod-chat"}), "console password"),
    Case("iam-permissions-through-groups", "user-policy", added("aws:iam/userPolicy:UserPolicy", "chat-direct", {
        "user": "app-storage-prod-chat", "policy": "{}"}), "through a group or role"),
    Case("iam-identity-own-app-only", "other-apps-bucket", statement_changed(
        "chat-identity-group-policy", "ReadWriteAreaObjects", Resource=["arn:aws:s3:::app-storage-prod-vista/*"]),
         "app vista"),
    Case("iam-role-trust-restricted", "ecs-without-condition", policy_edit(
        "chat-replication-role", lambda d: d["Statement"][0].update(Principal={"Service": "ecs-tasks.amazonaws.com"}),
        "assumeRolePolicy"), "must restrict who assumes the role"),
    Case("iam-role-trust-restricted", "account-without-condition", policy_edit(
        "chat-replication-role", lambda d: d["Statement"][0].update(
            Principal={"AWS": "arn:aws:iam::210987654321:root"}), "assumeRolePolicy"),
         "must restrict who assumes the role"),
    Case("iam-role-trust-restricted", "s3-with-another-service", policy_edit(
        "chat-replication-role", lambda d: d["Statement"][0].update(
            Principal={"Service": ["s3.amazonaws.com", "ecs-tasks.amazonaws.com"]}), "assumeRolePolicy"),
         "must restrict who assumes the role"),
    Case("iam-role-trust-restricted", "anyone", policy_edit(
        "chat-replication-role", lambda d: d["Statement"][0].update(Principal={"AWS": "*"}), "assumeRolePolicy"),
         "must not let every principal"),
    Case("iam-user-at-most-two-keys", "three-keys", lambda a: [added(
        "aws:iam/accessKey:AccessKey", f"chat-extra-key-{n}", {"user": "app-storage-prod-chat"})(a) for n in (2, 3)],
         "must hold at most two live keys"),
    Case("kms-key-rotation", "off", setting("chat-storage-key", "enableKeyRotation", False), "must rotate"),
    Case("kms-deletion-window", "seven-days", setting("chat-storage-key", "deletionWindowInDays", 7),
         "at least 30 days"),
    Case("kms-explicit-key-policy", "default-policy", lambda a: props(a, "chat-storage-key").pop("policy"),
         "must declare its key policy"),
    Case("kms-no-wildcard-principal", "everyone", statement_added("chat-storage-key", {
        "Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}),
         "must not allow every principal"),
    Case("kms-no-lockout-bypass", "bypass", setting("chat-storage-key", "bypassPolicyLockoutSafetyCheck", True),
         "lockout safety check"),
    Case("cloudfront-viewer-https", "default-allow-all", setting(
        "vista-cdn-distribution", "defaultCacheBehavior.viewerProtocolPolicy", "allow-all"), "default behaviour"),
    Case("cloudfront-viewer-https", "ordered-allow-all", setting(
        "vista-cdn-distribution", "orderedCacheBehaviors.0.viewerProtocolPolicy", "allow-all"),
         "behaviour 'thumbnails/*'"),
    Case("cloudfront-s3-origin-access-control", "no-oac", lambda a: props(a, "vista-cdn-distribution")["origins"][0]
         .pop("originAccessControlId"), "must be read through Origin Access Control"),
    Case("cloudfront-s3-origin-access-control", "legacy-oai", setting(
        "vista-cdn-distribution", "origins.0.s3OriginConfig", {"originAccessIdentity": "origin-access-identity/x"}),
         "not the legacy origin access identity"),
    Case("cloudfront-recommended-tls", "tls-1", setting(
        "vista-cdn-distribution", "viewerCertificate.minimumProtocolVersion", "TLSv1"), "it allows TLSv1",
         prepare=on_distributions("viewerCertificate", CUSTOM_CERTIFICATE)),
    Case("cloudfront-recommended-tls", "default-certificate", setting(
        "vista-cdn-distribution", "viewerCertificate", {"cloudfrontDefaultCertificate": True}),
         "default *.cloudfront.net certificate", prepare=on_distributions("viewerCertificate", CUSTOM_CERTIFICATE)),
    Case("cloudfront-security-headers", "no-policy", lambda a: props(a, "vista-cdn-distribution")[
        "defaultCacheBehavior"].pop("responseHeadersPolicyId"), "must attach a response headers policy"),
    Case("cloudfront-security-headers", "no-hsts", lambda a: props(a, "vista-cdn-security-headers")[
        "securityHeadersConfig"].pop("strictTransportSecurity"), "must send Strict-Transport-Security"),
    Case("cloudfront-hsts-preload", "no-preload", hsts("vista-cdn-security-headers", "preload", False),
         "must add the preload directive"),
    Case("cloudfront-hsts-preload", "no-subdomains", hsts("vista-cdn-security-headers", "includeSubdomains", False),
         "must add includeSubDomains"),
    Case("cloudfront-hsts-preload", "half-year", hsts("vista-cdn-security-headers", "accessControlMaxAgeSec", 15768000),
         "at least 31536000 seconds, one year (accessControlMaxAgeSec); it is 15768000"),
    Case("cloudfront-hsts-preload", "no-override", hsts("vista-cdn-security-headers", "override", False),
         "must override the origin's Strict-Transport-Security"),
    Case("cloudfront-hsts-preload", "no-hsts", lambda a: props(a, "vista-cdn-security-headers")[
        "securityHeadersConfig"].pop("strictTransportSecurity"), "it sends none"),
    Case("cloudfront-origin-failover", "no-origin-group", failover_edit(lambda d, _g: d.pop("originGroups")),
         "must be read through an origin group"),
    Case("cloudfront-origin-failover", "no-replica-origin", failover_edit(without_replica_origin),
         "no origin reads the replica"),
    Case("cloudfront-origin-failover", "replica-first", failover_edit(lambda _d, g: g["members"].reverse()),
         "has the replica first"),
    Case("cloudfront-origin-failover", "no-503", failover_edit(without_503),
         "must fail over on 500, 502, 503 and 504; it does not on 503"),
    Case("cloudfront-origin-failover", "behaviour-bypasses-group", failover_edit(behaviour_reads_the_bucket),
         "behaviour 'thumbnails/*' must target origin group"),
    # Standard logging v2 (the shipped stack): without the distribution's LogDeliverySource nothing delivers its logs.
    Case("cloudfront-access-logging", "missing", removed("vista-cdn-log-source"), "must write standard logs"),
    Case("cloudfront-waf", "missing", without_input("vista-cdn-distribution", "webAclId"), "WAF"),
    Case("minio-user-policy-no-wildcards", "star-action", statement_changed(
        "chat-identity-policy", "ReadWriteAreaObjects", Action="s3:*"), "it allows s3:*", stack="dev"),
    Case("minio-user-policy-no-wildcards", "star-resource", statement_changed(
        "chat-identity-policy", "ReadWriteAreaObjects", Resource="*"), "must name its buckets", stack="dev"),
    Case("minio-no-anonymous-write-or-list", "anonymous-put", statement_changed(
        DEV_POLICY, "PublicReadAreas", Action=["s3:GetObject", "s3:PutObject"]), "let anyone s3:PutObject",
         stack="dev"),
    Case("minio-no-anonymous-write-or-list", "anonymous-list", statement_changed(
        DEV_POLICY, "PublicReadAreas", Action=["s3:ListBucket"]), "let anyone s3:ListBucket", stack="dev"),
    Case("minio-no-anonymous-write-or-list", "public-acl", setting("chat-storage-bucket", "acl", "public-read-write"),
         "must not let anyone write or list", stack="dev"),
    Case("minio-anonymous-read-prefixes-only", "whole-bucket", statement_changed(
        DEV_POLICY, "PublicReadAreas", Resource=["arn:aws:s3:::app-storage-dev-eventhorizon/*"]),
         "on area prefixes only", stack="dev"),
    Case("minio-anonymous-read-prefixes-only", "public-read-acl", setting("chat-storage-bucket", "acl", "public-read"),
         "must not publish the whole bucket", stack="dev"),
    Case("policy-exception-has-reason", "no-reason", setting(
        "chat-storage-bucket", "tags.policy-exception:s3-versioning-enabled", ""), "must give the reason"),
    Case("policy-exception-has-reason", "unknown-rule", setting(
        "chat-storage-bucket", "tags.policy-exception:s3-no-such-rule", "because"), "must name a rule of this pack"),
)
