"""The pack driven exactly as `pulumi preview --policy-pack policies` drives it: launched the way the Python
language host launches a pack, then Handshake, ConfigureStack, GetAnalyzerInfo, Configure (policies/prod.json,
reconciled and validated against each policy's schema), Analyze per resource and AnalyzeStack over gRPC."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from cli.policy import PACK_DIR, PolicyError, open_pack, parse_pack_config, reconcile_pack_config
from policies.rules import RULES
from tests.helpers import ROOT, analyzed_stack, resource_named, run_cli
from tests.policies.cases import CASES, props

INSECURE_PROGRAM = ROOT / "tests" / "fixtures" / "insecure_program"


@pytest.fixture(scope="module")
def prod_pack(prod_plan):
    with open_pack(prod_plan, config_file=PACK_DIR / "prod.json") as session:
        yield session


@pytest.fixture(scope="module")
def stacks(prod_plan, dev_plan):
    return {"prod": prod_plan, "dev": dev_plan}


def test_the_pack_describes_every_rule_with_its_level_severity_and_remediation(prod_pack):
    described = {policy.name: policy for policy in prod_pack.info.policies}
    assert sorted(described) == sorted(rule.name for rule in RULES)
    assert prod_pack.info.name == "storage-guard" and prod_pack.info.supportsConfig
    for rule in RULES:
        assert described[rule.name].description.startswith("Checks whether ")
        assert described[rule.name].remediation_steps == rule.remediation
        assert described[rule.name].severity, rule.name


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_each_mutation_fails_through_the_protocol(prod_pack, stacks, case):
    """(That each compliant fixture passes is checked in-process, case by case, in test_rules.py; through the
    protocol the shipped stacks' own passes are checked below.)"""
    analyzed = analyzed_stack(stacks[case.stack])
    if case.prepare:
        case.prepare(analyzed)
    case.mutate(analyzed)
    reported = [v for v in prod_pack.analyze(analyzed) if v.policy == case.rule]
    assert any(case.expect in v.message for v in reported), reported
    assert all(v.remediation for v in reported)


def test_a_reasoned_tag_waives_the_violation_and_reports_it(prod_pack, prod_plan):
    analyzed = analyzed_stack(prod_plan)
    props(analyzed, "chat-storage-versioning")["versioningConfiguration"]["status"] = "Suspended"
    tags = props(analyzed, "chat-storage-bucket")["tags"]
    tags["policy-exception:s3-versioning-enabled"] = "audit log, WORM elsewhere"
    violations = prod_pack.analyze(analyzed)
    assert not [v for v in violations if v.policy == "s3-versioning-enabled"]
    notes = [v for v in violations if v.policy == "waived-stack-violations"]
    assert len(notes) == 1 and notes[0].level == "advisory"
    assert "audit log, WORM elsewhere" in notes[0].message and "versioning must be Enabled" in notes[0].message
    assert notes[0].urn == resource_named(analyzed, "chat-storage-versioning").urn


def test_a_tag_without_reason_waives_nothing_and_is_itself_a_violation(prod_pack, prod_plan):
    analyzed = analyzed_stack(prod_plan)
    props(analyzed, "chat-storage-versioning")["versioningConfiguration"]["status"] = "Suspended"
    props(analyzed, "chat-storage-bucket")["tags"]["policy-exception:s3-versioning-enabled"] = " "
    mandatory = {v.policy: v for v in prod_pack.analyze(analyzed) if v.level == "mandatory"}
    assert "gives no reason, so it does not apply" in mandatory["s3-versioning-enabled"].message
    assert "must give the reason" in mandatory["policy-exception-has-reason"].message


def _config_file(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(config))
    return path


def test_a_config_exception_with_reason_waives_by_bucket_name(prod_plan, tmp_path):
    config = {**json.loads((PACK_DIR / "prod.json").read_text()), "s3-versioning-enabled": {
        "exceptions": [{"resource": "app-storage-prod-chat", "reason": "scratch data, rebuilt nightly"}]}}
    analyzed = analyzed_stack(prod_plan)
    props(analyzed, "chat-storage-versioning")["versioningConfiguration"]["status"] = "Suspended"
    with open_pack(prod_plan, config_file=_config_file(tmp_path, config)) as pack:
        violations = pack.analyze(analyzed)
    assert not [v for v in violations if v.level == "mandatory"]
    assert any("scratch data, rebuilt nightly" in v.message for v in violations if v.policy.startswith("waived"))


@pytest.mark.parametrize("exception, expected", [
    ({"resource": "app-storage-prod-chat"}, "'reason' is a required property"),
    ({"resource": "app-storage-prod-chat", "reason": ""}, "should be non-empty"),
])
def test_a_config_exception_without_reason_is_refused_before_analysis(prod_pack, exception, expected):
    """The engine validates the pack config against each policy's schema before Configure: such a config stops
    `pulumi preview` (and `make policy`, exit 2)."""
    with pytest.raises(PolicyError, match="s3-versioning-enabled: exceptions/0") as raised:
        reconcile_pack_config(prod_pack.info, parse_pack_config(json.dumps(
            {"s3-versioning-enabled": {"exceptions": [exception]}}), "t.json"))
    assert expected in str(raised.value)


def test_levels_come_from_the_config(prod_plan, tmp_path):
    analyzed = analyzed_stack(prod_plan)
    props(analyzed, "chat-storage-versioning")["versioningConfiguration"]["status"] = "Suspended"
    levels = {}
    for name, config in (("dev", PACK_DIR / "dev.json"),
                         ("disabled", _config_file(tmp_path, {"s3-versioning-enabled": "disabled"})),
                         ("built-in", None)):
        with open_pack(prod_plan, config_file=config) as pack:
            levels[name] = {v.level for v in pack.analyze(analyzed) if v.policy == "s3-versioning-enabled"}
    assert levels == {"dev": {"advisory"}, "disabled": set(), "built-in": {"mandatory"}}


def test_the_shipped_stacks_have_no_mandatory_violation():
    for stack in ("prod", "dev"):
        result = run_cli("policy", "--stack", stack)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"config policies/{stack}.json: 0 mandatory" in result.stdout


def test_versioning_off_and_any_origin_fail_naming_both_rules(tmp_path):
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(textwrap.dedent("""\
        config:
          aws:region: us-east-1
          app-storage:encryption: kms
          app-storage:versioning: false
          app-storage:cdn: {enabled: true}
          app-storage:apps:
            chat:
              areas: {uploads: {access: private}}
              cors: [{origins: ["*"], allowAnyOrigin: true, methods: [GET, PUT]}]
        """))
    result = run_cli("policy", "--stack", "prod", "--stack-file", str(stack_file))
    assert result.returncode == 1, result.stderr
    assert "[mandatory] s3-versioning-enabled" in result.stdout
    assert "[mandatory] s3-cors-no-wildcard-origin" in result.stdout


EXPECTED_IN_INSECURE_PROGRAM = sorted(
    rule.name for rule in RULES)


def test_a_raw_insecure_program_breaks_each_rule():
    result = run_cli("policy", "--stack", "prod", "--dir", str(INSECURE_PROGRAM), "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert sorted({v["policy"] for v in report["violations"]}) == EXPECTED_IN_INSECURE_PROGRAM


@pytest.mark.parametrize("content, expected", [
    ("{not json", "not JSON"),
    ('{"s3-versioning-enabled": "loud"}', "'loud' is not a valid enforcement level"),
    ('{"kms-deletion-window": {"minimumDays": 3}}', "kms-deletion-window: minimumDays: 3 is less than the minimum"),
])
def test_bad_pack_config_exits_2_with_one_line(tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run_cli("policy", "--stack", "prod", "--config", str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_pack_that_fails_to_start_exits_2_with_its_error(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(PACK_DIR, pack, ignore=shutil.ignore_patterns("__pycache__"))
    (pack / "__main__.py").write_text("raise RuntimeError('the pack cannot start')\n")
    result = run_cli("policy", "--stack", "prod", "--pack", str(pack))
    assert result.returncode == 2
    assert "failed to start" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_readme_rule_table_is_the_pack(prod_pack):
    """Each rule once in the README's table, with its controls and its level under each shipped config."""
    readme = (ROOT / "README.md").read_text().split("## Policy as code", 1)[1].split("\n## ", 1)[0]
    rows = {cells[1].strip("` "): [c.strip() for c in cells[2:6]]
            for line in readme.splitlines() if line.startswith("| `")
            for cells in [line.split("|")]}
    levels = {stack: reconcile_pack_config(prod_pack.info, parse_pack_config((PACK_DIR / f"{stack}.json").read_text(),
                                                                             stack)) for stack in ("prod", "dev")}
    assert sorted(rows) == sorted(rule.name for rule in RULES)
    for rule in RULES:
        description, controls, prod, dev = rows[rule.name]
        assert description == rule.description.removeprefix("Checks whether "), rule.name
        assert controls == (", ".join(rule.controls) or "—"), rule.name
        assert (prod, dev) == (levels["prod"][rule.name]["level"], levels["dev"][rule.name]["level"]), rule.name
