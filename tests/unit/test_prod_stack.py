"""The shipped prod stack, evaluated offline exactly as `make plan STACK=prod` does."""

from __future__ import annotations

import json

import pytest

from cli.offline import evaluate_stack
from tests.helpers import policy_document

APPS = ("eventhorizon", "vista", "chat")
PUBLIC_APPS = ("eventhorizon", "vista")
HARDENED_BUCKET_TYPES = [
    "app-storage:index:SecureBucket",
    "aws:s3/bucket:Bucket", "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy", "aws:kms/key:Key", "aws:kms/alias:Alias",
    # Server access logs into the stack's LogBucket of the bucket's region.
    "aws:s3/bucketLogging:BucketLogging",
]
PER_APP_TYPES = sorted([
    "app-storage:index:AppStorage", "app-storage:index:AppIdentity", *HARDENED_BUCKET_TYPES,
    "aws:iam/user:User", "aws:iam/group:Group", "aws:iam/groupPolicy:GroupPolicy",
    "aws:iam/userGroupMembership:UserGroupMembership", "aws:iam/accessKey:AccessKey",
    # Replication: a replica hardened like the source, in us-west-2.
    "app-storage:index:Replication", *HARDENED_BUCKET_TYPES,
    "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
])
CDN_TYPES = sorted([
    "app-storage:index:Cdn", "aws:cloudfront/distribution:Distribution",
    "aws:cloudfront/originAccessControl:OriginAccessControl",
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "aws:cloudfront/function:Function",
    # Standard logging v2 (us-east-1) into the stack region's log bucket.
    "aws:cloudwatch/logDeliverySource:LogDeliverySource",
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination", "aws:cloudwatch/logDelivery:LogDelivery",
])


def resources_of(plan, app):
    return [r for r in plan.resources if r.name == app or r.name.startswith(f"{app}-")]


def sibling(plan, bucket, token):
    matches = [r for r in plan.of_type(token) if r.parent == bucket.parent]
    assert len(matches) == 1, f"{bucket.name}: expected one {token}, found {len(matches)}"
    return matches[0]


@pytest.mark.parametrize("app", APPS)
def test_each_app_has_the_expected_resource_set(prod_plan, app):
    types = sorted(r.type for r in resources_of(prod_plan, app))
    # EventHorizon's two cacheControl values each get a response headers policy of their own.
    expected = PER_APP_TYPES + (["aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"]
                                if app == "eventhorizon" else []) + (CDN_TYPES if app in PUBLIC_APPS else []) + (
        ["aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"] * 2 if app == "eventhorizon" else [])
    # Alerts (AppAlarms): request metrics; storage, request rate, 5xx, 4xx, replication latency and failures, and
    # the CDN's 5xx rate where a distribution serves (tests/unit/test_alerts.py).
    expected += ["app-storage:index:AppAlarms", "aws:s3/bucketMetric:BucketMetric"] + [
        "aws:cloudwatch/metricAlarm:MetricAlarm"] * (7 if app in PUBLIC_APPS else 6)
    expected += ["aws:budgets/budget:Budget"]  # each app's own budget (alerts.appMonthlyBudgetUsd)
    assert types == sorted(expected)


def test_every_bucket_is_hardened_and_protected(prod_plan):
    buckets = prod_plan.of_type("aws:s3/bucket:Bucket")
    assert sorted(b.inputs["bucket"] for b in buckets) == sorted(
        [f"app-storage-prod-{a}" for a in APPS] + [f"app-storage-prod-{a}-replica" for a in APPS]
        + ["app-storage-prod-logs-us-east-1", "app-storage-prod-logs-us-west-2"])
    for bucket in buckets:
        assert bucket.options["protect"] and bucket.options["retainOnDelete"]
        assert bucket.inputs["forceDestroy"] is False
        ownership = sibling(prod_plan, bucket, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
        assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        block = sibling(prod_plan, bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
        assert [block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                   "restrictPublicBuckets")] == [True] * 4
        sse = sibling(prod_plan, bucket, "aws:s3/bucketServerSideEncryptionConfiguration:"
                                         "BucketServerSideEncryptionConfiguration").inputs["rules"][0]
        if "-logs-" in bucket.inputs["bucket"]:
            # S3 server access logging delivers only to SSE-S3 default-encrypted buckets (S3 User Guide, "Enabling
            # Amazon S3 server access logging"); a log bucket has no KMS key.
            assert sse["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
            continue
        assert sse["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms" and sse["bucketKeyEnabled"]
        versioning = sibling(prod_plan, bucket, "aws:s3/bucketVersioning:BucketVersioning")
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        lifecycle = sibling(prod_plan, bucket, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        assert any("abortIncompleteMultipartUpload" in rule for rule in lifecycle.inputs["rules"])
        policy = sibling(prod_plan, bucket, "aws:s3/bucketPolicy:BucketPolicy")
        deny = policy_document(policy)["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"
        key = sibling(prod_plan, bucket, "aws:kms/key:Key")
        assert key.options["protect"] and key.inputs["enableKeyRotation"]


def test_app_lifecycles_mirror_the_seeds(prod_plan):
    def rules(app):
        lifecycle = [r for r in resources_of(prod_plan, app)
                     if r.type == "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"][0]
        return {rule["filter"]["prefix"]: rule for rule in lifecycle.inputs["rules"] if rule["filter"]["prefix"]}
    vista, chat = rules("vista"), rules("chat")
    assert vista["temp/"]["expiration"] == {"days": 7}
    assert [(t["days"], t["storageClass"]) for t in vista["projects/"]["transitions"]] == [
        (90, "STANDARD_IA"), (365, "GLACIER")]
    assert chat["uploads/temp/"]["expiration"] == {"days": 7}
    assert [(t["days"], t["storageClass"]) for t in chat["uploads/archive/"]["transitions"]] == [
        (30, "STANDARD_IA"), (90, "GLACIER")]


@pytest.mark.parametrize("app", APPS)
def test_identity_policy_names_only_its_own_bucket_and_key(prod_plan, app):
    group_policy = [r for r in resources_of(prod_plan, app) if r.type == "aws:iam/groupPolicy:GroupPolicy"][0]
    [sse] = [r for r in resources_of(prod_plan, app) if "ServerSideEncryption" in r.type
             and r.name == f"{app}-storage-encryption"]
    own_key = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    own_bucket = f"arn:aws:s3:::app-storage-prod-{app}"
    for statement in policy_document(group_policy)["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert action != "*" and not action.endswith(":*")
        for resource in statement["Resource"]:
            assert resource != "*"
            if resource.startswith("arn:aws:s3"):
                assert resource == own_bucket or resource.startswith(own_bucket + "/")
            else:
                assert resource == own_key


def test_outputs_per_app_plain_and_the_secrets_as_outputs_of_their_own(prod_plan):
    """A StackReference reads `<app>` as plain values; only `<app>_secret_access_key` and `<app>_env` are
    secret (one secret inside an output makes the whole output secret)."""
    assert sorted(prod_plan.outputs) == sorted([*APPS, *(f"{a}_secret_access_key" for a in APPS),
                                                *(f"{a}_env" for a in APPS), "alerts_topic_arn", "log_buckets"])
    assert prod_plan.outputs["log_buckets"] == {"us-east-1": "app-storage-prod-logs-us-east-1",
                                                "us-west-2": "app-storage-prod-logs-us-west-2"}
    for app in APPS:
        outputs = prod_plan.outputs[app]
        assert outputs["bucket_name"] == f"app-storage-prod-{app}"
        assert outputs["bucket_arn"] == f"arn:aws:s3:::app-storage-prod-{app}"
        assert outputs["region"] == "us-east-1" and outputs["identity_name"] == f"app-storage-prod-{app}"
        assert "[secret]" not in json.dumps(outputs)
        assert prod_plan.outputs[f"{app}_secret_access_key"] == "[secret]" == prod_plan.outputs[f"{app}_env"]
        assert outputs["connection"]["endpoint"] is None and outputs["connection"]["use_tls"] is True
    assert prod_plan.outputs["eventhorizon"]["connection"]["public_areas"] == ["media", "static"]


def test_no_secret_value_appears_in_the_json_plan(prod_plan):
    revealed = evaluate_stack("prod", show_secrets=True)
    secrets = [revealed.outputs[f"{app}_secret_access_key"] for app in APPS]
    assert all(s.startswith("mock-secret-") for s in secrets)
    text = json.dumps(prod_plan.as_dict())
    assert not any(secret in text for secret in secrets)


def parent_of(plan, resource):
    return next(r for r in plan.resources if r.urn == resource.parent)


@pytest.mark.parametrize("app", PUBLIC_APPS)
def test_public_apps_get_a_distribution_with_oac_and_https_on_every_behaviour(prod_plan, app):
    [distribution] = [r for r in resources_of(prod_plan, app) if r.type == "aws:cloudfront/distribution:Distribution"]
    [access_control] = [r for r in resources_of(prod_plan, app)
                        if r.type == "aws:cloudfront/originAccessControl:OriginAccessControl"]
    origins = distribution.inputs["origins"]
    assert [o["domainName"] for o in origins] == [f"app-storage-prod-{app}.s3.us-east-1.amazonaws.com",
                                                  f"app-storage-prod-{app}-replica.s3.us-west-2.amazonaws.com"]
    for origin in origins:
        assert origin["originAccessControlId"] == access_control.inputs["name"]  # the mock's id is the name
        assert "s3OriginConfig" not in origin  # no legacy Origin Access Identity
    behaviours = [distribution.inputs["defaultCacheBehavior"], *distribution.inputs["orderedCacheBehaviors"]]
    assert all(b["viewerProtocolPolicy"] in ("redirect-to-https", "https-only") for b in behaviours)
    public = [p for a, p in prod_plan.outputs[app]["connection"]["area_prefixes"].items()
              if a in prod_plan.outputs[app]["connection"]["public_areas"]]
    assert sorted(b["pathPattern"] for b in distribution.inputs["orderedCacheBehaviors"]) == sorted(
        f"{prefix}*" for prefix in public)
    assert prod_plan.outputs[app]["connection"]["public_base_url"].startswith("https://")


@pytest.mark.parametrize("app", ["eventhorizon", "vista"])
def test_a_replicated_app_behind_the_cdn_fails_over_to_its_replica(prod_plan, app):
    """CloudFront origin failover (Developer Guide, "Optimize high availability with CloudFront origin failover"):
    an origin group of exactly two members, the primary first; it fails over GET, HEAD and OPTIONS only, so every
    behaviour that targets the group allows no more. The replica's bucket policy and key let the distribution in."""
    [distribution] = [r for r in resources_of(prod_plan, app) if r.type == "aws:cloudfront/distribution:Distribution"]
    [group] = distribution.inputs["originGroups"]
    assert [m["originId"] for m in group["members"]] == ["private-bucket", "replica-bucket"]
    assert set(group["failoverCriteria"]["statusCodes"]) == {500, 502, 503, 504, 403, 404}
    behaviours = [distribution.inputs["defaultCacheBehavior"], *distribution.inputs["orderedCacheBehaviors"]]
    assert {b["targetOriginId"] for b in behaviours} == {group["originId"]}
    assert all(set(b["allowedMethods"]) <= {"GET", "HEAD", "OPTIONS"} for b in behaviours)
    distribution_arn = f"arn:aws:cloudfront::123456789012:distribution/{distribution.name}-"
    [replica_policy] = [r for r in resources_of(prod_plan, app) if r.name == f"{app}-replication-replica-policy"]
    statements = json.loads(replica_policy.inputs["policy"])["Statement"]
    [read] = [s for s in statements if s["Sid"] == "CloudFrontReadsPublicAreas"]
    assert read["Condition"]["StringEquals"]["AWS:SourceArn"].startswith(distribution_arn)
    [replica_key] = [r for r in resources_of(prod_plan, app) if r.name == f"{app}-replication-replica-key"]
    assert "CloudFrontDecryptsForItsDistribution" in [s.get("Sid") for s in json.loads(replica_key.inputs["policy"])[
        "Statement"]]


def test_every_distribution_sits_behind_the_stacks_one_managed_web_acl_in_us_east_1(prod_plan):
    """WAF keeps CloudFront-scope web ACLs in us-east-1 only (AWS WAF Developer Guide, "Using AWS WAF with Amazon
    CloudFront"; pulumi-aws WebAcl `scope`); a distribution takes a WAFv2 web ACL by its ARN (`web_acl_id`)."""
    [web_acl] = prod_plan.of_type("aws:wafv2/webAcl:WebAcl")
    assert (web_acl.inputs["scope"], web_acl.inputs["region"], web_acl.inputs["name"]) == (
        "CLOUDFRONT", "us-east-1", "app-storage-prod-edge")
    rules = {rule["name"]: rule for rule in web_acl.inputs["rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= set(rules)
    assert rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]["aggregateKeyType"] == "IP"
    assert rules["rate-limit-per-ip"]["action"] == {"block": {}}
    assert sorted(r["priority"] for r in rules.values()) == list(range(len(rules)))
    distributions = prod_plan.of_type("aws:cloudfront/distribution:Distribution")
    assert distributions and all(d.inputs["webAclId"].startswith("arn:aws:wafv2:us-east-1:123456789012:global/webacl/"
                                                                 "app-storage-prod-edge/") for d in distributions)


def test_hsts_carries_preload_for_two_years_with_subdomains(prod_plan):
    """The browsers' preload list (hstspreload.org submission requirements): max-age of at least one year,
    includeSubDomains and preload."""
    policies = prod_plan.of_type("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    assert policies
    for policy in policies:
        hsts = policy.inputs["securityHeadersConfig"]["strictTransportSecurity"]
        assert hsts["preload"] and hsts["includeSubdomains"] and hsts["accessControlMaxAgeSec"] >= 31_536_000


def test_apps_without_public_areas_get_no_distribution(prod_plan):
    assert not [r for r in resources_of(prod_plan, "chat") if r.type.startswith("aws:cloudfront/")]
    assert prod_plan.outputs["chat"]["connection"]["public_base_url"] is None


@pytest.mark.parametrize("app", APPS)
def test_each_app_replicates_with_delete_markers_into_a_replica_in_us_west_2(prod_plan, app):
    [config] = [r for r in resources_of(prod_plan, app)
                if r.type == "aws:s3/bucketReplicationConfig:BucketReplicationConfig"]
    [rule] = config.inputs["rules"]
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["destination"]["bucket"] == f"arn:aws:s3:::app-storage-prod-{app}-replica"
    [replica] = [r for r in prod_plan.of_type("aws:s3/bucket:Bucket")
                 if r.inputs["bucket"] == f"app-storage-prod-{app}-replica"]
    assert replica.options["protect"] and replica.options["retainOnDelete"]
    # pulumi-aws 7's per-resource region: every replica resource in us-west-2, through the stack's provider.
    for resource in [r for r in prod_plan.resources if r.parent == replica.parent and r.custom]:
        assert resource.inputs["region"] == "us-west-2" and resource.options["provider"] is None, resource.name
    assert rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"].startswith("arn:aws:kms:us-west-2:")


def test_no_explicit_providers_the_stack_config_does_not_need(prod_plan):
    """Replica region and us-east-1 certificates use pulumi-aws 7's per-resource `region`, so the stack's own
    provider config (profile, assume-role, default tags, allowed accounts) applies everywhere."""
    assert [r.name for r in prod_plan.resources if r.type.startswith("pulumi:providers:")] == []
    assert all(r.options["provider"] is None for r in prod_plan.resources)


def test_every_kms_key_has_an_explicit_policy(prod_plan):
    """Checkov CKV2_AWS_64: keys of replicas and of apps without a CDN too."""
    keys = prod_plan.of_type("aws:kms/key:Key")
    assert len(keys) == 2 * len(APPS) + 1  # each bucket's, each replica's, and the alert topic's (StackAlerts)
    for key in keys:
        sids = [s["Sid"] for s in json.loads(key.inputs["policy"])["Statement"]]
        assert sids[0] == "AccountAdministersThroughIam", key.name


def test_hardening_siblings_are_retained_with_their_bucket(prod_plan):
    """Removing an app from the config must never leave a retained bucket without its public access block,
    policy, encryption, versioning or lifecycle."""
    hardening = {"BucketOwnershipControls", "BucketPublicAccessBlock", "BucketPolicy", "BucketVersioning",
                 "BucketServerSideEncryptionConfiguration", "BucketLifecycleConfiguration"}
    for bucket in prod_plan.of_type("aws:s3/bucket:Bucket"):
        siblings = [r for r in prod_plan.resources if r.parent == bucket.parent and r.custom and r is not bucket]
        assert hardening <= {r.type.rsplit(":", 1)[-1] for r in siblings}, bucket.name
        for resource in siblings:
            assert resource.options["retainOnDelete"], resource.name


def test_versioned_buckets_remove_expired_delete_markers(prod_plan):
    """aws-cdk#14752: without ExpiredObjectDeleteMarker, markers of fully expired objects stay forever."""
    for lifecycle in prod_plan.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
        [rule] = [r for r in lifecycle.inputs["rules"] if r["id"] == "expire-noncurrent-versions"]
        assert rule["expiration"] == {"expiredObjectDeleteMarker": True}
        assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 90


def test_eventhorizon_cache_control_reaches_the_behaviours_serving_its_areas(prod_plan):
    [distribution] = [r for r in resources_of(prod_plan, "eventhorizon")
                      if r.type == "aws:cloudfront/distribution:Distribution"]
    policies = {r.inputs["name"]: r for r in prod_plan.of_type(
        "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")}
    sent = {}
    for behaviour in distribution.inputs["orderedCacheBehaviors"]:
        items = policies[behaviour["responseHeadersPolicyId"]].inputs.get("customHeadersConfig", {}).get("items", [])
        sent[behaviour["pathPattern"]] = {item["header"]: item["value"] for item in items}
    assert sent == {"media/*": {"Cache-Control": "max-age=86400"},
                    "static/*": {"Cache-Control": "public, max-age=31536000, immutable"}}


def test_the_cdn_forwards_origin_for_apps_with_cors_rules(prod_plan):
    def behaviours(app):
        [distribution] = [r for r in resources_of(prod_plan, app)
                          if r.type == "aws:cloudfront/distribution:Distribution"]
        return [distribution.inputs["defaultCacheBehavior"], *distribution.inputs["orderedCacheBehaviors"]]
    assert all("originRequestPolicyId" in b and "OPTIONS" in b["allowedMethods"] for b in behaviours("eventhorizon"))
    assert not any("originRequestPolicyId" in b for b in behaviours("vista"))  # vista has no CORS rules


def test_log_delivery_waits_for_its_log_bucket_and_its_policy(prod_plan):
    """The buckets deployed today already exist, so their new BucketLogging registers at once: it must wait for the
    new log bucket and its policy (S3 refuses a target that does not exist: InvalidTargetBucketForLogging; CloudWatch
    Logs delivery writes a bucket policy of its own where it finds none granting it)."""
    policies = {r.inputs["bucket"]: r.urn for r in prod_plan.of_type("aws:s3/bucketPolicy:BucketPolicy")}
    loggings = prod_plan.of_type("aws:s3/bucketLogging:BucketLogging")
    assert loggings
    for logging in loggings:
        assert policies[logging.inputs["targetBucket"]] in logging.options["dependsOn"], logging.name
    deliveries = prod_plan.of_type("aws:cloudwatch/logDelivery:LogDelivery")
    assert deliveries
    for delivery in deliveries:
        assert policies["app-storage-prod-logs-us-east-1"] in delivery.options["dependsOn"], delivery.name


def test_access_logs_go_to_a_log_bucket_of_their_own_region_under_the_grants_log_delivery_accepts(prod_plan):
    """Amazon S3 User Guide, "Enabling Amazon S3 server access logging"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html): "The target bucket
    must be in the same AWS Region and AWS account as the source bucket"; default encryption of the target "only if
    you use ... (SSE-S3) ... SSE-KMS is not supported"; with BucketOwnerEnforced "You can't update your bucket ACL to
    grant access to the S3 log delivery group", so the bucket policy grants logging.s3.amazonaws.com s3:PutObject
    with aws:SourceArn and aws:SourceAccount conditions.
    Amazon CloudWatch Logs User Guide, "Logs sent to Amazon S3" (V2,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-S3.html): vended delivery
    writes as delivery.logs.amazonaws.com with s3:x-amz-acl bucket-owner-full-control, aws:SourceAccount and
    aws:SourceArn arn:aws:logs:us-east-1:<account>:delivery-source:*; "If you choose SSE-S3, no additional
    configuration is required"."""
    buckets = {r.inputs["bucket"]: r.inputs["region"] for r in prod_plan.of_type("aws:s3/bucket:Bucket")}
    logs = {name: region for name, region in buckets.items() if "-logs-" in name}
    loggings = prod_plan.of_type("aws:s3/bucketLogging:BucketLogging")
    assert {r.inputs["bucket"] for r in loggings} == set(buckets) - set(logs)  # every bucket but the log buckets
    policies = {r.inputs["bucket"]: policy_document(r) for r in prod_plan.of_type("aws:s3/bucketPolicy:BucketPolicy")}
    for logging in loggings:
        source, target = logging.inputs["bucket"], logging.inputs["targetBucket"]
        assert logging.inputs["region"] == buckets[source] == logs[target], source
        [grant] = [s for s in policies[target]["Statement"] if s.get("Principal") == {
            "Service": "logging.s3.amazonaws.com"} and s["Condition"]["ArnLike"]["aws:SourceArn"].endswith(source)]
        assert grant["Action"] == "s3:PutObject" and "aws:SourceAccount" in grant["Condition"]["StringEquals"]
    [v2] = [s for s in policies["app-storage-prod-logs-us-east-1"]["Statement"]
            if s.get("Principal") == {"Service": "delivery.logs.amazonaws.com"}]
    assert v2["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    assert v2["Condition"]["ArnLike"]["aws:SourceArn"].startswith("arn:aws:logs:us-east-1:")
