"""Cdn and the bucket it serves: OAC only, HTTPS everywhere, public prefixes only, TLS with a custom domain."""

from __future__ import annotations

import json

from components.aws.cdn import (
    CACHING_OPTIMIZED_CACHE_POLICY_ID,
    CORS_S3_ORIGIN_REQUEST_POLICY_ID,
    MINIMUM_TLS_VERSION,
    Cdn,
    CdnArgs,
)
from components.aws.secure_bucket import SecureBucket, SecureBucketArgs
from tests.helpers import plan_program, policy_document

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234"


def declare(region: str = "us-east-1", encryption: str = "kms", **overrides):
    def program():
        cdn = Cdn("media-cdn", CdnArgs(bucket_name="acme-media", region=region,
                                       public_prefixes=("static/", "media/"), **overrides))
        SecureBucket("media-storage", SecureBucketArgs(
            bucket_name="acme-media", region=region, encryption=encryption, public_prefixes=("static/", "media/"),
            cloudfront_distribution_arn=cdn.distribution_arn))
    plan = plan_program(program, {"aws:region": region})
    return {r.name: r for r in plan.resources}


def test_origin_access_control_signs_every_request_with_sigv4_and_no_oai_exists():
    resources = declare()
    oac = resources["media-cdn-oac"].inputs
    assert (oac["originAccessControlOriginType"], oac["signingBehavior"], oac["signingProtocol"]) == (
        "s3", "always", "sigv4")
    [origin] = resources["media-cdn-distribution"].inputs["origins"]
    assert origin["originAccessControlId"] == "acme-media"
    assert origin["domainName"] == "acme-media.s3.us-east-1.amazonaws.com"
    assert not any("originAccessIdentity" in r.type for r in resources.values())
    assert "s3OriginConfig" not in origin


def test_every_behaviour_is_https_cached_and_hardened_and_only_public_prefixes_are_served():
    resources = declare()
    distribution = resources["media-cdn-distribution"].inputs
    ordered = distribution["orderedCacheBehaviors"]
    assert [b["pathPattern"] for b in ordered] == ["media/*", "static/*"]  # never private/*
    for behaviour in [distribution["defaultCacheBehavior"], *ordered]:
        assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"
        assert behaviour["allowedMethods"] == ["GET", "HEAD"] and behaviour["compress"] is True
        assert behaviour["cachePolicyId"] == CACHING_OPTIMIZED_CACHE_POLICY_ID
        assert behaviour["responseHeadersPolicyId"] == "acme-media-security-headers"
    [deny] = distribution["defaultCacheBehavior"]["functionAssociations"]
    assert deny["eventType"] == "viewer-request" and deny["functionArn"].endswith("function/acme-media-deny")
    assert "statusCode: 403" in resources["media-cdn-deny-unlisted-paths"].inputs["code"]
    headers = resources["media-cdn-security-headers"].inputs["securityHeadersConfig"]
    assert headers["strictTransportSecurity"]["accessControlMaxAgeSec"] >= 31536000
    assert headers["contentTypeOptions"] == {"override": True}
    assert distribution["httpVersion"] == "http2and3" and distribution["priceClass"] == "PriceClass_100"
    assert distribution["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}


def test_bucket_policy_lets_only_this_distribution_read_the_public_prefixes():
    resources = declare()
    distribution_arn = "arn:aws:cloudfront::123456789012:distribution/" + resources["media-cdn-distribution"].name
    statements = policy_document(resources["media-storage-policy"])["Statement"]
    [grant] = [s for s in statements if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"} and grant["Action"] == ["s3:GetObject"]
    assert grant["Resource"] == ["arn:aws:s3:::acme-media/media/*", "arn:aws:s3:::acme-media/static/*"]
    assert grant["Condition"]["StringEquals"]["AWS:SourceArn"].startswith(distribution_arn)
    block = resources["media-storage-public-access-block"].inputs
    assert all(block[flag] for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                        "restrictPublicBuckets"))


def test_key_policy_lets_the_distribution_decrypt_and_the_account_administer():
    resources = declare()
    statements = {s["Sid"]: s for s in json.loads(resources["media-storage-key"].inputs["policy"])["Statement"]}
    decrypt = statements["CloudFrontDecryptsForItsDistribution"]
    assert decrypt["Principal"] == {"Service": "cloudfront.amazonaws.com"} and decrypt["Action"] == ["kms:Decrypt"]
    assert "distribution/media-cdn-distribution" in decrypt["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert statements["AccountAdministersThroughIam"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_custom_domain_with_a_given_certificate_uses_sni_and_tls_1_2_2021():
    distribution = declare(domain="media.example.com", certificate_arn=CERTIFICATE)["media-cdn-distribution"].inputs
    assert distribution["aliases"] == ["media.example.com"]
    assert distribution["viewerCertificate"] == {"acmCertificateArn": CERTIFICATE, "sslSupportMethod": "sni-only",
                                                 "minimumProtocolVersion": MINIMUM_TLS_VERSION}


def test_custom_domain_with_a_zone_gets_a_dns_validated_certificate_in_us_east_1_and_alias_records():
    resources = declare(region="eu-west-1", domain="media.example.com", hosted_zone_id="Z0123456789ABC")
    assert not any(r.type.startswith("pulumi:providers:") for r in resources.values())
    certificate = resources["media-cdn-certificate"]
    assert certificate.inputs["validationMethod"] == "DNS"
    # pulumi-aws 7's per-resource region: the stack's own provider, in us-east-1.
    assert certificate.inputs["region"] == "us-east-1" and certificate.options["provider"] is None
    assert resources["media-cdn-certificate-validation"].inputs["region"] == "us-east-1"
    record = resources["media-cdn-certificate-validation-record"].inputs
    assert record["zoneId"] == "Z0123456789ABC" and record["type"] == "CNAME"
    validation = resources["media-cdn-certificate-validation"]
    assert validation.inputs["validationRecordFqdns"] == [record["name"]]
    viewer = resources["media-cdn-distribution"].inputs["viewerCertificate"]
    assert viewer["minimumProtocolVersion"] == MINIMUM_TLS_VERSION and viewer["sslSupportMethod"] == "sni-only"
    assert {resources[f"media-cdn-alias-{t}"].inputs["type"] for t in ("a", "aaaa")} == {"A", "AAAA"}


def test_logging_and_web_acl_when_asked():
    acl = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/1234"
    resources = declare(log_bucket="acme-logs", web_acl_arn=acl)
    distribution = resources["media-cdn-distribution"].inputs
    assert distribution["webAclId"] == acl


def test_access_logs_use_standard_logging_v2_in_us_east_1_and_never_the_legacy_acl_based_logging():
    """Legacy standard logging needs the bucket's ACLs on (the awslogsdelivery account gets FULL_CONTROL), which
    BucketOwnerEnforced forbids: logs go through CloudWatch Logs vended delivery (CloudFront Developer Guide,
    "Configure standard logging (v2)", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
    standard-logging.html): "When calling the CloudWatch API to enable standard logging, you must specify the US
    East (N. Virginia) Region (us-east-1), even if you want to enable cross Region delivery to another destination.
    For example, if you want to send your access logs to an S3 bucket in the Europe (Ireland) Region (eu-west-1),
    use the CloudWatch API in the us-east-1 Region." So source, destination and delivery live in us-east-1, and the
    S3 destination may be in any region."""
    resources = declare(log_bucket="acme-logs")
    assert "loggingConfig" not in resources["media-cdn-distribution"].inputs
    source = resources["media-cdn-log-source"].inputs
    destination = resources["media-cdn-log-destination"].inputs
    delivery = resources["media-cdn-log-delivery"].inputs
    assert source["logType"] == "ACCESS_LOGS" and source["name"] == "acme-media-cdn-logs"
    assert destination["deliveryDestinationConfiguration"] == {
        "destinationResourceArn": "arn:aws:s3:::acme-logs/cloudfront/acme-media"}
    assert destination["outputFormat"] == "w3c"
    assert delivery["deliverySourceName"] == "acme-media-cdn-logs"
    assert {r["region"] for r in (source, destination, delivery)} == {"us-east-1"}
    assert not any(name.startswith("media-cdn-log") for name in declare())


def test_public_without_cdn_relaxes_exactly_the_two_policy_flags_and_grants_anonymous_read():
    plan = plan_program(lambda: SecureBucket("media", SecureBucketArgs(
        bucket_name="acme-media", region="us-east-1", public_prefixes=("media/",), public_without_cdn=True)))
    resources = {r.name: r for r in plan.resources}
    block = resources["media-public-access-block"].inputs
    assert (block["blockPublicAcls"], block["ignorePublicAcls"]) == (True, True)
    assert (block["blockPublicPolicy"], block["restrictPublicBuckets"]) == (False, False)
    [grant] = [s for s in policy_document(resources["media-policy"])["Statement"] if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"AWS": ["*"]} and grant["Resource"] == ["arn:aws:s3:::acme-media/media/*"]


def test_each_area_cache_control_is_sent_by_the_behaviour_serving_it_unless_the_object_has_its_own():
    resources = declare(cache_control={"static/": "public, max-age=31536000, immutable"})
    behaviours = {b["pathPattern"]: b for b in resources["media-cdn-distribution"].inputs["orderedCacheBehaviors"]}
    [policy] = [r for name, r in resources.items() if name.startswith("media-cdn-cache-headers-")]
    assert behaviours["static/*"]["responseHeadersPolicyId"] == policy.inputs["name"]
    assert behaviours["media/*"]["responseHeadersPolicyId"] == "acme-media-security-headers"
    assert policy.inputs["customHeadersConfig"]["items"] == [
        {"header": "Cache-Control", "value": "public, max-age=31536000, immutable", "override": False}]
    assert policy.inputs["securityHeadersConfig"] == resources["media-cdn-security-headers"].inputs[
        "securityHeadersConfig"]


def test_areas_sharing_a_cache_control_value_share_one_policy():
    resources = declare(cache_control={"static/": "max-age=60", "media/": "max-age=60"})
    assert len([name for name in resources if name.startswith("media-cdn-cache-headers-")]) == 1


def test_with_cors_rules_the_behaviours_forward_origin_and_allow_preflights():
    distribution = declare(forward_cors=True)["media-cdn-distribution"].inputs
    for behaviour in [distribution["defaultCacheBehavior"], *distribution["orderedCacheBehaviors"]]:
        assert behaviour["originRequestPolicyId"] == CORS_S3_ORIGIN_REQUEST_POLICY_ID
        assert behaviour["allowedMethods"] == ["GET", "HEAD", "OPTIONS"]
        assert behaviour["cachedMethods"] == ["GET", "HEAD"]  # a preflight answer differs per origin
    without = declare()["media-cdn-distribution"].inputs["defaultCacheBehavior"]
    assert "originRequestPolicyId" not in without


def test_key_without_a_cdn_has_an_explicit_policy_all_the_same():
    """Checkov CKV2_AWS_64: every customer key carries an explicit key policy."""
    plan = plan_program(lambda: SecureBucket("b", SecureBucketArgs(bucket_name="acme-b", region="us-east-1",
                                                                  encryption="kms")))
    [key] = plan.of_type("aws:kms/key:Key")
    statements = json.loads(key.inputs["policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["AccountAdministersThroughIam"]


def test_without_a_replica_there_is_one_origin_and_no_origin_group():
    distribution = declare()["media-cdn-distribution"].inputs
    assert [o["originId"] for o in distribution["origins"]] == ["private-bucket"]
    assert distribution.get("originGroups") is None
    assert distribution["defaultCacheBehavior"]["targetOriginId"] == "private-bucket"


def test_with_cors_and_a_replica_every_behaviour_still_allows_only_what_failover_serves():
    """CloudFront fails over GET, HEAD and OPTIONS requests only (Developer Guide, origin failover): a behaviour that
    targets an origin group may allow no other method."""
    distribution = declare(forward_cors=True, replica=("acme-media-replica", "us-west-2"))["media-cdn-distribution"]
    for behaviour in [distribution.inputs["defaultCacheBehavior"], *distribution.inputs["orderedCacheBehaviors"]]:
        assert behaviour["targetOriginId"] == "bucket-then-replica"
        assert behaviour["allowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert distribution.inputs["origins"][1]["domainName"] == "acme-media-replica.s3.us-west-2.amazonaws.com"


def test_hsts_preload_can_be_turned_off():
    resources = declare(hsts_preload=False)
    hsts = resources["media-cdn-security-headers"].inputs["securityHeadersConfig"]["strictTransportSecurity"]
    assert hsts["preload"] is False and hsts["includeSubdomains"] is True
