"""The command-line entry as users run it: `make plan` text, JSON, and config errors (exit 2)."""

from __future__ import annotations

import json

from tests.helpers import run_cli


def test_plan_json_is_only_json_with_the_documented_shape():
    result = run_cli("plan", "--stack", "prod", "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    plan = json.loads(result.stdout)
    assert plan["stack"] == "prod" and set(plan) == {"stack", "warnings", "resources", "outputs", "policy"}
    assert plan["policy"]["summary"].startswith("policy storage-guard") and plan["policy"]["violations"]
    assert plan["warnings"] == []
    resource = plan["resources"][0]
    assert set(resource) == {"urn", "type", "name", "parent", "custom", "inputs", "options", "id"}
    optional = {"aliases", "deleteBeforeReplace", "replaceOnChanges", "ignoreChanges", "replacementTrigger"}
    assert set(resource["options"]) - optional == {"protect", "retainOnDelete", "dependsOn", "provider"}
    [key] = [r for r in plan["resources"] if r["name"] == "chat-identity-access-key"]
    assert key["options"]["deleteBeforeReplace"] is True and key["options"]["replacementTrigger"] == 1
    [bucket] = [r for r in plan["resources"] if r["name"] == "chat-storage-bucket"]
    assert bucket["urn"].endswith("app-storage:index:AppStorage$app-storage:index:SecureBucket$"
                                  "aws:s3/bucket:Bucket::" + bucket["name"])
    assert "forceDestroy" in bucket["inputs"]  # camelCase, as the engine receives it


def test_plan_text_shows_the_tree_and_masked_connections():
    result = run_cli("plan", "--stack", "prod")
    assert result.returncode == 0, result.stderr
    for app in ("eventhorizon", "vista", "chat"):
        assert f"app-storage:index:AppStorage  {app}" in result.stdout
    assert "[protected, retained on delete]" in result.stdout
    assert 'secret_access_key: "[secret]"' in result.stdout


def test_ten_config_mistakes_give_ten_messages_and_exit_2():
    result = run_cli("plan", "--stack", "broken", "--stack-file", "tests/fixtures/Pulumi.ten-mistakes.yaml")
    assert result.returncode == 2
    assert result.stdout == ""
    messages = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(messages) == 10, result.stderr
    assert len({m.split(":", 2)[1] for m in messages}) >= 9  # distinct key paths
    assert "Traceback" not in result.stderr


def test_missing_stack_file_names_the_known_stacks():
    result = run_cli("plan", "--stack", "staging")
    assert result.returncode == 2
    assert "Pulumi.staging.yaml" in result.stderr and "prod" in result.stderr
    assert "Traceback" not in result.stderr


def test_fails_duplicate_app_in_a_stack_file(tmp_path):
    stack_file = tmp_path / "Pulumi.dup.yaml"
    stack_file.write_text("config:\n  app-storage:apps:\n    chat: {}\n    chat: {dialect: s3}\n")
    result = run_cli("plan", "--stack", "dup", "--stack-file", str(stack_file))
    assert result.returncode == 2 and "'chat' appears twice" in result.stderr


def test_plan_dev_shows_the_apps_on_minio_and_warns_about_skipped_features():
    result = run_cli("plan", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for app in ("eventhorizon", "vista", "chat"):
        assert f"app-storage:index:MinioBucket  {app}-storage" in result.stdout
    warnings = result.stdout.split("warnings:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(warnings) == 6 and sum(" skipped on minio for app" in line for line in warnings) == 4
    assert sum("hard quota on minio" in line for line in warnings) == 1
    assert "aws:s3/" not in result.stdout and "aws:iam/" not in result.stdout
