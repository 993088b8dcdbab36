"""Every physical name the stack derives is valid for its resource type, for any valid bucket name.

The rules are in `components.naming` beside each derived name, each citing where its resource type states
it (AWS API references for S3, IAM, KMS and CloudFront; terraform-provider-minio v1.20.1 for MinIO).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies

from cli.offline import evaluate, run_main
from components import naming
from tests.helpers import as_config, stack_values

# Every valid S3 bucket name: 3-63 characters of lowercase letters, digits, '.' and '-'.
valid_bucket_names = strategies.from_regex(r"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z").filter(
    lambda name: not naming.bucket_name_problems(name))


@settings(max_examples=400, deadline=None)
@given(valid_bucket_names)
def test_every_derived_name_is_valid_for_its_type_on_both_backends(bucket):
    """S3 bucket naming rules; IAM CreateUser/CreateGroup/CreateRole (64/128/64, [\\w+=,.@-]); KMS CreateAlias
    (alias/[a-zA-Z0-9/_-]); CloudFront CreateFunction (64, [a-zA-Z0-9_-]); terraform-provider-minio v1.20.1
    user and policy name validators."""
    for backend in ("aws", "minio"):
        for name, rule in naming.derived_names(bucket, backend):
            assert rule.problems(name) == [], (bucket, backend)


@settings(max_examples=300, deadline=None)
@given(valid_bucket_names, valid_bucket_names)
def test_two_buckets_never_share_a_derived_name(first, second):
    if first != second:
        for (one, _), (other, _) in zip(naming.derived_names(first, "aws"), naming.derived_names(second, "aws"),
                                               strict=True):
            assert one != other


def test_names_that_fit_are_used_as_they_are():
    bucket = "app-storage-prod-eventhorizon"
    assert naming.replica_bucket_name(bucket) == f"{bucket}-replica"
    assert naming.replication_role_name(bucket) == f"{bucket}-replication"
    assert naming.kms_alias_name(bucket) == f"alias/{bucket}"
    assert naming.cdn_deny_function_name(bucket) == f"{bucket}-deny"
    assert naming.cdn_security_headers_policy_name(bucket) == f"{bucket}-security-headers"


def test_a_long_name_keeps_its_start_and_gets_a_stable_hash():
    bucket = "b" * 60
    role = naming.replication_role_name(bucket)
    assert len(role) == 64 and role.startswith("b" * 40) and role.endswith("-replication")
    assert role == naming.replication_role_name(bucket)
    assert naming.replication_role_name("b" * 59 + "c") != role


DOTTED_LONG_BUCKET = "media.acme-eventhorizon-with-a-rather-long-name-here"
# The recorded input that holds each resource type's physical name, and the rule it must meet.
NAMED_INPUTS = {
    "aws:s3/bucket:Bucket": ("bucket", naming.S3_BUCKET),
    "aws:iam/user:User": ("name", naming.IAM_USER),
    "aws:iam/group:Group": ("name", naming.IAM_GROUP),
    "aws:iam/role:Role": ("name", naming.IAM_ROLE),
    "aws:kms/alias:Alias": ("name", naming.KMS_ALIAS),
    "aws:cloudfront/function:Function": ("name", naming.CLOUDFRONT_FUNCTION),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": ("name", naming.CLOUDFRONT_RESPONSE_HEADERS_POLICY),
    "aws:cloudfront/originAccessControl:OriginAccessControl": ("name", naming.CLOUDFRONT_ORIGIN_ACCESS_CONTROL),
    "minio:index/s3Bucket:S3Bucket": ("bucket", naming.S3_BUCKET),
    "minio:index/iamUser:IamUser": ("name", naming.MINIO_USER),
    "minio:index/iamPolicy:IamPolicy": ("name", naming.MINIO_POLICY),
}


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_a_long_dotted_bucket_name_plans_with_every_name_valid(stack):
    values = stack_values(stack)
    apps = values["app-storage:apps"]
    values["app-storage:apps"] = {**apps, "eventhorizon": {**apps["eventhorizon"], "bucketName": DOTTED_LONG_BUCKET}}
    plan = evaluate(stack, as_config(values), run_main)
    checked = 0
    for resource in plan.resources:
        if resource.type in NAMED_INPUTS:
            key, rule = NAMED_INPUTS[resource.type]
            assert rule.problems(resource.inputs[key]) == [], resource.urn
            checked += 1
    assert checked >= (20 if stack == "prod" else 9)
    assert any(r.inputs.get("bucket") == DOTTED_LONG_BUCKET for r in plan.resources)


def test_buckets_that_differ_only_in_dots_and_dashes_get_distinct_cloudfront_and_kms_names():
    assert naming.cdn_deny_function_name("a.b-media") != naming.cdn_deny_function_name("a-b-media")
    assert naming.kms_alias_name("a.b-media") != naming.kms_alias_name("a-b-media")


@pytest.mark.parametrize("prefix", ["app-storage-prod", "media.acme", "a" * 200, "x"])
def test_the_web_acl_name_meets_wafs_rule_for_any_bucket_prefix(prefix):
    """WAFv2 CreateWebACL Name: 1-128 characters of [A-Za-z0-9_-] (AWS WAFv2 API reference)."""
    name = naming.web_acl_name(prefix)
    assert naming.WAF_WEB_ACL.problems(name) == [] and name.endswith("-edge")
    assert naming.web_acl_name("media.acme") != naming.web_acl_name("media-acme")
