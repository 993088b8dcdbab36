"""Cdn: one CloudFront distribution serving an app's public areas from its private bucket.

Defaults (behaviour):
- Origin Access Control (SigV4, always sign); never the legacy Origin Access Identity. The bucket stays
  private: its policy lets only this distribution read, and only the public prefixes (see SecureBucket).
- One cache behaviour per public area prefix: GET/HEAD, the managed CachingOptimized cache policy,
  compression, a response headers policy with HSTS and `nosniff`, viewers redirected to HTTPS.
- HSTS for two years with `includeSubDomains` and `preload` (`hsts_preload`, on by default): a domain submitted
  to the browsers' preload list (hstspreload.org asks for max-age of a year or more, includeSubDomains and
  preload) is reached over HTTPS only, with every subdomain, even on a first visit, and leaving the list takes
  months. Off, the header carries no `preload`.
- With a replica (`replica`): the behaviours read through an origin group, the bucket first and its replica when
  the bucket answers 500, 502, 503, 504, 403 or 404 (CloudFront fails over GET, HEAD and OPTIONS only, which
  are all the behaviours allow); both origins through the same Origin Access Control. The replica's bucket
  policy and key let this distribution read and decrypt (SecureBucket, given the distribution).
- An area's `cacheControl` is sent to browsers by its behaviour: one response headers policy per distinct
  value (the security headers plus `Cache-Control`). An object's own Cache-Control (set at upload) wins:
  the policy adds the header only where the object has none (`override: false`).
- With CORS rules on the bucket, the behaviours forward the request's `Origin` and preflight headers to S3
  (AWS's managed origin request policy CORS-S3Origin) and allow OPTIONS, so S3's CORS answers reach the
  browser; preflights are not cached.
- The default behaviour serves nothing: a CloudFront Function answers 403 to every path outside the
  public prefixes, so private areas are never reachable through the CDN.
- HTTP/2 and HTTP/3, IPv6, the configured price class.
- Custom domain: with a given ACM certificate, or one created in us-east-1 and validated through the named
  Route53 zone (which also gets the alias records); SNI only, minimum TLSv1.2_2021.
- Access logs (`log_bucket`) through CloudFront standard logging v2, never the legacy `logging_config`: legacy
  logging writes with the awslogsdelivery account's FULL_CONTROL ACL grant, so its bucket must have ACLs enabled,
  which BucketOwnerEnforced turns off (CloudFront Developer Guide, "Configure standard logging (legacy)",
  permissions). v2 delivers through CloudWatch Logs vended log delivery, granted by the bucket policy: a
  LogDeliverySource (the distribution's ARN, ACCESS_LOGS), a LogDeliveryDestination (the log bucket's ARN with the
  path `cloudfront/<bucket>`, W3C output) and the LogDelivery pairing them, all three in us-east-1 (CloudFront
  Developer Guide, "Configure standard logging (v2)": with the CloudWatch API, "you must use the US East
  (N. Virginia) Region (us-east-1)"); the S3 bucket itself may be in another region (v2 delivers to S3 buckets in
  any region, opt-in regions included), so the logs land in the stack region's log bucket.
- An optional WAFv2 web ACL (the stack's EdgeFirewall, or a given one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components import naming

# AWS's managed "CachingOptimized" cache policy (the same id in every account).
CACHING_OPTIMIZED_CACHE_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 3600
"""Two years: above the one year the preload list asks for."""
MINIMUM_TLS_VERSION = "TLSv1.2_2021"
# CloudFront takes certificates (and web ACLs) only from us-east-1.
CLOUDFRONT_REGION = "us-east-1"
CACHED_METHODS = ["GET", "HEAD"]
CORS_ALLOWED_METHODS = ["GET", "HEAD", "OPTIONS"]
# AWS's managed "CORS-S3Origin" origin request policy: forwards Origin, Access-Control-Request-Headers and
# Access-Control-Request-Method, which S3 needs to answer CORS (the same id in every account).
CORS_S3_ORIGIN_REQUEST_POLICY_ID = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
ORIGIN_ID = "private-bucket"
REPLICA_ORIGIN_ID = "replica-bucket"
ORIGIN_GROUP_ID = "bucket-then-replica"
FAILOVER_STATUS_CODES = [500, 502, 503, 504, 403, 404]
"""What the bucket answers when the replica should: S3's server errors, and 403/404 (a missing or unreadable
object; S3 answers 403 for a missing one to a reader without s3:ListBucket). CloudFront accepts 400, 403, 404,
416 and the 5xx codes here (CreateDistribution, OriginGroupFailoverCriteria)."""
CLOUDFRONT_LOG_PREFIX = "cloudfront/"
"""Where CloudFront standard logs (v2) land in the log bucket: `cloudfront/<bucket>/AWSLogs/<account>/CloudFront/...`
(vended delivery adds `AWSLogs/<account>/` after the destination's path)."""
CLOUDFRONT_LOG_FORMAT = "w3c"
"""The legacy standard logs' layout (tab-separated W3C extended fields), so existing readers keep working."""


def cloudfront_log_prefix(bucket: str) -> str:
    """The path, in the log bucket, of the access logs of the distribution in front of `bucket`."""
    return f"{CLOUDFRONT_LOG_PREFIX}{bucket}"


# Route53's hosted zone for every CloudFront alias target.
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"
def security_headers(hsts_preload: bool) -> aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgsDict:
    """HSTS (two years, subdomains, and `preload` unless opted out) and `nosniff`, overriding the origin's."""
    return {
        "strict_transport_security": {"access_control_max_age_sec": HSTS_MAX_AGE_SECONDS, "include_subdomains": True,
                                      "preload": hsts_preload, "override": True},
        "content_type_options": {"override": True},
    }
DENY_UNLISTED_PATHS_CODE = """function handler(event) {
    return { statusCode: 403, statusDescription: 'Forbidden' };
}
"""


@dataclass(frozen=True)
class CdnArgs:
    bucket_name: str
    region: str
    """The bucket's region: the origin is its regional endpoint."""
    public_prefixes: tuple[str, ...]
    """One cache behaviour each; nothing else is served."""
    cache_control: Mapping[str, str] = field(default_factory=dict)
    """Public prefix -> the Cache-Control its behaviour sends. Default: none (CloudFront sends the object's)."""
    forward_cors: bool = False
    """The bucket has CORS rules: forward Origin and preflights to S3. Default: false."""
    price_class: str = "PriceClass_100"
    """Default: PriceClass_100 (North America and Europe edges)."""
    domain: str | None = None
    """Custom domain. Default: the distribution's own *.cloudfront.net name."""
    certificate_arn: str | None = None
    """ACM certificate in us-east-1 for `domain`. Default: created when `hosted_zone_id` is set."""
    hosted_zone_id: str | None = None
    """Route53 zone that validates a created certificate and gets the alias records. Default: none."""
    log_bucket: str | None = None
    """Bucket receiving the distribution's standard logs (v2) under `cloudfront/<bucket_name>/`; its policy lets
    `delivery.logs.amazonaws.com` write there (LogBucket with `cloudfront_logs`). Default: no access logs."""
    log_bucket_resource: pulumi.Resource | None = None
    """The stack's LogBucket behind `log_bucket`: waited for, so its bucket policy grants delivery before the
    delivery starts. Default: none (the bucket exists already)."""
    web_acl_arn: pulumi.Input[str] | None = None
    """WAFv2 web ACL (CloudFront scope). Default: none."""
    hsts_preload: bool = True
    """HSTS carries `preload`. Default: true."""
    replica: tuple[str, str] | None = None
    """(replica bucket, its region): read through an origin group that fails over to it. Default: no replica."""
    tags: Mapping[str, str] = field(default_factory=dict)


class Cdn(pulumi.ComponentResource):
    distribution_arn: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    """What CloudFront's CloudWatch metrics take as `DistributionId` (the alarms, AppAlarms)."""
    domain_name: pulumi.Output[str]
    public_domain: pulumi.Output[str]
    public_base_url: pulumi.Output[str]

    def __init__(self, name: str, args: CdnArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("app-storage:index:Cdn", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-oac", name=naming.cdn_origin_access_control_name(args.bucket_name),
            description=f"CloudFront reads s3://{args.bucket_name}",
            origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4", opts=child)
        security = security_headers(args.hsts_preload)
        headers = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-security-headers", name=naming.cdn_security_headers_policy_name(args.bucket_name), opts=child,
            security_headers_config=security)
        # One policy per distinct value; its child name carries the value's hash, so a changed value is a new
        # policy that the distribution moves to before the old one goes.
        headers_by_value = {value: aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-cache-headers-{naming.stable_hash(value)}",
            name=naming.cdn_cache_headers_policy_name(args.bucket_name, value), opts=child,
            comment=f"Cache-Control: {value}"[:128], security_headers_config=security,
            custom_headers_config={"items": [{"header": "Cache-Control", "value": value, "override": False}]})
            for value in sorted(set(args.cache_control.values()))}
        deny = aws.cloudfront.Function(f"{name}-deny-unlisted-paths",
                                       name=naming.cdn_deny_function_name(args.bucket_name),
                                       runtime="cloudfront-js-2.0", publish=True, code=DENY_UNLISTED_PATHS_CODE,
                                       comment="Answers 403 outside the public area prefixes", opts=child)

        # A plain dict: it serves both the default and the ordered behaviours' (TypedDict) shapes.
        def behaviour(extra: dict, prefix: str | None = None) -> Any:
            value = args.cache_control.get(prefix) if prefix is not None else None
            served: dict = {"target_origin_id": ORIGIN_GROUP_ID if args.replica else ORIGIN_ID,
                            "viewer_protocol_policy": "redirect-to-https",
                            "allowed_methods": CACHED_METHODS, "cached_methods": CACHED_METHODS, "compress": True,
                            "cache_policy_id": CACHING_OPTIMIZED_CACHE_POLICY_ID,
                            "response_headers_policy_id": (headers_by_value[value] if value else headers).id, **extra}
            if args.forward_cors:
                served.update(allowed_methods=CORS_ALLOWED_METHODS,
                              origin_request_policy_id=CORS_S3_ORIGIN_REQUEST_POLICY_ID)
            return served

        certificate_arn: pulumi.Input[str] | None = args.certificate_arn
        if args.domain and not certificate_arn:
            certificate_arn = self._validated_certificate(name, args, tags)
        viewer_certificate: aws.cloudfront.DistributionViewerCertificateArgsDict = {
            "cloudfront_default_certificate": True}
        if args.domain:
            viewer_certificate = {"acm_certificate_arn": certificate_arn, "ssl_support_method": "sni-only",
                                  "minimum_protocol_version": MINIMUM_TLS_VERSION}

        origins = {ORIGIN_ID: (args.bucket_name, args.region)}
        if args.replica:
            origins[REPLICA_ORIGIN_ID] = args.replica
        distribution = aws.cloudfront.Distribution(
            f"{name}-distribution", opts=child, tags=tags,
            comment=f"Public areas of s3://{args.bucket_name}",
            enabled=True, is_ipv6_enabled=True, http_version="http2and3", price_class=args.price_class,
            aliases=[args.domain] if args.domain else None,
            origins=[{"origin_id": origin_id, "origin_access_control_id": access_control.id,
                      "domain_name": naming.bucket_regional_domain(bucket, region)}
                     for origin_id, (bucket, region) in origins.items()],
            origin_groups=[{"origin_id": ORIGIN_GROUP_ID, "failover_criteria": {"status_codes": FAILOVER_STATUS_CODES},
                            "members": [{"origin_id": ORIGIN_ID}, {"origin_id": REPLICA_ORIGIN_ID}]}]
            if args.replica else None,
            default_cache_behavior=behaviour({"function_associations": [
                {"event_type": "viewer-request", "function_arn": deny.arn}]}),
            ordered_cache_behaviors=[behaviour({"path_pattern": f"{prefix}*"}, prefix)
                                     for prefix in sorted(args.public_prefixes)],
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate=viewer_certificate,
            web_acl_id=args.web_acl_arn)
        if args.log_bucket:
            self._standard_logs_v2(name, args, distribution, tags)
        if args.domain and args.hosted_zone_id:
            for record_type in ("A", "AAAA"):
                aws.route53.Record(f"{name}-alias-{record_type.lower()}", zone_id=args.hosted_zone_id,
                                   name=args.domain, type=record_type, opts=child, aliases=[{
                                       "name": distribution.domain_name, "zone_id": CLOUDFRONT_HOSTED_ZONE_ID,
                                       "evaluate_target_health": False}])

        self.distribution_arn = distribution.arn
        self.distribution_id = distribution.id
        self.domain_name = distribution.domain_name
        self.public_domain = pulumi.Output.from_input(args.domain) if args.domain else distribution.domain_name
        self.public_base_url = pulumi.Output.concat("https://", self.public_domain)
        self.register_outputs({
            "distribution_arn": self.distribution_arn,
            "domain_name": self.domain_name,
            "public_domain": self.public_domain,
            "public_base_url": self.public_base_url,
        })

    def _standard_logs_v2(self, name: str, args: CdnArgs, distribution: aws.cloudfront.Distribution,
                          tags: dict) -> None:
        """CloudFront standard logging v2: source, destination and delivery, all in us-east-1."""
        child = pulumi.ResourceOptions(parent=self)
        log_name = naming.cdn_log_delivery_name(args.bucket_name)
        source = aws.cloudwatch.LogDeliverySource(
            f"{name}-log-source", name=log_name, log_type="ACCESS_LOGS", resource_arn=distribution.arn,
            region=CLOUDFRONT_REGION, tags=tags, opts=child)
        destination_arn = (f"{naming.bucket_arn(str(args.log_bucket), args.region)}/"
                           f"{cloudfront_log_prefix(args.bucket_name)}")
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{name}-log-destination", name=log_name, output_format=CLOUDFRONT_LOG_FORMAT,
            delivery_destination_configuration={"destination_resource_arn": destination_arn},
            region=CLOUDFRONT_REGION, tags=tags, opts=child)
        aws.cloudwatch.LogDelivery(
            f"{name}-log-delivery", delivery_source_name=source.name, delivery_destination_arn=destination.arn,
            region=CLOUDFRONT_REGION, tags=tags, opts=pulumi.ResourceOptions(
                parent=self, depends_on=[args.log_bucket_resource] if args.log_bucket_resource else None))

    def _validated_certificate(self, name: str, args: CdnArgs, tags: dict) -> pulumi.Output[str]:
        # CloudFront takes certificates only from us-east-1: declared there through pulumi-aws 7's
        # per-resource region, so the stack's provider config applies to them too.
        child = pulumi.ResourceOptions(parent=self)
        certificate = aws.acm.Certificate(f"{name}-certificate", domain_name=args.domain, validation_method="DNS",
                                          tags=tags, region=CLOUDFRONT_REGION, opts=child)
        option = certificate.domain_validation_options.apply(lambda options: options[0])
        record = aws.route53.Record(f"{name}-certificate-validation-record", zone_id=args.hosted_zone_id,
                                    name=option.resource_record_name, type=option.resource_record_type,
                                    records=[option.resource_record_value], ttl=60, allow_overwrite=True,
                                    opts=child)
        validation = aws.acm.CertificateValidation(f"{name}-certificate-validation",
                                                   certificate_arn=certificate.arn, region=CLOUDFRONT_REGION,
                                                   validation_record_fqdns=[record.fqdn], opts=child)
        return validation.certificate_arn
