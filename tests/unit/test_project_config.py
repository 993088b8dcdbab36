"""The engine's project-config rules, as `make plan` reproduces them, and stack files the CLI cannot read.

Source for every rule here: pulumi/pulumi sdk/go/common/workspace/config.go (mergeConfig,
validateStackConfigValue) and project.go (RewriteShorthandConfigValues, ValidateConfigValue,
Project.Validate).
"""

from __future__ import annotations

import pytest
import yaml

from cli.offline import StackFileError, project_config_entries, stack_config_values
from components.settings.schema import CDN_DEFAULTS, MINIO_PROVIDER_DEFAULTS, REPLICATION_DEFAULTS, STACK_DEFAULTS
from tests.helpers import ROOT, run_cli, settings_for, stack_values


def project_with(tmp_path, config_changes: dict, stack_config: dict, stack: str = "t"):
    """A copy of the shipped project whose Pulumi.yaml config has `config_changes`, and one stack file."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    project["config"].update(config_changes)
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": stack_config}))
    return tmp_path


def test_fails_project_key_without_default_that_the_stack_leaves_unset(tmp_path):
    """mergeConfig: a project-namespaced key with a type but no default or value is required of every stack
    ("Stack 'dev' is missing configuration value 'bucketPrefix'")."""
    root = project_with(tmp_path, {"bucketPrefix": {"type": "string"}}, {"aws:region": "us-east-1"})
    with pytest.raises(StackFileError, match="Stack 't' is missing configuration value 'bucketPrefix'"):
        stack_config_values("t", root)


def test_a_required_key_set_by_the_stack_is_fine(tmp_path):
    root = project_with(tmp_path, {"bucketPrefix": {"type": "string"}},
                        {"aws:region": "us-east-1", "app-storage:bucketPrefix": "acme"})
    assert stack_config_values("t", root)[0]["app-storage:bucketPrefix"] == "acme"


def test_shipped_project_requires_nothing_of_a_stack():
    """Every typed key of Pulumi.yaml has a default, so a stack file may leave any of them out."""
    _, entries = project_config_entries(ROOT)
    required = [key for key, entry in entries.items() if "default" not in entry and "value" not in entry]
    assert required == []


@pytest.mark.parametrize("key, value, declared", [
    ("app-storage:versioning", "yes", "boolean"),
    ("app-storage:noncurrentVersionExpirationDays", "ninety", "integer"),
    ("app-storage:encryption", {"kind": "kms"}, "string"),
])
def test_fails_stack_value_of_another_type_than_the_project_declares(tmp_path, key, value, declared):
    """validateStackConfigValue: "Stack 't' with configuration key 'versioning' must be of type 'boolean'"."""
    root = project_with(tmp_path, {}, {"aws:region": "us-east-1", key: value})
    short = key.split(":", 1)[1]
    with pytest.raises(StackFileError, match=f"configuration key '{short}' must be of type '{declared}'"):
        stack_config_values("t", root)


def test_scalars_arrive_as_text_and_pass_their_declared_type(tmp_path):
    """ValidateConfigValue: booleans as "true"/"false" and integers as decimal text are accepted."""
    root = project_with(tmp_path, {}, {"aws:region": "us-east-1", "app-storage:versioning": "false",
                                       "app-storage:noncurrentVersionExpirationDays": "30"})
    values, _ = stack_config_values("t", root)
    assert values["app-storage:versioning"] == "false"


def test_fails_a_project_default_of_the_wrong_type(tmp_path):
    """Project.Validate: "The default value specified for configuration key ... is not of the expected type"."""
    root = project_with(tmp_path, {"versioning": {"type": "boolean", "default": "maybe"}}, {})
    with pytest.raises(StackFileError, match="default value specified for configuration key 'versioning'"):
        stack_config_values("t", root)


def test_project_defaults_reach_the_program_as_the_cli_applies_them():
    values, _ = stack_config_values("prod", ROOT)
    assert values["app-storage:protectData"] is True and values["app-storage:bucketPrefix"] == ""


def test_empty_bucket_prefix_derives_project_and_stack_not_the_bare_app_name():
    settings = settings_for({**stack_values("prod"), "app-storage:bucketPrefix": ""}, stack="prod")
    assert {app.bucket_name for app in settings.apps} == {
        "app-storage-prod-eventhorizon", "app-storage-prod-vista", "app-storage-prod-chat"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_set_nothing_they_do_not_need(stack):
    """A stack file states only what differs from the documented defaults."""
    stack_file = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    defaults = {f"app-storage:{key}": value for key, value in STACK_DEFAULTS.items()}
    defaults.update({f"minio:{key}": value for key, value in MINIO_PROVIDER_DEFAULTS.items()})
    redundant = [key for key, value in stack_file.items() if key in defaults and defaults[key] == value]
    nested = {"app-storage:replication": REPLICATION_DEFAULTS, "app-storage:cdn": CDN_DEFAULTS}
    redundant += [f"{key}.{name}" for key, table in nested.items() for name, value in stack_file.get(key, {}).items()
                  if name in table and table[name] == value and name != "enabled"]
    assert redundant == []


@pytest.mark.parametrize("text, expected", [
    ("- a\n- b\n", "must be a map with a `config:` section"),
    ("config:\n  app-storage:apps: &a [*a]\n", "refers to the value that contains it"),
])
def test_fails_odd_stack_files_with_one_message_and_exit_2(tmp_path, text, expected):
    stack_file = tmp_path / "Pulumi.odd.yaml"
    stack_file.write_text(text)
    result = run_cli("plan", "--stack", "odd", "--stack-file", str(stack_file))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stderr and "Pulumi.odd.yaml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_plan_exits_2_where_pulumi_up_refuses_the_project_config(tmp_path):
    stack_file = tmp_path / "Pulumi.t.yaml"
    stack_file.write_text("config:\n  aws:region: us-east-1\n  app-storage:versioning: sometimes\n")
    result = run_cli("plan", "--stack", "t", "--stack-file", str(stack_file))
    assert result.returncode == 2 and result.stdout == ""
    assert "Stack 't' with configuration key 'versioning' must be of type 'boolean'" in result.stderr
    assert "Traceback" not in result.stderr
