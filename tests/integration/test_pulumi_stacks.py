"""The shipped stacks through the Automation API and the real Pulumi CLI, with a throwaway local backend.

- prod: `pulumi preview` against real AWS (nothing is created), where the CLI and AWS credentials exist.
- dev: `pulumi up` and `destroy` on a local MinIO (compose.yaml), where the CLI, MINIO_USER/MINIO_PASSWORD
  and a server on localhost:9000 exist; the app keys are then tried with boto3, and VISTA's `.env`, written
  by `make env` from `pulumi stack output`, with minio-py.
- verify: `pulumi up` the dev stack on the MinIO that APP_STORAGE_MINIO_ENDPOINT names (host:port, default
  localhost:9000), and a prod-shaped stack (data unprotected, so it can be destroyed) where AWS credentials exist;
  each app's `.env` written by `make env`, then `make verify` on it, then destroy.
Elsewhere each test skips and says which is missing.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys

import pytest

from cli.offline import evaluate_stack
from tests.helpers import ROOT


def _local_minio_listening() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 9000), timeout=1):
            return True
    except OSError:
        return False


needs_cli = pytest.mark.skipif(shutil.which("pulumi") is None,
                               reason="needs the Pulumi CLI on PATH (no registry here ships it); "
                                      "the offline plan covers the same program under mocks")
needs_aws = pytest.mark.skipif(not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")),
                               reason="needs AWS credentials (AWS_ACCESS_KEY_ID or AWS_PROFILE) for the provider")
needs_minio = pytest.mark.skipif(
    not (os.environ.get("MINIO_USER") and os.environ.get("MINIO_PASSWORD") and _local_minio_listening()),
    reason="needs a MinIO on localhost:9000 (`docker compose up -d`) and MINIO_USER/MINIO_PASSWORD exported")


def _backend_env(tmp_path) -> dict:
    return {"PULUMI_BACKEND_URL": f"file://{tmp_path}", "PULUMI_CONFIG_PASSPHRASE": "integration-test-only"}


def _stack(name: str, tmp_path):
    from pulumi import automation

    options = automation.LocalWorkspaceOptions(env_vars=_backend_env(tmp_path))
    return automation.create_or_select_stack(name, work_dir=str(ROOT), opts=options)


def _remove(stack) -> None:
    # preserve_config: `stack rm` would otherwise delete the shipped Pulumi.<stack>.yaml.
    stack.workspace.remove_stack(stack.name, force=True, preserve_config=True)


MINIO_ENDPOINT = os.environ.get("APP_STORAGE_MINIO_ENDPOINT", "localhost:9000")


def _minio_listening(endpoint: str = MINIO_ENDPOINT) -> bool:
    host, _, port = endpoint.rpartition(":")
    try:
        with socket.create_connection((host or "localhost", int(port or 9000)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


needs_minio_endpoint = pytest.mark.skipif(
    not (os.environ.get("MINIO_USER") and os.environ.get("MINIO_PASSWORD") and _minio_listening()),
    reason=f"needs a MinIO at APP_STORAGE_MINIO_ENDPOINT ({MINIO_ENDPOINT}) and MINIO_USER/MINIO_PASSWORD exported")


def _every_app_env_verifies(stack_name: str, apps: list[str], tmp_path) -> None:
    """`make env` then `make verify` for each app, from the stack's own outputs (the Pulumi CLI)."""
    environment = {**os.environ, **_backend_env(tmp_path)}
    for app in apps:
        env_file = tmp_path / f"{app}.env"
        written = subprocess.run([sys.executable, "-m", "cli", "env", "--stack", stack_name, "--app", app, "--out",
                                  str(env_file)], cwd=ROOT, env=environment, capture_output=True, text=True,
                                 timeout=120)
        assert written.returncode == 0, written.stderr
        # The replication check's bound stays under the subprocess's, so a slow replica fails the check, not the run.
        checked = subprocess.run([sys.executable, "-m", "cli", "verify", "--env", str(env_file), "--stack",
                                  stack_name, "--json", "--replication-timeout", "240"], cwd=ROOT, env=environment,
                                 capture_output=True, text=True, timeout=300)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _scratch_stack(base: str, settings: dict[str, str], tmp_path):
    """A throwaway stack shaped like `base`: a copy of its stack file with `settings` replaced or added (the
    shipped files are never written), removed with its file afterwards."""
    name = f"it-{base}-{os.getpid()}"
    lines = [line for line in (ROOT / f"Pulumi.{base}.yaml").read_text().splitlines()
             if not any(line.strip().startswith(f"{key}:") for key in settings)]
    lines += [f"  {key}: {value}" for key, value in settings.items()]
    (ROOT / f"Pulumi.{name}.yaml").write_text("\n".join(lines) + "\n")
    return name, _stack(name, tmp_path)


def _destroy(stack) -> None:
    try:
        stack.destroy()
    finally:
        stack.workspace.remove_stack(stack.name, force=True)
        (ROOT / f"Pulumi.{stack.name}.yaml").unlink(missing_ok=True)


@needs_minio_endpoint
@needs_cli
def test_dev_up_then_make_verify_passes_for_every_app(tmp_path):
    name, stack = _scratch_stack("dev", {"minio:minioServer": MINIO_ENDPOINT,
                                         "app-storage:bucketPrefix": f"app-storage-it-{os.getpid()}"}, tmp_path)
    try:
        stack.up()
        _every_app_env_verifies(name, sorted(evaluate_stack("dev").outputs), tmp_path)
    finally:
        _destroy(stack)


@needs_aws
@needs_cli
def test_prod_shaped_up_then_make_verify_passes_for_every_app(tmp_path):
    name, stack = _scratch_stack("prod", {"app-storage:protectData": "false", "app-storage:forceDestroy": "true",
                                          "app-storage:bucketPrefix": f"app-storage-it-{os.getpid()}"}, tmp_path)
    try:
        stack.up()
        apps = [output for output in stack.outputs() if "_" not in output]
        _every_app_env_verifies(name, apps, tmp_path)
    finally:
        _destroy(stack)


def _vista_env_from_stack_outputs_drives_minio_py(tmp_path) -> None:
    from dotenv import dotenv_values
    from minio import Minio

    env_file = tmp_path / "vista.env"
    written = subprocess.run(
        [sys.executable, "-m", "cli", "env", "--stack", "dev", "--app", "vista", "--out", str(env_file)],
        cwd=ROOT, env={**os.environ, **_backend_env(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert written.returncode == 0, written.stderr
    env = dotenv_values(env_file)
    client = Minio(env["S3_ENDPOINT"], access_key=env["S3_ACCESS_KEY"], secret_key=env["S3_SECRET_KEY"],
                   secure=env["S3_USE_SSL"] == "true", region=env["S3_REGION"])
    client.put_object(env["S3_BUCKET"], "projects/integration.txt", io.BytesIO(b"ok"), 2)
    assert client.get_object(env["S3_BUCKET"], "projects/integration.txt").read() == b"ok"
    client.remove_object(env["S3_BUCKET"], "projects/integration.txt")


@needs_aws
@needs_cli
def test_preview_creates_exactly_what_the_offline_plan_declares(tmp_path):
    offline = evaluate_stack("prod")
    stack = _stack("prod", tmp_path)
    try:
        result = stack.preview()
        assert result.change_summary.get("create") == len(offline.resources) + 1  # + the stack itself
    finally:
        _remove(stack)


@needs_minio
@needs_cli
def test_dev_up_on_local_minio_gives_keys_that_work_in_their_own_area_only(tmp_path):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    offline = evaluate_stack("dev")
    stack = _stack("dev", tmp_path)
    try:
        result = stack.up()
        assert result.summary.resource_changes.get("create") == len(offline.resources) + 1
        connection = result.outputs["chat"].value["connection"]
        s3 = boto3.client("s3", endpoint_url=connection["endpoint"], region_name=connection["region"],
                          aws_access_key_id=connection["access_key_id"],
                          aws_secret_access_key=result.outputs["chat_secret_access_key"].value,
                          config=Config(s3={"addressing_style": "path"}))
        key = f"{connection['area_prefixes']['uploads']}integration.txt"
        s3.put_object(Bucket=connection["bucket"], Key=key, Body=b"ok")
        assert s3.get_object(Bucket=connection["bucket"], Key=key)["Body"].read() == b"ok"
        with pytest.raises(ClientError):
            s3.put_object(Bucket=result.outputs["vista"].value["bucket_name"], Key="temp/x", Body=b"no")

        _vista_env_from_stack_outputs_drives_minio_py(tmp_path)
    finally:
        stack.destroy()
        _remove(stack)
