"""The policy runner's model of the engine: what it sends the pack, and how it reads the pack config
(pulumi/pulumi pkg/resource/plugin/analyzer_plugin.go, pkg/resource/analyzer/config.go,
pkg/resource/deploy/providers/provider.go DefaultName, pkg/resource/deploy/target.go GetPackageConfig)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime import rpc

from cli.policy import PolicyError, _default_provider_name, analyzed_resources, parse_pack_config
from tests.helpers import plan_program, run_cli


def test_every_resource_runs_on_its_packages_default_provider_with_the_stack_config(prod_plan, dev_plan):
    """The engine registers one default provider per package and version, named default_<major>_<minor>_<patch>,
    whose inputs are the stack config of that package's namespace plus `version`."""
    prod = {r.urn: r for r in analyzed_resources(prod_plan)}
    aws_provider = prod["urn:pulumi:prod::app-storage::pulumi:providers:aws::default_7_51_1"]
    assert aws_provider.properties == {"region": "us-east-1", "version": "7.51.1"}
    assert all(r.provider == aws_provider.urn for r in prod.values() if r.type.startswith("aws:"))
    assert not [r for r in prod.values() if not r.custom and r.provider]
    dev = {r.urn: r for r in analyzed_resources(dev_plan)}
    minio_provider = dev["urn:pulumi:dev::app-storage::pulumi:providers:minio::default_0_17_1"]
    assert minio_provider.properties["minioServer"] == "localhost:9000"


def test_the_stack_is_analyzed_and_parents_every_top_level_resource(prod_plan):
    analyzed = analyzed_resources(prod_plan)
    stack = analyzed[0]
    assert stack.type == "pulumi:pulumi:Stack" and stack.name == "app-storage-prod"
    assert all(r.parent for r in analyzed[1:] if not r.type.startswith("pulumi:providers:"))


def test_secret_inputs_reach_the_pack_in_the_engines_secret_envelope():
    def program():
        aws.s3.BucketObject("note", bucket="b", key="k", content=pulumi.Output.secret("hush"))
    plan = plan_program(program)
    note = next(r for r in analyzed_resources(plan) if r.name == "note")
    assert note.properties["content"] == {rpc._special_sig_key: rpc._special_secret_sig, "value": "hush"}
    assert note.properties["bucket"] == "b"


@pytest.mark.parametrize("version, name", [("7.51.1", "default_7_51_1"), ("1.2.3-alpha.1", "default_1_2_3_alpha_1"),
                                           ("", "default")])
def test_default_provider_names(version, name):
    assert _default_provider_name(version) == name


def test_pack_config_reads_as_the_engine_reads_it():
    config = parse_pack_config('{"all": "advisory", "a": {"enforcementLevel": "mandatory", "x": 1}, "b": {},'
                               ' "environments": ["team/env"]}', "t.json")
    assert config == {"all": {"level": "advisory", "properties": {}},
                      "a": {"level": "mandatory", "properties": {"x": 1}}}
    assert parse_pack_config("  ", "t.json") == {}
    for bad in ('["a"]', '{"a": 3}', '{"a": {"enforcementLevel": 1}}', '{"environments": "x"}'):
        with pytest.raises(PolicyError):
            parse_pack_config(bad, "t.json")


def test_the_plan_shows_the_policy_summary():
    result = run_cli("plan", "--stack", "prod")
    assert result.returncode == 0, result.stderr
    assert "policy storage-guard 0.1.0, config policies/prod.json: 0 mandatory" in result.stdout
