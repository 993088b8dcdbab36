"""`make env`: an app's `.env` from the stack outputs, merged, 0600; clear errors that leave the file alone."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest
from dotenv import dotenv_values

from cli.stack_outputs import app_names, connection_of
from components.dialects import render_env
from tests.helpers import ROOT, run_cli

CHAT_KEYS = {"OBJECT_STORAGE_ENABLED", "OBJECT_STORAGE_PROVIDER", "OBJECT_STORAGE_BUCKET",
             "OBJECT_STORAGE_ACCESS_KEY", "OBJECT_STORAGE_SECRET_KEY", "OBJECT_STORAGE_REGION"}


def make(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-C", str(ROOT), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def plan_files(tmp_path_factory, prod_plan, shown_plans) -> dict:
    """Offline plans of prod as `make -s plan FORMAT=json` writes them, with and without secrets shown."""
    directory = tmp_path_factory.mktemp("plans")
    files = {"shown": directory / "prod-shown.json", "masked": directory / "prod-masked.json"}
    files["shown"].write_text(json.dumps(shown_plans["prod"].as_dict()))
    files["masked"].write_text(json.dumps(prod_plan.as_dict()))
    return files


def test_make_env_from_an_offline_plan_writes_0600_and_keeps_the_files_other_lines(tmp_path):
    plan = make("plan", "STACK=prod", "FORMAT=json", "SHOW_SECRETS=1", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    (tmp_path / "o.json").write_text(plan.stdout)
    chat_env = json.loads(plan.stdout)["outputs"]["chat_env"]

    first = make("env", "STACK=prod", "APP=chat", f"FROM={tmp_path / 'o.json'}", f"OUT={tmp_path / 'x.env'}",
                 cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    written = tmp_path / "x.env"
    assert mode(written) == 0o600
    assert dotenv_values(written) == chat_env and set(chat_env) == CHAT_KEYS
    assert chat_env["OBJECT_STORAGE_SECRET_KEY"] not in first.stdout + first.stderr

    existing = tmp_path / "y.env"
    existing.write_text("# the app's own settings\nDATABASE_URL=postgres://chat@db:5432/chat\n")
    second = make("env", "STACK=prod", "APP=chat", f"FROM={tmp_path / 'o.json'}", f"OUT={existing}", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    text = existing.read_text()
    assert text.startswith("# the app's own settings\nDATABASE_URL=postgres://chat@db:5432/chat\n")
    assert dotenv_values(existing) == {"DATABASE_URL": "postgres://chat@db:5432/chat", **chat_env}
    assert "# app-storage: app chat, stack prod, object-storage dialect" in text
    assert mode(existing) == 0o600


def test_env_output_is_the_dialect_rendering_of_the_connection_and_masked_unless_shown(plan_files):
    shown = json.loads(plan_files["shown"].read_text())["outputs"]
    masked = json.loads(plan_files["masked"].read_text())["outputs"]
    for app in app_names(shown):
        assert shown[f"{app}_env"] == render_env(shown[app]["dialect"], connection_of(shown, app))
        assert masked[f"{app}_env"] == "[secret]"
    assert {app: shown[app]["dialect"] for app in app_names(shown)} == {
        "eventhorizon": "django", "vista": "s3", "chat": "object-storage"}


def test_plan_text_shows_each_apps_env_with_the_secret_masked():
    result = run_cli("plan", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert ".env (django):" in result.stdout and ".env (s3):" in result.stdout
    assert "AWS_SECRET_ACCESS_KEY=[secret]" in result.stdout and "S3_SECRET_KEY=[secret]" in result.stdout
    assert "S3_ENDPOINT=localhost:9000" in result.stdout
    assert "mock-secret" not in result.stdout


def test_dialect_override_renders_other_names(plan_files, tmp_path):
    out = tmp_path / ".env"
    result = run_cli("env", "--stack", "prod", "--app", "chat", "--dialect", "aws-sdk",
                     "--from", str(plan_files["shown"]), "--out", str(out))
    assert result.returncode == 0, result.stderr
    values = dotenv_values(out)
    assert set(values) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION",
                           "AWS_S3_BUCKET"}
    assert values["AWS_S3_BUCKET"] == "app-storage-prod-chat"


def test_dry_run_prints_the_change_with_the_secret_masked_and_writes_nothing(plan_files, tmp_path):
    out = tmp_path / ".env"
    out.write_text("DEBUG=1\nOBJECT_STORAGE_BUCKET=old\n")
    result = run_cli("env", "--stack", "prod", "--app", "chat", "--from", str(plan_files["shown"]),
                     "--out", str(out), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert out.read_text() == "DEBUG=1\nOBJECT_STORAGE_BUCKET=old\n"
    assert "would write" in result.stdout
    assert "changed    OBJECT_STORAGE_BUCKET=app-storage-prod-chat" in result.stdout
    assert "added      OBJECT_STORAGE_SECRET_KEY=[secret]" in result.stdout
    assert "mock-secret" not in result.stdout


# Each case: the `env` arguments (given the plan files and a scratch directory) and the message expected.
FAILURES = {
    "unknown app": (lambda plans, d: ["--stack", "prod", "--app", "billing", "--from", plans["shown"]],
                    "no app 'billing' in the outputs of stack prod; it has: chat, eventhorizon, vista"),
    "no app": (lambda plans, d: ["--stack", "prod", "--from", plans["shown"]],
               "no app given: set APP=<app>; stack prod has: chat, eventhorizon, vista"),
    "unknown dialect": (lambda plans, d: ["--stack", "prod", "--app", "chat", "--dialect", "rails",
                                          "--from", plans["shown"]],
                        "unknown dialect 'rails'; use one of: django, s3"),
    "masked outputs": (lambda plans, d: ["--stack", "prod", "--app", "chat", "--from", plans["masked"]],
                       "the outputs of app 'chat' are masked ([secret])"),
    "missing file": (lambda plans, d: ["--stack", "prod", "--app", "chat", "--from", d / "missing.json"],
                     "missing.json: no such file"),
    "not JSON": (lambda plans, d: ["--stack", "prod", "--app", "chat", "--from", d / "notes.txt"],
                 "not a JSON document of stack outputs"),
    "outputs of an older version": (lambda plans, d: ["--stack", "prod", "--app", "chat", "--from", d / "old.json"],
                                    "output 'chat' of stack prod has no connection backend; run `pulumi up -s prod`"),
    "plan of another stack": (lambda plans, d: ["--stack", "dev", "--app", "chat", "--from", plans["shown"]],
                              "is the plan of stack 'prod', not 'dev'; set STACK=prod"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_fails_clearly_and_leaves_the_file_untouched(plan_files, tmp_path, case):
    arguments, message = FAILURES[case]
    out = tmp_path / ".env"
    out.write_text("KEEP=me\n")
    out.chmod(0o640)
    (tmp_path / "notes.txt").write_text("stack outputs: none")
    shown = json.loads(plan_files["shown"].read_text())["outputs"]
    del shown["chat"]["connection"]["backend"]
    (tmp_path / "old.json").write_text(json.dumps(shown))
    result = run_cli("env", "--out", str(out), *map(str, arguments(plan_files, tmp_path)))
    assert result.returncode == 2
    assert message in result.stderr
    assert f"{out} was left untouched" in result.stderr and "Traceback" not in result.stderr
    assert out.read_text() == "KEEP=me\n" and mode(out) == 0o640


@pytest.mark.skipif(shutil.which("pulumi") is not None,
                    reason="the Pulumi CLI is installed here; this checks the message given without it")
def test_fails_without_the_pulumi_cli_by_pointing_at_an_offline_file(tmp_path):
    result = run_cli("env", "--stack", "prod", "--app", "chat", "--out", str(tmp_path / ".env"))
    assert result.returncode == 2
    assert "the Pulumi CLI is not installed here" in result.stderr
    assert "make -s plan STACK=prod FORMAT=json SHOW_SECRETS=1 > o.json" in result.stderr
    assert not (tmp_path / ".env").exists()


def fake_pulumi(directory, outputs_file, exit_code: int = 0) -> dict:
    """A `pulumi` on PATH that prints `outputs_file` as `pulumi stack output --json --show-secrets` would, and
    logs its arguments; the environment to run the CLI with."""
    bin_dir = directory / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(f'#!/bin/sh\necho "$@" > "{directory}/pulumi-args"\ncat "{outputs_file}"\nexit {exit_code}\n')
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def test_reads_the_outputs_through_the_pulumi_cli_with_secrets_shown(plan_files, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(json.loads(plan_files["shown"].read_text())["outputs"]))
    result = run_cli("env", "--stack", "prod", "--app", "chat", "--out", str(tmp_path / ".env"),
                     env=fake_pulumi(tmp_path, outputs))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pulumi-args").read_text().split() == [
        "stack", "output", "--json", "--show-secrets", "--stack", "prod"]
    assert dotenv_values(tmp_path / ".env")["OBJECT_STORAGE_BUCKET"] == "app-storage-prod-chat"


def test_a_failing_pulumi_cli_is_reported_without_what_it_printed_on_stdout(plan_files, tmp_path):
    result = run_cli("env", "--stack", "prod", "--app", "chat", "--out", str(tmp_path / ".env"),
                     env=fake_pulumi(tmp_path, plan_files["shown"], exit_code=255))
    assert result.returncode == 2
    assert "--show-secrets --stack prod` failed: exit 255" in result.stderr
    assert "mock-secret" not in result.stdout + result.stderr
    assert not (tmp_path / ".env").exists()


def test_reads_pulumi_stack_output_json_as_well(plan_files, tmp_path):
    """What `pulumi stack output --json --show-secrets` prints: the apps at the top level."""
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(json.loads(plan_files["shown"].read_text())["outputs"]))
    result = run_cli("env", "--stack", "prod", "--app", "vista", "--from", str(outputs),
                     "--out", str(tmp_path / ".env"))
    assert result.returncode == 0, result.stderr
    assert dotenv_values(tmp_path / ".env")["S3_BUCKET"] == "app-storage-prod-vista"


def test_reads_the_outputs_of_an_older_version_that_kept_the_secret_inside_the_connection(plan_files, tmp_path):
    """Before the secrets became outputs of their own, `<app>.connection.secret_access_key` held the key."""
    shown = json.loads(plan_files["shown"].read_text())["outputs"]
    older = {"vista": {**shown["vista"], "connection": {**shown["vista"]["connection"],
                                                        "secret_access_key": shown["vista_secret_access_key"]}}}
    outputs = tmp_path / "older.json"
    outputs.write_text(json.dumps(older))
    result = run_cli("env", "--stack", "prod", "--app", "vista", "--from", str(outputs),
                     "--out", str(tmp_path / ".env"))
    assert result.returncode == 0, result.stderr
    assert dotenv_values(tmp_path / ".env")["S3_SECRET_KEY"] == shown["vista_secret_access_key"]


def test_make_env_keeps_a_multi_line_value_byte_identical_and_writes_through_a_symlink(plan_files, tmp_path):
    multi_line = 'APP_KEY="-----BEGIN KEY-----\nOBJECT_STORAGE_BUCKET=inside-the-value\n-----END KEY-----"\n'
    target = tmp_path / ".env.local"
    target.write_text("DEBUG=1\n" + multi_line + "TAIL=x\n")
    (tmp_path / ".env").symlink_to(".env.local")
    result = run_cli("env", "--stack", "prod", "--app", "chat", "--from", str(plan_files["shown"]),
                     "--out", str(tmp_path / ".env"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".env").is_symlink()
    text = target.read_text()
    assert text.startswith("DEBUG=1\n" + multi_line + "TAIL=x\n")
    values = dotenv_values(tmp_path / ".env")
    assert values["APP_KEY"].splitlines()[1] == "OBJECT_STORAGE_BUCKET=inside-the-value"
    assert values["OBJECT_STORAGE_BUCKET"] == "app-storage-prod-chat"


def test_make_env_names_the_sigv4_fix_where_the_dialect_cannot_carry_it(plan_files, tmp_path):
    chat = run_cli("env", "--stack", "prod", "--app", "chat", "--from", str(plan_files["shown"]),
                   "--out", str(tmp_path / "chat.env"))
    assert chat.returncode == 0, chat.stderr
    assert 'note: boto3 signs presigned URLs with SigV2' in chat.stdout
    assert 'Config(signature_version="s3v4")' in chat.stdout
    vista = run_cli("env", "--stack", "prod", "--app", "vista", "--from", str(plan_files["shown"]),
                    "--out", str(tmp_path / "vista.env"))
    assert vista.returncode == 0 and "note:" not in vista.stdout
