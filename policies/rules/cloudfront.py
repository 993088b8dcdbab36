"""CloudFront distributions serving buckets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .common import ADVISORY, MANDATORY, UNKNOWN, Finding, Rule, described, items, value
from .stack import StackView

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
RESPONSE_HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
HTTPS_VIEWER_POLICIES = frozenset({"redirect-to-https", "https-only"})
RECOMMENDED_TLS_POLICIES = frozenset({"TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"})


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


def s3_origin_access_control(resource: Any, _config: Mapping) -> Iterator[str]:
    if not _distributions(resource):
        return
    for origin in items(resource.props, "origins"):
        origin_id = value(origin, "originId", default="?")
        if value(origin, "s3OriginConfig", "originAccessIdentity"):
            yield (f"{described(resource)}: origin {origin_id!r} must use Origin Access Control, not the legacy "
                   "origin access identity")
        elif _is_s3_origin(origin) and not value(origin, "originAccessControlId"):
            yield f"{described(resource)}: S3 origin {origin_id!r} must be read through Origin Access Control"


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


def access_logging(resource: Any, _config: Mapping) -> Iterator[str]:
    if _distributions(resource) and not value(resource.props, "loggingConfig", "bucket"):
        yield f"{described(resource)} must write standard logs (loggingConfig.bucket)"


def web_acl(resource: Any, _config: Mapping) -> Iterator[str]:
    if _distributions(resource) and not value(resource.props, "webAclId"):
        yield f"{described(resource)} must be protected by an AWS WAF web ACL (webAclId)"


def _has_hsts(policy: Any) -> bool:
    return bool(value(policy.props, "securityHeadersConfig", "strictTransportSecurity", "accessControlMaxAgeSec"))


def security_headers(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    for distribution in stack.of_type(DISTRIBUTION):
        for label, behavior in _behaviors(distribution):
            if not value(behavior, "responseHeadersPolicyId"):
                yield Finding(distribution.urn, f"{described(distribution)}: the {label} must attach a response "
                                                "headers policy with HSTS", (distribution,))
        dependencies = getattr(distribution, "property_dependencies", None) or {}
        policies = {d.urn: d for key in ("defaultCacheBehavior", "orderedCacheBehaviors")
                    for d in dependencies.get(key, []) if d.resource_type == RESPONSE_HEADERS_POLICY}
        for policy in policies.values():
            if not _has_hsts(policy):
                yield Finding(distribution.urn, f"{described(distribution)}: response headers policy {policy.name!r} "
                                                "must send Strict-Transport-Security", (distribution, policy))


RULES = (
    Rule("cloudfront-viewer-https", "Checks whether every CloudFront behaviour serves viewers over HTTPS only",
         ("FSBP CloudFront.3", "CKV_AWS_34"), "Set viewer_protocol_policy to redirect-to-https on every behaviour.",
         Severity.HIGH, MANDATORY, viewer_https),
    Rule("cloudfront-s3-origin-access-control", "Checks whether CloudFront reads S3 origins through Origin Access "
         "Control, never a legacy origin access identity", ("FSBP CloudFront.13", "CKV2_AWS_46"),
         "Declare aws.cloudfront.OriginAccessControl (sigv4, always) and set origin_access_control_id.",
         Severity.HIGH, MANDATORY, s3_origin_access_control),
    Rule("cloudfront-recommended-tls", "Checks whether a CloudFront distribution serves a custom certificate "
         "with TLSv1.2_2021 or later", ("FSBP CloudFront.15", "CKV_AWS_174"),
         "Give the distribution a domain and ACM certificate (app-storage: cdn.domains with cdn.certificateArn or "
         "cdn.hostedZoneId); minimum_protocol_version TLSv1.2_2021.",
         Severity.MEDIUM, MANDATORY, recommended_tls),
    Rule("cloudfront-security-headers", "Checks whether every CloudFront behaviour sends HSTS through a response "
         "headers policy", ("CKV_AWS_259",),
         "Attach a response headers policy whose security headers include Strict-Transport-Security.",
         Severity.MEDIUM, MANDATORY, security_headers, stack=True),
    Rule("cloudfront-access-logging", "Checks whether a CloudFront distribution writes standard logs",
         ("FSBP CloudFront.5", "CKV_AWS_86"), "Set logging_config.bucket (app-storage: cdn.logBucket).",
         Severity.LOW, ADVISORY, access_logging),
    Rule("cloudfront-waf", "Checks whether a CloudFront distribution is protected by AWS WAF",
         ("FSBP CloudFront.6", "CKV_AWS_68"), "Set web_acl_id to a WAFv2 web ACL (app-storage: cdn.webAclArn).",
         Severity.LOW, ADVISORY, web_acl),
)
