"""The benchmark controls each rule cites are the ones whose check it implements (issue 19).

Sources: the AWS Security Hub CSPM controls reference (cloudfront-controls, iam-controls, kms-controls, s3-controls:
each control's title, check and "Related requirements", which give the CIS AWS Foundations Benchmark id per version) and
Checkov's policy index (docs/5.Policy Index/terraform.md) with each check's source under checkov/terraform/checks."""

from __future__ import annotations

import re

import pytest

from policies.rules import BY_NAME, RULES

CITED_ONLY_BY = {
    # [IAM.21] IAM customer managed policies that you create should not allow wildcard actions for services.
    "FSBP IAM.21": "iam-no-wildcard-actions",
    # CKV_AWS_62 (IAMAdminPolicyDocument): Allow "*" action over "*" resource; CKV_AWS_63 (IAMStarActionPolicyDocument):
    # Allow "*" action; both on aws_iam_policy and the user, group and role inline policies.
    "CKV_AWS_62": "iam-no-wildcard-actions",
    "CKV_AWS_63": "iam-no-wildcard-actions",
    # CKV_AWS_355: no IAM policy document allows "*" as a statement's resource for restrictable actions.
    "CKV_AWS_355": "iam-no-wildcard-resources",
    # [KMS.1] customer managed and [KMS.2] inline IAM policies should not allow decryption on all KMS keys.
    "FSBP KMS.1": "iam-no-wildcard-resources",
    "FSBP KMS.2": "iam-no-wildcard-resources",
    # CKV_AWS_259 (CloudFrontResponseHeaderStrictTransportSecurity, on aws_cloudfront_response_headers_policy): fails
    # unless strict_transport_security has access_control_max_age_sec >= 31536000, include_subdomains, preload and
    # override. Merely sending HSTS (cloudfront-security-headers) does not pass it.
    "CKV_AWS_259": "cloudfront-hsts-preload",
    # [CloudFront.4] CloudFront distributions should have origin failover configured (an origin group of two origins);
    # CKV_AWS_310 (CloudfrontDistributionOriginFailover) is Checkov's check of the same.
    "FSBP CloudFront.4": "cloudfront-origin-failover",
    "CKV_AWS_310": "cloudfront-origin-failover",
}
CITED_BY_NO_RULE = (
    "FSBP IAM.3",   # access keys rotated every 90 days: an age, which a program does not declare
    "CKV_AWS_273",  # "access is controlled through SSO, not IAM users": fails every aws_iam_user
    "CKV_AWS_1",    # CKV_AWS_1 and CKV_AWS_49 check `data aws_iam_policy_document`; the pack sees the policy
    "CKV_AWS_49",   # resources, which Checkov checks as CKV_AWS_62 and CKV_AWS_63
)


@pytest.mark.parametrize("control, rule", CITED_ONLY_BY.items())
def test_a_control_is_cited_by_the_rule_that_checks_it_and_no_other(control, rule):
    assert [r.name for r in RULES if control in r.controls] == [rule]


@pytest.mark.parametrize("control", CITED_BY_NO_RULE)
def test_a_control_no_rule_implements_is_not_cited(control):
    assert [r.name for r in RULES if control in r.controls] == []


def test_rules_whose_check_no_benchmark_control_matches_cite_none():
    """KMS.2 is not the key policy lockout check (AWS has none, nor Checkov); IAM.21 is not own-app-only; the two-key
    limit is the IAM quota ("Access keys assigned to an IAM user: 2", IAM and AWS STS quotas), not a control. No control
    asks for alarms per bucket: AWS Config's cloudwatch-alarm-action-check and Control Tower's CT.CLOUDWATCH.PR.1 and
    PR.4 check that each existing alarm has (activated) actions, not that a bucket has alarms."""
    for name in ("kms-no-lockout-bypass", "iam-identity-own-app-only", "iam-user-at-most-two-keys",
                 "s3-protected-bucket-alarmed"):
        assert BY_NAME[name].controls == (), name


def test_each_cis_id_names_its_benchmark_version():
    """CIS ids differ between versions: S3.5 is v1.4.0 2.1.2 but v3.0.0 2.1.1; KMS.4 (rotation) is v1.2.0 2.8,
    v1.4.0 3.8, v3.0.0 3.6."""
    cis = [(rule.name, control) for rule in RULES for control in rule.controls if control.startswith("CIS")]
    assert cis, "the pack cites CIS"
    for name, control in cis:
        assert re.fullmatch(r"CIS v\d+\.\d+\.\d+ \d+(\.\d+)+", control), (name, control)
    assert BY_NAME["s3-deny-insecure-transport"].controls == ("FSBP S3.5", "CIS v3.0.0 2.1.1")
    assert BY_NAME["kms-key-rotation"].controls == ("CIS v3.0.0 3.6", "CKV_AWS_7")
