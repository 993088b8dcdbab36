"""MinIO's Prometheus alerting rules (`make alerts`), the bucket quota behind storageBytes, and the gate's warnings.

The rule files are checked by the real `promtool` (Debian's `prometheus` package; `.ci/run` installs it):
`promtool check rules` on the dev stack's file, and `promtool test rules` feeding series that make each alert fire
and stay quiet. Without promtool those tests skip, saying so, except under CI=true, where they fail.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cli.main import main as cli_main
from components.minio import alert_rules as ar
from components.minio.minio_bucket import MinioBucket, MinioBucketArgs
from components.settings.types import ReplicationSettings
from tests.helpers import ROOT, by_kind, plan_program, settings_for, stack_values

STORAGE_BYTES = 1000
REQUESTS_PER_5MIN = 100
APP = "chat"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("promtool is not installed, and CI must run these tests: .ci/run installs it "
                    "(apt-get install prometheus)")
    pytest.skip("promtool is not installed (Debian: apt-get install prometheus); the rules are not checked")


def minio_values(alerts: dict | None = None) -> dict:
    """The dev stack's config with exactly `alerts` (none: no thresholds at all)."""
    values = stack_values("dev")
    values.pop("app-storage:alerts", None)
    if alerts is not None:
        values["app-storage:alerts"] = alerts
    return values


def settings_with_thresholds():
    return settings_for(minio_values({"storageBytes": STORAGE_BYTES, "requestsPer5Min": REQUESTS_PER_5MIN}))


def bucket_of(settings, app: str = APP) -> str:
    [match] = [a for a in settings.apps if a.name == app]
    return match.bucket_name


# --- the quota ------------------------------------------------------------------------------------------------


def test_quota_is_set_only_when_given():
    """pulumi-minio 0.17.1's S3Bucket takes `quota`; terraform-provider-minio v1.20.1 sets it with
    `madmin.HardQuota` (minio/resource_minio_s3_bucket.go, minioUpdateBucket, called by create too)."""
    plan = plan_program(lambda: MinioBucket("media", MinioBucketArgs(bucket_name="acme-media")))
    assert "quota" not in by_kind(plan)["S3Bucket"].inputs
    plan = plan_program(lambda: MinioBucket("media", MinioBucketArgs(bucket_name="acme-media",
                                                                     quota_bytes=50_000_000_000)))
    assert by_kind(plan)["S3Bucket"].inputs["quota"] == 50_000_000_000


def test_quota_below_one_byte_is_refused():
    with pytest.raises(ValueError, match="at least 1 byte"):
        plan_program(lambda: MinioBucket("media", MinioBucketArgs(bucket_name="acme-media", quota_bytes=0)))


def test_storage_bytes_becomes_the_quota_and_the_gate_says_it_refuses_writes():
    settings = settings_for(minio_values({"storageBytes": 50e9}))
    [quota] = [w for w in settings.warnings if w.startswith("storageBytes is the bucket's hard quota on minio")]
    assert "eventhorizon (50000000000 bytes), vista (50000000000 bytes), chat (50000000000 bytes)" in quota
    assert "refuses every write beyond it" in quota
    assert not any("hard quota" in w for w in settings_for(minio_values()).warnings)


def test_emails_and_budgets_are_named_as_not_delivered_on_minio():
    values = minio_values({"emails": ["ops@example.com"], "monthlyBudgetUsd": 50})
    values["app-storage:apps"]["chat"]["alerts"] = {"monthlyBudgetUsd": 10}
    [note] = [w for w in settings_for(values).warnings if "not delivered on minio" in w]
    assert note.startswith("app-storage:alerts.emails, app-storage:alerts.monthlyBudgetUsd, "
                           "app-storage:apps.chat.alerts.monthlyBudgetUsd are not delivered on minio")
    assert "Prometheus rules" in note and "Alertmanager" in note
    assert not any("not delivered" in w for w in settings_for(minio_values()).warnings)


def test_the_dev_stack_bucket_gets_the_quota_of_its_storage_bytes(tmp_path):
    from cli.offline import evaluate_stack

    path = tmp_path / "Pulumi.dev.yaml"
    config = dict(yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"])
    config["app-storage:alerts"] = {"storageBytes": 5000}
    path.write_text(yaml.safe_dump({"config": config}))
    plan = evaluate_stack("dev", stack_file=path)
    quotas = {r.inputs["bucket"]: r.inputs.get("quota") for r in plan.resources
              if r.type == "minio:index/s3Bucket:S3Bucket"}
    assert quotas == {f"app-storage-dev-{app}": 5000 for app in ("eventhorizon", "vista", "chat")}


# --- the rules, without promtool ----------------------------------------------------------------------------


def test_each_rule_has_for_labels_and_annotations():
    rules = ar.alert_rules(settings_with_thresholds())["groups"][0]["rules"]
    assert {r["alert"] for r in rules} == {"MinioBucketStorageNearQuota", "MinioBucketStorageQuotaReached",
                                           "MinioBucketRequestRateHigh", "MinioBucketServerErrors",
                                           "MinioBucketClientErrorSpike"}
    for rule in rules:
        assert rule["for"] and set(rule["labels"]) == {"severity", "app", "bucket", "stack"}
        assert set(rule["annotations"]) == {"summary", "description", "action"}
        assert f'bucket="{rule["labels"]["bucket"]}"' in rule["expr"]


def test_a_threshold_left_out_leaves_its_alert_out_and_aws_stacks_are_refused():
    rules = ar.alert_rules(settings_for(minio_values()))["groups"][0]["rules"]
    assert {r["alert"] for r in rules} == {"MinioBucketServerErrors", "MinioBucketClientErrorSpike"}
    with pytest.raises(ValueError, match="on aws"):
        ar.alert_rules(settings_for(stack_values("prod")))


def test_make_alerts_writes_the_file_and_refuses_an_aws_stack(tmp_path, capsys):
    out = tmp_path / "minio-alerts.yml"
    assert cli_main(["alerts", "--stack", "dev", "--out", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["groups"][0]["name"] == "app-storage-dev-minio"
    assert cli_main(["alerts", "--stack", "prod"]) == 2
    assert "for a minio stack only" in capsys.readouterr().err


# --- promtool ----------------------------------------------------------------------------------------------------


def write_rules(directory: Path, rules: dict) -> Path:
    path = directory / "rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return path


def expected(rules: dict, name: str, bucket: str) -> list[dict]:
    [rule] = [r for r in rules["groups"][0]["rules"] if r["alert"] == name and r["labels"]["bucket"] == bucket]
    return [{"exp_labels": {**rule["labels"], "bucket": bucket}, "exp_annotations": rule["annotations"]}]


def series(metric: str, bucket: str, values: str, **labels: str) -> dict:
    label_text = ",".join(f'{k}="{v}"' for k, v in {"bucket": bucket, "server": "minio-1:9000", **labels}.items())
    return {"series": f"{metric}{{{label_text}}}", "values": values}


def case(name: str, input_series: list[dict], checks: list[tuple[str, str, list[dict]]]) -> dict:
    return {"name": name, "interval": "1m", "input_series": input_series,
            "alert_rule_test": [{"eval_time": t, "alertname": a, "exp_alerts": e} for t, a, e in checks]}


def unit_tests(rules: dict, bucket: str, replicated: bool = False) -> dict:
    """`promtool test rules` cases: each alert fires on series over its threshold and stays quiet under it."""
    def fires(name: str) -> list[dict]:
        return expected(rules, name, bucket)

    api = {"api": "PutObject"}
    tests = [
        case("usage under 80 % of storageBytes: quiet",
             [series(ar.USAGE_BYTES, bucket, "500x40")],
             [("30m", "MinioBucketStorageNearQuota", []), ("30m", "MinioBucketStorageQuotaReached", [])]),
        case("usage over 80 %: near the quota, not at it; not before `for:` has passed",
             [series(ar.USAGE_BYTES, bucket, "900x40")],
             [("10m", "MinioBucketStorageNearQuota", []), ("30m", "MinioBucketStorageNearQuota",
                                                            fires("MinioBucketStorageNearQuota")),
              ("30m", "MinioBucketStorageQuotaReached", [])]),
        case("usage at the quota, on two nodes reporting the same usage: one alert each",
             [series(ar.USAGE_BYTES, bucket, f"{STORAGE_BYTES}x40"),
              series(ar.USAGE_BYTES, bucket, f"{STORAGE_BYTES}x40", server="minio-2:9000")],
             [("30m", "MinioBucketStorageQuotaReached", fires("MinioBucketStorageQuotaReached")),
              ("30m", "MinioBucketStorageNearQuota", fires("MinioBucketStorageNearQuota"))]),
        case("another bucket's usage is not this bucket's",
             [series(ar.USAGE_BYTES, "some-other-bucket", f"{STORAGE_BYTES * 10}x40")],
             [("30m", "MinioBucketStorageQuotaReached", [])]),
        case("requests: 250 per 5 minutes over requestsPer5Min (100), summed over APIs and nodes",
             [series(ar.REQUESTS, bucket, "0+25x40", **api),
              series(ar.REQUESTS, bucket, "0+25x40", api="GetObject", server="minio-2:9000")],
             [("20m", "MinioBucketRequestRateHigh", fires("MinioBucketRequestRateHigh"))]),
        case("requests: 50 per 5 minutes: quiet",
             [series(ar.REQUESTS, bucket, "0+10x40", **api)],
             [("20m", "MinioBucketRequestRateHigh", [])]),
        case("5 % of requests answered 5xx",
             [series(ar.REQUESTS, bucket, "0+100x40", **api), series(ar.ERRORS_5XX, bucket, "0+5x40", **api)],
             [("30m", "MinioBucketServerErrors", fires("MinioBucketServerErrors"))]),
        case("0.5 % of requests answered 5xx: quiet",
             [series(ar.REQUESTS, bucket, "0+1000x40", **api), series(ar.ERRORS_5XX, bucket, "0+5x40", **api)],
             [("30m", "MinioBucketServerErrors", [])]),
        case("30 % of requests answered 4xx",
             [series(ar.REQUESTS, bucket, "0+100x40", **api), series(ar.ERRORS_4XX, bucket, "0+30x40", **api)],
             [("30m", "MinioBucketClientErrorSpike", fires("MinioBucketClientErrorSpike"))]),
        case("5 % answered 4xx: quiet",
             [series(ar.REQUESTS, bucket, "0+100x40", **api), series(ar.ERRORS_4XX, bucket, "0+5x40", **api)],
             [("30m", "MinioBucketClientErrorSpike", [])]),
        case("every request 4xx on a quiet bucket (10 in 5 minutes): quiet",
             [series(ar.REQUESTS, bucket, "0+2x40", **api), series(ar.ERRORS_4XX, bucket, "0+2x40", **api)],
             [("30m", "MinioBucketClientErrorSpike", [])]),
    ]
    if replicated:
        tests += [
            case("objects failing replication",
                 [series(ar.REPLICATION_FAILED, bucket, "0+1x40")],
                 [("20m", "MinioBucketReplicationFailing", fires("MinioBucketReplicationFailing"))]),
            case("no failures: quiet",
                 [series(ar.REPLICATION_FAILED, bucket, "3x40")],
                 [("20m", "MinioBucketReplicationFailing", [])]),
        ]
    return {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests}


def run_promtool(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def promtool_test(promtool: str, directory: Path, rules: dict, bucket: str, replicated: bool = False):
    write_rules(directory, rules)
    (directory / "tests.yml").write_text(yaml.safe_dump(unit_tests(rules, bucket, replicated), sort_keys=False))
    return run_promtool(promtool, "test", "rules", "tests.yml", cwd=directory)


def test_promtool_accepts_the_dev_stacks_rule_file(promtool, tmp_path):
    out = tmp_path / "minio-alerts.yml"
    assert cli_main(["alerts", "--stack", "dev", "--out", str(out)]) == 0
    result = run_promtool(promtool, "check", "rules", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # The dev stack sets storageBytes and requestsPer5Min: five alerts per app, no replication.
    assert f"SUCCESS: {5 * len(stack_values('dev')['app-storage:apps'])} rules found" in result.stdout


def test_promtool_accepts_the_rules_with_every_threshold(promtool, tmp_path):
    settings = dataclasses.replace(settings_with_thresholds(), replication=ReplicationSettings("r", "STANDARD", False))
    path = write_rules(tmp_path, ar.alert_rules(settings))
    result = run_promtool(promtool, "check", "rules", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 18 rules found" in result.stdout  # 3 apps x 6


def test_each_alert_fires_over_its_threshold_and_stays_quiet_under_it(promtool, tmp_path):
    settings = dataclasses.replace(settings_with_thresholds(), replication=ReplicationSettings("r", "STANDARD", False))
    result = promtool_test(promtool, tmp_path, ar.alert_rules(settings), bucket_of(settings), replicated=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def mutated(rules: dict, name: str, old: str, new: str) -> dict:
    copy = yaml.safe_load(yaml.safe_dump(rules))
    for rule in copy["groups"][0]["rules"]:
        if rule["alert"] == name:
            assert old in rule["expr"]
            rule["expr"] = rule["expr"].replace(old, new)
    return copy


@pytest.mark.parametrize(("name", "old", "new"), [
    ("MinioBucketServerErrors", f"> {ar.ERROR_5XX_RATIO}", "> 0.5"),  # a threshold too high: never fires
    ("MinioBucketStorageNearQuota", f"> {int(STORAGE_BYTES * ar.STORAGE_WARN_FRACTION)}", "> 100"),  # too low
    ("MinioBucketRequestRateHigh", ar.REQUESTS, "minio_bucket_request_total"),  # a misspelt metric
    ("MinioBucketClientErrorSpike", "sum by (bucket)", "sum by (api)"),  # loses the bucket label
])
def test_a_broken_threshold_or_expression_fails_the_promtool_tests(promtool, tmp_path, name, old, new):
    settings = settings_with_thresholds()
    rules = mutated(ar.alert_rules(settings), name, old, new)
    result = promtool_test(promtool, tmp_path, rules, bucket_of(settings))
    assert result.returncode != 0
    assert name in result.stdout + result.stderr


def test_promtool_check_refuses_a_broken_expression(promtool, tmp_path):
    rules = mutated(ar.alert_rules(settings_with_thresholds()), "MinioBucketServerErrors", "> 0.01", "> > 0.01")
    path = write_rules(tmp_path, rules)
    result = run_promtool(promtool, "check", "rules", str(path), cwd=tmp_path)
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr
