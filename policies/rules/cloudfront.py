"""CloudFront distributions serving buckets.

A distribution names what it uses by ids that are unknown in a preview of new resources (a response headers policy's
id, an origin access control's id, often a bucket's regional domain name), so the stack rules here also match by the
distribution's property dependencies, which the engine records per top-level input: a response headers policy by the
dependency of `defaultCacheBehavior` or `orderedCacheBehaviors`, an origin's bucket by its domain name
(`<bucket>.s3.<region>.amazonaws.com`) or else by the dependency of `origins`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Severity

from .common import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Finding,
    Rule,
    bucket_label,
    dependencies_of,
    described,
    is_list,
    is_map,
    is_true,
    items,
    value,
)
from .stack import StackView

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
RESPONSE_HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
HTTPS_VIEWER_POLICIES = frozenset({"redirect-to-https", "https-only"})
RECOMMENDED_TLS_POLICIES = frozenset({"TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"})
PRELOAD_MINIMUM_MAX_AGE = 31_536_000
"""One year: the least max-age hstspreload.org accepts for the preload list (and Checkov CKV_AWS_259 requires)."""
FAILOVER_STATUS_CODES = (500, 502, 503, 504)
"""The origin errors an origin group must fail over on (CloudFront also allows 400, 403, 404 and 416)."""
S3_ENDPOINT = re.compile(
    r"(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.s3(?:-website)?(?:[.-](?:dualstack\.)?[a-z]{2}(?:-[a-z]+)+-\d+)?"
    r"\.amazonaws\.com(?:\.cn)?")
"""An S3 endpoint a CloudFront origin reads a bucket through: regional (`<bucket>.s3.<region>.amazonaws.com`), global,
legacy `s3-<region>`, dual-stack, website."""


def _behaviors(resource: Any) -> list[tuple[str, Any]]:
    found = [("default behaviour", b) for b in items(resource.props, "defaultCacheBehavior")]
    found += [(f"behaviour {value(b, 'pathPattern', default='?')!r}", b)
              for b in items(resource.props, "orderedCacheBehaviors")]
    return found


def _distributions(resource: Any) -> bool:
    return resource.resource_type == DISTRIBUTION


def viewer_https(resource: Any, _config: Mapping) -> Iterator[str]:
    if not _distributions(resource):
        return
    for label, behavior in _behaviors(resource):
        policy = value(behavior, "viewerProtocolPolicy")
        if policy is not UNKNOWN and policy not in HTTPS_VIEWER_POLICIES:
            yield f"{described(resource)}: the {label} must redirect viewers to HTTPS or require it; it is {policy}"


def _is_s3_origin(origin: Any) -> bool:
    domain = value(origin, "domainName", default="")
    return bool(items(origin, "s3OriginConfig")) or (isinstance(domain, str) and (
        ".s3." in domain or domain.endswith(".s3.amazonaws.com")))


def s3_origin_access_control(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    """An origin is an S3 origin when its domain is an S3 endpoint, when it has an s3OriginConfig, or when it reads a
    bucket of the stack through the property dependency of `origins` (a domain from `bucket_regional_domain_name`
    is unknown in a preview of a new bucket)."""
    for distribution in stack.of_type(DISTRIBUTION):
        reads = origin_buckets(stack, distribution)
        for origin in items(distribution.props, "origins"):
            origin_id = value(origin, "originId", default="?")
            known_s3 = _is_s3_origin(origin) or (origin_id in reads and reads[origin_id].certain)
            if value(origin, "s3OriginConfig", "originAccessIdentity"):
                message = "must use Origin Access Control, not the legacy origin access identity"
            elif known_s3 and not value(origin, "originAccessControlId"):
                message = "must be read through Origin Access Control"
            else:
                continue
            yield Finding(distribution.urn, f"{described(distribution)}: S3 origin {origin_id!r} {message}",
                          (distribution,))


def recommended_tls(resource: Any, _config: Mapping) -> Iterator[str]:
    if not _distributions(resource):
        return
    certificate = value(resource.props, "viewerCertificate", default={})
    custom = value(certificate, "acmCertificateArn") or value(certificate, "iamCertificateId")
    if not custom:
        yield (f"{described(resource)} must serve a custom certificate with TLSv1.2_2021 or later: the default "
               "*.cloudfront.net certificate still accepts TLSv1")
        return
    version = value(certificate, "minimumProtocolVersion")
    if version is not UNKNOWN and version not in RECOMMENDED_TLS_POLICIES:
        yield f"{described(resource)} must require TLSv1.2_2021 or later; it allows {version or 'TLSv1'}"


LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"


def _delivers_access_logs_v2(stack: StackView, distribution: Any) -> bool:
    """Standard logging v2: a LogDeliverySource of ACCESS_LOGS whose resourceArn is the distribution's (its ARN, or
    in a preview the dependency of `resourceArn` on it), paired with a destination by a LogDelivery naming the source
    (by name, or by the dependency of `deliverySourceName`)."""
    arn = value(distribution.props, "arn")
    for source in stack.of_type(LOG_DELIVERY_SOURCE):
        if value(source.props, "logType") not in ("ACCESS_LOGS", UNKNOWN):
            continue
        dependencies = dependencies_of(source, "resourceArn")
        resource_arn = value(source.props, "resourceArn")
        if not (isinstance(arn, str) and resource_arn == arn) and not any(
                d.urn == distribution.urn for d in dependencies):
            continue
        name = value(source.props, "name")
        for delivery in stack.of_type(LOG_DELIVERY):
            named = value(delivery.props, "deliverySourceName")
            depends = dependencies_of(delivery, "deliverySourceName")
            if (isinstance(name, str) and named == name) or any(d.urn == source.urn for d in depends):
                return True
    return False


def access_logging(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for distribution in stack.of_type(DISTRIBUTION):
        if value(distribution.props, "loggingConfig", "bucket") or _delivers_access_logs_v2(stack, distribution):
            continue
        yield Finding(distribution.urn, f"{described(distribution)} must write standard logs: v2 (a CloudWatch Logs "
                                        "LogDeliverySource of ACCESS_LOGS for it and a LogDelivery) or legacy "
                                        "(loggingConfig.bucket)", (distribution,))


def web_acl(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    """A web ACL id or ARN, a value a preview leaves unknown, or a dependency of `webAclId` on a WAFv2 web ACL (an
    output the offline plan could not compute): a stack rule, since only the stack sees property dependencies."""
    for distribution in stack.of_type(DISTRIBUTION):
        if not value(distribution.props, "webAclId") and not any(
                d.resource_type == WEB_ACL for d in dependencies_of(distribution, "webAclId")):
            yield Finding(distribution.urn, f"{described(distribution)} must be protected by an AWS WAF web ACL "
                                            "(webAclId)", (distribution,))


def _has_hsts(policy: Any) -> bool:
    return bool(value(policy.props, "securityHeadersConfig", "strictTransportSecurity", "accessControlMaxAgeSec"))


def response_headers_policies(distribution: Any) -> list[Any]:
    """The response headers policies of the stack that the distribution's behaviours use. Their ids are unknown in a
    preview of new policies, so a policy is known by the distribution's property dependency of `defaultCacheBehavior`
    or `orderedCacheBehaviors` (keyed by top-level input: which behaviour uses which policy is not recorded)."""
    dependencies = getattr(distribution, "property_dependencies", None) or {}
    policies = {d.urn: d for key in ("defaultCacheBehavior", "orderedCacheBehaviors")
                for d in dependencies.get(key, []) if d.resource_type == RESPONSE_HEADERS_POLICY}
    return list(policies.values())


def security_headers(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for distribution in stack.of_type(DISTRIBUTION):
        for label, behavior in _behaviors(distribution):
            if not value(behavior, "responseHeadersPolicyId"):
                yield Finding(distribution.urn, f"{described(distribution)}: the {label} must attach a response "
                                                "headers policy with HSTS", (distribution,))
        for policy in response_headers_policies(distribution):
            if not _has_hsts(policy):
                yield Finding(distribution.urn, f"{described(distribution)}: response headers policy {policy.name!r} "
                                                "must send Strict-Transport-Security", (distribution, policy))


def _number(candidate: Any) -> float | None:
    if isinstance(candidate, bool):
        return None
    if isinstance(candidate, (int, float)):
        return float(candidate)
    if isinstance(candidate, str) and candidate.strip().isdigit():
        return float(candidate.strip())
    return None


def _preload_problems(policy: Any) -> Iterator[str]:
    """What keeps the policy's Strict-Transport-Security header off the preload list (each as what it must do)."""
    hsts = value(policy.props, "securityHeadersConfig", "strictTransportSecurity")
    if hsts is UNKNOWN:
        return
    if not is_map(hsts):
        yield (f"send Strict-Transport-Security with preload, includeSubDomains and a max-age of at least "
               f"{PRELOAD_MINIMUM_MAX_AGE} seconds; it sends none")
        return
    max_age = value(hsts, "accessControlMaxAgeSec")
    seconds = _number(max_age)
    if max_age is not UNKNOWN and (seconds is None or seconds < PRELOAD_MINIMUM_MAX_AGE):
        shown = int(seconds) if seconds is not None else max_age
        yield (f"keep Strict-Transport-Security for at least {PRELOAD_MINIMUM_MAX_AGE} seconds, one year "
               f"(accessControlMaxAgeSec); it is {shown}")
    for key, what in (("includeSubdomains", "add includeSubDomains to Strict-Transport-Security (includeSubdomains)"),
                      ("preload", "add the preload directive to Strict-Transport-Security (preload)"),
                      ("override", "override the origin's Strict-Transport-Security header (override)")):
        setting = value(hsts, key)
        if setting is not UNKNOWN and not is_true(setting):
            yield what


def hsts_preload(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for distribution in stack.of_type(DISTRIBUTION):
        for policy in response_headers_policies(distribution):
            for problem in _preload_problems(policy):
                yield Finding(distribution.urn, f"{described(distribution)}: response headers policy {policy.name!r} "
                                                f"must {problem}", (distribution, policy))


def s3_bucket_name(domain: str) -> str | None:
    """The bucket an S3 endpoint serves, or None for any other host."""
    match = S3_ENDPOINT.fullmatch(domain.strip().lower().rstrip("."))
    return match.group("bucket") if match else None


@dataclass(frozen=True)
class OriginRead:
    """The buckets one origin may read: one, and `certain`, when its domain names it or when it is the only origin a
    preview leaves open and the distribution depends on one bucket for `origins`; else every such bucket."""

    buckets: tuple[Any, ...]
    certain: bool

    def reads(self, urns: set[str] | frozenset[str]) -> bool:
        return any(bucket.urn in urns for bucket in self.buckets)


def origin_buckets(stack: StackView, distribution: Any) -> dict[str, OriginRead]:
    """Origin id -> the bucket(s) of the stack it reads. An origin whose domain is an S3 endpoint reads the bucket of
    that name; one whose domain is unknown (a preview of a new bucket) or names no bucket of the stack (an auto-named
    bucket) reads a bucket the distribution depends on for `origins` that no named origin claims."""
    found: dict[str, OriginRead] = {}
    open_origins: dict[str, str | None] = {}
    """origin id -> its S3 domain where known (an auto-named bucket's: it names no bucket input)."""
    for origin in items(distribution.props, "origins"):
        origin_id = value(origin, "originId")
        if not isinstance(origin_id, str):
            continue
        domain = value(origin, "domainName")
        if isinstance(domain, str) and domain:
            name = s3_bucket_name(domain)
            if name is None:
                continue  # a custom origin
            bucket = stack.bucket_named(name)
            if bucket is not None:
                found[origin_id] = OriginRead((bucket,), True)
                continue
            open_origins[origin_id] = domain.strip().lower()
            continue
        open_origins[origin_id] = None
    claimed = {bucket.urn for read in found.values() for bucket in read.buckets}
    dependencies = dependencies_of(distribution, "origins")
    depended = tuple({d.urn: d for d in dependencies
                      if stack.bucket_with_urn(d.urn) is not None and d.urn not in claimed}.values())
    if depended:
        for origin_id, domain in open_origins.items():
            candidates = tuple(bucket for bucket in depended if _may_serve(bucket, domain)) or depended
            certain = len(candidates) == 1 and (domain is not None or (len(open_origins) == 1 and len(depended) == 1))
            found[origin_id] = OriginRead(candidates, certain)
    return found


S3_REGION_IN_DOMAIN = re.compile(r"\.s3[.-](?:dualstack\.)?(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.")


def _may_serve(bucket: Any, domain: str | None) -> bool:
    """Whether an auto-named bucket may be the one an S3 domain names: its `region` input (pulumi-aws 7's
    per-resource region) is the domain's, and the name S3 gave it starts with its `bucketPrefix`. A domain or an
    input a preview leaves unknown rules nothing out."""
    if domain is None:
        return True
    match = S3_REGION_IN_DOMAIN.search(domain)
    region = value(bucket.props, "region")
    if match and isinstance(region, str) and region and region != match.group("region"):
        return False
    prefix = value(bucket.props, "bucketPrefix")
    return not (isinstance(prefix, str) and prefix and not domain.startswith(prefix.lower()))


@dataclass(frozen=True)
class OriginGroup:
    origin_id: str
    members: tuple[str, ...]
    status_codes: frozenset[int] | None
    """None where a preview leaves them unknown."""


def _origin_groups(distribution: Any) -> list[OriginGroup] | None:
    """The distribution's origin groups, or None where a preview leaves any of them unknown."""
    raw = value(distribution.props, "originGroups", default=[])
    if raw is UNKNOWN:
        return None
    entries = [raw] if is_map(raw) else [value(raw, index) for index in range(len(raw))] if is_list(raw) else []
    groups = []
    for entry in entries:
        if entry is UNKNOWN:
            return None
        if not is_map(entry):
            continue
        group_id = value(entry, "originId")
        members_raw = value(entry, "members", default=[])
        if group_id is UNKNOWN or members_raw is UNKNOWN:
            return None
        members = [value(member, "originId") for member in items(entry, "members")]
        if UNKNOWN in members or (is_list(members_raw) and len(members) != len(members_raw)):
            return None
        codes = value(entry, "failoverCriteria", "statusCodes", default=[])
        known_codes = None
        if codes is not UNKNOWN and is_list(codes):
            listed = [value(codes, index) for index in range(len(codes))]
            if UNKNOWN not in listed:
                known_codes = frozenset(int(number) for code in listed if (number := _number(code)) is not None)
        groups.append(OriginGroup(str(group_id), tuple(str(m) for m in members), known_codes))
    return groups


def _listed(names: list[str]) -> str:
    return " or ".join(repr(name) for name in names)


def origin_failover(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    replicas = stack.replicas_of()
    if not replicas:
        return
    for distribution in stack.of_type(DISTRIBUTION):
        groups = _origin_groups(distribution)
        if groups is None:
            continue
        reads = origin_buckets(stack, distribution)
        for source_urn, replica_buckets in replicas.items():
            source_origins = [origin_id for origin_id, read in reads.items() if read.reads({source_urn})]
            if not source_origins:
                continue
            source = stack.bucket_with_urn(source_urn)
            replica_urns = {replica.urn for replica in replica_buckets}
            replica_origins = [origin_id for origin_id, read in reads.items() if read.reads(replica_urns)]
            failover = [group for group in groups if len(group.members) == 2 and group.members[0] in source_origins
                        and group.members[1] in replica_origins and group.members[0] != group.members[1]]
            subject = f"{described(distribution)}: {bucket_label(source)} (origin {_listed(source_origins)})"
            if not failover:
                detail = ""
                if not replica_origins:
                    detail = "; no origin reads the replica"
                elif reversed_group := next((group for group in groups if len(group.members) == 2
                                             and group.members[0] in replica_origins
                                             and group.members[1] in source_origins), None):
                    detail = f"; origin group {reversed_group.origin_id!r} has the replica first"
                replicated_to = ", ".join(bucket_label(replica) for replica in replica_buckets)
                yield Finding(distribution.urn, f"{subject} is replicated to {replicated_to}, so it must be read "
                                                "through an origin group whose primary member is its origin and whose "
                                                f"secondary member is an origin for the replica{detail}",
                              (distribution,))
                continue
            for group in failover:
                missing = [code for code in FAILOVER_STATUS_CODES
                           if group.status_codes is not None and code not in group.status_codes]
                if missing:
                    yield Finding(distribution.urn, f"{described(distribution)}: origin group {group.origin_id!r} must "
                                                    f"fail over on {', '.join(map(str, FAILOVER_STATUS_CODES[:-1]))} "
                                                    f"and {FAILOVER_STATUS_CODES[-1]}; it does not on "
                                                    f"{', '.join(map(str, missing))}", (distribution,))
            bypassed = {origin_id for origin_id in source_origins if reads[origin_id].certain}
            for label, behavior in _behaviors(distribution):
                target = value(behavior, "targetOriginId")
                if isinstance(target, str) and target in bypassed:
                    yield Finding(distribution.urn, f"{subject}: the {label} must target origin group "
                                                    f"{failover[0].origin_id!r}, not the bucket's origin {target!r}",
                                  (distribution,))


RULES = (
    Rule("cloudfront-viewer-https", "Checks whether every CloudFront behaviour serves viewers over HTTPS only",
         ("FSBP CloudFront.3", "CKV_AWS_34"), "Set viewer_protocol_policy to redirect-to-https on every behaviour.",
         Severity.HIGH, MANDATORY, viewer_https),
    Rule("cloudfront-s3-origin-access-control", "Checks whether CloudFront reads S3 origins through Origin Access "
         "Control, never a legacy origin access identity", ("FSBP CloudFront.13", "CKV2_AWS_46"),
         "Declare aws.cloudfront.OriginAccessControl (sigv4, always) and set origin_access_control_id.",
         Severity.HIGH, MANDATORY, s3_origin_access_control, stack=True),
    Rule("cloudfront-recommended-tls", "Checks whether a CloudFront distribution serves a custom certificate "
         "with TLSv1.2_2021 or later", ("FSBP CloudFront.15", "CKV_AWS_174"),
         "Give the distribution a domain and ACM certificate (app-storage: cdn.domains with cdn.certificateArn or "
         "cdn.hostedZoneId); minimum_protocol_version TLSv1.2_2021.",
         Severity.MEDIUM, MANDATORY, recommended_tls),
    Rule("cloudfront-security-headers", "Checks whether every CloudFront behaviour sends HSTS through a response "
         "headers policy", (),
         "Attach a response headers policy whose security headers include Strict-Transport-Security.",
         Severity.MEDIUM, MANDATORY, security_headers, stack=True),
    Rule("cloudfront-hsts-preload", "Checks whether every response headers policy a CloudFront behaviour uses sends "
         "HSTS fit for the browsers' preload list (preload, includeSubDomains, a max-age of one year or more, "
         "override)", ("CKV_AWS_259",),
         "In each response headers policy the distribution uses, set strict_transport_security's preload, "
         "include_subdomains and override to true and access_control_max_age_sec to at least 31536000 (one year). "
         "Submit the domain at hstspreload.org only once every subdomain serves HTTPS: leaving the list takes months.",
         Severity.LOW, MANDATORY, hsts_preload, stack=True),
    Rule("cloudfront-origin-failover", "Checks whether a CloudFront distribution reads each replicated S3 bucket "
         "through an origin group that fails over to its replica", ("FSBP CloudFront.4", "CKV_AWS_310"),
         "Add an origin for the replica bucket (Origin Access Control too) and an origin group whose primary member "
         "is the bucket's origin and secondary member the replica's, failing over on 500, 502, 503 and 504; point "
         "every behaviour that reads the bucket at the group.",
         Severity.LOW, MANDATORY, origin_failover, stack=True),
    Rule("cloudfront-access-logging", "Checks whether a CloudFront distribution writes standard logs",
         ("FSBP CloudFront.5", "CKV_AWS_86"),
         "Declare standard logging v2: aws.cloudwatch.LogDeliverySource (resource_arn the distribution's ARN, "
         "log_type ACCESS_LOGS), LogDeliveryDestination (an S3 bucket) and LogDelivery, in us-east-1 (app-storage: "
         "the stack's log bucket, or cdn.logBucket). Legacy logging_config needs bucket ACLs on.",
         Severity.LOW, ADVISORY, access_logging, stack=True),
    Rule("cloudfront-waf", "Checks whether a CloudFront distribution is protected by AWS WAF",
         ("FSBP CloudFront.6", "CKV_AWS_68"),
         "Set web_acl_id to a WAFv2 web ACL (app-storage: cdn.waf: managed, or cdn.webAclArn).",
         Severity.LOW, ADVISORY, web_acl, stack=True),
)
