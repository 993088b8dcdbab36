"""Adopting an existing bucket (`adopt`, `keep`): the gate's rules, the import in the plan, the change model's
import step, and the pack judging what is kept like the stack's own.

Engine (pulumi/pulumi pkg/resource/deploy): step_generator.go `isImport` imports a custom resource whose goal
carries an ID when there is no old state (or its ID differs); since #19339 (v3.174.0, below Pulumi.yaml's
requiredPulumiVersion) the imported state is then diffed and updated to the declared inputs in the same
deployment, so the inputs need not match what the provider reads; with the ID still set, a replacement is refused
("previously-imported resources that still specify an ID may not be replaced")."""

from __future__ import annotations

import copy
import json

import pytest

from cli import change
from cli.main import render_text
from cli.offline import evaluate, run_main
from components.settings.types import SettingsError
from tests.helpers import analyzed_stack, as_config, policy_document, rule_messages, settings_for, stack_values

PARTNER = {"Sid": "PartnerRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
           "Action": "s3:GetObject", "Resource": "arn:aws:s3:::chat-system/shared/*"}
OLD_KEY = "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-0000-4000-8000-000000000001"
KEPT_RULE = {"id": "expire-tmp", "prefix": "tmp/", "expireDays": 7}


def adopting(stack: str = "prod", **app) -> dict:
    """The shipped stack, with chat adopting `chat-system` (and `app`'s keys)."""
    values = copy.deepcopy(stack_values(stack))
    chat = values["app-storage:apps"]["chat"]
    chat.update({"bucketName": "chat-system", "adopt": True, **app})
    return values


def problems(values: dict) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        settings_for(values, "prod")
    return raised.value.problems


def plan_of(values: dict, stack: str = "prod"):
    return evaluate(stack, as_config(values), run_main)


# --- the gate ------------------------------------------------------------------------------------------------------


def test_fails_adopt_without_an_explicit_bucket_name():
    values = adopting()
    del values["app-storage:apps"]["chat"]["bucketName"]
    [problem] = problems(values)
    assert problem.startswith("app-storage:apps.chat.adopt: needs the existing bucket's name")
    assert "Set app-storage:apps.chat.bucketName" in problem


def test_fails_adopt_with_force_destroy():
    values = adopting()
    values.update({"app-storage:protectData": False, "app-storage:forceDestroy": True})
    assert any(p.startswith("app-storage:apps.chat.adopt: is refused while app-storage:forceDestroy is true")
               for p in problems(values))


def test_fails_keep_without_adopt():
    values = adopting(keep={"lifecycle": [KEPT_RULE]})
    values["app-storage:apps"]["chat"]["adopt"] = False
    assert any(p.startswith("app-storage:apps.chat.keep: keeps what an adopted bucket had") for p in problems(values))


@pytest.mark.parametrize("statement, key, problem", [
    ({**PARTNER, "Resource": "arn:aws:s3:::another-bucket/*"}, "Resource", "must name this bucket"),
    ({**PARTNER, "Principal": "*"}, "Principal", "makes the bucket public"),
    ({**PARTNER, "NotPrincipal": {"AWS": "x"}}, "NotPrincipal", "is not a statement key this stack keeps"),
    ({**PARTNER, "Sid": "DenyInsecureTransport"}, "Sid", "must be a text of its own"),
    ({**PARTNER, "Action": "iam:PassRole"}, "Action", "must name S3 actions"),
    ({**PARTNER, "Effect": "Maybe"}, "Effect", "must be Allow or Deny"),
])
def test_fails_a_kept_statement_the_bucket_policy_cannot_hold(statement, key, problem):
    """S3 User Guide, "Blocking public access to your Amazon S3 storage": with BlockPublicPolicy on, "Amazon S3
    rejects calls to PUT Bucket policy if the specified bucket policy allows public access"."""
    found = problems(adopting(keep={"policyStatements": [statement]}))
    assert any(p.startswith(f"app-storage:apps.chat.keep.policyStatements[0].{key}: {problem}") for p in found), found


def test_fails_two_kept_statements_with_one_sid():
    found = problems(adopting(keep={"policyStatements": [PARTNER, PARTNER]}))
    assert any(p.startswith("app-storage:apps.chat.keep.policyStatements[1].Sid:") for p in found)


def test_fails_a_kept_rule_without_an_id_or_with_the_stacks_own():
    """S3 refuses a lifecycle configuration holding two rules with one ID (PutBucketLifecycleConfiguration,
    InvalidArgument "duplicate ID")."""
    found = problems(adopting(keep={"lifecycle": [{"prefix": "tmp/", "expireDays": 7},
                                                  {**KEPT_RULE, "id": "abort-incomplete-multipart-uploads"}]}))
    assert any(p.startswith("app-storage:apps.chat.keep.lifecycle[0].id: must be the rule's id") for p in found)
    assert any(p.startswith("app-storage:apps.chat.keep.lifecycle[1].id: is the id of one of the stack's own rules")
               for p in found)


def test_fails_a_kept_key_that_is_not_a_key_arn():
    found = problems(adopting(keep={"kmsKeyArns": ["alias/old-key"]}))
    assert any(p.startswith("app-storage:apps.chat.keep.kmsKeyArns[0]: is not a KMS key ARN") for p in found)


def test_fails_aws_only_keeps_on_minio():
    values = adopting("dev", keep={"policyStatements": [PARTNER], "kmsKeyArns": [OLD_KEY]})
    with pytest.raises(SettingsError) as raised:
        settings_for(values, "dev")
    assert {p.split(":", 2)[1] for p in raised.value.problems if "applies only to the aws backend" in p} == {
        "apps.chat.keep.policyStatements", "apps.chat.keep.kmsKeyArns"}


def test_a_kept_rule_may_lie_outside_the_apps_areas_where_the_apps_own_may_not():
    settings = settings_for(adopting(keep={"lifecycle": [KEPT_RULE]}), "prod")
    [chat] = [app for app in settings.apps if app.name == "chat"]
    assert [(r.rule_id, r.prefix, r.expire_days) for r in chat.keep.lifecycle] == [("expire-tmp", "tmp/", 7)]
    values = adopting(lifecycle=[{"prefix": "tmp/", "expireDays": 7}])
    assert any("is inside no area of this app" in p for p in problems(values))


def test_adopting_warns_that_replication_copies_new_writes_only():
    """S3 User Guide, "Replicating existing objects with Batch Replication": live replication copies objects
    written after it is configured; existing objects need S3 Batch Replication."""
    settings = settings_for(adopting(), "prod")
    assert any(w.startswith("app-storage:apps.chat.adopt: replication copies new writes only")
               for w in settings.warnings)


# --- the plan ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adopted_plan():
    return plan_of(adopting(keep={"policyStatements": [PARTNER], "lifecycle": [KEPT_RULE], "kmsKeyArns": [OLD_KEY]}))


def test_the_adopted_bucket_is_imported_by_its_name_and_nothing_else_is(adopted_plan):
    imported = [r for r in adopted_plan.resources if "import" in r.options]
    assert [(r.type, r.name, r.options["import"]) for r in imported] == [
        ("aws:s3/bucket:Bucket", "chat-storage-bucket", "chat-system")]
    assert imported[0].options["protect"] and imported[0].options["retainOnDelete"]
    replica = [r for r in adopted_plan.of_type("aws:s3/bucket:Bucket") if r.inputs["bucket"] == "chat-system-replica"]
    assert replica and "import" not in replica[0].options  # the replica is new


def test_the_plan_text_marks_the_adopted_bucket(adopted_plan):
    [line] = [line for line in render_text(adopted_plan).splitlines() if "chat-storage-bucket" in line]
    assert "[adopted: imported, not created, protected, retained on delete]" in line


def test_an_adopted_bucket_stays_protected_where_protect_data_is_off():
    values = adopting("dev")
    values["app-storage:apps"]["chat"]["bucketName"] = "chat-system"
    values.update({"app-storage:protectData": False, "app-storage:forceDestroy": False})
    plan = plan_of(values, "dev")
    [bucket] = [r for r in plan.of_type("minio:index/s3Bucket:S3Bucket") if r.inputs["bucket"] == "chat-system"]
    assert bucket.options["import"] == "chat-system" and bucket.options["protect"]
    others = [r for r in plan.of_type("minio:index/s3Bucket:S3Bucket") if r.inputs["bucket"] != "chat-system"]
    assert others and not any(r.options["protect"] or "import" in r.options for r in others)


def test_what_is_kept_is_declared_beside_the_stacks_own(adopted_plan):
    [policy] = [r for r in adopted_plan.of_type("aws:s3/bucketPolicy:BucketPolicy")
                if r.inputs["bucket"] == "chat-system"]
    statements = policy_document(policy)["Statement"]
    assert statements[0]["Sid"] == "DenyInsecureTransport" and statements[-1] == PARTNER
    [lifecycle] = [r for r in adopted_plan.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
                   if r.inputs["bucket"] == "chat-system"]
    assert {"id": "expire-tmp", "status": "Enabled", "filter": {"prefix": "tmp/"},
            "expiration": {"days": 7}} in lifecycle.inputs["rules"]
    [group_policy] = [r for r in adopted_plan.of_type("aws:iam/groupPolicy:GroupPolicy") if "chat" in r.name]
    [decrypt] = [s for s in policy_document(group_policy)["Statement"] if s["Sid"] == "DecryptWithKeptKeys"]
    assert decrypt["Action"] == ["kms:Decrypt"] and decrypt["Resource"] == [OLD_KEY]


def test_the_change_model_imports_the_adopted_bucket_and_creates_its_siblings():
    without_chat = copy.deepcopy(stack_values("prod"))
    del without_chat["app-storage:apps"]["chat"]
    base = plan_of(without_chat).as_dict()
    result = change.compare(base, plan_of(adopting()).as_dict(), "prod")
    buckets = [(s.op, s.resource.inputs["bucket"]) for s in result.steps if s.resource.type == "aws:s3/bucket:Bucket"]
    assert ("import", "chat-system") in buckets and ("create", "chat-system-replica") in buckets
    assert not [h for h in result.hazards if "chat-system" in h.message and h.kind == "data"]
    assert any(line.split(". ", 1)[-1].startswith("=  import             aws:s3/bucket:Bucket  chat-storage-bucket")
               for line in change.render_change(result, "base.json").splitlines())


# --- the pack ------------------------------------------------------------------------------------------------------


def test_the_pack_judges_a_kept_statement_like_the_stacks_own():
    """A statement the gate lets through (anyone, under a condition that restricts nothing) is still a public allow
    to storage-guard's s3-bucket-policy-no-public-allow, as it would be in the stack's own policy."""
    loose = {**PARTNER, "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"],
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    plan = plan_of(adopting(keep={"policyStatements": [loose]}))
    messages = rule_messages("s3-bucket-policy-no-public-allow", analyzed_stack(plan))
    assert any("PartnerRead" in m and "chat-system" in m for m in messages), messages
    clean = plan_of(adopting(keep={"policyStatements": [PARTNER]}))
    assert not rule_messages("s3-bucket-policy-no-public-allow", analyzed_stack(clean))


def test_the_storage_alarm_counts_the_storage_classes_of_kept_rules():
    """A kept rule that moves objects to GLACIER makes the bucket hold GLACIER bytes: the storage alarm sums them."""
    kept = {**KEPT_RULE, "transitions": [{"days": 1, "storageClass": "GLACIER"}], "expireDays": 30}
    plan = plan_of(adopting(keep={"lifecycle": [kept]}))
    [alarm] = [r for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
               if r.name == "chat-alarms-storage-bytes"]
    assert "GlacierStorage" in json.dumps(alarm.inputs["metricQueries"])
