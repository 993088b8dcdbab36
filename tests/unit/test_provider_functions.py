"""The functions an offline plan answers as pulumi-aws 7.51.1 (terraform-provider-aws v6) and pulumi-minio 0.17.1
(terraform-provider-minio v1.20.1) compute them, and the unknown every other function gets.

Expected documents are written out whole: the JSON text the provider renders, byte for byte, is what a policy
pack and `pulumi preview` see.
"""

from __future__ import annotations

import json
import zlib

import pulumi
import pulumi_aws as aws
import pulumi_minio as minio
import pytest

from cli.offline import UNKNOWN_MARK
from cli.provider_functions import (
    ProviderFunctionError,
    go_json,
    minio_policy_document,
    partition,
    policy_document,
    region,
)
from tests.helpers import analyzed_stack, plan_program, rule_messages

# --- aws:iam/getPolicyDocument -------------------------------------------------------------------------------


def test_one_action_is_a_string_and_several_a_list_sorted_in_reverse():
    """policy_model.go `policyDecodeConfigStrings`: a set of one string renders as that string, a larger one sorted
    and then reversed; Effect defaults to "Allow" and Version to "2012-10-17" (policy_document_data_source.go
    schema); `json` is MarshalIndent with two spaces, `minified_json` Marshal, the id the CRC-32 of `json`
    (internal/create/hashcode.go StringHashcode)."""
    result = policy_document({"statements": [
        {"sid": "Read", "actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*"]},
        {"actions": ["s3:ListBucket", "s3:GetObject", "s3:GetBucketLocation"],
         "resources": ["arn:aws:s3:::b", "arn:aws:s3:::a"]},
    ]})
    assert result["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::b/*"
    },
    {
      "Effect": "Allow",
      "Action": [
        "s3:ListBucket",
        "s3:GetObject",
        "s3:GetBucketLocation"
      ],
      "Resource": [
        "arn:aws:s3:::b",
        "arn:aws:s3:::a"
      ]
    }
  ]
}"""
    assert result["minifiedJson"] == (
        '{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject",'
        '"Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject",'
        '"s3:GetBucketLocation"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::a"]}]}')
    assert result["id"] == str(zlib.crc32(result["json"].encode()))
    assert result["version"] == "2012-10-17"


def test_a_set_keeps_one_of_each_string():
    """policy_document_data_source.go: actions are a TypeSet, so a repeated action is one element."""
    result = policy_document({"statements": [{"actions": ["s3:GetObject", "s3:GetObject"]}]})
    assert json.loads(result["json"])["Statement"][0]["Action"] == "s3:GetObject"


def test_wildcard_principals():
    """policy_model.go `IAMPolicyStatementPrincipalSet.MarshalJSON`: only a lone principal of type "*" with the
    identifier "*" becomes "*"; {"AWS": "*"} stays a map (IAM refuses "*" in a role's trust policy)."""
    result = policy_document({"statements": [
        {"actions": ["kinesis:*"], "principals": [{"type": "AWS", "identifiers": ["*"]}]},
        {"actions": ["firehose:*"], "principals": [{"type": "*", "identifiers": ["*"]}]},
    ]})
    assert result["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "kinesis:*",
      "Principal": {
        "AWS": "*"
      }
    },
    {
      "Effect": "Allow",
      "Action": "firehose:*",
      "Principal": "*"
    }
  ]
}"""


@pytest.mark.parametrize(("partition_id", "order"), [
    ("aws", ["333333333333", "444444444444", "222222222222", "111111111111"]),
    ("aws-us-gov", ["333333333333", "222222222222", "111111111111", "444444444444"]),
])
def test_principals_of_one_type_are_joined_in_the_order_of_the_set(partition_id, order):
    """policy_model.go MarshalJSON concatenates the identifiers of same-type principals in the order of the
    principals set, which terraform-plugin-sdk (helper/schema/set.go) lists by hash code: the provider's own
    acceptance test (policy_document_data_source_test.go, statementPrincipalIdentifiers_multiplePrincipals and
    ...Gov) expects exactly these orders for these ARNs."""
    principals = [{"type": "AWS", "identifiers": [f"arn:{partition_id}:iam::{account}:root" for account in accounts]}
                  for accounts in (["111111111111", "222222222222"], ["333333333333"], ["444444444444"])]
    result = policy_document({"statements": [{"sid": "StatementPrincipalIdentifiersStringAndSlice", "actions": ["*"],
                                              "resources": ["*"], "principals": principals}]})
    rendered = json.loads(result["json"])["Statement"][0]["Principal"]["AWS"]
    assert rendered == [f"arn:{partition_id}:iam::{account}:root" for account in order]


def test_conditions():
    """policy_model.go `IAMPolicyStatementConditionSet.MarshalJSON`: test -> variable -> values, keys sorted; a
    single value is a string; values keep their order (an empty one too) and two conditions on the same test and
    variable are joined in set order; "&{" becomes "${" (policy_document_data_source.go)."""
    result = policy_document({"statements": [{
        "effect": "Deny",
        "notActions": ["s3:GetObject"],
        "notResources": ["arn:aws:s3:::b/home/&{aws:username}/*"],
        "conditions": [
            {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]},
            {"test": "StringLike", "variable": "s3:prefix", "values": ["home/", "", "home/&{aws:username}/"]},
            {"test": "StringEquals", "variable": "s3:prefix", "values": ["three/"]},
            {"test": "StringEquals", "variable": "s3:prefix", "values": ["one/", "two/"]},
            {"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["123456789012"]},
        ],
    }]})
    assert result["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Deny",
      "NotAction": "s3:GetObject",
      "NotResource": "arn:aws:s3:::b/home/${aws:username}/*",
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        },
        "StringEquals": {
          "aws:SourceAccount": "123456789012",
          "s3:prefix": [
            "one/",
            "two/",
            "three/"
          ]
        },
        "StringLike": {
          "s3:prefix": [
            "home/",
            "",
            "home/${aws:username}/"
          ]
        }
      }
    }
  ]
}"""


def test_snake_case_keys_of_a_plain_dict_statement_count_too():
    """A plain dict statement reaches the invoke with its snake_case keys (the SDK translates only the Args
    classes); the bridge maps them to the schema's `not_actions` all the same (policy_document_data_source.go)."""
    result = policy_document({"statements": [{"effect": "Deny", "not_actions": ["s3:*"], "not_resources": ["*"]}]})
    assert json.loads(result["json"])["Statement"] == [{"Effect": "Deny", "NotAction": "s3:*", "NotResource": "*"}]


def test_source_then_statements_then_overrides_merge_by_sid():
    """policy_document_data_source.go and policy_model.go `Merge`: sources first, then the statements (which
    replace a source statement of the same Sid in place), then each override; a statement without Sid is always
    appended, and the merged Id is the last one given."""
    source = policy_document({"policyId": "source", "statements": [
        {"sid": "Keep", "actions": ["s3:ListBucket"], "resources": ["*"]},
        {"sid": "Replaced", "actions": ["s3:*"], "resources": ["*"]},
    ]})["json"]
    override = policy_document({"statements": [
        {"sid": "Overridden", "effect": "Deny", "actions": ["s3:DeleteObject"], "resources": ["*"]},
        {"actions": ["s3:GetObject"], "resources": ["*"]},
    ]})["json"]
    result = policy_document({
        "policyId": "mine",
        "sourcePolicyDocuments": [source],
        "statements": [
            {"sid": "Replaced", "actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*"]},
            {"sid": "Overridden", "actions": ["s3:DeleteObject", "s3:PutObject"], "resources": ["*"]},
        ],
        "overridePolicyDocuments": [override],
    })
    assert result["json"] == """{
  "Version": "2012-10-17",
  "Id": "mine",
  "Statement": [
    {
      "Sid": "Keep",
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "*"
    },
    {
      "Sid": "Replaced",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::b/*"
    },
    {
      "Sid": "Overridden",
      "Effect": "Deny",
      "Action": "s3:DeleteObject",
      "Resource": "*"
    },
    {
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*"
    }
  ]
}"""


def test_a_source_document_is_read_as_go_reads_it():
    """policy_model.go UnmarshalJSON: a boolean condition value becomes the string "false", a one-value list a
    string, a number is dropped (the type switch has no case for it); a string Principal becomes "*"; an identifier
    list is re-sorted in reverse; Action keeps its JSON value as written; keys match case-insensitively."""
    source = json.dumps({"version": "2012-10-17", "Statement": [
        {"Sid": "Tags", "Effect": "Deny", "action": ["ec2:DeleteTags", "ec2:CreateTags"], "Resource": "*",
         "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]},
         "Condition": {"Null": {"aws:ResourceTag/Special": False},
                       "StringLike": {"aws:ResourceAccount": ["123456"]},
                       "NumericLessThan": {"s3:max-keys": 10}}},
        {"Effect": "Allow", "Action": "s3:GetObject", "Principal": "anything"},
    ]})
    result = policy_document({"sourcePolicyDocuments": [source]})
    assert result["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Tags",
      "Effect": "Deny",
      "Action": [
        "ec2:DeleteTags",
        "ec2:CreateTags"
      ],
      "Resource": "*",
      "Principal": {
        "AWS": [
          "arn:aws:iam::222222222222:root",
          "arn:aws:iam::111111111111:root"
        ]
      },
      "Condition": {
        "Null": {
          "aws:ResourceTag/Special": "false"
        },
        "StringLike": {
          "aws:ResourceAccount": "123456"
        }
      }
    },
    {
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Principal": "*"
    }
  ]
}"""


def test_an_empty_source_is_skipped_and_no_statement_leaves_only_the_version():
    """policy_document_data_source.go skips a null source entry (an empty string arrives as one); the acceptance
    test's expected JSON for `source_policy_documents = [""]` is the version alone (Statement is omitempty)."""
    result = policy_document({"sourcePolicyDocuments": [""]})
    assert result["json"] == '{\n  "Version": "2012-10-17"\n}'
    assert result["minifiedJson"] == '{"Version":"2012-10-17"}'


def test_go_escapes_html_characters_and_line_separators():
    """encoding/json (as the provider's json.Marshal uses it) escapes <, > and & and U+2028/U+2029, and writes
    \\b \\f \\n \\r \\t and \\u00XX for control characters."""
    assert go_json(["a<b>&c", "\u2028", "\t\x01", "é"]) == '["a\\u003cb\\u003e\\u0026c","\\u2028","\\t\\u0001","é"]'
    assert go_json([1.0, 0.5, 1e21, 1.5e-7, 1e20]) == "[1,0.5,1e+21,1.5e-7,100000000000000000000]"


@pytest.mark.parametrize(("args", "message"), [
    ({"statements": [{"sid": "A", "actions": ["s3:*"]}, {"sid": "A", "actions": ["s3:*"]}]}, "duplicate Sid (A)"),
    ({"statements": [{"effect": "allow", "actions": ["s3:*"]}]}, "expected effect to be one of"),
    ({"statements": [{"sid": "not-alnum", "actions": ["s3:*"]}]}, "alphanumeric"),
    ({"version": "2008-10-17", "statements": [{"resources": ["arn:aws:s3:::b/&{aws:username}"]}]},
     "not supported in document version 2008-10-17"),
    ({"sourcePolicyDocuments": ["{"]}, "merging source document 0"),
    ({"sourcePolicyDocuments": ['{"Statement": [{"Sid": "A"}]}', '{"Statement": [{"Sid": "A"}]}']},
     "duplicate Sid (A) in source_policy_documents"),
    ({"sourceJson": '{"Statement": []}'}, "sourceJson"),
])
def test_what_the_provider_refuses(args, message):
    """policy_document_data_source.go: the schema's validations (effect, sid, version, JSON) and the read's errors."""
    with pytest.raises(ProviderFunctionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        policy_document(args)


# --- aws:index/getRegion, aws:index/getPartition ------------------------------------------------------------------


def test_region_of_the_provider_or_the_one_asked_for():
    """meta/region_data_source.go (v6): the provider's Region unless `region` (or `name`, or `endpoint`) selects
    one; the endpoint is EC2's host; description from aws-sdk-go-base endpoints."""
    assert region({}, "eu-central-1") == {
        "description": "Europe (Frankfurt)", "endpoint": "ec2.eu-central-1.amazonaws.com",
        "id": "eu-central-1", "name": "eu-central-1", "region": "eu-central-1"}
    assert region({"region": "cn-north-1"}, "us-east-1")["endpoint"] == "ec2.cn-north-1.amazonaws.com.cn"
    assert region({"endpoint": "ec2.us-west-2.amazonaws.com"}, "us-east-1")["region"] == "us-west-2"
    with pytest.raises(ProviderFunctionError, match="finding Region by name"):
        region({"region": "xx-nowhere-1"}, "us-east-1")
    with pytest.raises(ProviderFunctionError, match="multiple Regions matched"):
        region({"region": "us-east-1", "endpoint": "ec2.us-west-2.amazonaws.com"}, "us-east-1")


@pytest.mark.parametrize(("provider_region", "expected"), [
    ("us-east-1", ("aws", "amazonaws.com", "com.amazonaws")),
    ("cn-northwest-1", ("aws-cn", "amazonaws.com.cn", "cn.com.amazonaws")),
    ("us-gov-west-1", ("aws-us-gov", "amazonaws.com", "com.amazonaws")),
    ("eusc-de-east-1", ("aws-eusc", "amazonaws.eu", "eu.amazonaws")),
    ("eu-south-9", ("aws", "amazonaws.com", "com.amazonaws")),  # not listed, but the standard pattern matches
])
def test_partition_of_the_provider_region(provider_region, expected):
    """meta/partition_data_source.go: partition, DNS suffix and its reverse (conns ReverseDNSPrefix) of the
    provider's Region; the partition lists it or its pattern matches it (aws-sdk-go-base endpoints)."""
    result = partition(provider_region)
    assert (result["partition"], result["dnsSuffix"], result["reverseDnsPrefix"]) == expected
    assert result["id"] == result["partition"]


# --- under the offline plan ------------------------------------------------------------------------------------


def test_a_group_policy_from_a_policy_document_records_the_rendered_json():
    """policy_document_data_source.go computes `json` locally, so `pulumi preview` has the document: the plan
    records the same text as the group policy's `policy`, not null."""

    def program() -> None:
        group = aws.iam.Group("readers", name="readers")
        bucket = aws.s3.Bucket("data", bucket="data-bucket")
        document = aws.iam.get_policy_document_output(statements=[
            aws.iam.GetPolicyDocumentStatementArgs(sid="Read", actions=["s3:GetObject"],
                                                   resources=[bucket.arn.apply(lambda arn: f"{arn}/*")]),
            aws.iam.GetPolicyDocumentStatementArgs(
                effect="Deny", actions=["s3:*"], resources=["*"],
                conditions=[aws.iam.GetPolicyDocumentStatementConditionArgs(
                    test="Bool", variable="aws:SecureTransport", values=["false"])]),
        ])
        aws.iam.GroupPolicy("readers-policy", group=group.name, policy=document.json)

    plan = plan_program(program)
    (recorded,) = plan.of_type("aws:iam/groupPolicy:GroupPolicy")
    assert recorded.inputs["policy"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::data-bucket/*"
    },
    {
      "Effect": "Deny",
      "Action": "s3:*",
      "Resource": "*",
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        }
      }
    }
  ]
}"""


def test_region_and_partition_answer_for_the_stack_region():
    """meta/region_data_source.go and partition_data_source.go answer from the provider's (the stack's) Region."""

    def program() -> None:
        here = aws.get_region_output()
        pulumi.export("where", pulumi.Output.all(here.region, here.endpoint, aws.get_partition_output().partition))

    plan = plan_program(program, {"aws:region": "cn-north-1"})
    assert plan.outputs["where"] == ["cn-north-1", "ec2.cn-north-1.amazonaws.com.cn", "aws-cn"]


def test_an_input_from_an_unmodelled_function_is_unknown():
    """A function the plan cannot compute (a lookup in the account) comes back wholly unknown, as a preview treats
    what it cannot know yet: the input built from it is recorded as the unknown marker, not null, and so is a
    policy document whose statement holds that unknown value."""

    def program() -> None:
        vpc = aws.ec2.get_vpc_output()
        aws.iam.Group("named-by-vpc", name=vpc.id.apply(lambda vpc_id: f"vpc-{vpc_id}"))
        document = aws.iam.get_policy_document_output(statements=[{"actions": ["ec2:*"], "resources": [vpc.arn]}])
        aws.iam.GroupPolicy("vpc-policy", group="named-by-vpc", policy=document.json)

    plan = plan_program(program)
    assert plan.of_type("aws:iam/group:Group")[0].inputs["name"] == UNKNOWN_MARK
    assert plan.of_type("aws:iam/groupPolicy:GroupPolicy")[0].inputs["policy"] == UNKNOWN_MARK


def test_a_plain_call_of_an_unmodelled_function_fails_the_plan_instead_of_giving_nulls():
    """The SDK resolves an unknown invoke to `InvokeResult(None, is_known=False)`; the output form carries it as an
    unknown output, but pulumi-aws's plain form reads fields off None and fails, so a program that needs a lookup's
    value right away stops the offline plan rather than being judged on nulls."""

    def program() -> None:
        aws.ec2.get_vpc()

    with pytest.raises(AssertionError, match="output_type"):
        plan_program(program)


def test_an_error_the_provider_would_report_fails_the_invoke():
    """policy_document_data_source.go refuses a repeated Sid; the invoke fails as it would in a preview."""

    def program() -> None:
        document = aws.iam.get_policy_document_output(statements=[{"sid": "A", "actions": ["s3:*"]},
                                                                  {"sid": "A", "actions": ["s3:*"]}])
        pulumi.export("document", document.json)

    with pytest.raises(Exception, match="duplicate Sid"):
        plan_program(program)


# --- minio:index/getIamPolicyDocument (terraform-provider-minio v1.20.1) -------------------------------------------

MINIO_ACCEPTANCE_STATEMENTS = [
    {"sid": "1", "actions": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "resources": ["arn:aws:s3:::*"]},
    {"actions": ["s3:ListBucket"], "resources": ["arn:aws:s3:::foo"],
     "conditions": [{"test": "StringLike", "variable": "s3:prefix", "values": ["home/&{aws:username}/"]}]},
    {"actions": ["s3:*"], "principal": "*",
     "resources": ["arn:aws:s3:::foo/home/&{aws:username}", "arn:aws:s3:::foo/home/&{aws:username}/*"]},
    {"effect": "Allow", "actions": ["kinesis:*"], "principal": "*"},
    {"effect": "Allow", "actions": ["firehose:*"], "principal": "*"},
]
MINIO_ACCEPTANCE_JSON = """{
  "Version": "2012-10-17",
  "Id": "policy_id",
  "Statement": [
    {
      "Sid": "1",
      "Effect": "Allow",
      "Action": [
        "s3:ListAllMyBuckets",
        "s3:GetBucketLocation"
      ],
      "Resource": "arn:aws:s3:::*"
    },
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::foo",
      "Condition": {
        "StringLike": {
          "s3:prefix": [
            "home/${aws:username}/"
          ]
        }
      }
    },
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::foo/home/${aws:username}/*",
        "arn:aws:s3:::foo/home/${aws:username}"
      ],
      "Principal": "*"
    },
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": "kinesis:*",
      "Principal": "*"
    },
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": "firehose:*",
      "Principal": "*"
    }
  ]
}"""


def test_minio_document_of_the_providers_acceptance_test():
    """data_source_minio_iam_policy_document_test.go (v1.20.1) `testAccMinioIAMPolicyDocumentConfig` and its
    expected JSON, byte for byte: Sid is always written ("Sid": ""; payload.go has no omitempty on it), Effect
    defaults to "Allow", a set of one action or resource renders as a string and a larger one sorted in reverse
    (policy_utils.go minioDecodePolicyStringList), "&{" becomes "${" in resources and condition values, a condition's
    values render as a list even for one value (minio-go set.StringSet), Principal is the string "*". `json` is
    MarshalIndent with two spaces and the id the CRC-32 of it (utils.go HashcodeString)."""
    result = minio_policy_document({"policyId": "policy_id", "statements": MINIO_ACCEPTANCE_STATEMENTS})
    assert result["json"] == MINIO_ACCEPTANCE_JSON
    assert result["id"] == str(zlib.crc32(MINIO_ACCEPTANCE_JSON.encode()))
    assert result["version"] == "2012-10-17"
    assert result["policyId"] == "policy_id"


def test_minio_source_and_override_merge_as_the_acceptance_tests_expect():
    """The acceptance tests' source, blank-source, conflicting-source, override and no-statement merges
    (data_source_minio_iam_policy_document_test.go): source_json is decoded into the document first, the
    configuration's statements merge into it (policy_utils.go `merge`: a Sid already there is replaced in place,
    a statement without Sid appended), then override_json merges the same way; the Version a document names
    wins when it compares greater as text, and an Id is adopted."""
    source = minio_policy_document({"policyId": "policy_id", "statements": MINIO_ACCEPTANCE_STATEMENTS})["json"]
    with_source = minio_policy_document({"sourceJson": source, "statements": [
        {"sid": "SourceJSONTest1", "actions": ["*"], "resources": ["*"]}]})["json"]
    assert with_source == MINIO_ACCEPTANCE_JSON.removesuffix("\n  ]\n}") + """,
    {
      "Sid": "SourceJSONTest1",
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}"""
    assert minio_policy_document({"sourceJson": "", "statements": [
        {"sid": "SourceJSONTest2", "actions": ["*"], "resources": ["*"]}]})["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "SourceJSONTest2",
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}"""
    conflicting = minio_policy_document({"statements": [
        {"sid": "SourceJSONTestConflicting", "actions": ["s3:*"], "resources": ["*"]}]})["json"]
    assert minio_policy_document({"sourceJson": conflicting, "statements": [
        {"sid": "SourceJSONTestConflicting", "actions": ["*"], "resources": ["*"]}]})["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "SourceJSONTestConflicting",
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}"""
    override = minio_policy_document({"statements": [
        {"sid": "SidToOverwrite", "actions": ["s3:*"], "resources": ["*"]}]})["json"]
    assert minio_policy_document({"overrideJson": override, "statements": [
        {"actions": ["s3:*"], "resources": ["*"]},
        {"sid": "SidToOverwrite", "actions": ["s3:*"],
         "resources": ["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"]}]})["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": "*"
    },
    {
      "Sid": "SidToOverwrite",
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": "*"
    }
  ]
}"""
    no_sid = minio_policy_document({"statements": [{"sid": "", "actions": ["s3:GetObject"], "resources": ["*"]}]})
    placeholder = minio_policy_document({"statements": [
        {"sid": "OverridePlaceholder", "actions": ["s3:GetObject"], "resources": ["*"]}]})
    assert minio_policy_document({"sourceJson": no_sid["json"], "overrideJson": placeholder["json"]})["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*"
    },
    {
      "Sid": "OverridePlaceholder",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*"
    }
  ]
}"""
    assert minio_policy_document({"sourceJson": placeholder["json"], "overrideJson": placeholder["json"]})["json"] \
        == placeholder["json"]


def test_minio_no_statement_writes_statement_null():
    """payload.go: `Statement []*IAMPolicyStatement \\`json:"Statement"\\`` has no omitempty, so a document without
    statements writes null (and a source's empty list stays an empty list); Version and Id are omitempty."""
    assert minio_policy_document({})["json"] == '{\n  "Version": "2012-10-17",\n  "Statement": null\n}'
    assert minio_policy_document({"sourceJson": '{"Statement": []}'})["json"] == \
        '{\n  "Version": "2012-10-17",\n  "Statement": []\n}'


def test_minio_only_the_last_condition_of_the_set_is_written():
    """dataSourceMinioIAMPolicyDocumentMakeConditions assigns `out = condMap` for each condition block, so of
    several only the last in the set's order survives (terraform-plugin-sdk: blocks ordered by the decimal text of
    the CRC-32 of "test:<test>;values:{<value>;...};variable:<variable>;"): StringLike/s3:prefix (3505929352)
    comes after Bool/aws:SecureTransport (2995652612) but before IpAddress/aws:SourceIp (3925563434), whichever
    order the program gives. The values, gathered in a set.StringSet, are written sorted ascending; an empty
    string is a value like any other."""
    prefix = {"test": "StringLike", "variable": "s3:prefix", "values": ["home/", ""]}
    secure = {"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]}
    source_ip = {"test": "IpAddress", "variable": "aws:SourceIp", "values": ["10.0.0.0/8"]}
    for conditions in ([prefix, secure], [secure, prefix]):
        result = minio_policy_document({"statements": [{"actions": ["s3:ListBucket"], "conditions": conditions}]})
        assert json.loads(result["json"])["Statement"][0]["Condition"] == {"StringLike": {"s3:prefix": ["", "home/"]}}
    for conditions in ([prefix, source_ip], [source_ip, prefix]):
        result = minio_policy_document({"statements": [{"actions": ["s3:ListBucket"], "conditions": conditions}]})
        assert result["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Condition": {
        "IpAddress": {
          "aws:SourceIp": [
            "10.0.0.0/8"
          ]
        }
      }
    }
  ]
}"""


def test_minio_condition_values_are_written_by_json_iterator():
    """minio-go v7.0.63 set.StringSet.MarshalJSON marshals its sorted values with json-iterator v1.1.12
    (ConfigCompatibleWithStandardLibrary, stream_str.go): \\b and \\f become \\u0008 and \\u000c, where Go's
    encoding/json (which writes the rest of the document) writes \\b; "&{" and "${" forms of one value become one."""
    result = minio_policy_document({"statements": [{
        "actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::media/a\bb<c"],
        "conditions": [{"test": "StringEquals", "variable": "s3:x",
                        "values": ["z&{aws:username}", "a\bb\fc<", "&{aws:username}", "${aws:username}"]}]}]})
    assert result["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::media/a\\bb\\u003cc",
      "Condition": {
        "StringEquals": {
          "s3:x": [
            "${aws:username}",
            "a\\u0008b\\u000cc\\u003c",
            "z${aws:username}"
          ]
        }
      }
    }
  ]
}"""


def test_minio_source_document_is_read_as_go_reads_it_into_the_policy_structs():
    """payload.go IAMPolicyDoc/IAMPolicyStatement read by encoding/json: keys match case-insensitively, fields the
    structs lack (NotAction, NotResource) are dropped, Action/Resource/Condition (`interface{}`) keep the JSON value
    as written ("" and [] too: omitempty leaves out only nil; numbers and booleans as they are; map keys sorted);
    a second "Statement" key decodes over the statements already read (keeping what it does not name, dropping
    what it does not reach)."""
    source = """{"version": "2008-10-17", "ID": "doc", "Statement": [
      {"sid": "Src", "EFFECT": "Allow", "Action": "", "NotAction": "s3:*", "Resource": [], "Principal": "*",
       "Condition": {"StringLike": {"s3:prefix": "a<b"}, "NumericLessThan": {"s3:max-keys": 10},
                     "Bool": {"aws:SecureTransport": true}}},
      {"Sid": "Gone", "Action": ["s3:GetObject"], "NotResource": "x"}
    ], "Statement": [{"Effect": "Deny"}]}"""
    result = minio_policy_document({"sourceJson": source, "statements": [
        {"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::media/*"]}]})
    assert result["json"] == """{
  "Version": "2012-10-17",
  "Id": "doc",
  "Statement": [
    {
      "Sid": "Src",
      "Effect": "Deny",
      "Action": "",
      "Resource": [],
      "Principal": "*",
      "Condition": {
        "Bool": {
          "aws:SecureTransport": true
        },
        "NumericLessThan": {
          "s3:max-keys": 10
        },
        "StringLike": {
          "s3:prefix": "a\\u003cb"
        }
      }
    },
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::media/*"
    }
  ]
}"""
    assert result["sourceJson"] == source


@pytest.mark.parametrize(("args", "message"), [
    ({"statements": [{"sid": "A", "actions": ["s3:*"]}, {"sid": "A", "actions": ["s3:*"]}]},
     "found duplicate sid (A), either remove the sid or ensure the sid is unique across all statements"),
    ({"statements": [{"effect": "allow", "actions": ["s3:*"]}]}, 'expected statement.0.effect to be one of'),
    ({"statements": [{"principal": "arn:aws:iam::111111111111:root"}]},
     'expected statement.0.principal to be one of ["*"]'),
    ({"version": "2012-10-18"}, "expected version to be one of"),
    ({"version": "2008-10-17", "statements": [{"resources": ["arn:aws:s3:::b/&{aws:username}"]}]},
     "error reading resources: found &{ sequence in (arn:aws:s3:::b/&{aws:username}), which is not supported"),
    ({"version": "2008-10-17", "statements": [{"conditions": [
        {"test": "StringLike", "variable": "s3:prefix", "values": ["&{aws:username}/"]}]}]},
     "error reading condition: error reading values: found &{ sequence"),
    ({"sourceJson": "{"}, "source_json"),
    ({"sourceJson": '{"Statement": [{"Principal": {"AWS": "*"}}]}'}, "cannot unmarshal object"),
    ({"sourceJson": '{"Statement": [null]}', "statements": [{"sid": "A"}]}, "nil pointer dereference"),
    ({"overrideJson": '{"Statement": [null]}'}, "nil pointer dereference"),
])
def test_what_the_minio_provider_refuses(args, message):
    """data_source_minio_iam_policy_document.go: the schema's validations (effect, principal, version), the read's
    errors (a repeated sid, "&{" under 2008-10-17, source/override JSON that does not decode into the structs) and
    the crash a null statement causes once `merge` reaches it."""
    with pytest.raises(ProviderFunctionError) as raised:
        minio_policy_document(args)
    assert message in str(raised.value)


def _minio_user_program(statements: list) -> None:
    user = minio.IamUser("app", name="app")
    document = minio.get_iam_policy_document_output(statements=statements)
    policy = minio.IamPolicy("app-policy", name="app-policy", policy=document.json)
    minio.IamUserPolicyAttachment("app-policy-attachment", user_name=user.name, policy_name=policy.name)


def test_a_minio_policy_from_a_policy_document_records_the_rendered_json():
    """data_source_minio_iam_policy_document.go computes `json` locally, so the plan records the document as the
    provider renders it as the IamPolicy's `policy`, not as unknown."""

    def program() -> None:
        bucket = minio.S3Bucket("media", bucket="media")
        _minio_user_program([
            minio.GetIamPolicyDocumentStatementArgs(
                sid="List", actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[bucket.bucket.apply(lambda name: f"arn:aws:s3:::{name}")],
                conditions=[minio.GetIamPolicyDocumentStatementConditionArgs(
                    test="StringLike", variable="s3:prefix", values=["home/", ""])]),
            {"actions": ["s3:GetObject", "s3:PutObject"], "resources": ["arn:aws:s3:::media/home/&{aws:username}/*"]},
        ])

    plan = plan_program(program)
    (recorded,) = plan.of_type("minio:index/iamPolicy:IamPolicy")
    assert recorded.inputs["policy"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "List",
      "Effect": "Allow",
      "Action": [
        "s3:ListBucket",
        "s3:GetBucketLocation"
      ],
      "Resource": "arn:aws:s3:::media",
      "Condition": {
        "StringLike": {
          "s3:prefix": [
            "",
            "home/"
          ]
        }
      }
    },
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": [
        "s3:PutObject",
        "s3:GetObject"
      ],
      "Resource": "arn:aws:s3:::media/home/${aws:username}/*"
    }
  ]
}"""
    analyzed = analyzed_stack(plan)
    assert rule_messages("minio-user-policy-no-wildcards", analyzed) == []


def test_a_wildcard_minio_policy_document_is_reported_by_the_pack():
    """Before the function was modelled the document was unknown offline and `minio-user-policy-no-wildcards` had
    nothing to judge; now the rendered `s3:*` on `arn:aws:s3:::*` is reported."""

    def program() -> None:
        _minio_user_program([{"actions": ["s3:*"], "resources": ["arn:aws:s3:::*"]}])

    plan = plan_program(program)
    (recorded,) = plan.of_type("minio:index/iamPolicy:IamPolicy")
    assert recorded.inputs["policy"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "",
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": "arn:aws:s3:::*"
    }
  ]
}"""
    messages = rule_messages("minio-user-policy-no-wildcards", analyzed_stack(plan))
    assert len(messages) == 2
    assert "a statement must name its actions; it allows s3:*" in messages[0]
    assert "a statement must name its buckets, not *" in messages[1]


@pytest.mark.parametrize("statement", [{"actions": "hunter2-secret"}, {"actions": ["s3:GetObject", 7]},
                                       {"conditions": [{"test": "StringEquals", "variable": "aws:x",
                                                        "values": "hunter2-secret"}]}])
def test_an_argument_of_the_wrong_shape_is_named_by_its_kind_never_its_value(statement):
    """In a plan the mock receives invoke arguments with their secrets unwrapped: a secret passed where a list
    belongs must not reach the plan's failure message."""
    with pytest.raises(ProviderFunctionError) as raised:
        policy_document({"statements": [statement]})
    assert "hunter2" not in str(raised.value) and "expected a list of" in str(raised.value)
