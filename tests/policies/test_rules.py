"""Each rule in-process: its compliant fixture passes, each mutation fails with the rule's message.

The fixtures are the shipped stacks' own resources exactly as the engine would hand them to the pack
(`cli.policy.analyzed_resources`), deserialized by the policy SDK itself; the rules run with the shipped
policies/prod.json (or dev.json) config. The same cases run through the Analyzer protocol in test_protocol.py.
"""

from __future__ import annotations

import pytest

from policies.rules import BY_NAME, RULES
from tests.helpers import analyzed_stack, pack_config, rule_messages
from tests.policies.cases import CASES, Case

CHECKING_RULES = [rule.name for rule in RULES if rule.name not in ("waived-violations", "waived-stack-violations")]


@pytest.fixture(scope="module")
def stacks(prod_plan, dev_plan):
    return {"prod": prod_plan, "dev": dev_plan}


def _fixture(stacks, case: Case) -> list:
    analyzed = analyzed_stack(stacks[case.stack])
    if case.prepare:
        case.prepare(analyzed)
    return analyzed


def test_every_rule_has_a_failing_case():
    """The issue's bar: each rule has at least one mutation that must fail."""
    assert sorted({case.rule for case in CASES}) == sorted(CHECKING_RULES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_compliant_fixture_passes_and_the_mutation_fails(stacks, case):
    analyzed = _fixture(stacks, case)
    config = pack_config(case.stack).get(case.rule)
    assert rule_messages(case.rule, analyzed, config) == [], "the compliant fixture must pass"
    case.mutate(analyzed)
    messages = rule_messages(case.rule, analyzed, config)
    assert messages, f"{case.id} must be reported"
    assert any(case.expect in message for message in messages), messages
    assert all(" must " in message for message in messages), "violation messages say what must hold"


def test_rule_texts_follow_the_house_style():
    for rule in RULES:
        assert rule.name == rule.name.lower() and " " not in rule.name and "_" not in rule.name
        assert rule.description.startswith("Checks whether "), rule.name
        assert rule.remediation and rule.severity and rule.level, rule.name


def test_rules_read_only_what_is_known():
    """A preview of a new bucket knows neither its name nor its siblings' `bucket`: the rules judge what is known
    and never abort on an unknown (the SDK raises when an unknown is touched)."""
    from pulumi.runtime.rpc import UNKNOWN

    from cli.policy import AnalyzedResource

    stack = AnalyzedResource("urn:pulumi:p::app-storage::pulumi:pulumi:Stack::s", "pulumi:pulumi:Stack", "s", False,
                             {})
    bucket = AnalyzedResource("urn:b", "aws:s3/bucket:Bucket", "b", True, {"bucket": UNKNOWN}, parent=stack.urn)
    versioning = AnalyzedResource("urn:v", "aws:s3/bucketVersioning:BucketVersioning", "v", True,
                                  {"bucket": UNKNOWN, "versioningConfiguration": {"status": "Suspended"}},
                                  parent=stack.urn, dependencies=["urn:b"], property_dependencies={"bucket": ["urn:b"]})
    messages = rule_messages("s3-versioning-enabled", [stack, bucket, versioning])
    assert messages == ["bucket 'b': versioning must be Enabled; it is Suspended"]


def test_the_exceptions_schema_requires_a_reason():
    from policies.rules.pack import config_properties

    schema = config_properties(BY_NAME["s3-versioning-enabled"])["exceptions"]
    assert schema["items"]["required"] == ["resource", "reason"]


@pytest.mark.parametrize("service", ["s3.amazonaws.com", "ec2.amazonaws.com", "lambda.amazonaws.com"])
def test_a_service_aws_documents_without_a_trust_condition_passes_without_one(stacks, service):
    """AWS's trust policies for these roles carry no condition: the S3 replication role (Amazon S3 User Guide,
    "Setting up permissions for live replication"), an instance role (Amazon EC2 User Guide, "IAM roles for Amazon
    EC2") and a Lambda execution role (AWS Lambda Developer Guide, "Defining Lambda function permissions with an
    execution role"). Requiring one would lock the service out, so the rule does not."""
    from tests.policies.cases import policy_edit

    analyzed = analyzed_stack(stacks["prod"])
    policy_edit("chat-replication-role", lambda d: d["Statement"][0].update(Principal={"Service": service}),
                "assumeRolePolicy")(analyzed)
    config = pack_config("prod").get("iam-role-trust-restricted")
    assert rule_messages("iam-role-trust-restricted", analyzed, config) == []


def test_a_lifecycle_filter_a_preview_leaves_unknown_is_not_taken_for_a_narrow_one(stacks):
    """In a preview of a new bucket the noncurrent rule's `filter` may be unknown: the rule skips it rather than
    report a versioned bucket as never expiring noncurrent versions. (The engine's unknown marker, as a policy
    pack receives it; a rule that took an unknown filter for a narrowing one would fail here.)"""
    from pulumi.runtime.rpc import UNKNOWN

    from tests.policies.cases import props
    analyzed = _fixture(stacks, next(case for case in CASES if case.rule == "s3-noncurrent-version-expiry"))
    for rule in props(analyzed, "chat-storage-lifecycle")["rules"]:
        rule["filter"] = UNKNOWN
    assert rule_messages("s3-noncurrent-version-expiry", analyzed, pack_config("prod").get(
        "s3-noncurrent-version-expiry")) == []
