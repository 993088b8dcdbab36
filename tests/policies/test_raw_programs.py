"""Raw Pulumi programs (plain pulumi-aws resources, not this package's components) as the pack sees them.

tests/fixtures/replicated_program is written the usual Pulumi way: every bucket auto-named (no `bucket` input), each
sibling naming its bucket through `bucket.id`, the replication rule's destination taking `replica.arn`. Its inputs
never name the replica, so the pack can tell the replica from an app bucket only by the replication config's
property dependency of `rules` (issue 19). The compliant program passes; each case mutates one field and fails."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from cli.offline import evaluate_stack
from cli.policy import PACK_DIR, open_pack
from tests.helpers import ROOT, analyzed_stack, pack_config, resource_named, rule_messages, run_cli, set_path

REPLICATED_PROGRAM = ROOT / "tests" / "fixtures" / "replicated_program"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
RULE = "s3-cross-region-replication"


@pytest.fixture(scope="module")
def replicated_plan():
    return evaluate_stack("prod", root=REPLICATED_PROGRAM)


def _config(analyzed: list):
    return next(resource for resource in analyzed if resource.type == REPLICATION)


def _messages(analyzed: list) -> list[str]:
    return rule_messages(RULE, analyzed, pack_config("prod").get(RULE))


def test_a_raw_program_with_an_auto_named_replica_passes_make_policy_in_prod():
    """Issue 19's must-show: `make policy STACK=prod DIR=tests/fixtures/replicated_program`, which runs exactly
    this command, reports no mandatory violation under policies/prod.json (replication required there)."""
    result = run_cli("policy", "--stack", "prod", "--dir", str(REPLICATED_PROGRAM), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["config"] == "policies/prod.json"
    assert [v for v in report["violations"] if v["level"] == "mandatory"] == []
    assert not [v for v in report["violations"] if v["policy"] == RULE]


def test_the_fixture_names_no_bucket_and_the_destination_depends_on_the_replica(replicated_plan):
    """What makes the fixture the issue's case: no bucket has a `bucket` input, the destination is the replica's ARN
    (a value the inputs do not name), and the engine records the replica as a dependency of `rules`, the top-level
    input that holds `rules[*].destination.bucket` (property dependencies are keyed by top-level input name:
    pulumi/pulumi sdk/proto/resource.proto, RegisterResourceRequest.propertyDependencies)."""
    analyzed = analyzed_stack(replicated_plan)
    buckets = [r for r in analyzed if r.type == "aws:s3/bucket:Bucket"]
    assert sorted(b.name for b in buckets) == ["documents", "documents-replica", "logs-us-east-1", "logs-us-west-2"]
    assert all("bucket" not in b.properties for b in buckets)
    replica = resource_named(analyzed, "documents-replica")
    config = _config(analyzed)
    assert config.property_dependencies["bucket"] == [resource_named(analyzed, "documents").urn]
    assert replica.urn in config.property_dependencies["rules"]


def _rules_dependency_removed(analyzed: list) -> None:
    del _config(analyzed).property_dependencies["rules"]


def _destination_elsewhere(analyzed: list) -> None:
    set_path(_config(analyzed).properties, "rules.0.destination.bucket", "arn:aws:s3:::archive-elsewhere")


def _replication_removed(analyzed: list) -> None:
    analyzed.remove(_config(analyzed))


def _replica_named(analyzed: list) -> None:
    """The replica named explicitly, and the destination its ARN: matched by name (the `rules` dependency stays)."""
    resource_named(analyzed, "documents-replica").properties["bucket"] = "documents-replica-named"
    set_path(_config(analyzed).properties, "rules.0.destination.bucket", "arn:aws:s3:::documents-replica-named")


CASES: list[tuple[str, Callable[[list], None] | None, Callable[[list], None], list[str]]] = [
    # (case, prepare, mutate, the buckets then reported)
    ("rules-dependency-removed", None, _rules_dependency_removed, ["documents-replica"]),
    ("replication-removed", None, _replication_removed, ["documents", "documents-replica"]),
    ("named-replica-destination-elsewhere", _replica_named, _destination_elsewhere, ["documents-replica-named"]),
]


@pytest.mark.parametrize("case, prepare, mutate, reported", CASES, ids=[case[0] for case in CASES])
def test_the_compliant_program_passes_and_the_mutation_fails(replicated_plan, case, prepare, mutate, reported):
    """Without the `rules` dependency nothing ties the auto-named replica to the replication config, so it reads as
    an app bucket that must be replicated; without the config neither bucket is replicated; a named bucket that
    `rules` depends on but that no known destination ARN names is not the destination."""
    analyzed = analyzed_stack(replicated_plan)
    if prepare:
        prepare(analyzed)
    assert _messages(analyzed) == [], "the compliant fixture must pass"
    mutate(analyzed)
    messages = _messages(analyzed)
    expected = [f"bucket {name!r}: must be replicated to another region (a BucketReplicationConfig)"
                for name in reported]
    assert sorted(messages) == sorted(expected), messages


def _as_in_a_preview(analyzed: list) -> None:
    """A preview of new buckets: their ids and ARNs are unknown, so is every input built from them."""
    from pulumi.runtime.rpc import UNKNOWN

    for resource in analyzed:
        if resource.type.startswith("aws:s3/bucket") and resource.type != "aws:s3/bucket:Bucket":
            resource.properties["bucket"] = UNKNOWN
    set_path(_config(analyzed).properties, "rules.0.destination.bucket", UNKNOWN)


def test_in_a_preview_the_replica_is_known_by_the_rules_dependency_alone(replicated_plan):
    """`pulumi preview` of the new program knows neither the source's id nor the replica's ARN: the property
    dependencies still tell which bucket each configures, and which one replication writes to."""
    analyzed = analyzed_stack(replicated_plan)
    _as_in_a_preview(analyzed)
    assert _messages(analyzed) == []
    _rules_dependency_removed(analyzed)
    assert _messages(analyzed) == [
        "bucket 'documents-replica': must be replicated to another region (a BucketReplicationConfig)"]


def test_the_replica_is_recognised_through_the_protocol(replicated_plan):
    """The same through the Analyzer protocol: the SDK builds each resource's property dependencies from
    AnalyzeStack's propertyDependencies (pulumi_policy's server), as `pulumi preview --policy-pack` does."""
    analyzed = analyzed_stack(replicated_plan)
    with open_pack(replicated_plan, config_file=PACK_DIR / "prod.json") as pack:
        assert [v for v in pack.analyze(analyzed) if v.level == "mandatory"] == []
        _rules_dependency_removed(analyzed)
        reported = [v for v in pack.analyze(analyzed) if v.policy == RULE]
    assert [(v.level, v.urn) for v in reported] == [("mandatory", resource_named(analyzed, "documents-replica").urn)]


ALARMED = "s3-protected-bucket-alarmed"


def _alarmed_messages(analyzed: list) -> list[str]:
    return rule_messages(ALARMED, analyzed, pack_config("prod").get(ALARMED))


def _without_dependency(name: str, key: str) -> Callable[[list], None]:
    return lambda analyzed: resource_named(analyzed, name).property_dependencies.pop(key)


STORAGE_MISSING = ("bucket 'documents': a protected bucket must have a CloudWatch alarm on its stored bytes (AWS/S3 "
                   "BucketSizeBytes, dimension BucketName) that notifies an SNS topic")
ERRORS_MISSING = ("bucket 'documents': a protected bucket must have a CloudWatch alarm on its server errors (AWS/S3 "
                  "5xxErrors, dimensions BucketName and the FilterId of its request metrics) that notifies an SNS "
                  "topic")
ALARM_CASES: list[tuple[str, Callable[[list], None], list[str]]] = [
    ("storage-alarm-removed", lambda a: a.remove(resource_named(a, "documents-storage-bytes")), [STORAGE_MISSING]),
    ("storage-dependency-removed", _without_dependency("documents-storage-bytes", "dimensions"), [STORAGE_MISSING]),
    ("errors-dependency-removed", _without_dependency("documents-5xx-rate", "metricQueries"), [ERRORS_MISSING]),
    ("request-metrics-removed", lambda a: a.remove(resource_named(a, "documents-request-metrics")), [
        "bucket 'documents': the alarm 'documents-5xx-rate' on its server errors must read the bucket's request "
        "metrics: the bucket declares no request metrics (aws.s3.BucketMetric)"]),
    ("topic-removed", lambda a: props_of(a, "documents-5xx-rate").update(alarmActions=[]), [
        "bucket 'documents': the alarm 'documents-5xx-rate' on its server errors must notify an SNS topic "
        "(alarmActions, with actions enabled)"]),
]


def props_of(analyzed: list, name: str) -> dict:
    return resource_named(analyzed, name).properties


@pytest.mark.parametrize("case, mutate, reported", ALARM_CASES, ids=[case[0] for case in ALARM_CASES])
def test_the_auto_named_bucket_is_alarmed_through_its_dependencies(replicated_plan, case, mutate, reported):
    """The alarms' dimensions take `source.id`, which names no bucket in the inputs: each alarm and the request
    metrics are matched to the source by the dependency of the input that holds them (`dimensions`,
    `metricQueries`, `bucket`). The replica and the log buckets are exempt and stay unreported."""
    analyzed = analyzed_stack(replicated_plan)
    assert _alarmed_messages(analyzed) == [], "the compliant fixture must pass"
    mutate(analyzed)
    assert _alarmed_messages(analyzed) == reported


def test_in_a_preview_the_alarms_are_known_by_their_dependencies(replicated_plan):
    """A preview knows neither the source's id nor the topic's ARN: the rule judges what is known."""
    from pulumi.runtime.rpc import UNKNOWN

    analyzed = analyzed_stack(replicated_plan)
    props_of(analyzed, "documents-request-metrics")["bucket"] = UNKNOWN
    props_of(analyzed, "documents-storage-bytes")["dimensions"]["BucketName"] = UNKNOWN
    for alarm in ("documents-storage-bytes", "documents-5xx-rate"):
        props_of(analyzed, alarm)["alarmActions"] = [UNKNOWN]
    for query in props_of(analyzed, "documents-5xx-rate")["metricQueries"]:
        if "metric" in query:
            query["metric"]["dimensions"]["BucketName"] = UNKNOWN
    assert _alarmed_messages(analyzed) == []
    _without_dependency("documents-5xx-rate", "metricQueries")(analyzed)
    assert _alarmed_messages(analyzed) == [ERRORS_MISSING]
